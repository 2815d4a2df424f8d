"""Build the student website: the same book with every solution removed.

``python -m course_lib.instructor.student_site`` (or ``make student-book``) writes a copy of ``_config.yml``
with sphinx-exercise's ``hide_solutions: true`` (made to work for gated solutions by
:mod:`course_lib.instructor.sphinx_ext.hide_solutions`), builds the book with it, and puts the site in
``_build/student_html``. Notebook execution is off by default: the stored outputs are the ones nbval
checks in ``make test``. The page sources that the "Download .ipynb" button serves are replaced by
the student editions (:func:`course_lib.instructor.assign.student_notebook`), and the Binder and Colab buttons
are switched off, since they would open the instructor notebooks from the repository.

Taught in: instructors
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from .assign import student_notebook

EXTENSION = "course_lib.instructor.sphinx_ext.hide_solutions"


def student_book_config(root: str | Path, execute: bool = False) -> dict:
    """The book's ``_config.yml`` under ``root``, changed for the student website.

    Taught in: instructors
    """
    config_path = Path(root) / "_config.yml"
    if not config_path.is_file():
        raise ValueError(f"root must be a Jupyter Book folder with a _config.yml, got {str(root)!r}")
    config = yaml.safe_load(config_path.read_text())
    sphinx = config.setdefault("sphinx", {})
    # Local extension folders are relative to the config file, which will live elsewhere.
    for name, folder in (sphinx.get("local_extensions") or {}).items():
        sphinx["local_extensions"][name] = str((Path(root) / folder).resolve())
    if config.get("bibtex_bibfiles"):
        config["bibtex_bibfiles"] = [str((Path(root) / f).resolve()) for f in config["bibtex_bibfiles"]]
    extensions = sphinx.setdefault("extra_extensions", [])
    if EXTENSION not in extensions:
        extensions.append(EXTENSION)
    sphinx.setdefault("config", {})["hide_solutions"] = True
    if not execute:
        config.setdefault("execute", {})["execute_notebooks"] = "off"
    excluded = config.setdefault("exclude_patterns", [])
    excluded += [p for p in ("student/**", ".pytest_cache/**", "test-artifacts/**", "_build/**") if p not in excluded]
    launch = config.setdefault("launch_buttons", {})
    launch["binderhub_url"] = ""
    launch["colab_url"] = ""
    config["title"] = f"{config.get('title', 'Course')} (student edition)"
    return config


def build_student_site(root: str | Path = ".", html_dir: str | Path | None = None, execute: bool = False,
                       strict: bool = True, work: str | Path | None = None) -> tuple[Path, subprocess.CompletedProcess]:
    """Build the student website of the book in ``root`` into ``html_dir`` (default ``_build/student_html``).

    Returns the html folder and the finished ``jupyter-book`` process (its ``returncode`` and log).
    ``strict`` adds ``-W -n --keep-going``, as ``make book`` does; ``work`` is the scratch folder
    of the build (default ``_build/student``).

    Taught in: instructors
    """
    root = Path(root).resolve()
    html_dir = Path(html_dir) if html_dir is not None else root / "_build" / "student_html"
    work = Path(work).resolve() if work is not None else root / "_build" / "student"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config_file = work / "student-config.yml"
    config_file.write_text(yaml.safe_dump(student_book_config(root, execute), sort_keys=False))
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    cmd = [jupyter_book, "build", str(root), "--path-output", str(work), "--config", str(config_file)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    built = work / "_build" / "html"
    if not (built / "index.html").is_file():
        raise RuntimeError(f"the student website build produced no index.html:\n{(proc.stdout + proc.stderr)[-3000:]}")
    for source in (built / "_sources").rglob("*.ipynb"):
        original = root / source.relative_to(built / "_sources")
        if original.is_file():
            student, _ = student_notebook(nbformat.read(original, as_version=4), name=str(original))
            nbformat.write(student, source)
        else:  # a page source we cannot rebuild as a student edition is not served at all
            source.unlink()
    shutil.rmtree(html_dir, ignore_errors=True)
    shutil.move(str(built), str(html_dir))
    return html_dir, proc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.instructor.student_site",
                                     description="Build the book's student website (solutions hidden).")
    parser.add_argument("--root", default=".", help="the book folder (default: .)")
    parser.add_argument("--out", default=None, help="the html folder (default: ROOT/_build/student_html)")
    parser.add_argument("--execute", action="store_true", help="execute the notebooks instead of using stored outputs")
    args = parser.parse_args(argv)
    html, proc = build_student_site(args.root, args.out, execute=args.execute)
    sys.stdout.write(proc.stdout[-4000:])
    sys.stderr.write(proc.stderr[-4000:])
    print(f"The student website is in {html} (open {html / 'index.html'})")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
