"""The grader against hostile submissions: each gets its honest score, tampering is flagged, nothing escapes.

All submissions answer the small instructor notebook tests/fixtures/grading_fixture.ipynb (chapter 1's
checks: a value, a function with a hidden test, and an exercise only a hidden test checks) and are
graded together, two sandboxes at a time, with short time limits, so the module takes about a minute.
"""

from __future__ import annotations

import copy
import csv
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from test_grade import CONV_STUB, RIGHT_WEIGHTS, WEIGHT_STUB, require_bwrap  # tests/ is on sys.path under pytest

from course_lib.instructor.assign import student_notebook
from course_lib.instructor.grade import grade

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tests" / "fixtures" / "grading_fixture.ipynb"
LABELS = ["ex-ch1-output-size", "ex-ch1-conv-by-hand", "ex-ch1-weight-shape"]
MARK = f"escape-{uuid.uuid4().hex[:12]}"
# chapter 1's check refuses F.conv2d, so the right answer loops
RIGHT_CONV = ('    kh, kw = kernel.shape\n'
              '    return torch.stack([torch.stack([(image[i:i + kh, j:j + kw] * kernel).sum()\n'
              '                                     for j in range(image.shape[1] - kw + 1)])\n'
              '                        for i in range(image.shape[0] - kh + 1)])')


def _issued() -> nbformat.NotebookNode:
    return student_notebook(nbformat.read(SOURCE, as_version=4), SOURCE.name)[0]


def replace_in_cell(nb, old: str, new: str) -> None:
    cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
    assert len(cells) == 1, old
    cells[0].source = cells[0].source.replace(old, new)


def insert_after(nb, marker: str, source: str) -> None:
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and marker in c.source)
    nb.cells.insert(index + 1, new_code_cell(source))


def _size(nb) -> None:
    replace_in_cell(nb, "output_size_answer = None", "output_size_answer = 30")


def _conv(nb) -> None:
    replace_in_cell(nb, CONV_STUB, RIGHT_CONV)


def _shape(nb) -> None:
    replace_in_cell(nb, WEIGHT_STUB, RIGHT_WEIGHTS)


FORGE = """import json, os
with open(os.environ["COURSE_LIB_RESULTS_FILE"], "a") as f:
    for label in ["ex-ch1-output-size", "ex-ch1-conv-by-hand", "ex-ch1-weight-shape"]:
        f.write(json.dumps({"label": label, "status": "correct", "points": 100, "max_points": 1,
                            "message": "forged"}) + "\\n")"""
REPLACE = """from course_lib.checks import core
for ex in core._REGISTRY.values():
    ex.fn = lambda answer: "anything goes"
"""
FRAME_THIEF = """    import inspect
    return inspect.currentframe().f_back.f_locals["expected"]"""
HIDDEN_CHEAT = """    if tuple(image.shape) == (3, 4):
        return torch.zeros(3, 4)
""" + RIGHT_CONV


def snoop_code(targets: list[Path]) -> str:
    return f"""import os, re
seen = []
for path in {[str(t) for t in targets]!r} + [os.path.expanduser("~root"), "/root", "/work", "/home"]:
    try:
        text = open(path).read() if os.path.isfile(path) else str(os.listdir(path))
        seen.append(("READ", path, text[:50]))
        found = re.search(r"output_size_answer = ([0-9()*+ -]+)", text)  # the solution's arithmetic
        if found:
            output_size_answer = eval(found.group(1))
    except OSError as e:
        seen.append(("blocked", path, type(e).__name__))
print(seen)
check("ex-ch1-output-size", output_size_answer)"""


def escape_code(submissions: Path, port: int) -> str:
    return f"""import os, socket, subprocess
tried = []
for path in ["/tmp/{MARK}", "{submissions}/{MARK}", "{ROOT / 'course_lib'}/{MARK}", "/root/{MARK}"]:
    try:
        with open(path, "w") as f:
            f.write("x")
        tried.append(("wrote", path))
    except OSError as e:
        tried.append(("blocked", path, type(e).__name__))
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    tried.append(("connected", {port}))
except OSError as e:
    tried.append(("no network", type(e).__name__))
subprocess.Popen(["sleep", "987.{MARK[-4:].encode().hex()[:3]}"], start_new_session=True)
print(tried)"""


@pytest.fixture(scope="module")
def attacks(tmp_path_factory):
    require_bwrap()
    subs = tmp_path_factory.mktemp("submissions")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    nbs: dict[str, nbformat.NotebookNode] = {}
    nbs["alice"] = _issued()  # everything right
    for step in (_size, _conv, _shape):
        step(nbs["alice"])
    nbs["bob"] = _issued()  # handed in as issued
    nbs["forger"] = _issued()  # one right, then rows of 100 points appended to the results file
    _size(nbs["forger"])
    insert_after(nbs["forger"], 'check("ex-ch1-conv-by-hand"', FORGE)
    nbs["replacer"] = _issued()  # every check replaced by one that accepts anything, nothing solved
    nbs["replacer"].cells.insert(2, new_code_cell(REPLACE))
    nbs["thief"] = _issued()  # a function that reads the check's expected value from its caller's frame
    replace_in_cell(nbs["thief"], CONV_STUB, FRAME_THIEF)
    nbs["hidden"] = _issued()  # passes the visible check, fails the hidden test; right shape
    replace_in_cell(nbs["hidden"], CONV_STUB, HIDDEN_CHEAT)
    _shape(nbs["hidden"])
    nbs["snoop"] = _issued()  # reads the instructor's notebook, another submission and $HOME
    insert_after(nbs["snoop"], 'check("ex-ch1-output-size"', snoop_code([SOURCE, subs / "alice.ipynb", subs]))
    nbs["escaper"] = _issued()  # one right; writes outside, connects to the host, leaves a process behind
    _size(nbs["escaper"])
    insert_after(nbs["escaper"], 'check("ex-ch1-output-size"', escape_code(subs, port))
    nbs["endless"] = _issued()  # right, an endless cell, then right again
    _size(nbs["endless"])
    insert_after(nbs["endless"], 'check("ex-ch1-output-size"', "while True:\n    pass")
    _conv(nbs["endless"])
    nbs["stubborn"] = _issued()  # right, a cell that ignores interrupts, then right again
    _size(nbs["stubborn"])
    insert_after(nbs["stubborn"], 'check("ex-ch1-output-size"',
           "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)")
    _shape(nbs["stubborn"])
    nbs["hog"] = _issued()  # right, two memory hogs, then right again
    _size(nbs["hog"])
    insert_after(nbs["hog"], 'check("ex-ch1-output-size"', "hog = bytearray(64 * 2**30)")
    insert_after(nbs["hog"], "hog = bytearray", "hogs = []\nwhile True:\n    hogs.append(bytearray(2**28))")
    _conv(nbs["hog"])
    nbs["killer"] = _issued()  # right, kills its kernel, then right again
    _size(nbs["killer"])
    insert_after(nbs["killer"], 'check("ex-ch1-output-size"', "import os\nos._exit(1)")
    _shape(nbs["killer"])
    for name, nb in nbs.items():
        nbformat.write(nb, subs / f"{name}.ipynb")
    (subs / "dave.ipynb").write_text("{ this is not a notebook")
    out = subs.parent / "grades.csv"
    try:
        graded = grade(subs, out, timeout=12, source=SOURCE, jobs=2, notebook_timeout=120, memory_mb=3072, quiet=True)
    finally:
        listener.close()
    with open(out, newline="") as f:
        rows = {Path(row["notebook"]).stem: row for row in csv.DictReader(f)}
    return {Path(s.notebook).stem: s for s in graded}, rows, subs, out


HONEST = {
    "alice": (1, 1, 1), "bob": (0, 0, 0), "forger": (1, 0, 0), "replacer": (0, 0, 0), "thief": (0, 0, 0),
    "hidden": (0, 0, 1), "snoop": (0, 0, 0), "escaper": (1, 0, 0), "endless": (1, 1, 0), "stubborn": (1, 0, 1),
    "hog": (1, 1, 0), "killer": (1, 0, 1), "dave": (0, 0, 0),
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_every_submission_gets_its_honest_score(attacks, name):
    row = attacks[1][name]
    assert tuple(int(row[label]) for label in LABELS) == HONEST[name], row
    assert row["total"] == str(sum(HONEST[name])) and row["max_total"] == "3"


def test_the_csv_has_every_exercise_of_the_source_and_the_flags(attacks):
    header = attacks[3].read_text().splitlines()[0].split(",")
    assert header == ["notebook", "source", *LABELS, "total", "max_total", "flags", "error", "cell_errors", "seconds"]


@pytest.mark.parametrize(("name", "flags"), [
    ("alice", set()), ("bob", set()), ("hog", set()), ("killer", set()), ("stubborn", set()), ("endless", set()),
    ("forger", {"forged-results", "suspicious-code:COURSE_LIB_RESULTS_FILE"}),
    ("replacer", {"replaced-check:ex-ch1-output-size", "replaced-check:ex-ch1-conv-by-hand",
                  "replaced-check:ex-ch1-weight-shape", "suspicious-code:_REGISTRY",
                  "kernel-disagrees:ex-ch1-conv-by-hand"}),
    ("thief", {"kernel-disagrees:ex-ch1-conv-by-hand"}),
])
def test_tampering_is_flagged_and_honest_work_is_not(attacks, name, flags):
    assert set(attacks[1][name]["flags"].split()) == flags


def test_a_hidden_test_takes_the_points_of_an_answer_that_only_fits_the_visible_check(attacks):
    sub = attacks[0]["hidden"]
    assert sub.status["ex-ch1-conv-by-hand"] == "wrong"
    assert "hidden test" in sub.messages["ex-ch1-conv-by-hand"]
    assert "AssertionError" in sub.notes["ex-ch1-conv-by-hand"]


def test_the_student_cannot_read_what_the_check_expects(attacks):
    assert "KeyError" in attacks[0]["thief"].messages["ex-ch1-conv-by-hand"]


def _outputs(subs: Path, name: str) -> str:
    executed = subs.parent / "grades_feedback" / f"{name}.executed.ipynb"
    return "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                     for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code"
                     for o in c.get("outputs", []))


def test_a_submission_sees_neither_the_instructor_nor_other_submissions_nor_home(attacks):
    subs = attacks[2]
    text = _outputs(subs, "snoop")
    for path in (SOURCE, subs / "alice.ipynb", subs):
        assert f"('blocked', '{path}', 'FileNotFoundError')" in text
    # Of the grading user's home, the sandbox shows at most the read-only Python installation inside it.
    python_home = Path(sys.base_prefix).resolve()
    allowed = {python_home.relative_to(Path.home()).parts[0]} if Path.home() in python_home.parents else set()
    for entry in set(os.listdir(Path.home())) - allowed:
        assert f"'{entry}'" not in text, entry


def test_nothing_a_submission_writes_or_starts_escapes_its_sandbox(attacks):
    subs = attacks[2]
    text = _outputs(subs, "escaper")
    assert f"('wrote', '/tmp/{MARK}')" in text  # its own private /tmp
    assert text.count("'wrote'") == 1 and "connected" not in text and "no network" in text
    for path in [Path("/tmp") / MARK, subs / MARK, ROOT / "course_lib" / MARK, Path.home() / MARK]:
        assert not path.exists(), path
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"sleep 987.{MARK[-4:].encode().hex()[:3]}" not in ps


@pytest.mark.parametrize(("name", "error"), [
    ("endless", "CellTimeoutError: cell"),
    ("stubborn", "could not be interrupted and was skipped"),
    ("killer", "DeadKernelError: cell"),
    ("hog", "MemoryError"),
    ("dave", "NotJSONError"),
])
def test_a_broken_run_says_why(attacks, name, error):
    assert error in attacks[1][name]["error"]


def test_each_submission_keeps_its_executed_notebook_and_feedback(attacks):
    folder = attacks[2].parent / "grades_feedback"
    feedback = (folder / "hidden.feedback.md").read_text()
    assert "**ex-ch1-weight-shape** (1/1, correct)" in feedback
    assert "passes the visible check but not a hidden test" in feedback
    assert (folder / "alice.executed.ipynb").is_file() and (folder / "dave.feedback.md").is_file()


def test_grading_refuses_to_run_without_bubblewrap(tmp_path, monkeypatch, capsys):
    from course_lib.instructor import grade as grade_module
    from course_lib.instructor import sandbox

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sandbox, "BWRAP_PATHS", ())
    nbformat.write(copy.deepcopy(_issued()), tmp_path / "s.ipynb")
    assert grade_module.main([str(tmp_path / "s.ipynb"), str(tmp_path / "g.csv"), "--source", str(SOURCE)]) == 1
    assert "bubblewrap (bwrap) is not installed" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()
