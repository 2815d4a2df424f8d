"""Make the student edition of instructor notebooks: solutions, hidden tests and outputs removed.

Run ``python -m course_lib.assign chapters/ student/``. The markers it understands
(documented in instructors.md) work in any notebook, not only this course's:

* sphinx-exercise solution fences in markdown: every cell from ```` ```{solution-start} label ````
  to ```` ```{solution-end} ```` is removed (the student cell above it is the stub), and a
  non-gated ```` ```{solution} label ```` directive is cut out of its markdown cell;
* in code cells, the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (nbgrader's
  ``### BEGIN SOLUTION`` too) become a stub: ``name = ...`` for each name the solution assigns,
  ``def f(...): raise NotImplementedError`` for each function it defines, ``raise
  NotImplementedError`` inside a function body, else ``...``; a comment tells the student what to
  write (text after ``# BEGIN SOLUTION:`` if given). ``# BEGIN SOLUTION NO PROMPT`` leaves nothing;
* a line ending in ``# SOLUTION`` becomes ``target = ...`` if it is an assignment, else a stub;
* a code cell tagged ``solution`` has its whole body stubbed; a markdown cell tagged ``solution``
  is removed, and so is markdown between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``;
* hidden tests: cells tagged ``hidden-test`` (or ``hidden-tests``, ``hidden_test``) or whose first
  line is ``# HIDDEN TEST`` / ``# HIDDEN TESTS``, and lines between ``# BEGIN HIDDEN TESTS`` and
  ``# END HIDDEN TESTS``, are removed (a marker may end with the exercise's label, which the grader
  uses: ``# HIDDEN TEST ex-ch1-output-size``).

Every output and execution count is cleared. Unbalanced markers raise ``ValueError``: a half-
removed solution is worse than none.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

_FENCE_OPEN = re.compile(r"^\s*(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[\w-]+)\}(?P<rest>.*)$")
_BEGIN_SOLUTION = re.compile(r"^(?P<indent>\s*)#+\s*BEGIN SOLUTION(?P<noprompt> NO PROMPT)?\s*:?\s*(?P<prompt>.*)$",
                             re.IGNORECASE)
_END_SOLUTION = re.compile(r"^\s*#+\s*END SOLUTION\s*$", re.IGNORECASE)
_LINE_SOLUTION = re.compile(r"^(?P<code>.*?)\s*#+\s*SOLUTION\s*$", re.IGNORECASE)
# A hidden-test marker may name the exercise it belongs to: `# HIDDEN TEST ex-ch1-output-size`.
BEGIN_HIDDEN = re.compile(r"^\s*#+\s*BEGIN HIDDEN TESTS?(?:\s*:?\s*(?P<label>[\w.-]+))?\s*$", re.IGNORECASE)
END_HIDDEN = re.compile(r"^\s*#+\s*END HIDDEN TESTS?\s*$", re.IGNORECASE)
HIDDEN_CELL = re.compile(r"^\s*#+\s*HIDDEN TESTS?(?:\s*:?\s*(?P<label>[\w.-]+))?\s*$", re.IGNORECASE)
_MD_BEGIN = re.compile(r"^\s*<!--\s*BEGIN SOLUTION\s*-->\s*$", re.IGNORECASE)
_MD_END = re.compile(r"^\s*<!--\s*END SOLUTION\s*-->\s*$", re.IGNORECASE)
HIDDEN_TEST_TAGS = frozenset({"hidden-test", "hidden-tests", "hidden_test", "hidden_tests"})
SOLUTION_TAGS = frozenset({"solution"})


@dataclass
class AssignReport:
    """What :func:`student_notebook` removed from one notebook, for the command's summary."""

    solution_blocks: int = 0
    stubbed_regions: int = 0
    hidden_tests: int = 0
    removed_cells: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.solution_blocks} solution blocks, {self.stubbed_regions} stubbed solution regions, "
                f"{self.hidden_tests} hidden tests, {self.removed_cells} cells removed")


def _tags(cell) -> set[str]:
    return {str(t).lower() for t in cell.get("metadata", {}).get("tags", [])}


def _closes(line: str, fence: str) -> bool:
    """Whether ``line`` closes a directive opened with ``fence`` (CommonMark: same char, at least as long)."""
    stripped = line.strip()
    return bool(stripped) and set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def _skip_directive(lines: list[str], start: int, fence: str) -> int:
    """Index just after the closing fence of the directive opened at ``lines[start]``."""
    for i in range(start + 1, len(lines)):
        if _closes(lines[i], fence):
            return i + 1
    raise ValueError(f"the directive opened by {lines[start].strip()!r} has no closing {fence!r} fence")


# ---------------------------------------------------------------- code: stubs for solution regions


def _enclosing_def(lines: list[str], index: int, indent: int) -> bool:
    """Whether line ``index`` (indented by ``indent``) sits inside a ``def`` body, judging by the lines above."""
    for line in reversed(lines[:index]):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        width = len(line) - len(line.lstrip())
        if width < indent:
            if re.match(r"\s*(async\s+)?def\b", line):
                return True
            indent = width
            if indent == 0:
                return False
    return False


def _stub(solution: list[str], indent: str, prompt: str, in_function: bool) -> list[str]:
    """The lines that replace a solution region: a comment saying what to write, then a stub."""
    names: list[str] = []
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    try:
        tree = ast.parse(textwrap.dedent("\n".join(solution)))
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node)
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id not in names:
                    names.append(sub.id)
    wanted = ", ".join(f"`{n}`" for n in [f.name for f in functions] + names)
    if in_function:
        message = prompt.strip() or "write the rest of this function's body (it must not raise)."
        return [f"{indent}# Your answer: {message}", f"{indent}raise NotImplementedError"]
    message = prompt.strip() or (f"write the code that defines {wanted}." if wanted else "write your code here.")
    out = [f"{indent}# Your answer: {message}"]
    for fn in functions:
        out += [f"{indent}def {fn.name}({ast.unparse(fn.args)}):", f"{indent}    raise NotImplementedError"]
    out += [f"{indent}{name} = ..." for name in names]
    return out if len(out) > 1 else out + [f"{indent}..."]


def _stub_line(line: str, code: str, in_function: bool) -> str:
    indent = line[: len(line) - len(line.lstrip())]
    code = code.strip()
    try:
        node = ast.parse(code).body[0]
    except (SyntaxError, IndexError):
        node = None
    if isinstance(node, ast.Assign) and node.value.lineno == 1:  # keep the student's view of the targets
        return f"{indent}{code[:node.value.col_offset].rstrip()} ...  # Your answer: replace ..."
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):  # `x += ...` would raise: stub it as `x = ...`
        return f"{indent}{ast.get_source_segment(code, node.target)} = ...  # Your answer: replace ..."
    if in_function or isinstance(node, ast.Return):
        return f"{indent}raise NotImplementedError  # Your answer: write this line."
    return f"{indent}...  # Your answer: write this line."


def stub_code(source: str, where: str = "cell") -> tuple[str, int, int]:
    """Replace the solution regions and remove the hidden tests of one code cell's ``source``.

    Returns the new source, the number of solution regions stubbed and the number of hidden-test
    regions removed. Raises ``ValueError`` naming ``where`` if a marker is unbalanced.

    Taught in: instructors
    """
    lines = source.split("\n")
    out: list[str] = []
    stubbed = hidden = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if (m := _BEGIN_SOLUTION.match(line)) and not _END_SOLUTION.match(line):
            end = next((j for j in range(i + 1, len(lines)) if _END_SOLUTION.match(lines[j])), None)
            if end is None:
                raise ValueError(f"{where}: '# BEGIN SOLUTION' on line {i + 1} has no matching '# END SOLUTION'")
            if not m["noprompt"]:
                indent = m["indent"]
                out += _stub(lines[i + 1:end], indent, m["prompt"], _enclosing_def(lines, i, len(indent)))
            stubbed += 1
            i = end + 1
            continue
        if _END_SOLUTION.match(line):
            raise ValueError(f"{where}: '# END SOLUTION' on line {i + 1} has no '# BEGIN SOLUTION' before it")
        if BEGIN_HIDDEN.match(line):
            end = next((j for j in range(i + 1, len(lines)) if END_HIDDEN.match(lines[j])), None)
            if end is None:
                raise ValueError(f"{where}: '# BEGIN HIDDEN TESTS' on line {i + 1} has no '# END HIDDEN TESTS'")
            hidden += 1
            i = end + 1
            continue
        if END_HIDDEN.match(line):
            raise ValueError(f"{where}: '# END HIDDEN TESTS' on line {i + 1} has no '# BEGIN HIDDEN TESTS' before it")
        if (m := _LINE_SOLUTION.match(line)) and m["code"].strip():
            indent = len(line) - len(line.lstrip())
            out.append(_stub_line(line, m["code"], _enclosing_def(lines, i, indent)))
            stubbed += 1
        else:
            out.append(line)
        i += 1
    return "\n".join(out), stubbed, hidden


# ---------------------------------------------------------------- markdown: solution directives and prose


def _strip_markdown(source: str, inside: bool, where: str) -> tuple[str, bool, int]:
    """Remove solution directives and solution prose from one markdown cell.

    ``inside`` says whether a gated solution (``solution-start`` … ``solution-end``) is open when
    the cell begins; the new value is returned with the kept text and the number of blocks closed.
    """
    lines = source.split("\n")
    kept: list[str] = []
    blocks = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _FENCE_OPEN.match(line)
        name = m["name"] if m else ""
        if m and name == "solution-end":
            if not inside:
                raise ValueError(f"{where}: '{{solution-end}}' without a '{{solution-start}}' before it")
            inside, blocks = False, blocks + 1
            i = _skip_directive(lines, i, m["fence"])
        elif m and name == "solution-start":
            if inside:
                raise ValueError(f"{where}: '{{solution-start}}' inside another solution block")
            inside = True
            i = _skip_directive(lines, i, m["fence"])
        elif inside:
            i += 1
        elif m and name == "solution":
            blocks += 1
            i = _skip_directive(lines, i, m["fence"])
        elif _MD_BEGIN.match(line):
            end = next((j for j in range(i + 1, len(lines)) if _MD_END.match(lines[j])), None)
            if end is None:
                raise ValueError(f"{where}: '<!-- BEGIN SOLUTION -->' has no '<!-- END SOLUTION -->'")
            i = end + 1
        else:
            kept.append(line)
            i += 1
    return "\n".join(kept).strip("\n"), inside, blocks


# ---------------------------------------------------------------- notebooks


def student_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> tuple[nbformat.NotebookNode, AssignReport]:
    """Return the student edition of the instructor notebook ``nb`` (a copy) and what was removed.

    Solution blocks and prose are dropped, marked solution code is stubbed, hidden tests are removed
    and every output is cleared; see the module docstring for the markers. ``name`` only labels errors.

    Taught in: instructors
    """
    student = copy.deepcopy(nb)
    report = AssignReport()
    cells = []
    inside = False
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        tags = _tags(cell)
        if cell.cell_type == "markdown":
            if SOLUTION_TAGS & tags and not inside:
                report.removed_cells += 1
                continue
            text, inside_after, blocks = _strip_markdown(cell.source, inside, where)
            report.solution_blocks += blocks
            if (inside and inside_after) or (not text.strip() and text != cell.source):
                report.removed_cells += 1
                inside = inside_after
                continue
            inside = inside_after
            new = copy.deepcopy(cell)
            new.source = text
            cells.append(new)
            continue
        if inside:
            report.removed_cells += 1
            continue
        first = next((ln for ln in cell.source.split("\n") if ln.strip()), "")
        if HIDDEN_TEST_TAGS & tags or HIDDEN_CELL.match(first):
            report.hidden_tests += 1
            report.removed_cells += 1
            continue
        new = copy.deepcopy(cell)
        if cell.cell_type == "code":
            if SOLUTION_TAGS & tags and not _BEGIN_SOLUTION.search(cell.source):
                new.source = "\n".join(_stub(cell.source.split("\n"), "", "", False))
                report.stubbed_regions += 1
            else:
                new.source, stubbed, hidden = stub_code(cell.source, where)
                report.stubbed_regions += stubbed
                report.hidden_tests += hidden
            new.outputs = []
            new.execution_count = None
        new.metadata.pop("execution", None)
        cells.append(new)
    if inside:
        raise ValueError(f"{name}: a '{{solution-start}}' block is never closed by '{{solution-end}}'")
    student.cells = cells
    student.metadata.setdefault("course_lib", {})["edition"] = "student"
    return student, report


def assign(source: str | Path, destination: str | Path) -> list[tuple[Path, AssignReport]]:
    """Write the student edition of a notebook, or of every notebook under a folder, to ``destination``.

    A folder keeps its layout (``.ipynb_checkpoints`` are skipped). Returns each written path with
    its :class:`AssignReport`. Raises ``ValueError`` if ``source`` has no notebook or a marker is
    unbalanced (nothing is written for that notebook).

    Taught in: instructors
    """
    source, destination = Path(source), Path(destination)
    if source.is_file():
        pairs = [(source, destination / source.name if destination.is_dir() else destination)]
    elif source.is_dir():
        pairs = [(p, destination / p.relative_to(source)) for p in sorted(source.rglob("*.ipynb"))
                 if ".ipynb_checkpoints" not in p.parts]
    else:
        raise ValueError(f"source must be a notebook or a folder of notebooks, got {str(source)!r}")
    if not pairs:
        raise ValueError(f"source must contain at least one .ipynb notebook, got {str(source)!r} with none")
    written = []
    for src, dst in pairs:
        student, report = student_notebook(nbformat.read(src, as_version=4), name=str(src))
        dst.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, dst)
        written.append((dst, report))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.assign",
        description="Write student editions of instructor notebooks (solutions, hidden tests and outputs removed).")
    parser.add_argument("source", help="an instructor notebook or a folder of them, e.g. chapters/")
    parser.add_argument("destination", help="where to write the student notebooks, e.g. student/")
    args = parser.parse_args(argv)
    try:
        written = assign(args.source, args.destination)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for path, report in written:
        print(f"{path}: removed {report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
