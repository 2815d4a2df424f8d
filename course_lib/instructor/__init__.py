"""Instructor and build machinery: student editions, grading, otter-grader export, the student website.

Students never import this package; ``course_lib`` itself is what every chapter imports. Its
modules need the ``instructor`` extra (``pip install -e ".[instructor]"``: nbformat, nbclient,
PyYAML, Sphinx and sphinx-exercise):

* :mod:`~course_lib.instructor.assign`: the student edition of a notebook
  (``python -m course_lib.assign SRC DST``);
* :mod:`~course_lib.instructor.grade` with :mod:`~course_lib.instructor.answer_key`,
  :mod:`~course_lib.instructor.sandbox`, :mod:`~course_lib.instructor.wire` and the runner inside the
  sandbox: grading (``python -m course_lib.grade SUBMISSIONS OUT.csv``);
* :mod:`~course_lib.instructor.otter_export`: each chapter as an otter-grader autograder
  (``python -m course_lib.instructor.otter_export chapters/ OUTDIR``);
* :mod:`~course_lib.instructor.student_site`: the website without solutions;
* :mod:`~course_lib.instructor.sphinx_ext`: the book's two Sphinx extensions.

Importing this package imports nothing else, so the grader's helper in a student's kernel stays cheap.
"""
