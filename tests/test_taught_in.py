"""Every public name of course_lib says which chapter teaches it, and that is the chapter that first uses it."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import yaml

import course_lib

ROOT = Path(__file__).resolve().parents[1]
# Build and grading machinery: documented in the instructor guide, not taught in a chapter.
INSTRUCTOR_MODULES = {"assign", "grade", "sandbox", "wire", "answer_key", "student_site", "sphinx_hide_solutions",
                      "instructor"}
TAG = re.compile(r"Taught in: (\S+)")


def _chapters() -> list[str]:
    """Chapter stems in the order of the table of contents."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part.get("chapters", [])]
    return [f for f in files if f.startswith("chapters/")]


def _course_lib_names(stem: str) -> set[str]:
    """The names a chapter takes from course_lib: ``from course_lib(.module) import name`` or ``course_lib.name``."""
    nb = json.loads((ROOT / f"{stem}.ipynb").read_text())
    names: set[str] = set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(line for line in "".join(cell["source"]).splitlines()
                           if not line.lstrip().startswith(("%", "!")))  # IPython magics
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "course_lib":
                names |= {alias.name for alias in node.names}
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id == "course_lib"):
                names.add(node.attr)
    return names


def _student_modules():
    for info in pkgutil.iter_modules(course_lib.__path__):
        if not info.name.startswith("_") and info.name not in INSTRUCTOR_MODULES and not info.ispkg:
            yield importlib.import_module(f"course_lib.{info.name}")


def _public_objects():
    for module in _student_modules():
        for name, obj in vars(module).items():
            if (not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
                    and obj.__module__ == module.__name__):
                yield module, name, obj


def _tag(obj) -> str | None:
    match = TAG.search(inspect.getdoc(obj) or "")
    return match.group(1) if match else None


def test_every_public_function_and_class_names_an_existing_chapter():
    chapters = set(_chapters())
    bad = [f"{m.__name__}.{n}: {_tag(o)!r}" for m, n, o in _public_objects() if _tag(o) not in chapters]
    assert not bad, "public names without a 'Taught in: chapters/...' line naming a chapter of _toc.yml:\n" + \
        "\n".join(bad)


def test_every_module_names_an_existing_chapter():
    chapters = set(_chapters())
    bad = [m.__name__ for m in _student_modules() if _tag(m) not in chapters]
    assert not bad, f"modules whose docstring names no chapter of _toc.yml: {bad}"


def test_each_exported_name_is_tagged_with_the_first_chapter_that_uses_it():
    used = {stem: _course_lib_names(stem) for stem in _chapters()}
    wrong = []
    for name in course_lib.__all__:
        obj = getattr(course_lib, name)
        users = [stem for stem, names in used.items() if name in names]
        first = users[0] if users else None
        if first is None:
            wrong.append(f"{name}: no chapter uses it (tag {_tag(obj)!r}); export only what a chapter uses")
        elif _tag(obj) != first:
            wrong.append(f"{name}: tagged {_tag(obj)!r}, first used in {first}")
    assert not wrong, "\n".join(wrong)
