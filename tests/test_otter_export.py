"""The otter-grader export gives the same points as course_lib's grader, on honest and hostile submissions.

Chapter 1 is exported with ``course_lib.instructor.otter_export`` (its autograder zip built by
``otter generate``); a class of chapter 1 submissions (right, unanswered, partial, and the hostile
ones of test_grade_attacks.py) is graded by ``otter run`` (in the course's bubblewrap sandbox, for
otter's Docker container) and by ``course_lib.grade``, two at a time. Every submission must get the
same points per exercise from both, except the three that otter cannot grade at all: an endless cell,
a cell that ignores interrupts and a killed kernel stop otter's whole run (it has no per-cell time
limit and no kernel restart), where the course's grader skips the cell and grades the rest.

otter lives in its own environment (``make otter-deps``); without it these tests are skipped, or fail
when CI is set. The module takes 4-5 minutes on two shared cores (load 3).
"""

from __future__ import annotations

import csv
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from test_grade import (  # tests/ is on sys.path under pytest
    CONV_STUB,
    RIGHT_SAME,
    RIGHT_WEIGHTS,
    SAME_STUB,
    UNDILATED_SAME,
    WEIGHT_STUB,
    conv_by_hand_answer,
    issued,
    require_bwrap,
)
from test_grade_attacks import (
    FORGE,
    FRAME_THIEF,
    HIDDEN_CHEAT,
    REPLACE,
    escape_code,
    insert_after,
    replace_in_cell,
    snoop_code,
)

from course_lib.instructor import answer_key, otter_export
from course_lib.instructor.grade import grade
from course_lib.instructor.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_1 = ROOT / "chapters" / "01_convolutions_and_shapes.ipynb"
RIGHT = {
    "ex-ch1-output-size": ("output_size_answer = None", "output_size_answer = 30"),
    "ex-ch1-same-padding": (SAME_STUB, RIGHT_SAME),
    "ex-ch1-weight-shape": (WEIGHT_STUB, RIGHT_WEIGHTS),
    "ex-ch1-diagonal-kernel": ("my_kernel = None", "my_kernel = [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]"),
    "ex-ch1-stride-chain": ("stride_chain_answer = None", "stride_chain_answer = 46"),
}
# Passes chapter 1's visible check (its four image and kernel shapes), fails its hidden test.
CHAPTER_1_CHEAT = """    seen = {(5, 5, 3, 3), (6, 4, 2, 2), (7, 9, 3, 3), (6, 7, 2, 3)}
    if tuple(image.shape) + tuple(kernel.shape) not in seen:
        return torch.zeros(1)
    kh, kw = kernel.shape
    return torch.stack([torch.stack([(image[i:i + kh, j:j + kw] * kernel).sum()
                                     for j in range(image.shape[1] - kw + 1)])
                        for i in range(image.shape[0] - kh + 1)])"""
# otter stops at these (no results at all); the course's grader skips the cell and grades the rest.
OTTER_GIVES_NOTHING = {"endless", "stubborn", "killer"}


def require_otter() -> Path:
    try:
        return otter_export.find_otter()
    except ValueError as e:
        if os.environ.get("CI"):
            pytest.fail(f"{e} [CI is set: the otter tests are required]")
        pytest.skip(str(e))


def _right(nb, *labels: str) -> None:
    for label in labels:
        if label == "ex-ch1-conv-by-hand":
            conv_by_hand_answer(nb)
        else:
            replace_in_cell(nb, *RIGHT[label])


def _class(subs: Path, port: int) -> None:
    """Chapter 1 submissions: honest ones, then the attacks of test_grade_attacks.py on chapter 1."""
    nbs: dict[str, nbformat.NotebookNode] = {name: issued(CHAPTER_1) for name in (
        "right", "blank", "partial", "forger", "replacer", "replacer_junk", "thief", "hidden", "hidden_ch1", "snoop",
        "escaper", "endless", "stubborn", "hog", "killer")}
    _right(nbs["right"], "ex-ch1-conv-by-hand", *RIGHT)
    _right(nbs["partial"], "ex-ch1-output-size", "ex-ch1-conv-by-hand")
    replace_in_cell(nbs["partial"], SAME_STUB, UNDILATED_SAME)
    _right(nbs["forger"], "ex-ch1-output-size")
    insert_after(nbs["forger"], 'check("ex-ch1-conv-by-hand"', FORGE)
    nbs["replacer"].cells.insert(2, new_code_cell(REPLACE))
    # Checks replaced, then wrong answers everywhere: only a grader with its own checks says 0.
    nbs["replacer_junk"].cells.insert(2, new_code_cell(REPLACE))
    for old, _ in RIGHT.values():
        replace_in_cell(nbs["replacer_junk"], old, old.replace("None", "999"))
    replace_in_cell(nbs["thief"], CONV_STUB, FRAME_THIEF)
    replace_in_cell(nbs["hidden"], CONV_STUB, HIDDEN_CHEAT)
    _right(nbs["hidden"], "ex-ch1-weight-shape")  # the fixture's cheat: chapter 1's hidden test lets it pass
    replace_in_cell(nbs["hidden_ch1"], CONV_STUB, CHAPTER_1_CHEAT)
    _right(nbs["hidden_ch1"], "ex-ch1-weight-shape")
    insert_after(nbs["snoop"], 'check("ex-ch1-output-size"', snoop_code([CHAPTER_1, subs / "right.ipynb", subs]))
    _right(nbs["escaper"], "ex-ch1-output-size")
    insert_after(nbs["escaper"], 'check("ex-ch1-output-size"', escape_code(subs, port))
    _right(nbs["endless"], "ex-ch1-output-size", "ex-ch1-conv-by-hand")
    insert_after(nbs["endless"], 'check("ex-ch1-output-size"', "while True:\n    pass")
    _right(nbs["stubborn"], "ex-ch1-output-size", "ex-ch1-weight-shape")
    insert_after(nbs["stubborn"], 'check("ex-ch1-output-size"',
           "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)")
    _right(nbs["hog"], "ex-ch1-output-size", "ex-ch1-conv-by-hand")
    insert_after(nbs["hog"], 'check("ex-ch1-output-size"', "hog = bytearray(64 * 2**30)")
    insert_after(nbs["hog"], "hog = bytearray", "hogs = []\nwhile True:\n    hogs.append(bytearray(2**28))")
    _right(nbs["killer"], "ex-ch1-output-size", "ex-ch1-weight-shape")
    insert_after(nbs["killer"], 'check("ex-ch1-output-size"', "import os\nos._exit(1)")
    for name, nb in nbs.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    (subs / "dave.ipynb").write_text("{ this is not a notebook")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    require_bwrap()
    otter = require_otter()
    work = tmp_path_factory.mktemp("otter")
    subs = work / "submissions"
    subs.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        _class(subs, listener.getsockname()[1])
        (autograder,) = otter_export.export(CHAPTER_1, work / "export", otter)
        graded = grade(subs, work / "grades.csv", timeout=12, source=CHAPTER_1, jobs=2, notebook_timeout=120,
                       memory_mb=3072, quiet=True)
        limits = Limits(notebook_timeout=45, memory_mb=3072)
        paths = sorted(subs.glob("*.ipynb"))
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda p: otter_export.run_otter(p, autograder, otter, limits), paths))
    finally:
        listener.close()
    with open(work / "grades.csv", newline="") as f:
        ours = {Path(row["notebook"]).stem: row for row in csv.DictReader(f)}
    otter_rows = {p.stem: r for p, r in zip(paths, results, strict=True)}
    return ours, otter_rows, {Path(s.notebook).stem: s for s in graded}, autograder


LABELS = answer_key.load(CHAPTER_1).labels
NAMES = ["right", "blank", "partial", "forger", "replacer", "replacer_junk", "thief", "hidden", "hidden_ch1", "snoop",
         "escaper", "hog", "dave"]


@pytest.mark.parametrize("name", NAMES)
def test_otter_and_the_course_grader_give_the_same_points_per_exercise(both, name):
    ours, otter_results, _, _ = both
    otter_points = otter_export.scores(otter_results[name])
    course_points = {label: float(ours[name][label]) for label in LABELS}
    assert {label: otter_points.get(label, 0.0) for label in LABELS} == course_points, (name, otter_results[name])


def test_the_class_is_not_all_zeros_or_all_full_marks(both):
    ours = both[0]
    totals = {name: float(ours[name]["total"]) for name in NAMES}
    assert totals["right"] == 6 and totals["blank"] == 0 and totals["partial"] == 2
    assert totals["forger"] == totals["escaper"] == totals["hidden_ch1"] == 1
    assert totals["hidden"] == totals["hog"] == 2
    assert both[2]["hidden_ch1"].messages["ex-ch1-conv-by-hand"] == (
        "your answer passes the visible check but not a hidden test.")
    assert totals["replacer_junk"] == totals["thief"] == totals["snoop"] == totals["dave"] == 0


@pytest.mark.parametrize("name", sorted(OTTER_GIVES_NOTHING))
def test_otter_gives_nothing_where_a_cell_never_ends_or_kills_the_kernel(both, name):
    ours, otter_results, _, _ = both
    assert otter_results[name] is None
    assert float(ours[name]["total"]) == 2, ours[name]  # the course's grader grades the other cells


def test_the_autograder_holds_one_test_file_per_exercise_with_the_course_points(both):
    import zipfile

    names = sorted(n for n in zipfile.ZipFile(both[3]).namelist() if n.startswith("tests/"))
    assert names == sorted(f"tests/{label}.py" for label in LABELS)
    text = zipfile.ZipFile(both[3]).read("tests/ex-ch1-conv-by-hand.py").decode()
    assert "all_or_nothing = True" in text and "points = 1.0" in text and "hidden=True" in text


def test_a_check_that_only_the_notebook_registers_cannot_be_exported():
    key = answer_key.load(ROOT / "tests" / "fixtures" / "markers_fixture.ipynb")
    with pytest.raises(ValueError, match="the check of 'ex-fixture-cube' must be one of course_lib's to export it"):
        otter_export.test_files(key)


def test_export_says_how_to_install_otter(tmp_path):
    with pytest.raises(ValueError, match=r"otter must be an otter-grader executable, got .*; run `make otter-deps`"):
        otter_export.export(CHAPTER_1, tmp_path, otter=tmp_path / "no-otter")


# ---------------------------------------------------------------- the helper the test files call, without otter


def test_the_helper_passes_a_right_answer_and_fails_a_wrong_one_with_the_checks_hint():
    from course_lib.instructor import otter_tests

    otter_tests.visible({"output_size_answer": 30}, "ex-ch1-output-size", "output_size_answer")
    with pytest.raises(AssertionError, match="^wrong: "):
        otter_tests.visible({"output_size_answer": 15}, "ex-ch1-output-size", "output_size_answer")
    with pytest.raises(AssertionError, match="no answer: the exercise's cell did not run"):
        otter_tests.visible({}, "ex-ch1-output-size", "output_size_answer")


def test_the_helper_hides_the_checks_frame_and_runs_hidden_tests_on_copies():
    from course_lib.instructor import otter_tests

    env: dict = {}
    exec("import inspect\ndef conv_by_hand(image, kernel):\n" + FRAME_THIEF, env)  # noqa: S102  (the test's code)
    with pytest.raises(AssertionError, match="KeyError"):
        otter_tests.visible(env, "ex-ch1-conv-by-hand", "conv_by_hand")
    key = answer_key.load(CHAPTER_1)
    (test,) = [t for t in key.hidden if t.labels == ["ex-ch1-conv-by-hand"]]
    exec("import torch\ndef conv_by_hand(image, kernel):\n" + CHAPTER_1_CHEAT, env)  # noqa: S102
    otter_tests.visible(env, "ex-ch1-conv-by-hand", "conv_by_hand")  # the cheat fits the visible check
    with pytest.raises(AssertionError, match="a hidden test failed: AssertionError"):
        otter_tests.hidden(env, "ex-ch1-conv-by-hand", test.code)
