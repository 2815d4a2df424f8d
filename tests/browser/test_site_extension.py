"""course_lib.instructor.sphinx_ext.course_site on small hand-made doctrees: marker lines, exercise ids, figure text.

The browser tests check the same on the built pages; these say which function does what.
"""

from __future__ import annotations

from docutils import nodes


def _course_site():
    from course_lib.instructor.sphinx_ext import course_site

    return course_site


def _code_cell(source: str, metadata: dict | None = None) -> nodes.container:
    cell = nodes.container(nb_element="cell_code", cell_metadata=metadata or {})
    cell_input = nodes.container(nb_element="cell_code_source")
    cell_input += nodes.literal_block(source, source)
    cell += cell_input
    return cell


def test_solution_markers_and_nbval_comments_are_dropped_from_code_cells():
    site = _course_site()
    source = ("# BEGIN SOLUTION\nanswer = 3\n    # END SOLUTION\n# BEGIN SOLUTION: define f\n"
              "### END SOLUTION\n# NBVAL_IGNORE_OUTPUT\ncheck('ex', answer)  # BEGIN SOLUTION stays inline\n")
    document = nodes.section()
    document += _code_cell(source)
    site._strip_markers_from_code_cells(document)
    block = next(document.findall(nodes.literal_block))
    assert block.astext() == "answer = 3\ncheck('ex', answer)  # BEGIN SOLUTION stays inline"
    assert block.rawsource == block.astext()  # Sphinx still highlights it


def test_literal_blocks_outside_notebook_cells_keep_their_markers():
    site = _course_site()
    document = nodes.section()
    document += nodes.literal_block("# BEGIN SOLUTION\nx = 1\n", "# BEGIN SOLUTION\nx = 1\n")
    site._strip_markers_from_code_cells(document)
    assert next(document.findall(nodes.literal_block)).astext().startswith("# BEGIN SOLUTION")


def test_exercise_and_solution_bodies_get_ids_from_their_labels():
    site = _course_site()
    document = nodes.section(ids=["chapter"])
    for label in ("ex-a", "ex-b"):
        exercise = nodes.admonition(label=label)
        exercise += nodes.section(ids=["exercise-content"])
        solution = nodes.admonition(label=f"chapter-solution-{label}", target_label=label)
        solution += nodes.section(ids=["solution-content"])
        document += [exercise, solution]
    orphan = nodes.admonition()
    orphan += nodes.section(ids=["solution-content"])
    document += orphan
    site._unique_content_ids(document)
    ids = [i for section in document.findall(nodes.section) for i in section["ids"]][1:]
    assert ids == ["ex-a-exercise-content", "ex-a-solution-content", "ex-b-exercise-content",
                   "ex-b-solution-content", "solution-content-1"]


def test_each_figure_of_a_cell_gets_its_own_caption_and_alt_text():
    site = _course_site()
    texts = [{"caption": "first", "alt": "the first plot"}, {"caption": "second", "alt": "the second plot"}]
    cell = _code_cell("plot()", {"course_site": {"figures": texts}})
    for _ in texts:
        figure = nodes.figure()
        figure += nodes.image(uri="x.png", alt="shared")
        figure += nodes.caption("", "shared caption")
        cell += figure
    document = nodes.section()
    document += cell
    site._per_figure_text(document)
    assert [i["alt"] for i in document.findall(nodes.image)] == ["the first plot", "the second plot"]
    assert [c.astext() for c in document.findall(nodes.caption)] == ["first", "second"]
