"""Execute chapter notebooks top to bottom and store them with their outputs (`make notebooks`).

Each notebook runs in a fresh kernel from its own folder, as nbval and the website build run it, and
is written back with clean execution counts. nbclient's per-cell timestamps stay in the metadata:
tests/test_assign.py reads them to pick the chapters light enough to run as student editions. Run it
on a quiet machine: chapters print their own timings.
Usage: python scripts/execute_chapters.py [chapters/04_training_stability.ipynb ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


if __name__ == "__main__":
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted((ROOT / "chapters").glob("*.ipynb"))
    for path in paths:
        print(f"{path.relative_to(ROOT)}: {execute(path):.1f} s", flush=True)
