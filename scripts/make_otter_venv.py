"""Create the environment of otter-grader for the otter export and its test: ``make otter-deps``.

``.venv/bin/python scripts/make_otter_venv.py .venv-otter`` makes a virtual environment with the same
Python, installs ``requirements-otter.txt`` into it (otter-grader 7.0.0 and its exact dependencies),
then adds a ``.pth`` file so that it also sees the packages of the environment running this script
(torch, fastai, course_lib, ipykernel), after its own. otter cannot be installed into the course's
environment: it requires wrapt<2 and the course's lock pins wrapt 2.5.2.

The ``.pth`` file is written after the installation, so pip never sees (nor touches) the course's packages.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("target", help="the folder of the new environment, e.g. .venv-otter")
    args = parser.parse_args(argv)
    target = Path(args.target).resolve()
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    python = target / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r",
                    str(ROOT / "requirements-otter.txt")], check=True)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    course = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "course-environment.pth").write_text(f"import site; site.addsitedir({course!r})\n")
    check = subprocess.run([str(python), "-c", "import otter, torch, course_lib; print(otter.__version__)"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        print(check.stderr, file=sys.stderr)
        return 1
    print(f"otter-grader {check.stdout.strip()} in {target}, with the course's packages from {course}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
