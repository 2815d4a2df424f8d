"""Grading: submitted student notebooks (right, wrong, unanswered, broken) become rows of a CSV."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from course_lib.checks import check
from course_lib.checks.core import RESULTS_FILE_ENV
from course_lib.instructor import answer_key
from course_lib.instructor.assign import student_notebook
from course_lib.instructor.grade import grade, labels_in
from course_lib.instructor.grade import main as grade_main

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "markers_fixture.ipynb"
CHAPTER_1 = ROOT / "chapters" / "01_convolutions_and_shapes.ipynb"
FIXTURE_LABELS = ["ex-fixture-square", "ex-fixture-odd-sum", "ex-fixture-cube"]
# The student cells of chapter 1's two function exercises (and of the grading fixture's), and right bodies.
CONV_STUB = "    # Your answer: loop over the output positions and take weighted sums.\n    raise NotImplementedError"
WEIGHT_STUB = "    # Your answer: return the pair (shape, count).\n    raise NotImplementedError"
RIGHT_WEIGHTS = ("    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size\n"
                 "    count = out_channels * in_channels * kh * kw + out_channels * bias\n"
                 "    return (out_channels, in_channels, kh, kw), count")
SAME_STUB = "    # Your answer: return the tuple (left, right, top, bottom).\n    raise NotImplementedError"
RIGHT_SAME = ("    (kh, kw), (dh, dw) = [(v, v) if isinstance(v, int) else v for v in (kernel_size, dilation)]\n"
              "    th, tw = dh * (kh - 1), dw * (kw - 1)\n"
              "    return tw // 2, tw - tw // 2, th // 2, th - th // 2")
# the classic mistake: the padding of the kernel without its dilation
UNDILATED_SAME = ("    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size\n"
                  "    return (kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2")


def require_bwrap() -> None:
    """Skip (or fail, when CI is set) the tests that run submissions if bubblewrap is missing."""
    if shutil.which("bwrap") is None:
        reason = "bubblewrap (bwrap) is not installed: apt-get install bubblewrap to run the grading tests"
        if os.environ.get("CI"):
            pytest.fail(reason + " [CI is set: the grading tests are required]")
        pytest.skip(reason)


def issued(path: Path) -> nbformat.NotebookNode:
    return student_notebook(nbformat.read(path, as_version=4), path.name)[0]


def _answer(nb, old: str, new: str, in_cell_with: str | None = None) -> None:
    """Replace ``old`` by ``new`` in the one code cell holding ``old`` (and ``in_cell_with``)."""
    cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source
             and (in_cell_with is None or in_cell_with in c.source)]
    assert len(cells) == 1, (old, len(cells))
    cells[0].source = cells[0].source.replace(old, new)


def _insert_after(nb, marker: str, source: str) -> None:
    index = next(i for i, c in enumerate(nb.cells) if marker in c.source)
    nb.cells.insert(index + 1, new_code_cell(source))


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as f:
        return {Path(row["notebook"]).stem: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def fixture_grades(tmp_path_factory):
    """The marker fixture registers its own checks and has hidden tests: the grader runs both from the source."""
    require_bwrap()
    subs = tmp_path_factory.mktemp("submissions")
    square = ("raise NotImplementedError", "return x * x", "def square")
    alice = issued(FIXTURE)  # everything right
    _answer(alice, "cube_answer = None", "cube_answer = 343")
    _answer(alice, "odd_sum_answer = ...", "odd_sum_answer = 100")
    _answer(alice, *square)
    nbformat.write(alice, subs / "alice.ipynb")
    carol = issued(FIXTURE)  # one wrong, one right, and a cell that raises
    _answer(carol, "cube_answer = None", "cube_answer = 7 * 7 * 6")
    _answer(carol, *square)
    _insert_after(carol, "import", "print(undefined_name)")
    nbformat.write(carol, subs / "carol.ipynb")
    (subs / "dave.ipynb").write_text("{ this is not a notebook")
    out = subs.parent / "grades.csv"
    graded = grade(subs, out, timeout=60, source=FIXTURE, jobs=2, quiet=True)
    return graded, _rows(out), out


def test_csv_has_a_row_per_notebook_and_a_column_per_exercise(fixture_grades):
    graded, rows, out = fixture_grades
    assert sorted(rows) == ["alice", "carol", "dave"]
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["notebook", "source", "ex-fixture-cube", "ex-fixture-odd-sum", "ex-fixture-square", "total",
                      "max_total", "flags", "error", "cell_errors", "seconds"]


@pytest.mark.parametrize(
    ("name", "points", "total"),
    [
        ("alice", {"ex-fixture-cube": "1", "ex-fixture-odd-sum": "1", "ex-fixture-square": "1"}, "3"),
        ("carol", {"ex-fixture-cube": "0", "ex-fixture-odd-sum": "0", "ex-fixture-square": "1"}, "1"),
        ("dave", {"ex-fixture-cube": "0", "ex-fixture-odd-sum": "0", "ex-fixture-square": "0"}, "0"),
    ],
)
def test_points_per_exercise_and_total(fixture_grades, name, points, total):
    row = fixture_grades[1][name]
    assert {label: row[label] for label in FIXTURE_LABELS} == points
    assert row["total"] == total and row["max_total"] == "3" and row["flags"] == ""


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("alice", ""),
        ("carol", "1 cell(s) raised; first in cell 2: NameError: name 'undefined_name' is not defined"),
        ("dave", "NotJSONError: Notebook does not appear to be JSON"),
    ],
)
def test_a_broken_notebook_is_a_row_with_its_error(fixture_grades, name, error):
    row = fixture_grades[1][name]
    assert row["error"].startswith(error) if error else row["error"] == ""


def test_the_wrong_answer_was_checked_not_skipped(fixture_grades):
    carol = next(s for s in fixture_grades[0] if s.notebook.endswith("carol.ipynb"))
    assert carol.status == {"ex-fixture-cube": "wrong", "ex-fixture-odd-sum": "not answered yet",
                            "ex-fixture-square": "correct"}
    assert carol.messages["ex-fixture-cube"] == "Your cube is 294; that is not it. Multiply 7 by itself three times."


def test_hidden_tests_belong_to_the_exercise_whose_answer_they_use():
    key = answer_key.load(FIXTURE)
    assert [(t.cell, t.labels) for t in key.hidden] == [
        (15, ["ex-fixture-square"]), (16, ["ex-fixture-odd-sum"]), (17, ["ex-fixture-square"])]
    assert key.labels == ["ex-fixture-cube", "ex-fixture-odd-sum", "ex-fixture-square"]
    assert key.answer_exprs == {"ex-fixture-cube": "cube_answer", "ex-fixture-odd-sum": "odd_sum_answer",
                                "ex-fixture-square": "square"}


def conv_by_hand_answer(nb) -> None:
    _answer(nb, CONV_STUB,
            "    kh, kw = kernel.shape\n"
            "    return torch.stack([torch.stack([(image[i:i + kh, j:j + kw] * kernel).sum()\n"
            "                                     for j in range(image.shape[1] - kw + 1)])\n"
            "                        for i in range(image.shape[0] - kh + 1)])", in_cell_with="def conv_by_hand")


def test_real_chapter_submissions_graded_from_the_command_line(tmp_path, capsys):
    require_bwrap()
    partial = issued(CHAPTER_1)
    _answer(partial, "output_size_answer = None", "output_size_answer = 30")
    _answer(partial, SAME_STUB, UNDILATED_SAME)
    conv_by_hand_answer(partial)
    full = issued(CHAPTER_1)
    for old, new in [("output_size_answer = None", "output_size_answer = 30"),
                     (SAME_STUB, RIGHT_SAME),
                     (WEIGHT_STUB, RIGHT_WEIGHTS),
                     ("my_kernel = None", "my_kernel = [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]"),
                     ("stride_chain_answer = None", "stride_chain_answer = 46")]:
        _answer(full, old, new)
    conv_by_hand_answer(full)
    (tmp_path / "subs").mkdir()
    nbformat.write(partial, tmp_path / "subs" / "student_1.ipynb")
    nbformat.write(full, tmp_path / "subs" / "student_2.ipynb")
    assert grade_main([str(tmp_path / "subs"), str(tmp_path / "grades.csv"), "--timeout", "300",
                       "--source", str(CHAPTER_1), "--jobs", "2"]) == 0
    rows = _rows(tmp_path / "grades.csv")
    row = rows["student_1"]
    assert row["ex-ch1-output-size"] == "1" and row["ex-ch1-same-padding"] == "0"
    assert row["ex-ch1-conv-by-hand"] == "1" and row["ex-ch1-stride-chain"] == "0"
    assert row["total"] == "2" and row["max_total"] == "6" and row["error"] == "" and row["flags"] == ""
    assert rows["student_2"]["total"] == "6" and rows["student_2"]["flags"] == ""
    out = capsys.readouterr().out
    assert "student_1.ipynb: 2/6" in out and "student_2.ipynb: 6/6" in out
    feedback = (tmp_path / "grades_feedback" / "student_1.feedback.md").read_text()
    assert ("**ex-ch1-same-padding** (0/1, wrong): For pad_like_same(3, 2) you return (1, 1, 1, 1). That is the "
            "padding without dilation") in feedback


def test_grade_command_needs_notebooks(tmp_path, capsys):
    assert grade_main([str(tmp_path), str(tmp_path / "g.csv")]) == 1
    assert "submissions must contain at least one .ipynb notebook" in capsys.readouterr().err
    assert grade_main([str(tmp_path / "missing"), str(tmp_path / "g.csv")]) == 1
    assert "submissions must be a folder of notebooks or a notebook" in capsys.readouterr().err


def test_labels_in_finds_every_checked_exercise_in_order():
    assert labels_in(nbformat.read(FIXTURE, as_version=4)) == ["ex-fixture-cube", "ex-fixture-odd-sum",
                                                                "ex-fixture-square"]


def test_checks_append_their_results_to_the_file_the_grader_names(tmp_path, monkeypatch):
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv(RESULTS_FILE_ENV, str(results))
    check("ex-ch1-output-size", 30)
    check("ex-ch1-output-size", 13)
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [(r["label"], r["status"], r["points"], r["max_points"]) for r in rows] == [
        ("ex-ch1-output-size", "correct", 1.0, 1.0), ("ex-ch1-output-size", "wrong", 0.0, 1.0)]
