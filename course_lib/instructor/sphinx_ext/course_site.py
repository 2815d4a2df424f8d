"""A small Sphinx extension that tidies the pages Jupyter Book 1 builds for this course.

1. Thebe's duplicated scripts. Jupyter Book always loads sphinx-thebe, which adds its inline
configuration script twice to every page (a JavaScript error: "Identifier 'THEBE_JS_URL' has
already been declared") and names a CDN for thebe's code. The course keeps thebe switched off
(launch_buttons.thebe in _config.yml), so this extension removes thebe's scripts and stylesheet
from every page and drops any script that a page would otherwise include twice.

2. Internal markers. The notebooks mark each worked solution with `# BEGIN SOLUTION` / `# END
SOLUTION` lines (the student-edition tool, course_lib.instructor.assign, needs them; see instructors.md) and
may carry `# NBVAL_...` comments for the notebook tests. Those lines are dropped from the code
cells shown on the website; the notebooks, and the .ipynb a reader downloads, keep them.

3. Duplicate ids. sphinx-exercise gives the body of every exercise the same id, "exercise-content",
and the body of every gated solution "solution-content"; each one gets its own, made from the
exercise's label: "ex-ch1-stride-chain-exercise-content", "ex-ch1-stride-chain-solution-content".

4. One caption per figure. myst-nb gives every image of a cell the cell's figure caption and alt
text (cell metadata mystnb.figure.caption, mystnb.image.alt). A cell with several images can list
one text per image in its metadata, course_site.figures = [{"caption": ..., "alt": ...}, ...];
each figure of the cell then gets its own caption and alt text, in order.

Listed in `sphinx.extra_extensions` in _config.yml as `course_lib.instructor.sphinx_ext.course_site`;
tests/browser checks the built pages.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes

# A whole line that is a solution marker (`# BEGIN SOLUTION`, `# BEGIN SOLUTION: prompt`,
# `# BEGIN SOLUTION NO PROMPT`, `### END SOLUTION`) or an nbval comment (`# NBVAL_IGNORE_OUTPUT`).
INTERNAL_MARKER = re.compile(r"^[ \t]*#+[ \t]*(?:(?:BEGIN|END)[ \t]+SOLUTION\b|NBVAL_[A-Z_]+\b).*(?:\r?\n|$)",
                             re.MULTILINE)


def _thebe_enabled(app) -> bool:
    return bool((app.config.html_theme_options or {}).get("launch_buttons", {}).get("thebe"))


def _tidy_assets(app, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    thebe = _thebe_enabled(app)
    scripts, seen = [], set()
    for js in context.get("script_files", []):
        filename = getattr(js, "filename", None) or ""
        body = (getattr(js, "attributes", None) or {}).get("body", "")
        if not thebe and ("sphinx-thebe" in filename or "THEBE_JS_URL" in body):
            continue
        if (filename, body) in seen:
            continue
        seen.add((filename, body))
        scripts.append(js)
    context["script_files"] = scripts
    if not thebe:
        context["css_files"] = [css for css in context.get("css_files", [])
                                if "sphinx-thebe" not in (getattr(css, "filename", None) or "")]


def strip_internal_markers(source: str) -> str:
    """The source of a code cell without its solution-marker and nbval-comment lines."""
    return INTERNAL_MARKER.sub("", source).rstrip("\n")


def _is_notebook_code_source(node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "cell_code_source"


def _strip_markers_from_code_cells(doctree) -> None:
    for cell_input in doctree.findall(_is_notebook_code_source):
        for block in cell_input.findall(nodes.literal_block):
            text = block.astext()
            stripped = strip_internal_markers(text)
            if stripped == text:
                continue
            # Sphinx highlights a literal block only while its rawsource equals its text.
            block.rawsource = stripped
            block.children = []
            block += nodes.Text(stripped)


def _content_id(section, fixed: str) -> str | None:
    """An id for the body of one exercise or solution, from the label of the directive around it."""
    parent = section.parent
    if parent is None:
        return None
    if fixed == "solution-content" and parent.get("target_label"):
        return nodes.make_id(f"{parent['target_label']}-solution-content")
    if parent.get("label"):
        return nodes.make_id(f"{parent['label']}-{fixed}")
    return None


def _unique_content_ids(doctree) -> None:
    used: set[str] = set()
    for node in doctree.findall(nodes.Element):
        used.update(node.get("ids", []))
    count = 0
    for section in doctree.findall(nodes.section):
        for fixed in ("solution-content", "exercise-content"):
            if fixed not in section["ids"]:
                continue
            new = _content_id(section, fixed)
            while not new or new in used:
                count += 1
                new = f"{fixed}-{count}"
            used.add(new)
            section["ids"] = [new if i == fixed else i for i in section["ids"]]


def _is_notebook_code_cell(node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"


def _per_figure_text(doctree) -> None:
    for cell in doctree.findall(_is_notebook_code_cell):
        texts = ((cell.get("cell_metadata") or {}).get("course_site") or {}).get("figures") or []
        figures = [f for f in cell.findall(nodes.figure) if any(True for _ in f.findall(nodes.image))]
        for figure, text in zip(figures, texts, strict=False):
            if text.get("alt"):
                for image in figure.findall(nodes.image):
                    image["alt"] = str(text["alt"])
            if text.get("caption"):
                for caption in figure.findall(nodes.caption):
                    caption.children = []
                    caption += nodes.Text(str(text["caption"]))


def _tidy_doctree(app, doctree) -> None:
    _strip_markers_from_code_cells(doctree)
    _unique_content_ids(doctree)
    _per_figure_text(doctree)


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", _tidy_assets, priority=900)
    app.connect("doctree-read", _tidy_doctree)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
