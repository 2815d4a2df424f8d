"""Numbers for the prose: a trained or timed value, computed by a cell, pasted into the text.

Training floats differ from one CPU to the next, and times by three times or more, so a chapter
never types such a number into its text. The cell that computes it calls ``glue``, and the
markdown pastes it with myst-nb's role, e.g. ``{glue:text}`ch4_gap```: the built page then always
agrees with its own outputs, whoever built it and on whatever machine.

Taught in: chapters/02_conv_as_matmul
"""

from __future__ import annotations

import re
from typing import Any

_NAME = re.compile(r"[a-z][a-z0-9_]*")


def glue(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` for the page's prose, without showing it.

    This is myst-nb's ``glue(name, value, display=False)``. Where myst-nb is not installed (Colab,
    Binder) it stores nothing: the notebook then shows the markdown role as written, and the cell's
    printed output shows what the value was computed from. It returns None, so that a cell ending in ``glue(...)`` shows
    nothing more. ``name`` is lower-case letters, digits and underscores, and
    starts with the chapter, e.g. ``"ch2_gap"``, so that names stay unique across the book.

    Taught in: chapters/02_conv_as_matmul
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"name must be lower-case letters, digits and underscores, starting with a letter, "
                         f"got {name!r}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=False)
