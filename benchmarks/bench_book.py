"""Benchmark the book: cold and warm website builds, and each notebook's time and peak memory.

Targets (issue "the course's spine"): a cold build with every notebook executed in <= 4 min on
2 cores, a warm rebuild with nothing changed in <= 15 s, and each notebook at <= 1.5 GB peak RSS.
Run from the repository root with the course's venv:  .venv/bin/python benchmarks/bench_book.py
Writes benchmarks/results/book.json and benchmarks/results/book.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent

# Executed in a fresh interpreter per notebook: after the kernel has exited, RUSAGE_CHILDREN
# holds the peak resident set size of the largest child, which is the kernel.
_RUNNER = r"""
import resource, sys, time, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
start = time.perf_counter()
NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def notebook_costs() -> list[dict]:
    rows = []
    for nb in sorted((ROOT / "chapters").glob("*.ipynb")):
        out = subprocess.run([sys.executable, "-c", _RUNNER, str(nb), str(nb.parent)], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout.split()
        rows.append({"notebook": nb.name, "seconds": round(float(out[0]), 1),
                     "peak_rss_mb": round(int(out[1]) / 1024, 1)})
        print(f"{nb.name}: {rows[-1]['seconds']} s, peak RSS {rows[-1]['peak_rss_mb']} MB", flush=True)
    return rows


def build_times() -> dict:
    out_dir = Path(tempfile.mkdtemp(prefix="bench-book-"))
    cmd = [str(BIN / "jupyter-book"), "build", str(ROOT), "-W", "-n", "--keep-going", "--path-output", str(out_dir)]
    times = {}
    try:
        for kind in ("cold", "warm"):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
            times[f"{kind}_build_seconds"] = round(time.perf_counter() - start, 1)
            print(f"{kind} build: {times[f'{kind}_build_seconds']} s", flush=True)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return times


def main() -> None:
    os.environ.setdefault("COURSE_LIB_QUIET", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "targets": {"cold_build_seconds": 240, "warm_build_seconds": 15, "peak_rss_mb": 1536},
        **build_times(),
        "notebooks": notebook_costs(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "book.json").write_text(json.dumps(result, indent=2) + "\n")
    machine = result["machine"]
    lines = ["# Book benchmark", "", f"Machine: {machine['cpus']} CPUs, Python {machine['python']}", "",
             "| measure | value | target |", "|---|---|---|",
             f"| cold build (all notebooks executed) | {result['cold_build_seconds']} s | <= 240 s |",
             f"| warm rebuild, nothing changed | {result['warm_build_seconds']} s | <= 15 s |", "",
             "| notebook | execution time | peak RSS |", "|---|---|---|"]
    lines += [f"| {r['notebook']} | {r['seconds']} s | {r['peak_rss_mb']} MB |" for r in result["notebooks"]]
    (RESULTS / "book.md").write_text("\n".join(lines) + "\n")
    print((RESULTS / "book.md").read_text())


if __name__ == "__main__":
    main()
