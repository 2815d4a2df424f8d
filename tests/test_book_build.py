"""`make book` fails loudly and stays failed.

A small book with the course's execution settings and one notebook whose cell raises is built twice,
as `make book` builds (`-W -n --keep-going`). Both builds must fail, name the error, publish no page
for the broken notebook and no execution report: myst-nb writes those reports, full of machine paths,
into `_build/html/reports` when a failed execution is only a warning.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _small_book(folder: Path) -> None:
    course = yaml.safe_load((ROOT / "_config.yml").read_text())
    config = {"title": "A broken book", "only_build_toc_files": True, "execute": course["execute"],
              "sphinx": {"config": {"nb_merge_streams": True}}}
    (folder / "_config.yml").write_text(yaml.safe_dump(config))
    (folder / "_toc.yml").write_text(yaml.safe_dump({"format": "jb-book", "root": "intro",
                                                     "chapters": [{"file": "broken"}]}))
    (folder / "intro.md").write_text("# Intro\n\nA book with one broken chapter.\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Broken"),
                nbformat.v4.new_code_cell("print('before')"),
                nbformat.v4.new_code_cell("raise ValueError('this chapter is deliberately broken')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "broken.ipynb")


def _build(folder: Path) -> subprocess.CompletedProcess:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run([str(jupyter_book), "build", str(folder), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=300)


def test_a_notebook_that_raises_fails_the_build_and_every_rebuild(tmp_path):
    _small_book(tmp_path)
    html = tmp_path / "_build" / "html"
    for attempt in ("first build", "rebuild"):
        proc = _build(tmp_path)
        log = proc.stdout + proc.stderr
        assert proc.returncode != 0, f"the {attempt} succeeded although a cell raises:\n{log[-2000:]}"
        assert "broken" in log and ("ExecutionError" in log or "deliberately broken" in log), log[-2000:]
        assert "build succeeded" not in log, f"the {attempt} printed success:\n{log[-2000:]}"
        assert not (html / "reports").exists(), f"the {attempt} published an execution report"
        assert not (html / "broken.html").exists(), f"the {attempt} wrote the broken page"
