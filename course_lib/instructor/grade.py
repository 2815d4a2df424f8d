"""Grade collected notebooks: run each in a sandbox, check its answers here, write a CSV and feedback.

``python -m course_lib.grade submissions/ grades.csv --source chapters/`` runs every submitted
notebook in its own bubblewrap sandbox (:mod:`course_lib.instructor.sandbox`), several at a time. The scores
never come from the submission: once its notebook has run, the grader takes each exercise's answer
out of the kernel (values as plain data; a function stays in the sandbox and is called there with the
grader's inputs) and runs the instructor's checks and hidden tests (:mod:`course_lib.instructor.answer_key`) in
its own process. What the notebook printed, wrote to the results file or did to the checks in its
kernel only serves to raise ``flags`` for a human to look at.

Taught in: instructors
"""

from __future__ import annotations

import argparse
import ast
import builtins
import csv
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import nbformat

from ..checks import core
from ..checks.core import CheckResult, run_check
from . import answer_key, wire
from .answer_key import AnswerKey
from .sandbox import Limits, Sandbox, SandboxError, SandboxUnavailable, find_bwrap

_CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([^"']+)["']""")
MAX_NOTEBOOK_BYTES = 50 * 2**20
DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "chapters"


@dataclass
class Submission:
    """The grade of one submitted notebook: points, status and hint per exercise, flags and errors.

    Taught in: instructors
    """

    notebook: str
    source: str = ""
    points: dict[str, float] = field(default_factory=dict)
    max_points: dict[str, float] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    error: str = ""
    cell_errors: int = 0
    seconds: float = 0.0
    executed: str = ""

    @property
    def total(self) -> float:
        return sum(self.points.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_points.values())

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)

    def fail(self, why: str) -> None:
        self.error = "; ".join(filter(None, [self.error, why]))[:500]


def labels_in(nb: nbformat.NotebookNode) -> list[str]:
    """The exercise labels that the code cells of ``nb`` pass to ``check()``, in order.

    Taught in: instructors
    """
    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            found += [label for label in _CHECK_CALL.findall(cell.source) if label not in found]
    return found


# ---------------------------------------------------------------- flags a submission's source raises


def _static_flags(nb: nbformat.NotebookNode, key: AnswerKey, sub: Submission) -> None:
    calls: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = answer_key.parse(cell.source)
        calls |= {call for _, _, call in answer_key.check_calls(tree)}
        for name in answer_key.SUSPICIOUS_NAMES:
            if re.search(rf"\b{re.escape(name)}\b", cell.source):
                sub.flag(f"suspicious-code:{name}")
        for node in ast.walk(tree) if tree is not None else []:
            rebinds = (isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)
                       or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))
            name = getattr(node, "id", getattr(node, "name", ""))
            if rebinds and name in ("check", "register"):
                sub.flag(f"suspicious-code:{name}")
            if isinstance(node, ast.alias) and (node.asname or node.name) in ("check", "register") \
                    and node.name not in ("check", "register"):
                sub.flag(f"suspicious-code:{node.asname or node.name}")
    for label, expected in key.student_calls.items():
        if not calls & set(expected):
            sub.flag(f"edited-check:{label}")


def _kernel_flags(report: dict, results: str, key: AnswerKey, visible: dict[str, CheckResult], sub: Submission) -> None:
    registry = report.get("registry") if isinstance(report.get("registry"), dict) else {}
    for label in key.labels:
        entry = registry.get(label)
        if isinstance(entry, list) and len(entry) == 2:
            ours = [wire.fingerprint(key.checks[label].fn), key.max_points(label)]
            if entry[0] != ours[0] or entry[1] != ours[1]:
                sub.flag(f"replaced-check:{label}")
    for name, fn in (("check", core.check), ("run_check", core.run_check), ("record", core.record_result)):
        if report.get(name) not in (None, wire.fingerprint(fn)):
            sub.flag(f"replaced-check:{name}")
    calls = report.get("calls") if isinstance(report.get("calls"), dict) else {}
    rows: Counter[str] = Counter()
    last: dict[str, dict] = {}
    forged = False
    for line in results.splitlines():
        try:
            row = json.loads(line)
            label = row["label"]
            points, top = float(row["points"]), float(row["max_points"])
        except (ValueError, KeyError, TypeError):
            forged = True
            continue
        if label not in key.checks or points > key.max_points(label) or top != key.max_points(label):
            forged = True
            continue
        rows[label] += 1
        last[label] = row
    for label, n in rows.items():
        if n > int(calls.get(label, 0) if isinstance(calls.get(label, 0), int) else 0):
            forged = True
    for label, row in last.items():  # the kernel's check passed what the grader's check does not
        if row.get("status") == "correct" and label in visible and not visible[label].passed:
            sub.flag(f"kernel-disagrees:{label}")
    if forged:
        sub.flag("forged-results")


# ---------------------------------------------------------------- grading one submission


def _answers(box: Sandbox, key: AnswerKey, sub: Submission) -> dict[str, CheckResult]:
    visible: dict[str, CheckResult] = {}
    for label in key.labels:
        if label not in key.student_calls:
            continue
        ex = key.checks[label]
        try:
            reply = box.request({"op": "answer", "label": label, "expr": key.answer_exprs.get(label)})
        except SandboxError as e:
            visible[label] = CheckResult(label, "error", f"the grader could not read your answer: {e}", 0.0, ex.points)
            continue
        if reply.get("ok") and reply.get("missing"):
            visible[label] = CheckResult(label, "not run", "no answer: the exercise's cell did not run.", 0.0,
                                         ex.points)
            continue
        try:
            answer = box.value(reply)
        except wire.WireError as e:
            visible[label] = CheckResult(label, "wrong", f"the grader cannot read your answer: {e}.", 0.0, ex.points)
            continue
        except Exception as e:  # noqa: BLE001  (encoding the answer ran the student's code, which raised)
            visible[label] = CheckResult(label, "wrong", f"reading your answer raised {type(e).__name__}: {e}",
                                         0.0, ex.points)
            continue
        visible[label] = run_check(ex, answer)
    return visible


def _hidden(box: Sandbox, key: AnswerKey) -> tuple[dict[str, list[CheckResult]], dict[str, str]]:
    checked: dict[str, list[CheckResult]] = {}
    failed: dict[str, str] = {}
    import math

    import numpy as np
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812

    for test in key.hidden:
        # Hidden tests see the grader's torch, np, nn, F and math, and import anything else they need.
        namespace: dict = {"__builtins__": builtins, "__name__": "hidden_test", "torch": torch, "np": np, "nn": nn,
                           "F": F, "math": math}
        names = [name for name in answer_key.free_names(test.code) if name not in namespace]

        def hidden_check(label, answer=None, _owners=test.labels):
            result = run_check(key.checks[label], answer)
            checked.setdefault(label, []).append(result)
            return result

        try:
            reply = box.request({"op": "names", "names": names}) if names else {"ok": True, "values": {}}
            if not reply.get("ok"):
                raise RuntimeError(f"the submission's names could not be read: {reply.get('error')}")
            values = reply.get("values") if isinstance(reply.get("values"), dict) else {}
            for name in names:
                if name in values:
                    namespace[name] = wire.decode(values[name], make_remote=box.make_remote)
            namespace["check"] = hidden_check
            exec(compile(answer_key.python_source(test.code), f"hidden test in cell {test.cell}", "exec"),  # noqa: S102
                 namespace)
        except (Exception, SystemExit) as e:  # noqa: BLE001  (a failed hidden test is a result)
            import traceback

            frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename.startswith("hidden test")]
            where = f" at line {frames[-1].lineno}" if frames else ""
            for label in test.labels:
                failed.setdefault(label, f"hidden test in cell {test.cell} of the source failed{where}: "
                                         f"{type(e).__name__}: {str(e)[:200]}")
    return checked, failed


def _score(key: AnswerKey, sub: Submission, visible: dict[str, CheckResult], checked, failed) -> None:
    for label in key.labels:
        results = ([visible[label]] if label in visible else []) + checked.get(label, [])
        bad = next((r for r in results if not r.passed), None)
        top = key.max_points(label)
        if bad is not None:
            sub.status[label], sub.messages[label] = bad.status, bad.message
        elif label in failed:
            sub.status[label] = "wrong"
            sub.messages[label] = "your answer passes the visible check but not a hidden test."
            sub.notes[label] = failed[label]
        elif results:
            sub.status[label], sub.messages[label] = "correct", results[-1].message
        else:
            sub.status[label], sub.messages[label] = "not run", "no answer: the exercise's check never ran."
        if label in failed and label not in sub.notes:
            sub.notes[label] = failed[label]
        sub.points[label] = top if sub.status[label] == "correct" else 0.0


def _report_errors(report: dict, executed: nbformat.NotebookNode | None, sub: Submission) -> None:
    for event in report.get("events", []) if isinstance(report.get("events"), list) else []:
        if not isinstance(event, dict):
            continue
        kind, cell = str(event.get("kind")), event.get("cell")
        sub.fail({"cell-timeout": f"CellTimeoutError: cell {cell} ran out of time and was interrupted",
                  "notebook-timeout": f"NotebookTimeout: the notebook ran out of time before cell {cell}",
                  "dead-kernel": f"DeadKernelError: cell {cell} killed the kernel and was skipped on a re-run",
                  "stuck-kernel": f"CellTimeoutError: cell {cell} could not be interrupted and was skipped on a re-run",
                  }.get(kind, kind))
    if not report.get("alive"):
        sub.fail("DeadKernelError: the kernel kept dying; answers could not be read")
    if executed is not None:
        errors = [(i, o) for i, c in enumerate(executed.cells) if c.cell_type == "code"
                  for o in c.get("outputs", []) if o.get("output_type") == "error"]
        sub.cell_errors = len(errors)
        real = [(i, o) for i, o in errors if o.get("ename") != "CellTimeoutError"]
        if real:
            i, o = real[0]
            sub.fail(f"{len(real)} cell(s) raised; first in cell {i}: {o.get('ename')}: {o.get('evalue')}")


def grade_notebook(path: str | Path, key: AnswerKey, limits: Limits | None = None, kernel_name: str = "python3",
                   slot: int = 0) -> Submission:
    """Run the notebook at ``path`` in a sandbox and grade it against ``key``; never raises for a submission.

    Every exercise of ``key`` gets a score (0 if it was not answered, not run or not readable) and a
    status; tampering raises flags; an unreadable notebook, a timeout or a dead kernel is in ``error``.

    Taught in: instructors
    """
    limits = limits or Limits()
    path = Path(path)
    sub = Submission(notebook=str(path), source=key.path.name)
    for label in key.labels:
        sub.points[label], sub.max_points[label] = 0.0, key.max_points(label)
        sub.status[label], sub.messages[label] = "not run", "the notebook was not run."
    start = time.perf_counter()
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
        nb = nbformat.reads(path.read_text(encoding="utf-8", errors="replace"), as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # noqa: BLE001  (a broken submission is a row, not a crash)
        text = str(e).strip().splitlines()[0] if str(e).strip() else ""
        sub.fail(f"{type(e).__name__}: {text}"[:300])
        sub.seconds = time.perf_counter() - start
        return sub
    _static_flags(nb, key, sub)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        box = Sandbox(limits, Path(tmp), slot)
        try:
            report = box.start(nbformat.writes(nb), kernel_name)
            if report.get("type") != "executed" or not isinstance(report.get("notebook"), str):
                raise SandboxError("the sandbox did not report an executed notebook")
            sub.executed = report["notebook"]
            try:
                executed = nbformat.reads(sub.executed, as_version=4)
            except Exception:  # noqa: BLE001
                executed = None
            _report_errors(report, executed, sub)
            kernel_report = box.request({"op": "report"}) if report.get("alive") else {}
            visible = _answers(box, key, sub)
            checked, failed = _hidden(box, key)
            _score(key, sub, visible, checked, failed)
            results = report.get("results") if isinstance(report.get("results"), str) else ""
            _kernel_flags(kernel_report, results, key, visible, sub)
        except SandboxError as e:
            sub.fail(f"SandboxError: {e}")
        finally:
            box.close()
    sub.seconds = time.perf_counter() - start
    return sub


# ---------------------------------------------------------------- a class: many submissions, in parallel


def notebooks(folder: str | Path, what: str) -> list[Path]:
    """The notebooks of ``folder`` (searched recursively) or ``[folder]`` itself; ``what`` names it in errors.

    Taught in: instructors
    """
    root = Path(folder)
    if root.is_dir():
        paths = sorted(p for p in root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    elif root.is_file():
        paths = [root]
    else:
        raise ValueError(f"{what} must be a folder of notebooks or a notebook, got {str(root)!r}")
    if not paths:
        raise ValueError(f"{what} must contain at least one .ipynb notebook, got {str(root)!r} with none")
    return paths


def match_source(nb_path: Path, keys: list[AnswerKey]) -> AnswerKey | None:
    """The source notebook a submission answers: the one sharing most exercise labels, else its file name."""
    if len(keys) == 1:
        return keys[0]
    try:
        if nb_path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError("too large")
        labels = set(labels_in(nbformat.read(nb_path, as_version=4)))
    except Exception:  # noqa: BLE001
        labels = set()
    best = max(keys, key=lambda k: len(labels & set(k.labels)))
    if labels & set(best.labels):
        return best
    named = [k for k in keys if k.path.stem in nb_path.name or nb_path.stem in k.path.stem]
    return named[0] if len(named) == 1 else None


_WORKER_KEYS: dict[str, AnswerKey] = {}


def _load_keys(paths: list[str]) -> None:
    for p in paths:
        if p not in _WORKER_KEYS:
            _WORKER_KEYS[p] = answer_key.load(p)


def _grade_task(path: str, key_path: str, limits: Limits, kernel_name: str, slot: int) -> Submission:
    return grade_notebook(path, _WORKER_KEYS[key_path], limits, kernel_name, slot)


def feedback_text(sub: Submission) -> str:
    """The short feedback file of one submission: each exercise's status and the hint the student would see.

    Taught in: instructors
    """
    lines = [f"# Feedback: {Path(sub.notebook).name}", "", f"Source: {sub.source or 'none'}. "
             f"Score: {sub.total:g}/{sub.max_total:g}.", ""]
    for label in sub.points:
        lines.append(f"- **{label}** ({sub.points[label]:g}/{sub.max_points[label]:g}, {sub.status[label]}): "
                     f"{sub.messages.get(label, '')}")
    if sub.error or sub.flags or sub.notes:
        lines += ["", "## For the instructor", ""]
        lines += [f"- error: {sub.error}"] if sub.error else []
        lines += [f"- flags: {', '.join(sub.flags)}"] if sub.flags else []
        lines += [f"- {label}: {note}" for label, note in sub.notes.items()]
    return "\n".join(lines) + "\n"


def _keep(sub: Submission, root: Path | None, keep_dir: Path) -> None:
    path = Path(sub.notebook)
    rel = path.relative_to(root) if root is not None and root in path.parents else Path(path.name)
    target = keep_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if sub.executed:
        target.with_suffix(".executed.ipynb").write_text(sub.executed, encoding="utf-8")
    target.with_suffix(".feedback.md").write_text(feedback_text(sub), encoding="utf-8")


def write_csv(submissions: list[Submission], csv_path: str | Path, labels: list[str] | None = None) -> list[str]:
    """Write one row per submission (points per exercise, total, max, flags, error) and return the header.

    A blank cell means the exercise belongs to another source notebook than the submission's.

    Taught in: instructors
    """
    if labels is None:
        labels = list(dict.fromkeys(label for sub in submissions for label in sub.points))
    header = ["notebook", "source", *labels, "total", "max_total", "flags", "error", "cell_errors", "seconds"]
    Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for sub in submissions:
            cells = [f"{sub.points[label]:g}" if label in sub.points else "" for label in labels]
            writer.writerow([sub.notebook, sub.source, *cells, f"{sub.total:g}", f"{sub.max_total:g}",
                             " ".join(sub.flags), sub.error, sub.cell_errors, f"{sub.seconds:.1f}"])
    return header


def grade(submissions: str | Path, csv_path: str | Path, timeout: float = 120, kernel_name: str = "python3",
          expect: list[str | Path] | None = None, source: str | Path | list[str | Path] | None = None,
          jobs: int | None = None, notebook_timeout: float = 900, memory_mb: int = 4096,
          keep: str | Path | None = None, quiet: bool = False) -> list[Submission]:
    """Grade every notebook under ``submissions`` against the instructor notebooks ``source``; write ``csv_path``.

    ``source`` is an instructor notebook or a folder of them (default: the course's ``chapters/``);
    ``expect`` is an older name for it. Each submission is matched to the source sharing most of its
    exercise labels. ``jobs`` sandboxes run at a time (default: one per CPU core). The executed
    notebooks and feedback files go to ``keep`` (default: a folder beside the CSV, ``<csv name>_feedback``).
    Raises ``ValueError`` if there is no notebook to grade or no source, :class:`SandboxUnavailable` if
    bubblewrap is missing.

    Taught in: instructors
    """
    paths = notebooks(submissions, "submissions")
    sources = ([source] if isinstance(source, (str, Path)) else list(source or [])) + list(expect or [])
    if not sources:
        if not DEFAULT_SOURCE.is_dir():
            raise ValueError("source must name the instructor notebooks (--source chapters/), got none")
        sources = [DEFAULT_SOURCE]
    key_paths = list(dict.fromkeys(str(p.resolve()) for s in sources for p in notebooks(s, "source")))
    _load_keys(key_paths)
    keys = [_WORKER_KEYS[p] for p in key_paths]
    find_bwrap()
    limits = Limits(cell_timeout=timeout, notebook_timeout=notebook_timeout, call_timeout=min(60.0, timeout),
                    memory_mb=memory_mb)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths)))
    keep_dir = Path(keep) if keep is not None else Path(csv_path).with_name(Path(csv_path).stem + "_feedback")
    root = Path(submissions).resolve() if Path(submissions).is_dir() else None
    graded: list[Submission | None] = [None] * len(paths)
    tasks, unmatched = [], []
    for i, p in enumerate(paths):
        key = match_source(p, keys)
        if key is None:
            sub = Submission(notebook=str(p), error="no source notebook has this submission's exercises")
            sub.flag("unknown-source")
            unmatched.append((i, sub))
        else:
            tasks.append((i, str(p), str(key.path.resolve())))

    def done(i: int, sub: Submission) -> None:
        graded[i] = sub
        _keep(sub, root, keep_dir)
        if not quiet:
            extra = "".join(f"  [{x}]" for x in (sub.error, " ".join(sub.flags)) if x)
            print(f"{sub.notebook}: {sub.total:g}/{sub.max_total:g}{extra}", flush=True)

    for i, sub in unmatched:
        done(i, sub)
    if jobs == 1:
        for i, p, k in tasks:
            done(i, _grade_task(p, k, limits, kernel_name, i))
    else:
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_load_keys,
                                 initargs=(key_paths,)) as pool:
            futures = {pool.submit(_grade_task, p, k, limits, kernel_name, i): (i, p) for i, p, k in tasks}
            for future, (i, p) in futures.items():
                try:
                    sub = future.result()
                except Exception as e:  # noqa: BLE001  (a crashed worker is one row, not a lost class)
                    sub = Submission(notebook=p, error=f"GraderError: {type(e).__name__}: {e}"[:300])
                done(i, sub)
    labels = list(dict.fromkeys(label for key in keys for label in key.labels))
    result = [sub for sub in graded if sub is not None]
    write_csv(result, csv_path, labels)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grade",
                                     description="Run submitted notebooks in sandboxes and write a CSV of points.")
    parser.add_argument("submissions", help="a folder of submitted notebooks (searched recursively), or one notebook")
    parser.add_argument("csv", help="the CSV file to write, e.g. grades.csv")
    parser.add_argument("--source", action="append", default=[], metavar="NOTEBOOK_OR_FOLDER",
                        help="the instructor notebooks, with solutions and hidden tests (default: chapters/)")
    parser.add_argument("--expect", action="append", default=[], metavar="NOTEBOOK", help="older name of --source")
    parser.add_argument("--timeout", type=float, default=120, help="seconds each cell may run (default 120)")
    parser.add_argument("--notebook-timeout", type=float, default=900,
                        help="seconds a whole notebook may run (default 900)")
    parser.add_argument("--memory", type=int, default=4096, help="MiB of memory per process (default 4096)")
    parser.add_argument("--jobs", type=int, default=None, help="submissions graded at a time (default: CPU cores)")
    parser.add_argument("--keep", default=None, metavar="FOLDER",
                        help="where to keep executed notebooks and feedback (default: CSV name + _feedback)")
    parser.add_argument("--kernel", default="python3", help="the Jupyter kernel to run them with")
    args = parser.parse_args(argv)
    try:
        graded = grade(args.submissions, args.csv, args.timeout, args.kernel, args.expect, args.source, args.jobs,
                       args.notebook_timeout, args.memory, args.keep)
    except (ValueError, SandboxUnavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    flagged = sum(1 for s in graded if s.flags)
    print(f"wrote {args.csv}: {len(graded)} notebooks, {sum(1 for s in graded if s.error)} with errors, "
          f"{flagged} flagged")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
