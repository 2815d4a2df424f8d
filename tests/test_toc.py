"""The table of contents and the chapters folder agree."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        assert part.get("caption"), f"every part of _toc.yml needs a caption: {part}"
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files


def _exists(stem):
    return any((ROOT / f"{stem}{ext}").is_file() for ext in (".ipynb", ".md"))


def test_every_listed_file_exists():
    missing = [f for f in _toc_files() if not _exists(f)]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_chapter_notebook_is_listed():
    listed = set(_toc_files())
    notebooks = sorted(p for p in (ROOT / "chapters").glob("*.ipynb"))
    assert notebooks, "no chapter notebooks found"
    unlisted = [p.name for p in notebooks if f"chapters/{p.stem}" not in listed]
    assert not unlisted, f"chapter notebooks missing from _toc.yml: {unlisted}"


def test_chapter_files_are_numbered_in_toc_order():
    chapters = [f for f in _toc_files() if f.startswith("chapters/")]
    numbers = [int(Path(f).name.split("_")[0]) for f in chapters]
    assert numbers == sorted(numbers) and numbers[0] == 1, chapters
