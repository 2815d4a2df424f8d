"""A small Sphinx extension that tidies the pages Jupyter Book 1 builds for this course.

Jupyter Book always loads sphinx-thebe, which adds its inline configuration script twice to every
page (a JavaScript error: "Identifier 'THEBE_JS_URL' has already been declared") and names a CDN
for thebe's code. The course keeps thebe switched off (launch_buttons.thebe in _config.yml), so
this extension removes thebe's scripts and stylesheet from every page and drops any script that a
page would otherwise include twice. Loaded through `sphinx.local_extensions` in _config.yml.
"""

from __future__ import annotations

from typing import Any


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


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", _tidy_assets, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
