"""``python -m course_lib.grade SUBMISSIONS OUT.csv``: the entry point of :mod:`course_lib.instructor.grade`."""

from .instructor.grade import grade, main

__all__ = ["grade", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
