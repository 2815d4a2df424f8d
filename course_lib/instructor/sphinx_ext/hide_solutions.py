"""A Sphinx extension that makes sphinx-exercise's ``hide_solutions`` work for gated solutions.

sphinx-exercise 1.2.1 hides a ``{solution}`` directive when ``hide_solutions = True``, but for a
gated ``{solution-start}`` … ``{solution-end}`` pair it drops only the start marker: the content
between the fences stays visible and the orphaned end marker crashes the HTML writer
("departing unknown node type: solution_end_node"). This is the upstream bug
executablebooks/sphinx-exercise#89, "Gated directives crash the build when the start directive is
suppressed (hide_solutions or :hidden:)", https://github.com/executablebooks/sphinx-exercise/issues/89
(open in November 2026). When a release fixes it, delete this module and its line in
:mod:`course_lib.instructor.student_site`; ``tests/test_assign.py`` builds the student website and
shows whether the solutions are still hidden.

This extension, listed after ``sphinx_exercise``, replaces the ``solution-start`` directive so that
with ``hide_solutions`` it leaves a marker, and a transform then removes everything from that
marker to the matching ``solution-end``. It only does anything when ``hide_solutions`` is true.
The student website (``make student-book``) uses it.

Taught in: instructors
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.transforms import SphinxTransform


class hidden_solution_start(nodes.Element):  # noqa: N801  (docutils names nodes in lower case)
    """Where a hidden gated solution begins."""


def _make_directive():
    from sphinx_exercise.directive import SolutionStartDirective

    class HideableSolutionStart(SolutionStartDirective):
        def run(self):
            result = super().run()  # registers the gated start, so sphinx-exercise's structure check holds
            if self.env.app.config.hide_solutions:
                return [hidden_solution_start()]
            return result

    return HideableSolutionStart


class RemoveHiddenSolutions(SphinxTransform):
    """Remove each hidden gated solution: its marker, the nodes after it and its ``solution-end``."""

    default_priority = 9  # before sphinx-exercise merges gated solutions (10)

    def apply(self, **kwargs: Any) -> None:
        from sphinx_exercise.nodes import solution_end_node

        for marker in list(self.document.findall(hidden_solution_start)):
            parent = marker.parent
            start = parent.index(marker)
            end = next((i for i in range(start + 1, len(parent.children))
                        if isinstance(parent.children[i], solution_end_node)), None)
            if end is None:  # a malformed pair; sphinx-exercise's own check reports it
                parent.remove(marker)
                continue
            for child in parent.children[start:end + 1]:
                parent.remove(child)


def _skip(self, node) -> None:
    raise nodes.SkipNode


def setup(app) -> dict[str, Any]:
    app.setup_extension("sphinx_exercise")
    app.add_node(hidden_solution_start, html=(_skip, None), latex=(_skip, None))
    app.add_directive("solution-start", _make_directive(), override=True)
    app.add_transform(RemoveHiddenSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
