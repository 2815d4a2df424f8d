"""The website's configuration: one repository URL, launch buttons, Colab setup cells, the Binder
environment, offline MathJax and the bibliography agree with each other and with pyproject's pins."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
REQUIRED_REFERENCES = {
    "howard2020fastbook": ("Howard", "2020"),
    "dumoulin2016guide": ("Dumoulin", "2016"),
    "araujo2019computing": ("Araujo", "2019"),
    "luo2016understanding": ("Luo", "2016"),
    "smith2015cyclical": ("Smith", "2015"),
    "smith2017superconvergence": ("Topin", "2017"),
    "smith2018disciplined": ("Smith", "2018"),
    "ioffe2015batch": ("Szegedy", "2015"),
    "santurkar2018does": ("Santurkar", "2018"),
}


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _repo_url() -> str:
    return _config()["repository"]["url"].rstrip("/")


def _pins(lines) -> dict[str, str]:
    """name -> version for every `name==version` line, names normalised as pip does."""
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip().strip('"').strip("',")
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[re.sub(r"[-_.]+", "-", name.strip()).lower()] = version.strip()
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _extra(name: str) -> dict[str, str]:
    return _pins(_pyproject()["project"]["optional-dependencies"][name])


def _lock() -> dict[str, str]:
    return _pins((ROOT / "requirements-lock.txt").read_text().splitlines())


# ---------------------------------------------------------------- repository and launch buttons


def test_repository_url_is_a_github_repository():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", _repo_url()), _repo_url()
    assert _config()["repository"].get("branch"), "repository.branch is needed for the launch buttons"


def test_launch_buttons_point_at_binder_and_colab_with_thebe_off():
    buttons = _config()["launch_buttons"]
    assert buttons["binderhub_url"] == "https://mybinder.org"
    assert buttons["colab_url"] == "https://colab.research.google.com"
    assert buttons.get("thebe") is False, "thebe would load its code from a CDN"


def _chapter_notebooks() -> list[Path]:
    return sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_chapter_notebooks():
    assert _chapter_notebooks(), "no chapters/NN_name.ipynb found"


@pytest.mark.parametrize("path", _chapter_notebooks(), ids=lambda p: p.stem)
def test_setup_cell_installs_course_lib_from_the_configured_repository(path):
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    first = next((i for i, src in enumerate(code) if "course_lib" in src), None)
    assert first is not None, f"{path.name} never imports course_lib"
    setup = code[first]
    install = f'%pip install -q "course_lib @ git+{_repo_url()}"'
    assert re.search(r"try:\s*\n\s+import course_lib\s*\nexcept ImportError:", setup), (
        f"{path.name}: the first cell using course_lib must try `import course_lib` and catch ImportError:\n{setup}")
    assert install in setup, f"{path.name}: the setup cell must contain exactly: {install}"


def test_running_page_shows_the_same_setup_line():
    assert f'%pip install -q "course_lib @ git+{_repo_url()}"' in (ROOT / "running.md").read_text()


# ---------------------------------------------------------------- Binder


def _binder_lines() -> list[str]:
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def test_binder_installs_cpu_only_torch_from_pytorchs_index():
    lines = _binder_lines()
    assert f"--extra-index-url {CPU_INDEX}" in lines
    binder = _pins(lines)
    for name in ("torch", "torchvision"):
        assert binder.get(name, "").endswith("+cpu"), f"binder/requirements.txt must pin {name}==X+cpu"


def test_binder_pins_match_pyproject_and_the_lock_file():
    binder = {name: version.split("+")[0] for name, version in _pins(_binder_lines()).items()}
    pinned, lock = _extra("pinned"), _lock()
    missing = sorted(set(pinned) - set(binder))
    assert not missing, f"binder/requirements.txt lacks pyproject's pinned packages: {missing}"
    for name, version in binder.items():
        assert version == pinned.get(name, lock.get(name)), f"{name}: binder {version}, pyproject/lock differ"


def test_binder_uses_the_lock_file_as_constraints_and_installs_course_lib():
    lines = _binder_lines()
    constraints = [line.split(None, 1)[1] for line in lines if line.startswith("-c ")]
    assert constraints, "binder/requirements.txt should constrain versions with -c ../requirements-lock.txt"
    for path in constraints:  # pip reads -c paths relative to the requirements file
        assert (ROOT / "binder" / path).resolve() == (ROOT / "requirements-lock.txt").resolve()
    assert "." in lines or "-e ." in lines, "binder/requirements.txt must install the course's package"


def test_binder_python_version_satisfies_requires_python():
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    assert match, f"binder/runtime.txt should read python-X.Y, got {runtime!r}"
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", _pyproject()["project"]["requires-python"])
    assert tuple(map(int, match.groups())) >= tuple(map(int, minimum.groups()))


# ---------------------------------------------------------------- offline website


def test_mathjax_is_served_by_the_site_itself():
    sphinx = _config()["sphinx"]
    assert "sphinx-mathjax-offline" in sphinx["extra_extensions"]
    assert "mathjax_path" not in sphinx.get("config", {}), "mathjax_path would override the offline copy"
    version = _extra("book").get("sphinx-mathjax-offline")
    assert version and _lock().get("sphinx-mathjax-offline") == version, "pin it in the book extra and lock"
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    assert spec is not None, "sphinx-mathjax-offline is not installed"
    assert (Path(spec.origin).parent / "static" / "mathjax" / "tex-chtml.js").is_file()


def test_browser_test_dependencies_are_pinned():
    assert _extra("test").get("playwright") == _lock().get("playwright") is not None


def _course_site():
    from course_lib.instructor.sphinx_ext import course_site

    return course_site


def _asset(filename="", body=""):
    return SimpleNamespace(filename=filename, attributes={"body": body} if body else {})


def test_site_extension_drops_thebe_and_duplicate_scripts():
    assert "course_lib.instructor.sphinx_ext.course_site" in _config()["sphinx"]["extra_extensions"]
    thebe_config = _asset(body='const THEBE_JS_URL = "https://unpkg.com/thebe"')
    keep = [_asset("_static/doctools.js"), _asset(body="var x = 1")]
    context = {"script_files": [keep[0], thebe_config, _asset("_static/sphinx-thebe.js"), keep[1],
                                thebe_config, _asset("_static/doctools.js")],
               "css_files": [_asset("_static/sphinx-thebe.css"), _asset("_static/theme.css")]}
    app = SimpleNamespace(config=SimpleNamespace(html_theme_options={"launch_buttons": {"thebe": False}}))
    _course_site()._tidy_assets(app, "intro", "page.html", context, None)
    assert context["script_files"] == keep
    assert [css.filename for css in context["css_files"]] == ["_static/theme.css"]


def test_site_extension_keeps_thebe_when_it_is_switched_on():
    thebe = [_asset(body="const THEBE_JS_URL = 1"), _asset("_static/sphinx-thebe.js")]
    context = {"script_files": thebe + [thebe[0]], "css_files": []}
    app = SimpleNamespace(config=SimpleNamespace(html_theme_options={"launch_buttons": {"thebe": True}}))
    _course_site()._tidy_assets(app, "intro", "page.html", context, None)
    assert context["script_files"] == thebe


def test_make_test_installs_chromium_when_missing():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:.*\bbrowser-deps\b", makefile, re.M)
    assert "apt-get install -y -qq chromium chromium-driver" in makefile
    assert "playwright install" not in makefile


# ---------------------------------------------------------------- bibliography


def _bib_entries() -> dict[str, str]:
    text = (ROOT / "references.bib").read_text()
    starts = [(m.group(1), m.start()) for m in re.finditer(r"@\w+\{([^,\s]+),", text)]
    ends = [s for _, s in starts[1:]] + [len(text)]
    return {key: text[start:end] for (key, start), end in zip(starts, ends, strict=True)}


@pytest.mark.parametrize("key", sorted(REQUIRED_REFERENCES))
def test_bibliography_has_the_course_sources(key):
    entries = _bib_entries()
    assert key in entries, f"references.bib lacks {key}"
    author, year = REQUIRED_REFERENCES[key]
    entry = entries[key]
    assert re.search(r"\btitle\s*=", entry) and author in entry, entry
    assert re.search(rf"\byear\s*=\s*\{{{year}\}}", entry), entry


def test_references_page_lists_the_bibliography():
    text = (ROOT / "references.md").read_text()
    assert "```{bibliography}" in text
    assert _config()["bibtex_bibfiles"] == ["references.bib"]


def _book_sources() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]] + [e["file"] for part in toc.get("parts", []) for e in part.get("chapters", [])]
    return [p for n in names for p in (ROOT / f"{n}.md", ROOT / f"{n}.ipynb") if p.is_file()]


def test_every_citation_is_in_the_bibliography():
    entries = _bib_entries()
    unknown = []
    for path in _book_sources():
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        else:
            text = path.read_text()
        for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
            unknown += [f"{path.name}: {k.strip()}" for k in keys.split(",") if k.strip() not in entries]
    assert not unknown, f"citations missing from references.bib: {unknown}"


def test_only_the_references_page_has_a_bibliography():
    """The References page lists every entry (:all:); a second {bibliography} in a chapter repeats its
    entries, which sphinxcontrib-bibtex reports as "duplicate citation" and fails the -W build."""
    pages = []
    for path in _book_sources():
        if path.name == "references.md":
            continue
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        else:
            text = path.read_text()
        if re.search(r"[`:]{3,}\s*\{bibliography\}", text):
            pages.append(path.relative_to(ROOT).as_posix())
    assert not pages, (f"{pages} have their own {{bibliography}} directive; cite with {{cite}} and link to the "
                       "References page instead (see chapter 1's References section)")
