"""Self-grading exercise checks, one module per chapter.

A student calls ``check("ex-label", answer)``. The check compares the answer
with the expected one and returns a :class:`CheckResult`, which displays as a
friendly sentence in a notebook and which a grader can read (``passed``,
``points``, ``max_points``). A check never raises on a wrong answer: a wrong
type, a wrong shape, ``None``, NaN or a student function that raises all
become feedback.

Chapter modules register their checks with :func:`register`; importing this
package imports them all.
"""

from __future__ import annotations  # noqa: I001  (one line per chapter, in chapter order)

from . import ch01  # noqa: E402,F401  (registers chapter 1's checks)
from . import ch02  # noqa: E402,F401  (registers chapter 2's checks)
from . import ch03  # noqa: E402,F401  (registers chapter 3's checks)
from . import ch03_fields  # noqa: E402,F401  (and chapter 3's receptive-field functions)
from . import ch04  # noqa: E402,F401  (registers chapter 4's checks)
from . import ch05  # noqa: E402,F401  (registers chapter 5's checks)
from . import ch06  # noqa: E402,F401  (registers the appendix's checks)
from .core import CheckResult, Feedback, check, exercise_labels, register

__all__ = ["CheckResult", "Feedback", "check", "exercise_labels", "register"]
