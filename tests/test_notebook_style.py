"""The chapters' code reads on the page: no code line wider than the text column at desktop width."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
# At the site's 12 px code size (_static/course.css) about 91 characters fit the 688 px text column at
# desktop width, and about 81 the narrower column inside a solution's dropdown.
MAX_CHARS = 88
MAX_CHARS_IN_SOLUTION = 80


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_lines_fit_the_column(path):
    nb = json.loads(path.read_text())
    long, in_solution = [], False
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            in_solution = ("{solution-start}" in source) or (in_solution and "{solution-end}" not in source)
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if "remove-cell" in tags or "remove-input" in tags:
            continue
        limit = MAX_CHARS_IN_SOLUTION if in_solution else MAX_CHARS
        long += [f"cell {i}: {len(line)} characters (limit {limit}): {line.strip()[:60]}"
                 for line in source.splitlines() if len(line) > limit]
    assert not long, f"{path.name} has code lines too wide for the page:\n" + "\n".join(long)
