"""``python -m course_lib.assign SRC DST``: the entry point of :mod:`course_lib.instructor.assign`."""

from .instructor.assign import assign, main, student_notebook

__all__ = ["assign", "main", "student_notebook"]

if __name__ == "__main__":
    raise SystemExit(main())
