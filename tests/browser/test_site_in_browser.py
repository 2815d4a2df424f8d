"""The built website, opened page by page in a real browser (Debian's chromium, driven by Playwright).

Each page is visited once at desktop size; what the browser saw is recorded and the tests below
assert on it: no console errors or failed requests, no request leaving 127.0.0.1, rendered math,
loaded images and animations, exercise solutions hidden until clicked. Other tests check the
launch and download buttons, search, the internal links and the layout on a 390 px wide phone.
Screenshots of the chapter pages are saved in test-artifacts/screenshots/.
"""

from __future__ import annotations

import base64
import io
import re
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest

from .conftest import ARTIFACTS, CHAPTER_PAGES, NUMBERED_PAGES, PAGES, book_config, source_of

SCREENSHOTS = ARTIFACTS / "screenshots"
RAW_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$\n]*\$")

_IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) img.loading = 'eager';
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  return imgs.map(img => ({src: (img.currentSrc || img.src).slice(0, 80), width: img.naturalWidth,
                           complete: img.complete}));
}"""

_MATH_JS = r"""() => {
  const math = Array.from(document.querySelectorAll('span.math, div.math'));
  const unrendered = math.filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 80));
  const errors = Array.from(document.querySelectorAll('mjx-merror')).map(el => el.textContent.slice(0, 80));
  // TeX that MathJax printed instead of typesetting, e.g. \_ inside \text{}: a backslash in the output text.
  const leaked = Array.from(document.querySelectorAll('mjx-assistive-mml mtext, mjx-assistive-mml mi'))
    .filter(el => el.textContent.includes('\\')).map(el => el.textContent.slice(0, 80));
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const chunks = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip) || !parent.checkVisibility()) continue;
    if (node.textContent.trim()) chunks.push(node.textContent);
  }
  return {count: math.length, rendered: document.querySelectorAll('mjx-container').length,
          unrendered, errors, leaked, text: chunks};
}"""


@dataclass
class Visit:
    """What the browser saw while loading and using one page."""

    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    solutions: list[dict] = field(default_factory=list)
    exercises: int = 0


def _visit(context, url: str, screenshot: str | None) -> Visit:
    visit = Visit()
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
    page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: visit.failed.append(f"{r.url[:120]} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and visit.failed.append(f"{r.url[:120]} (HTTP {r.status})"))
    seen_external = len(context.traffic.external)
    try:
        response = page.goto(url, wait_until="load")
        visit.status = response.status if response else None
        page.wait_for_load_state("networkidle")
        if page.locator("span.math, div.math").count():
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise")
        visit.images = page.evaluate(_IMAGES_JS)
        visit.math = page.evaluate(_MATH_JS)
        visit.exercises = page.locator("div.exercise").count()
        if screenshot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{screenshot}.png")
            page.screenshot(path=SCREENSHOTS / f"{screenshot}-full.png", full_page=True)
        for solution in page.locator("div.solution").all():
            body = solution.locator(":scope > :not(.admonition-title)")
            record = {"id": solution.get_attribute("id"), "parts": body.count(),
                      "hidden_before": all(not part.is_visible() for part in body.all())}
            solution.locator(".admonition-title .toggle-button").click()
            page.wait_for_timeout(150)
            record["visible_after"] = body.count() > 0 and all(part.is_visible() for part in body.all())
            visit.solutions.append(record)
        page.wait_for_load_state("networkidle")
    finally:
        page.close()
    blocked = set(context.traffic.external[seen_external:])
    visit.external = sorted(blocked)
    visit.failed = [f for f in visit.failed if not any(f.startswith(b[:120]) for b in blocked)]
    visit.console_errors = [e for e in visit.console_errors if "ERR_BLOCKED_BY_CLIENT" not in e]
    return visit


@pytest.fixture(scope="session")
def visits(desktop, base_url):
    cache: dict[str, Visit] = {}

    def get(page: str) -> Visit:
        if page not in cache:
            shot = Path(page).stem if page in CHAPTER_PAGES else None
            cache[page] = _visit(desktop, urljoin(base_url, page), shot)
        return cache[page]

    return get


# ---------------------------------------------------------------- every page


def test_site_builds_without_warnings(site):
    if site.returncode is None:
        pytest.skip("COURSE_TEST_SITE is set: testing a site built elsewhere")
    warnings = [line for line in site.log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert site.returncode == 0 and not warnings, (
        f"jupyter-book build -W -n --keep-going exited {site.returncode}; see test-artifacts/test-site-build.log\n"
        + "\n".join(warnings[:30]))


def test_every_built_page_is_tested(site):
    built = {p.relative_to(site.html).as_posix() for p in site.html.rglob("*.html")
             if not p.relative_to(site.html).parts[0].startswith("_")}
    assert built - {"index.html"} == set(PAGES), "pages built but not visited, or visited but not built"


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_errors(visits, page):
    visit = visits(page)
    assert visit.status == 200
    assert not visit.console_errors, f"console errors on {page}: {visit.console_errors}"
    assert not visit.failed, f"failed requests on {page}: {visit.failed}"


@pytest.mark.parametrize("page", PAGES)
def test_page_makes_no_external_request(visits, page):
    visit = visits(page)
    assert visit.external == [], f"{page} tried to load from outside 127.0.0.1: {visit.external}"


@pytest.mark.parametrize("page", PAGES)
def test_math_is_rendered(visits, page):
    math = visits(page).math
    assert not math["unrendered"], f"math left unrendered on {page}: {math['unrendered'][:5]}"
    assert not math["errors"], f"MathJax errors on {page}: {math['errors'][:5]}"
    assert not math["leaked"], f"math on {page} shows TeX commands as text: {math['leaked'][:5]}"
    assert math["rendered"] >= math["count"]
    raw = [chunk.strip()[:100] for chunk in math["text"] if RAW_MATH.search(chunk)]
    assert not raw, f"visible text on {page} holds raw TeX delimiters: {raw[:5]}"


def _gifs_in_notebook(path: Path) -> list[bytes]:
    """The GIFs stored in a notebook's outputs, as image/gif data or as <img> data URIs in HTML."""
    gifs = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/gif" in data:
                gifs.append(base64.b64decode(data["image/gif"]))
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            gifs += [base64.b64decode(m) for m in re.findall(r"data:image/gif;base64,([A-Za-z0-9+/=]+)", html)]
    return gifs


@pytest.mark.parametrize("page", PAGES)
def test_images_and_animations_load(visits, page):
    images = visits(page).images
    broken = [img["src"] for img in images if not (img["complete"] and img["width"] > 0)]
    assert not broken, f"images that did not load on {page}: {broken}"
    source = source_of(page.removesuffix(".html"))
    if source is not None and source.suffix == ".ipynb":
        from PIL import Image

        stored = _gifs_in_notebook(source)
        shown = [img for img in images if img["src"].startswith("data:image/gif")]
        assert len(shown) >= len(stored), f"{page}: {len(stored)} GIFs in the notebook, {len(shown)} on the page"
        for gif in stored:
            assert Image.open(io.BytesIO(gif)).n_frames > 1, f"a GIF on {page} is not animated"


@pytest.mark.parametrize("page", PAGES)
def test_solutions_are_hidden_until_clicked(visits, page):
    visit = visits(page)
    if page in CHAPTER_PAGES and visit.exercises:
        assert len(visit.solutions) == visit.exercises, (
            f"{page}: {visit.exercises} exercises but {len(visit.solutions)} solutions")
    for solution in visit.solutions:
        assert solution["parts"] > 0, f"empty solution {solution['id']} on {page}"
        assert solution["hidden_before"], f"solution {solution['id']} on {page} is visible before its toggle"
        assert solution["visible_after"], f"solution {solution['id']} on {page} stays hidden after its toggle"


# ---------------------------------------------------------------- chapter pages


def _repository() -> tuple[str, str, str]:
    repo = book_config()["repository"]
    owner_name = urlsplit(repo["url"]).path.strip("/").removesuffix(".git")
    return owner_name, repo.get("branch", "main"), (repo.get("path_to_book") or "").strip("/")


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_launch_and_download_buttons_open_this_chapter(desktop, base_url, page):
    owner_name, branch, book_path = _repository()
    notebook = "/".join(p for p in (book_path, page.removesuffix(".html") + ".ipynb") if p)
    binder = f"https://mybinder.org/v2/gh/{owner_name}/{branch}?urlpath=lab/tree/{notebook}"
    colab = f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/{notebook}"
    tab = desktop.new_page()
    try:
        tab.goto(urljoin(base_url, page))
        tab.locator(".dropdown-launch-buttons button.dropdown-toggle").click()
        for label, href in (("Binder", binder), ("Colab", colab)):
            link = tab.locator(".dropdown-launch-buttons a.dropdown-item", has_text=label)
            assert link.count() == 1 and link.is_visible(), f"no visible {label} button on {page}"
            assert link.get_attribute("href") == href
        tab.keyboard.press("Escape")
        tab.locator(".dropdown-download-buttons button.dropdown-toggle").click()
        download = tab.locator(".dropdown-download-buttons a.dropdown-item", has_text=".ipynb")
        assert download.count() == 1 and download.is_visible(), f"no visible .ipynb download button on {page}"
        href = urljoin(tab.url, download.get_attribute("href"))
    finally:
        tab.close()
    assert urlsplit(href).hostname == "127.0.0.1"
    assert urlsplit(href).path.endswith("/_sources/" + page.removesuffix(".html") + ".ipynb"), href
    with urllib.request.urlopen(href) as response:
        downloaded = nbformat.reads(response.read().decode(), as_version=4)
    stored = nbformat.read(source_of(page.removesuffix(".html")), as_version=4)
    assert [c.source for c in downloaded.cells] == [c.source for c in stored.cells]


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_screenshot_is_saved(visits, page):
    visits(page)
    shot = SCREENSHOTS / f"{Path(page).stem}.png"
    assert shot.is_file() and shot.stat().st_size > 10_000, f"no screenshot of {page}"


# ---------------------------------------------------------------- the whole site


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        url = attrs.get("href") if tag in ("a", "link") else attrs.get("src") if tag in ("img", "script") else None
        if url is not None:
            self.links.append(url)


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_all_internal_links_resolve(site):
    parsed = {p: _parse(p) for p in site.html.rglob("*.html") if "_static" not in p.parts}
    broken = []
    for page, links in parsed.items():
        for url in links.links:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site.html)} -> {url}")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site.html)} -> {url} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:40])


def test_search_finds_a_term_typed_into_the_search_box(desktop, base_url):
    tab = desktop.new_page()
    try:
        tab.goto(urljoin(base_url, "intro.html"))
        tab.locator("button.search-button__button:visible").first.click()
        box = tab.locator("input[name='q']:visible").first
        box.fill("padding")
        box.press("Enter")
        tab.wait_for_url(re.compile(r"search\.html\?q=padding"))
        results = tab.locator("#search-results ul.search li")
        results.first.wait_for(timeout=15_000)
        hrefs = [a.get_attribute("href") for a in tab.locator("#search-results ul.search li a").all()]
    finally:
        tab.close()
    assert hrefs, "search for 'padding' gave no results"
    if CHAPTER_PAGES:
        assert any("chapters/" in (h or "") for h in hrefs), f"no chapter among the results: {hrefs}"


@pytest.mark.parametrize("page", PAGES)
def test_page_fits_a_phone_screen(phone, base_url, page):
    tab = phone.new_page()
    try:
        tab.goto(urljoin(base_url, page), wait_until="load")
        tab.wait_for_load_state("networkidle")
        if tab.locator("span.math, div.math").count():
            tab.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            tab.evaluate("() => MathJax.startup.promise")
        sizes = tab.evaluate("""() => ({page: document.documentElement.scrollWidth,
                                        screen: document.documentElement.clientWidth,
                                        wide: Array.from(document.querySelectorAll('body *'))
                                          .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
                                                        && el.checkVisibility())
                                          .slice(0, 5).map(el => el.tagName + '.' + el.className)})""")
        if page in CHAPTER_PAGES:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=SCREENSHOTS / f"{Path(page).stem}-phone.png")
    finally:
        tab.close()
    assert sizes["page"] <= sizes["screen"] + 1, f"{page} is {sizes['page']} px wide on a 390 px screen: {sizes}"


def test_chapters_are_numbered_in_order(site):
    numbers = []
    for page in NUMBERED_PAGES:
        article = (site.html / page).read_text(encoding="utf-8").split("<article", 1)[-1]
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", article, re.S)
        title = re.sub(r"<[^>]+>", "", heading.group(1)) if heading else ""
        match = re.match(r"\s*(\d+)\.\s+\S", title)
        assert match, f"the title of {page} has no chapter number: {title!r}"
        numbers.append(int(match.group(1)))
    assert numbers == list(range(1, len(NUMBERED_PAGES) + 1))
