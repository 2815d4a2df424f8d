"""The stored chapters can be compared on any machine.

nbval compares every stored output that is not tagged ``nbval-ignore-output``, on whatever CPU runs
the tests. These checks read the notebooks as files and catch, before any kernel starts, the
patterns that break that: a wall-clock assertion, a glued (trained or timed) value in a compared
cell, prose that pastes a value no cell glues, an ``NBVAL_`` comment shown to readers, and machine
paths in stored outputs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
IGNORE = "nbval-ignore-output"
GLUE_CALL = re.compile(r"""\bglue\(\s*f?["']([a-z0-9_]+(?:\{[^}"']*\})?)["']""")
GLUE_ROLE = re.compile(r"\{glue:text\}`([a-z0-9_]+)(?::[^`]*)?`")
# Names that hold a time: an assertion that reads one depends on the machine and its load.
TIMING = re.compile(r"(^|[_ ])(seconds|secs|ms|time|times|elapsed|duration|live)($|[_ ])|perf_counter|monotonic")
MACHINE_PATH = re.compile(r"(/home/|/root/|/tmp/|/work/|/Users/|[A-Z]:\\\\Users)")


def _code(cell) -> str:
    """A code cell's source without IPython magics, so that ast can parse it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())


def _names(node) -> set[str]:
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.add(sub.value)
    return found


def _cells(path: Path, kind: str):
    return [(i, c) for i, c in enumerate(nbformat.read(path, as_version=4).cells) if c.cell_type == kind]


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def chapter(request) -> Path:
    return request.param


def test_timing_names_are_recognised():
    assert TIMING.search("seconds") and TIMING.search("time_ratio") and TIMING.search("live")
    assert TIMING.search("perf_counter") and TIMING.search("time ratio")
    assert not TIMING.search("accuracy") and not TIMING.search("msg") and not TIMING.search("steps")


def test_no_assertion_reads_a_wall_clock_time(chapter):
    bad = []
    for i, cell in _cells(chapter, "code"):
        for node in ast.walk(ast.parse(_code(cell))):
            if isinstance(node, ast.Assert):
                timed = sorted(n for n in _names(node.test) if TIMING.search(n))
                if timed:
                    bad.append(f"cell {i}, line {node.lineno}: assert on {timed}")
    assert not bad, f"{chapter.name} asserts on wall-clock time, which no other machine reproduces: {bad}"


def test_every_glued_value_sits_in_a_cell_nbval_does_not_compare(chapter):
    bad = [i for i, cell in _cells(chapter, "code")
           if GLUE_CALL.search(cell.source) and IGNORE not in cell.metadata.get("tags", [])]
    assert not bad, (f"{chapter.name}: cells {bad} glue a value (a trained or timed number) but nbval compares "
                     f"their output; tag them {IGNORE}")


def test_every_pasted_value_is_glued_in_the_same_chapter(chapter):
    code = "\n".join(cell.source for _, cell in _cells(chapter, "code"))
    glued = set(GLUE_CALL.findall(code))
    dynamic = [name for name in glued if "{" in name]  # e.g. glue(f"ch4_lr_{name}", ...)
    prefixes = [name.split("{", 1)[0] for name in dynamic]
    missing = []
    for _, cell in _cells(chapter, "markdown"):
        for key in GLUE_ROLE.findall(cell.source):
            if key not in glued and not any(key.startswith(p) for p in prefixes):
                missing.append(key)
    assert not missing, f"{chapter.name} pastes values that no cell glues: {missing}"


def test_glued_names_carry_the_chapter_number(chapter):
    number = int(chapter.name.split("_")[0])
    code = "\n".join(cell.source for _, cell in _cells(chapter, "code"))
    wrong = [name for name in GLUE_CALL.findall(code) if not name.startswith(f"ch{number}_")]
    assert not wrong, f"{chapter.name}: glue names must start with ch{number}_ to stay unique in the book: {wrong}"


def test_nbval_markers_are_tags_not_comments(chapter):
    shown = [i for i, cell in _cells(chapter, "code") if re.search(r"#\s*NBVAL_", cell.source)]
    assert not shown, f"{chapter.name}: cells {shown} carry an NBVAL_ comment, which readers see; use cell tags"


def test_ignored_cells_are_few(chapter):
    code = _cells(chapter, "code")
    ignored = [i for i, cell in code if IGNORE in cell.metadata.get("tags", [])]
    assert len(ignored) <= max(3, len(code) // 4), (
        f"{chapter.name}: {len(ignored)} of {len(code)} code cells are not compared; a test that compares "
        "nothing is no test")


def test_stored_outputs_hold_no_machine_paths(chapter):
    bad = []
    for i, cell in _cells(chapter, "code"):
        for output in cell.get("outputs", []):
            text = output.get("text", "") + "".join(
                v for k, v in output.get("data", {}).items() if k.startswith("text/") and isinstance(v, str))
            text += "\n".join(output.get("traceback", []))
            if MACHINE_PATH.search(text):
                bad.append(i)
    assert not bad, f"{chapter.name}: the stored outputs of cells {bad} contain a machine path"


def test_stored_outputs_come_from_one_clean_run(chapter):
    counts = [cell.execution_count for _, cell in _cells(chapter, "code")]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{chapter.name} was not stored from one top-to-bottom run (`make notebooks`): {counts}")
    errors = [i for i, cell in _cells(chapter, "code") for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"{chapter.name}: cells {errors} stored an error"
