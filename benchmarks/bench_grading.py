"""Seconds to grade a class of 30 chapter 1 submissions: course_lib's grader, then otter run.

Builds 30 student notebooks of chapter 1 (seed 0): 12 right, 8 partly right or wrong, 5 blank and 5
hostile (a forged results file, replaced checks, a function that reads the check's frame, an answer
that fits only the visible check, an endless cell). It grades them with ``course_lib.grade`` (two
sandboxes at a time, cell limit 30 s), then exports chapter 1 with ``otter_export`` and grades the
same notebooks with ``otter run`` (two at a time, each in the course's sandbox, run limit 60 s),
if otter is installed (``make otter-deps``). The endless cell costs 30 s of one slot in the course's
grader and otter's whole 60 s run limit. The load average before and after each phase is stored
with the machine (benchmarks/machine.py): other processes on a shared machine slow both down.

Writes benchmarks/results/grading.json.
Usage: OMP_NUM_THREADS=1 python benchmarks/bench_grading.py [--jobs 2] [--no-otter]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from machine import describe
from nbformat.v4 import new_code_cell

from course_lib.instructor import otter_export
from course_lib.instructor.assign import student_notebook
from course_lib.instructor.grade import grade
from course_lib.instructor.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_1 = ROOT / "chapters" / "01_convolutions_and_shapes.ipynb"
RESULT = Path(__file__).resolve().parent / "results" / "grading.json"
# The student cells of the three function exercises, each a comment and a raise.
CONV_STUB = "    # Your answer: loop over the output positions and take weighted sums.\n    raise NotImplementedError"
WEIGHT_STUB = "    # Your answer: return the pair (shape, count).\n    raise NotImplementedError"
SAME_STUB = "    # Your answer: return the tuple (left, right, top, bottom).\n    raise NotImplementedError"
RIGHT = [("output_size_answer = None", "output_size_answer = 30"),
         (SAME_STUB, "    (kh, kw), (dh, dw) = [(v, v) if isinstance(v, int) else v for v in (kernel_size, dilation)]\n"
          "    th, tw = dh * (kh - 1), dw * (kw - 1)\n"
          "    return tw // 2, tw - tw // 2, th // 2, th - th // 2"),
         (WEIGHT_STUB, "    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size\n"
          "    return (out_channels, in_channels, kh, kw), out_channels * in_channels * kh * kw + out_channels * bias"),
         ("my_kernel = None", "my_kernel = [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]"),
         ("stride_chain_answer = None", "stride_chain_answer = 46"),
         (CONV_STUB,
          "    kh, kw = kernel.shape\n"
          "    return torch.stack([torch.stack([(image[i:i + kh, j:j + kw] * kernel).sum()\n"
          "        for j in range(image.shape[1] - kw + 1)])\n"
          "        for i in range(image.shape[0] - kh + 1)])")]
WRONG = [("output_size_answer = None", "output_size_answer = 15"),
         (SAME_STUB, "    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size\n"
          "    return (kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2"),
         (WEIGHT_STUB, "    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]\n"
          "    return (in_channels, out_channels, k, k), in_channels * out_channels * k * k + out_channels"),
         ("my_kernel = None", "my_kernel = [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]"),
         ("stride_chain_answer = None", "stride_chain_answer = 47"),
         (CONV_STUB, "    return image")]
FORGE = ('import json, os\nwith open(os.environ["COURSE_LIB_RESULTS_FILE"], "a") as f:\n'
         '    f.write(json.dumps({"label": "ex-ch1-output-size", "status": "correct", "points": 100, '
         '"max_points": 1}) + "\\n")')
REPLACE = ("from course_lib.checks import core\nfor ex in core._REGISTRY.values():\n"
           "    ex.fn = lambda answer: 'anything goes'")
HOSTILE = {"forged": FORGE, "replaced": REPLACE, "endless": "while True:\n    pass"}


def _replace(nb, old: str, new: str) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code" and old in cell.source:
            cell.source = cell.source.replace(old, new)
            return
    raise ValueError(f"no cell holds {old!r}")


def _after(nb, marker: str, source: str) -> None:
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and marker in c.source)
    nb.cells.insert(index + 1, new_code_cell(source))


def make_class(folder: Path, seed: int = 0) -> dict[str, str]:
    """Write the 30 submissions to ``folder``; return each one's kind."""
    rng = random.Random(seed)
    issued = student_notebook(nbformat.read(CHAPTER_1, as_version=4), CHAPTER_1.name)[0]
    kinds = ["right"] * 12 + ["mixed"] * 8 + ["blank"] * 5 + ["forged", "replaced", "thief", "hidden", "endless"]
    written = {}
    for i, kind in enumerate(kinds):
        nb = copy.deepcopy(issued)
        if kind == "right":
            for old, new in RIGHT:
                _replace(nb, old, new)
        elif kind == "mixed":
            for (old, right), (_, wrong) in zip(RIGHT, WRONG, strict=True):
                choice = rng.choice([right, wrong, None])
                if choice is not None:
                    _replace(nb, old, choice)
        elif kind == "thief":
            _replace(nb, CONV_STUB,
                     "    import inspect\n    return inspect.currentframe().f_back.f_locals['expected']")
        elif kind == "hidden":
            _replace(nb, CONV_STUB, "    if tuple(image.shape) == (3, 4):\n"
                     "        return torch.zeros(3, 4)\n" + RIGHT[-1][1])
        elif kind in HOSTILE:
            _replace(nb, *RIGHT[0])
            _after(nb, 'check("ex-ch1-output-size"', HOSTILE[kind])
        name = f"student_{i:02d}_{kind}.ipynb"
        nbformat.write(nb, folder / name)
        written[name] = kind
    return written


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-otter", action="store_true", help="time course_lib's grader only")
    args = parser.parse_args()
    machine = describe()
    out: dict = {"what": "grade 30 chapter 1 submissions (12 right, 8 mixed, 5 blank, 5 hostile incl. one endless "
                         f"cell), {args.jobs} at a time", "machine": machine}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        kinds = make_class(subs)
        start, load = time.perf_counter(), _load()
        graded = grade(subs, Path(tmp) / "grades.csv", timeout=30, source=CHAPTER_1, jobs=args.jobs,
                       notebook_timeout=300, quiet=True)
        seconds = time.perf_counter() - start
        out["course_grader"] = {"seconds": round(seconds, 1), "per_submission": round(seconds / len(kinds), 2),
                                "load_before": load, "load_after": _load(),
                                "totals": {Path(s.notebook).name: s.total for s in graded}}
        print(f"course_lib.grade: {seconds:.1f} s for {len(kinds)} submissions", flush=True)
        if not args.no_otter:
            try:
                otter = otter_export.find_otter()
            except ValueError as e:
                out["otter"] = {"skipped": str(e)}
            else:
                start, load = time.perf_counter(), _load()
                (autograder,) = otter_export.export(CHAPTER_1, Path(tmp) / "otter", otter)
                exported = time.perf_counter() - start
                limits = Limits(notebook_timeout=60)
                paths = sorted(subs.glob("*.ipynb"))
                with ThreadPoolExecutor(args.jobs) as pool:
                    results = list(pool.map(lambda p: otter_export.run_otter(p, autograder, otter, limits), paths))
                seconds = time.perf_counter() - start
                out["otter"] = {"seconds": round(seconds, 1), "export_seconds": round(exported, 1),
                                "per_submission": round(seconds / len(paths), 2), "load_before": load,
                                "load_after": _load(),
                                "totals": {p.name: sum(otter_export.scores(r).values()) for p, r in
                                           zip(paths, results, strict=True)}}
                print(f"otter run: {seconds:.1f} s for {len(paths)} submissions", flush=True)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "totals"} if isinstance(v, dict) else v
                      for k, v in out.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
