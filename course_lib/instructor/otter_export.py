"""Export each chapter as an otter-grader autograder, for a class graded by otter or on Gradescope.

``python -m course_lib.instructor.otter_export chapters/ otter/`` writes, for each instructor
notebook, ``otter/<chapter>/`` with:

* ``tests/<label>.py``: one otter test file (otter's exception-based format) per exercise of the
  source, worth the points of its course check, graded all or nothing (``all_or_nothing = True``,
  as the course's grader does): a visible case that runs the course's check on the answer the
  student cell passes, and one hidden case per hidden test of the source that guards the exercise;
* ``otter_config.json`` and ``requirements.txt`` (what otter's Gradescope image installs);
* ``autograder.zip``: built by otter itself (``otter generate``), for ``otter run``, ``otter grade``
  (Docker) or Gradescope.

otter is not installed in the course's environment (it pins wrapt<2, the course's lock has 2.5.2);
``make otter-deps`` makes a separate one in ``.venv-otter`` that sees the course's packages, and
``--otter`` (or ``COURSE_OTTER``) names another ``otter`` executable. :func:`run_otter` runs
``otter run`` on one submission inside the course's bubblewrap sandbox, as a local stand-in for
otter's Docker container.

Taught in: instructors
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import answer_key
from .answer_key import AnswerKey
from .sandbox import Limits, find_bwrap, process_limits, sandbox_argv

ROOT = Path(__file__).resolve().parents[2]
OTTER_VENV = ROOT / ".venv-otter"
RESULTS_MARK = "----- course_lib otter results -----"

_TEST_FILE = '''"""Exercise {label} of {source}; written by course_lib.instructor.otter_export (do not edit).

The visible case runs course_lib's check of {label}; each hidden case runs one hidden test of the source.
All cases must pass for the points (all_or_nothing), as in course_lib's grader.
"""

from otter.test_files import test_case

OK_FORMAT = False

name = {label!r}
points = {points!r}
all_or_nothing = True
{cases}'''

_VISIBLE = '''

@test_case(name={name!r}, hidden=False)
def visible_check(env):
    from course_lib.instructor import otter_tests

    otter_tests.visible(env, {label!r}, {expr!r})
'''

_HIDDEN = '''

HIDDEN_TEST_{n} = {code!r}


@test_case(name={name!r}, hidden=True)
def hidden_test_{n}(env):
    from course_lib.instructor import otter_tests

    otter_tests.hidden(env, {label!r}, HIDDEN_TEST_{n}, owner={owner!r})
'''


def test_files(key: AnswerKey) -> dict[str, str]:
    """The otter test file of each exercise of ``key``, by label.

    Raises ``ValueError`` naming the label if its check is not one of ``course_lib``'s: otter runs the
    course's checks from the installed package, not checks that only the source notebook registers.

    Taught in: instructors
    """
    from ..checks import core

    ours = core.registered_exercises()
    files = {}
    for label in key.labels:
        if label not in ours or ours[label].fn is not key.checks[label].fn:
            raise ValueError(f"{key.path.name}: the check of {label!r} must be one of course_lib's to export it "
                             "to otter, got one that the notebook registers itself")
        cases = []
        if label in key.student_calls:
            cases.append(_VISIBLE.format(name=f"{label}: check", label=label, expr=key.answer_exprs.get(label)))
        n = 0
        for test in key.hidden:
            checked = [lab for lab, _, _ in answer_key.check_calls(answer_key.parse(test.code))]
            if label in test.labels or label in checked:
                n += 1
                cases.append(_HIDDEN.format(n=n, name=f"{label}: hidden test {n} (source cell {test.cell})",
                                            label=label, code=test.code, owner=label in test.labels))
        files[label] = _TEST_FILE.format(label=label, source=key.path.name, points=key.max_points(label),
                                         cases="".join(cases))
    return files


def find_otter(otter: str | Path | None = None) -> Path:
    """The ``otter`` executable: ``otter``, else ``$COURSE_OTTER``, else ``.venv-otter/bin/otter``.

    Raises ``ValueError`` saying how to install it if there is none.

    Taught in: instructors
    """
    candidate = Path(otter or os.environ.get("COURSE_OTTER") or OTTER_VENV / "bin" / "otter")
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        raise ValueError(f"otter must be an otter-grader executable, got {str(candidate)!r}, which does not exist; "
                         "run `make otter-deps` (it installs otter-grader into .venv-otter)")
    return candidate


def _requirements() -> str:
    """What otter's image installs: the course's pinned torch, torchvision and fastai, then course_lib."""
    text = (ROOT / "pyproject.toml").read_text()  # no tomllib: Python 3.10 is supported
    block = re.search(r"^pinned = \[(.*?)^\]", text, re.M | re.S)
    pins = re.findall(r'"([^"]+==[^"]+)"', block.group(1)) if block else []
    return "\n".join([*pins, "course_lib @ git+https://github.com/open-cnn-course/cnn-course"]) + "\n"


def export(source: str | Path, outdir: str | Path, otter: str | Path | None = None) -> list[Path]:
    """Write the otter tests and autograder of each instructor notebook under ``source`` to ``outdir``.

    Returns the ``autograder.zip`` paths, one per notebook. The zip is made by ``otter generate``.
    Raises ``ValueError`` if ``source`` holds no notebook, a check cannot be exported or otter is
    missing, ``RuntimeError`` with otter's output if ``otter generate`` fails.

    Taught in: instructors
    """
    from .grade import notebooks

    otter_bin = find_otter(otter)
    zips = []
    for path in notebooks(source, "source"):
        key = answer_key.load(path)
        folder = Path(outdir) / path.stem
        shutil.rmtree(folder / "tests", ignore_errors=True)
        (folder / "tests").mkdir(parents=True)
        for label, text in test_files(key).items():
            (folder / "tests" / f"{label}.py").write_text(text, encoding="utf-8")
        (folder / "otter_config.json").write_text(json.dumps(
            {"lang": "python", "print_summary": True, "show_hidden": False, "logo": False}, indent=2) + "\n")
        (folder / "requirements.txt").write_text(_requirements())
        target = folder / "autograder.zip"
        target.unlink(missing_ok=True)
        proc = subprocess.run([str(otter_bin), "generate", "-t", "tests", "-o", target.name, "-c", "otter_config.json",
                               "-r", "requirements.txt"], cwd=folder, capture_output=True, text=True)
        if proc.returncode != 0 or not target.is_file():
            raise RuntimeError(f"otter generate failed for {path.name}:\n{(proc.stdout + proc.stderr)[-3000:]}")
        zips.append(target)
    return zips


def run_otter(submission: str | Path, autograder: str | Path, otter: str | Path | None = None,
              limits: Limits | None = None) -> dict | None:
    """``otter run`` of one submission with ``autograder``, in a bubblewrap sandbox; otter's results.json.

    The sandbox is the course grader's (no network, read-only system, nothing of the course or of other
    submissions, memory limits), standing in for otter's Docker container; the whole run stops after
    ``limits.notebook_timeout`` seconds. Returns ``None`` when otter produced no results (the run ended,
    crashed or ran out of time): otter then gives the submission nothing.

    Taught in: instructors
    """
    limits = limits or Limits()
    otter_bin = find_otter(otter)
    find_bwrap()
    submission, autograder = Path(submission).resolve(), Path(autograder).resolve()
    with tempfile.TemporaryDirectory(prefix="otter-run-") as tmp:
        etc = Path(tmp) / "etc"
        etc.mkdir()
        uid = 61999
        (etc / "passwd").write_text(f"student:x:{uid}:{uid}:student:/submission:/bin/sh\n")
        (etc / "group").write_text(f"student:x:{uid}:\n")
        # otter talks to its kernel's log server at "localhost": the sandbox's own loopback.
        (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
        (etc / "nsswitch.conf").write_text("hosts: files\n")
        for f in (etc, etc / "passwd", etc / "group", etc / "hosts", etc / "nsswitch.conf"):
            f.chmod(0o755 if f.is_dir() else 0o644)
        venv = otter_bin.resolve().parent.parent if otter_bin.parent.name == "bin" else otter_bin.parent
        inbox = "/grading-input"
        # otter's own output goes to stderr; stdout carries only the results, after the mark.
        script = (f"{otter_bin} run --no-logo -a {inbox}/autograder.zip -o /submission {inbox}/{submission.name} "
                  f">&2; echo '{RESULTS_MARK}'; cat /submission/results.json")
        binds = [(str(etc / name), f"/etc/{name}") for name in ("hosts", "nsswitch.conf")]
        binds += [(str(venv), str(venv)), (str(autograder), f"{inbox}/autograder.zip"),
                  (str(submission), f"{inbox}/{submission.name}")]
        argv = sandbox_argv(limits, uid, etc, command=["/bin/sh", "-c", script], read_only=binds)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=limits.notebook_timeout,
                                  preexec_fn=process_limits(limits), start_new_session=True)
        except subprocess.TimeoutExpired:
            return None
    _, mark, text = proc.stdout.rpartition(RESULTS_MARK)
    try:
        return json.loads(text) if mark else None
    except ValueError:
        return None


def scores(results: dict | None) -> dict[str, float]:
    """Points per exercise label in otter's results.json (``{}`` if otter gave no results).

    Taught in: instructors
    """
    return {test["name"]: float(test["score"]) for test in (results or {}).get("tests", []) if "score" in test}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.instructor.otter_export",
                                     description="Export instructor notebooks as otter-grader autograders.")
    parser.add_argument("source", help="an instructor notebook or a folder of them, e.g. chapters/")
    parser.add_argument("outdir", help="where to write one folder per notebook, e.g. otter/")
    parser.add_argument("--otter", default=None, help="the otter executable (default: .venv-otter/bin/otter)")
    args = parser.parse_args(argv)
    try:
        zips = export(args.source, args.outdir, args.otter)
    except (ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for z in zips:
        print(f"wrote {z}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
