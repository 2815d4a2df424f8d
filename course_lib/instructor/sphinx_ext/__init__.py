"""The book's Sphinx extensions: ``course_site`` (every build) and ``hide_solutions`` (the student website)."""
