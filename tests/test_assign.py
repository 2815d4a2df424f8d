"""Student editions: the markers work, no solution leaks, and the issued notebooks run without errors.

What runs where (mind the time of `make test`):
* every chapter: its exercise form and stored outputs are checked, its student edition is checked
  for leaks, and statically: the student edition is the instructor notebook minus whole solution
  blocks (every other cell identical to one that nbval executes) and no kept cell reads a name that
  only a removed solution cell defines. With nbval running the instructor notebook, that proves the
  student edition runs, without paying for the training runs of chapters 4 and 5 twice;
* the marker fixture and every chapter whose stored run took at most STUDENT_RUN_BUDGET seconds
  (read from the cells' execution timestamps) are also executed as issued with nbclient;
* the student website is built once, with execution off, and searched for each solution line.
That an instructor notebook passes every check follows from two tests: here, each solution cell's
stored output says "Correct"; nbval (in the same `make test`) re-executes the notebook and fails if
any output differs from the stored one.
"""

from __future__ import annotations

import builtins
import html
import json
import os
import re
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from course_lib.checks import exercise_labels
from course_lib.instructor.assign import main as assign_main
from course_lib.instructor.assign import stub_code, student_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
FIXTURE = ROOT / "tests" / "fixtures" / "markers_fixture.ipynb"
INSTRUCTOR_NOTEBOOKS = [*CHAPTERS, FIXTURE]
STUDENT_RUN_BUDGET = float(os.environ.get("COURSE_TEST_STUDENT_RUN_BUDGET", "75"))

_FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*\{([\w-]+)\}\s*(\S*)")


def _ids(paths):
    return [p.stem for p in paths]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


# ---------------------------------------------------------------- an independent reading of the solutions


def _split(nb) -> tuple[list[str], list[str], list[int]]:
    """(secret lines, public lines, indices of cells inside gated solution blocks) of an instructor notebook.

    Written independently of course_lib.instructor.assign, from the marker rules in instructors.md.
    """
    secret, public, gated = [], [], []
    inside = False
    for index, cell in enumerate(nb.cells):
        lines = cell.source.split("\n")
        tags = {t.lower() for t in cell.metadata.get("tags", [])}
        if cell.cell_type == "markdown":
            fences = [_FENCE.match(ln) for ln in lines]
            names = [m.group(2) for m in fences if m]
            if "solution-start" in names:
                inside = True
                gated.append(index)
                continue
            if "solution-end" in names:
                inside = False
                gated.append(index)
                continue
        if inside:
            gated.append(index)
            secret += lines
            continue
        if "solution" in tags or "hidden-test" in tags or (lines and re.match(r"\s*# HIDDEN TESTS?\s*$", lines[0])):
            secret += lines
            continue
        region = None  # the kind of marked region we are in
        for line in lines:
            m = _FENCE.match(line)
            if region is None and m and m.group(2) == "solution":
                region = m.group(1)
            elif region is None and re.match(r"\s*(#+ BEGIN (SOLUTION|HIDDEN TESTS?)|<!-- BEGIN SOLUTION -->)", line):
                region = "marker"
            elif region == "marker" and re.match(r"\s*(#+ END (SOLUTION|HIDDEN TESTS?)|<!-- END SOLUTION -->)", line):
                region = None
            elif region not in (None, "marker") and line.strip() and set(line.strip()) == {region[0]} \
                    and len(line.strip()) >= len(region):
                region = None
            elif region is not None:
                secret.append(line)
            elif line.rstrip().endswith("# SOLUTION"):
                secret.append(line.rsplit("# SOLUTION", 1)[0])
            else:
                public.append(line)
    return secret, public, gated


def _secrets(nb) -> list[str]:
    """Solution lines that do not also occur in the public part of the notebook (those are not secret)."""
    secret, public, _ = _split(nb)
    public_text = "\n".join(public)
    found = []
    for line in secret:
        s = line.strip()
        marker = re.fullmatch(r"[`:]{3,}|:class: dropdown|#+ (BEGIN|END) (SOLUTION|HIDDEN TESTS?).*|# HIDDEN TESTS?", s)
        if len(s) < 4 or marker or s in public_text:
            continue
        found.append(s)
    return found


def _student_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        parts.append(cell.source)
        parts += [json.dumps(o) for o in cell.get("outputs", [])]
    return "\n".join(parts)


def test_the_fixture_has_secrets_of_every_kind():
    secrets = _secrets(_read(FIXTURE))
    for expected in ["Gated prose that must not leak", "cube_answer = 7 * 49", "cube_helper_secret = cube_answer // 7",
                     "Non-gated prose that must not leak", "odd_sum_answer = sum(range(1, 20, 2))",
                     "squared_value = x * x", "square_list.append(k * k)", "unprompted_secret = 41 + 1",
                     "assert square(4) == 16", "assert odd_sum_answer == 100", "assert square(-5) == 25",
                     "Marked solution prose that must not leak", "scale_answer = 2.5 * 4",
                     "A whole markdown cell of solution prose", "total += v + 1"]:
        assert any(expected in s for s in secrets), expected


@pytest.mark.parametrize("path", INSTRUCTOR_NOTEBOOKS, ids=_ids(INSTRUCTOR_NOTEBOOKS))
def test_no_solution_line_appears_in_the_student_edition(path, tmp_path):
    assert assign_main([str(path), str(tmp_path / path.name)]) == 0
    student = _read(tmp_path / path.name)
    text = _student_text(student)
    secrets = _secrets(_read(path))
    assert secrets, f"{path.name} has no solution lines to look for"
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"solution lines leaked into the student edition of {path.name}: {leaked[:5]}"
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        assert "execution" not in cell.metadata


# ---------------------------------------------------------------- the exercise form of every chapter


def _output_text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        out.append(o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", ""))
    return "".join(out)


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_every_exercise_has_a_student_cell_a_checked_solution_and_stored_feedback(path):
    cells = _read(path).cells
    labels = []
    for i, cell in enumerate(cells):
        is_md = cell.cell_type == "markdown"
        m = re.search(r"^`{3,}\{exercise\}.*\n:label: (\S+)", cell.source, re.M) if is_md else None
        if not m:
            continue
        label = m.group(1)
        labels.append(label)
        call = f'check("{label}"'
        student = cells[i + 1]
        assert student.cell_type == "code" and call in student.source, f"{label}: no student cell with {call}"
        assert "Not answered yet" in _output_text(student), f"{label}: the student cell's stored output"
        start = cells[i + 2]
        assert re.match(rf"`{{3,}}\{{solution-start\}} {re.escape(label)}\s*\n:class: dropdown", start.source), \
            f"{label}: the cell after the student cell must open {{solution-start}} {label} as a dropdown"
        end = next(j for j in range(i + 3, len(cells)) if "{solution-end}" in cells[j].source)
        checked = [c for c in cells[i + 3:end] if c.cell_type == "code" and call in c.source]
        assert checked, f"{label}: no solution cell calls {call}"
        for c in checked:
            assert "Correct" in _output_text(c), f"{label}: a solution cell's stored output is not 'Correct'"
            assert "# BEGIN SOLUTION" in c.source and "# END SOLUTION" in c.source, f"{label}: solution markers"
    assert len(labels) >= 5, f"{path.name} has {len(labels)} exercises; every chapter needs at least 5"
    unknown = sorted(set(labels) - set(exercise_labels()))
    assert not unknown, f"{path.name}: exercises without a registered check: {unknown}"


def test_every_registered_check_belongs_to_one_chapter_exercise():
    used = {}
    for path in CHAPTERS:
        for label in re.findall(r":label: (ex-\S+)", "\n".join(c.source for c in _read(path).cells)):
            used.setdefault(label, []).append(path.name)
    orphans = [label for label in exercise_labels() if label not in used]
    assert not orphans, f"registered checks that no chapter uses: {orphans}"
    assert all(len(v) == 1 for v in used.values()), {k: v for k, v in used.items() if len(v) > 1}


# ---------------------------------------------------------------- static: only solutions were removed


def _bound_and_loaded(source: str) -> tuple[set[str], set[str]]:
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse(TransformerManager().transform_cell(source))
    bound, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else loaded).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound, loaded


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_student_edition_is_the_chapter_minus_its_solution_blocks(path):
    instructor = _read(path)
    student, _ = student_notebook(instructor, path.name)
    _, _, gated = _split(instructor)
    hidden = {i for i, c in enumerate(instructor.cells)
              if "hidden-test" in {t.lower() for t in c.metadata.get("tags", [])}}
    kept = [c for i, c in enumerate(instructor.cells) if i not in gated and i not in hidden]
    assert [c.source for c in student.cells] == [c.source for c in kept], \
        "the student edition must differ from the chapter only by whole solution blocks and hidden tests"
    solution_names, public_names = set(), set(dir(builtins)) | {"get_ipython", "display"}
    for i, cell in enumerate(instructor.cells):
        if cell.cell_type != "code":
            continue
        bound, loaded = _bound_and_loaded(cell.source)
        if i in gated:
            solution_names |= bound
            continue
        needs = (loaded & solution_names) - public_names - bound
        assert not needs, f"cell {i} of {path.name} uses {sorted(needs)}, which only a solution defines"
        public_names |= bound


# ---------------------------------------------------------------- executed: the notebooks as issued


def _recorded_seconds(nb) -> float | None:
    """How long the stored run of ``nb`` took, from nbclient's timestamps; None if any code cell lacks them."""
    total = 0.0
    for cell in nb.cells:
        if cell.cell_type != "code" or {"hidden-test", "hidden-tests"} & set(cell.metadata.get("tags", [])):
            continue  # a hidden test is not in the student edition (and may be stored unexecuted)
        t = cell.metadata.get("execution", {})
        try:
            start = datetime.fromisoformat(t["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(t["shell.execute_reply"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return None
        total += (end - start).total_seconds()
    return total


LIGHT = [p for p in CHAPTERS if (s := _recorded_seconds(_read(p))) is not None and s <= STUDENT_RUN_BUDGET]


@pytest.mark.parametrize("path", [FIXTURE, *LIGHT], ids=_ids([FIXTURE, *LIGHT]))
def test_student_edition_runs_top_to_bottom_and_reports_nothing_answered(path, tmp_path):
    from nbclient import NotebookClient

    student, _ = student_notebook(_read(path), path.name)
    os.environ["COURSE_LIB_QUIET"] = "1"
    NotebookClient(student, timeout=300, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    verdicts = []
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"]
        text = _output_text(cell)
        if re.search(r'\bcheck\(\s*"', cell.source):
            verdicts.append(text)
            assert "Not answered yet" in text or "Not yet" in text, f"unexpected feedback: {text!r}"
            assert "Correct" not in text
    assert verdicts, "the student edition calls no check"


# ---------------------------------------------------------------- the markers, one at a time


def test_begin_end_solution_becomes_a_stub_that_names_what_to_define():
    new, stubbed, _ = stub_code("# BEGIN SOLUTION\nanswer = 6 * 7\ndef f(a, b=2):\n    return a\n"
                                "# END SOLUTION\ncheck('x', answer)")
    assert stubbed == 1
    assert new == ("# Your answer: write the code that defines `f`, `answer`.\ndef f(a, b=2):\n"
                   "    raise NotImplementedError\nanswer = ...\ncheck('x', answer)")


def test_solution_inside_a_function_raises_not_implemented_and_keeps_the_prompt():
    new, _, _ = stub_code("def g(x):\n    # BEGIN SOLUTION: return twice x\n    return 2 * x\n    # END SOLUTION")
    assert new == "def g(x):\n    # Your answer: return twice x\n    raise NotImplementedError"


def test_solution_line_keeps_its_assignment_target():
    new, stubbed, _ = stub_code("n = 3\ny, z = n + 1, n - 1  # SOLUTION\nw = n ** 2 # solution\nprint(y)")
    assert stubbed == 2
    assert new.splitlines()[1:3] == ["y, z = ...  # Your answer: replace ...", "w = ...  # Your answer: replace ..."]


def test_nbgrader_triple_hash_markers_and_no_prompt_regions():
    new, stubbed, _ = stub_code("### BEGIN SOLUTION\nk = 1\n### END SOLUTION\n# BEGIN SOLUTION NO PROMPT\n"
                                "secret = 2\n# END SOLUTION\nprint(k)")
    assert stubbed == 2 and new == "# Your answer: write the code that defines `k`.\nk = ...\nprint(k)"


def test_hidden_test_regions_are_removed_without_a_trace():
    new, _, hidden = stub_code("assert True\n# BEGIN HIDDEN TESTS\nassert secret == 2\n# END HIDDEN TESTS\nprint(1)")
    assert hidden == 1 and new == "assert True\nprint(1)"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n# BEGIN SOLUTION\nx = 2", "cell 3: '# BEGIN SOLUTION' on line 2 has no matching '# END SOLUTION'"),
        ("# END SOLUTION", "cell 3: '# END SOLUTION' on line 1 has no '# BEGIN SOLUTION' before it"),
        ("# BEGIN HIDDEN TESTS\nassert 1", "cell 3: '# BEGIN HIDDEN TESTS' on line 1 has no '# END HIDDEN TESTS'"),
        ("# END HIDDEN TESTS", "cell 3: '# END HIDDEN TESTS' on line 1 has no '# BEGIN HIDDEN TESTS' before it"),
    ],
)
def test_unbalanced_code_markers_raise_and_say_where(source, message):
    with pytest.raises(ValueError) as info:
        stub_code(source, where="cell 3")
    assert str(info.value) == message


def _nb(*cells):
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    return new_notebook(cells=[new_markdown_cell(c[3:]) if c.startswith("md:") else new_code_cell(c) for c in cells])


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["md:```{solution-start} ex-a\n```", "x = 1"], "nb: a '{solution-start}' block is never closed"),
        (["md:```{solution-end}\n```"], "nb, cell 0: '{solution-end}' without a '{solution-start}' before it"),
        (["md:```{solution-start} a\n```", "md:```{solution-start} b\n```"],
         "nb, cell 1: '{solution-start}' inside another solution block"),
        (["md:````{solution} ex-a\ntext"], "the directive opened by '````{solution} ex-a' has no closing '````' fence"),
    ],
)
def test_unbalanced_solution_fences_raise(cells, message):
    with pytest.raises(ValueError) as info:
        student_notebook(_nb(*cells), name="nb")
    assert message in str(info.value)


def test_gated_block_with_colon_fences_is_removed_with_its_prose_and_code():
    nb = _nb("md:Intro", "md::::{solution-start} ex-a\n:class: dropdown\n:::", "md:Why it works.", "answer = 42",
             "md::::{solution-end}\n:::", "print('after')")
    student, report = student_notebook(nb)
    assert [c.source for c in student.cells] == ["Intro", "print('after')"]
    assert report.solution_blocks == 1 and report.removed_cells == 4


def test_assign_command_needs_a_notebook(tmp_path, capsys):
    assert assign_main([str(tmp_path), str(tmp_path / "out")]) == 1
    assert "source must contain at least one .ipynb notebook" in capsys.readouterr().err
    assert assign_main([str(tmp_path / "missing"), str(tmp_path / "out")]) == 1
    assert "source must be a notebook or a folder of notebooks" in capsys.readouterr().err


def test_assign_command_writes_every_chapter_of_a_folder(tmp_path, capsys):
    assert assign_main([str(ROOT / "chapters"), str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in CHAPTERS]
    assert "solution blocks" in capsys.readouterr().out


# ---------------------------------------------------------------- the student website


def _page_words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text))


def test_student_website_contains_no_solution_text(tmp_path):
    from course_lib.instructor.student_site import build_student_site

    site, proc = build_student_site(ROOT, tmp_path / "html", work=tmp_path / "work")
    warnings = [line for line in (proc.stdout + proc.stderr).splitlines() if "WARNING" in line or "ERROR" in line]
    for path in CHAPTERS:
        nb = _read(path)
        page = (site / "chapters" / f"{path.stem}.html").read_text()
        text = _page_words(html.unescape(re.sub(r"<[^>]+>", " ", page)))
        public = _page_words("\n".join(_split(nb)[1]))
        secrets = [w for s in _secrets(nb) if len((w := _page_words(s)).split()) >= 2 and w not in public]
        assert secrets
        # whole words only: a short secret such as "k 1" (from `k += 1`) is inside "took 19 3 times"
        leaked = [s for s in secrets if f" {s} " in f" {text} "]
        assert not leaked, f"solution text on the student page of {path.name}: {leaked[:5]}"
        for other in site.rglob(f"*{path.stem}*"):  # the served source, downloads, ...
            if other.is_file() and other.suffix in {".ipynb", ".txt", ".py", ".md", ".html"}:
                words = _page_words(html.unescape(re.sub(r"<[^>]+>", " ", other.read_text(errors="replace"))))
                found = [s for s in secrets if f" {s} " in f" {words} "]
                assert not found, f"solution text in {other.relative_to(site)}: {found[:5]}"
        titles = re.findall(r"```\{exercise\} (.+)", "\n".join(c.source for c in nb.cells))
        assert titles and all(_page_words(t) in text for t in titles), "the exercises themselves must stay"
        assert "colab.research.google.com" not in page
    assert proc.returncode == 0, "the student website must build with -W -n like the book:\n" + "\n".join(warnings)
