"""Grade collected notebooks: run each one and write a CSV of points per exercise.

``python -m course_lib.grade submissions/ grades.csv`` executes every submitted notebook in its own
kernel, in a temporary folder, with a time limit per cell. Every ``check()`` the notebook calls
appends its result to a file named by ``COURSE_LIB_RESULTS_FILE`` (see
:mod:`course_lib.checks.core`); the grader reads that file, so a notebook that raises, times out or
kills its kernel still gets a row, with what it earned before it broke and the error.

Taught in: instructors
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .checks import exercise_labels
from .checks.core import RESULTS_FILE_ENV, max_points

_CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([^"']+)["']""")


@dataclass
class Submission:
    """The grade of one submitted notebook: the last result of each exercise it checked, and any error.

    Taught in: instructors
    """

    notebook: str
    points: dict[str, float] = field(default_factory=dict)
    max_points: dict[str, float] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    error: str = ""
    cell_errors: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.points.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_points.values())


def labels_in(nb: nbformat.NotebookNode) -> list[str]:
    """The exercise labels that the code cells of ``nb`` pass to ``check()``, in order.

    Taught in: instructors
    """
    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            found += [label for label in _CHECK_CALL.findall(cell.source) if label not in found]
    return found


def _points_of(label: str) -> float:
    try:
        return max_points(label)
    except ValueError:
        return 1.0


def grade_notebook(path: str | Path, timeout: int = 600, kernel_name: str = "python3",
                   expected: list[str] | None = None) -> Submission:
    """Execute the notebook at ``path`` in a fresh kernel and return its :class:`Submission`.

    Each cell may run ``timeout`` seconds. Cells that raise do not stop the run (later exercises are
    still graded) but are counted and the first one is reported. An unreadable notebook, a timeout or
    a dead kernel ends the run and is reported in ``error``; nothing here raises for a student's
    notebook. An ``expected`` label the notebook never checked scores 0.

    Taught in: instructors
    """
    from nbclient import NotebookClient

    path = Path(path)
    sub = Submission(notebook=str(path))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        results_file = Path(tmp) / "results.jsonl"
        nb = None
        try:
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                                    resources={"metadata": {"path": tmp}})
            env = {**os.environ, RESULTS_FILE_ENV: str(results_file), "COURSE_LIB_QUIET": "1"}
            client.execute(env=env, cwd=tmp)
        except Exception as e:  # noqa: BLE001  (a broken submission is a row, not a crash)
            sub.error = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"[:300]
        if nb is not None:
            errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
                      for o in c.get("outputs", []) if o.get("output_type") == "error"]
            sub.cell_errors = len(errors)
            if errors and not sub.error:
                i, o = errors[0]
                first = f"{o.get('ename')}: {o.get('evalue')}"
                sub.error = f"{len(errors)} cell(s) raised; first in cell {i}: {first}"[:300]
        rows = []
        if results_file.is_file():
            for line in results_file.read_text(encoding="utf-8").splitlines():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    for label in list(expected or []) + (labels_in(nb) if nb is not None else []):
        sub.points.setdefault(label, 0.0)
        sub.max_points.setdefault(label, _points_of(label))
        sub.status.setdefault(label, "not run")
    for row in rows:  # the last result of each exercise counts
        label = str(row.get("label"))
        sub.points[label] = float(row.get("points", 0.0))
        sub.max_points[label] = float(row.get("max_points", _points_of(label)))
        sub.status[label] = str(row.get("status"))
    sub.seconds = time.perf_counter() - start
    return sub


def _order(labels: set[str]) -> list[str]:
    registered = {label: i for i, label in enumerate(exercise_labels())}
    return sorted(labels, key=lambda label: (registered.get(label, len(registered)), label))


def write_csv(submissions: list[Submission], csv_path: str | Path) -> list[str]:
    """Write one row per submission (points per exercise, total, max, error) and return the header.

    A blank cell means the notebook does not contain that exercise.

    Taught in: instructors
    """
    labels = _order({label for sub in submissions for label in sub.points})
    header = ["notebook", *labels, "total", "max_total", "cell_errors", "error", "seconds"]
    Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for sub in submissions:
            cells = [f"{sub.points[label]:g}" if label in sub.points else "" for label in labels]
            writer.writerow([sub.notebook, *cells, f"{sub.total:g}", f"{sub.max_total:g}", sub.cell_errors,
                             sub.error, f"{sub.seconds:.1f}"])
    return header


def grade(submissions: str | Path, csv_path: str | Path, timeout: int = 600, kernel_name: str = "python3",
          expect: list[str | Path] | None = None) -> list[Submission]:
    """Grade every notebook under the folder ``submissions`` (or one notebook) and write ``csv_path``.

    ``expect`` lists instructor or student notebooks whose exercises every submission must answer
    (so a deleted exercise cell scores 0 instead of vanishing). Raises ``ValueError`` if there is no
    notebook to grade.

    Taught in: instructors
    """
    source = Path(submissions)
    if source.is_dir():
        paths = sorted(p for p in source.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    elif source.is_file():
        paths = [source]
    else:
        raise ValueError(f"submissions must be a folder of notebooks or a notebook, got {str(source)!r}")
    if not paths:
        raise ValueError(f"submissions must contain at least one .ipynb notebook, got {str(source)!r} with none")
    expected: list[str] = []
    for nb_path in expect or []:
        expected += [label for label in labels_in(nbformat.read(nb_path, as_version=4)) if label not in expected]
    graded = []
    for p in paths:
        sub = grade_notebook(p, timeout=timeout, kernel_name=kernel_name, expected=expected)
        print(f"{p}: {sub.total:g}/{sub.max_total:g}" + (f"  [{sub.error}]" if sub.error else ""), flush=True)
        graded.append(sub)
    write_csv(graded, csv_path)
    return graded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grade",
                                     description="Run submitted notebooks and write a CSV of points per exercise.")
    parser.add_argument("submissions", help="a folder of submitted notebooks (searched recursively), or one notebook")
    parser.add_argument("csv", help="the CSV file to write, e.g. grades.csv")
    parser.add_argument("--timeout", type=int, default=600, help="seconds each cell may run (default 600)")
    parser.add_argument("--kernel", default="python3", help="the Jupyter kernel to run them with")
    parser.add_argument("--expect", action="append", default=[], metavar="NOTEBOOK",
                        help="a notebook whose exercises every submission must answer (repeatable)")
    args = parser.parse_args(argv)
    try:
        graded = grade(args.submissions, args.csv, args.timeout, args.kernel, args.expect)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.csv}: {len(graded)} notebooks, {sum(1 for s in graded if s.error)} with errors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
