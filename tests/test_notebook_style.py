"""The chapters' code reads on the page: no code line wider than the text column at desktop width."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
MAX_CHARS = 88  # at the site's 12 px code size, about 91 characters fit the 688 px column (_static/course.css)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_lines_fit_the_column(path):
    nb = json.loads(path.read_text())
    long = []
    for i, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "code" or "remove-cell" in tags or "remove-input" in tags:
            continue
        long += [f"cell {i}: {len(line)} characters: {line.strip()[:60]}"
                 for line in "".join(cell["source"]).splitlines() if len(line) > MAX_CHARS]
    assert not long, f"{path.name} has code lines over {MAX_CHARS} characters:\n" + "\n".join(long)
