"""What the grader knows from the instructor's source notebook: its exercises, hidden tests and checks.

Nothing here comes from a submission. The exercises of a source are the labels that its student
edition passes to ``check()`` (with the expression the student cell passes as the answer), then the
labels that only its hidden tests check. Maximum points come from the grader's own copy of the checks:
those of ``course_lib.checks`` and those that the source notebook registers itself (its cells that call
``register``, executed in the grader's process).

Taught in: instructors
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..checks import core
from .assign import BEGIN_HIDDEN, END_HIDDEN, HIDDEN_CELL, HIDDEN_TEST_TAGS, student_notebook

# Names whose mention in a submission is worth a look: the grading machinery, not the exercises.
SUSPICIOUS_NAMES = ("_REGISTRY", "_ANSWERS", "_LOG", "record_result", "RESULTS_FILE_ENV", "COURSE_LIB_RESULTS_FILE",
                    "run_check", "course_lib.instructor", "_HANDLES")


@dataclass
class HiddenTest:
    """One hidden test of the source: its code and the exercises whose points it guards."""

    cell: int
    code: str
    labels: list[str]


@dataclass
class AnswerKey:
    """The exercises, hidden tests and checks of one instructor notebook.

    Taught in: instructors
    """

    path: Path
    labels: list[str]
    answer_exprs: dict[str, str]
    student_calls: dict[str, list[str]]
    hidden: list[HiddenTest]
    checks: dict[str, core.Exercise] = field(repr=False)

    def max_points(self, label: str) -> float:
        return self.checks[label].points

    @property
    def max_total(self) -> float:
        return sum(self.max_points(label) for label in self.labels)


def python_source(cell_source: str) -> str:
    """A code cell's source as plain Python (IPython magics and shell escapes translated or dropped)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(cell_source)
    except Exception:  # noqa: BLE001
        return "\n".join(line for line in cell_source.split("\n") if not line.lstrip().startswith(("%", "!")))


def parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def check_calls(tree: ast.AST | None) -> list[tuple[str, str | None, str]]:
    """``(label, answer expression, whole call)`` for every ``check("label", answer)`` in ``tree``."""
    found = []
    for node in ast.walk(tree) if tree is not None else []:
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            answer = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "answer"), None)
            found.append(((node.lineno, node.col_offset), node.args[0].value,
                          ast.unparse(answer) if answer is not None else None, ast.unparse(node)))
    return [call[1:] for call in sorted(found)]  # ast.walk is breadth-first: put them back in source order


def _hidden_parts(cell) -> list[tuple[str, str | None]]:
    """The hidden-test code of one source cell, each with the label its marker names (or None)."""
    tags = {str(t).lower() for t in cell.get("metadata", {}).get("tags", [])}
    lines = cell.source.split("\n")
    first = next((ln for ln in lines if ln.strip()), "")
    if HIDDEN_TEST_TAGS & tags or HIDDEN_CELL.match(first):
        m = HIDDEN_CELL.match(first)
        return [(cell.source, m["label"] if m else None)]
    parts, i = [], 0
    while i < len(lines):
        m = BEGIN_HIDDEN.match(lines[i])
        if m:
            end = next((j for j in range(i + 1, len(lines)) if END_HIDDEN.match(lines[j])), len(lines))
            parts.append(("\n".join(lines[i + 1:end]), m["label"]))
            i = end + 1
        else:
            i += 1
    return parts


def free_names(code: str) -> list[str]:
    """The names ``code`` reads without defining them (nor being builtins): what it needs from the submission."""
    tree = parse(code)
    if tree is None:
        return []
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            stored |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stored.add(node.name)
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
    loaded = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    skip = stored | set(dir(builtins)) | {"check"}
    return list(dict.fromkeys(name for name in loaded if name not in skip))


def _source_checks(nb: nbformat.NotebookNode, path: Path) -> dict[str, core.Exercise]:
    """The course's checks, plus those that the source's own cells register, run here, in the grader."""
    checks = core.registered_exercises()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not re.search(r"\bregister\(", cell.source) or _hidden_parts(cell):
            continue
        with core.separate_registry() as registered:
            namespace = {"__name__": f"course_lib_source_{index}"}
            exec(compile("from course_lib.checks import Feedback, check, register\n"  # noqa: S102 (the instructor's)
                         "from course_lib.checks.core import *\n", "<grader>", "exec"), namespace)
            exec(compile(python_source(cell.source), f"{path.name}, cell {index}", "exec"), namespace)  # noqa: S102
        checks.update(registered)
    return checks


def load(path: str | Path) -> AnswerKey:
    """Read the instructor notebook at ``path`` into an :class:`AnswerKey`.

    Raises ``ValueError`` naming the label if the source checks an exercise that no check is registered for.

    Taught in: instructors
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    student, _ = student_notebook(nb, str(path))
    labels: list[str] = []
    exprs: dict[str, str] = {}
    calls: dict[str, list[str]] = {}
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        for label, expr, call in check_calls(parse(cell.source)):
            if label not in labels:
                labels.append(label)
            if expr is not None:
                exprs[label] = expr
            calls.setdefault(label, []).append(call)
    hidden: list[HiddenTest] = []
    last_label = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for code, named in _hidden_parts(cell):
            in_test = [label for label, _, _ in check_calls(parse(code))]
            for label in in_test:
                if label not in labels:
                    labels.append(label)
            names = set(free_names(code))
            by_name = [label for label in labels if exprs.get(label) in names]
            owners = [named] if named else list(dict.fromkeys(in_test + by_name))
            owners = owners or ([last_label] if last_label else [])
            hidden.append(HiddenTest(index, code, owners))
        visible = [label for label, _, _ in check_calls(parse(cell.source))]
        last_label = visible[-1] if visible else last_label
    checks = _source_checks(nb, path)
    for label in labels + [label for test in hidden for label in test.labels]:
        if label not in checks:
            raise ValueError(f"{path}: check({label!r}, ...) names an exercise that no check is registered for")
        if label not in labels:
            labels.append(label)
    return AnswerKey(path, labels, exprs, calls, hidden, checks)
