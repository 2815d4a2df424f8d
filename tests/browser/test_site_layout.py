"""The layout of the chapter pages, measured in chromium at phone and desktop size (issue 13).

Each chapter page is opened once per viewport (390×844 phone, 1280×900 desktop) and colour scheme
(light, dark); MEASURE_JS records in one pass what the tests below assert on: sideways scrolling,
error output, internal markers, output tables, text contrast, wide equations and code blocks.
Other tests click the sidebar buttons (390, 800 and 1280 px), read the search snippets, the ids and
the images' alt text. Screenshots of every chapter at both sizes (and with the phone menu open) are
saved in test-artifacts/screenshots/; the display equations and code cells wider than their box
are listed in test-artifacts/wide-equations.txt and wide-code-cells.txt.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import pytest

from .conftest import ARTIFACTS, CHAPTER_PAGES, DESKTOP, PAGES, PHONE, toc_docnames

SCREENSHOTS = ARTIFACTS / "screenshots"
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text; the tests ask it of all text, captions included
MARKERS = re.compile(r"BEGIN SOLUTION|END SOLUTION|NBVAL")
# A number as a table prints it: 23,550 or -0.98 or 6.25 or 8×14×14 (the tests' own definition,
# independent of course.js's).
NUMBER = re.compile(r"^[-−]?\d[\d,]*(\.\d+)?%?(×\d+)*$")

MEASURE_JS = r"""() => {
  const visible = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const describe = (el) => (el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                            (el.className && typeof el.className === 'string'
                              ? '.' + el.className.trim().split(/\s+/).slice(0, 3).join('.') : ''));
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (color) => {  // any CSS colour -> [r, g, b, a in 0..1]
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, bottom) => {  // top composited over an opaque bottom
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const bg = rgba(getComputedStyle(node).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    let color = [255, 255, 255, 1];
    for (const layer of layers.reverse()) color = over(layer, color);
    return color;
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrastOf = (el) => {
    const style = getComputedStyle(el);
    let opacity = 1;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      opacity *= parseFloat(getComputedStyle(node).opacity);
    }
    const bg = background(el);
    const fgRaw = rgba(style.color);
    const fg = over([fgRaw[0], fgRaw[1], fgRaw[2], fgRaw[3] * opacity], bg);
    const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    return {ratio: Math.round(100 * (l1 + 0.05) / (l2 + 0.05)) / 100,
            fg: 'rgb(' + fg.slice(0, 3).map(Math.round).join(',') + ')',
            bg: 'rgb(' + bg.slice(0, 3).map(Math.round).join(',') + ')'};
  };

  // --- text contrast: every element that directly holds visible text
  const contrast = new Map();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest('script, style, noscript, mjx-assistive-mml, svg')) continue;
    if (!visible(el)) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width < 2 || rect.height < 2) continue;
    const c = contrastOf(el);
    const key = describe(el) + '|' + c.fg + '|' + c.bg;
    if (!contrast.has(key)) contrast.set(key, {...c, element: describe(el), text: text.slice(0, 60)});
  }
  const captions = Array.from(document.querySelectorAll('caption, figcaption, .caption-text'))
    .map(el => ({...contrastOf(el), element: describe(el), text: el.textContent.trim().slice(0, 60)}));
  const backToTop = document.querySelector('#pst-back-to-top');

  // --- error output and internal markers
  const errorOutput = Array.from(document.querySelectorAll(
      '.cell_output .output.traceback, .cell_output .output.stderr, .cell_output .output.error, ' +
      'div.system-message, .problematic'))
    .map(el => describe(el) + ': ' + el.textContent.trim().slice(0, 120));
  const article = document.querySelector('article') || document.body;
  const visibleText = document.body.innerText;
  const allText = Array.from(article.querySelectorAll('*'))
    .filter(el => !el.closest('script, style') && el.children.length === 0)
    .map(el => el.textContent).join('\n');

  // --- tables printed by the notebooks
  const textRect = (cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    return range.getBoundingClientRect();
  };
  const tables = Array.from(document.querySelectorAll('.cell_output table')).filter(visible).map(table => {
    const cells = [];
    const gaps = [];
    for (const row of table.rows) {
      let previous = null;
      for (const cell of row.cells) {
        const style = getComputedStyle(cell);
        const text = cell.textContent.trim();
        const rect = textRect(cell);
        cells.push({text, tag: cell.tagName, align: style.textAlign,
                    padLeft: parseFloat(style.paddingLeft), padRight: parseFloat(style.paddingRight)});
        if (previous && text && previous.text && rect.width && previous.rect.width) {
          gaps.push({between: previous.text + ' | ' + text, gap: Math.round(rect.left - previous.rect.right)});
        }
        previous = {text, rect};
      }
    }
    const caption = table.querySelector('caption');
    return {cells, gaps, caption: caption ? caption.textContent.trim().slice(0, 60) : null,
            head: Array.from(table.rows[0].cells).map(c => c.textContent.trim()).join(' | ').slice(0, 80)};
  });

  // --- display equations
  const mathItems = (window.MathJax && MathJax.startup && MathJax.startup.document) ? MathJax.startup.document : null;
  const column = (document.querySelector('article.bd-article') || document.body).getBoundingClientRect();
  const equations = Array.from(document.querySelectorAll('div.math')).filter(visible).map(box => {
    const scroller = box.querySelector(':scope > mjx-container') || box;
    const content = scroller.querySelector('mjx-math') || scroller;
    let tex = box.textContent.trim();
    if (mathItems) {
      const items = mathItems.getMathItemsWithin(box);
      if (items.length) tex = items.map(item => item.math).join(' ');
    }
    const inBox = (edge) => {
      const c = content.getBoundingClientRect(), s = scroller.getBoundingClientRect();
      return edge === 'left' ? c.left >= s.left - 1 : c.right <= s.right + 1;
    };
    // the start must show before scrolling, and the end after scrolling all the way
    const start = scroller.scrollLeft;
    scroller.scrollLeft = 0;
    const startShown = inBox('left');
    scroller.scrollLeft = scroller.scrollWidth;
    const endReached = inBox('right');
    scroller.scrollLeft = start;
    const rect = box.getBoundingClientRect(), inner = scroller.getBoundingClientRect();
    return {tex: tex.replace(/\s+/g, ' ').slice(0, 100),
            contentWidth: Math.round(content.getBoundingClientRect().width),
            boxWidth: Math.round(scroller.clientWidth), overflowX: getComputedStyle(scroller).overflowX,
            cue: scroller.classList.contains('course-math-scrolls'), focusable: scroller.tabIndex >= 0,
            startShown, endReached,
            insideBox: inner.left >= rect.left - 1 && inner.right <= rect.right + 1,
            insideColumn: rect.left >= column.left - 1 && rect.right <= Math.max(column.right, window.innerWidth) + 1};
  });

  // --- code cells
  const code = Array.from(document.querySelectorAll('.cell_input pre')).filter(visible).map(pre => ({
    firstLine: pre.textContent.split('\n')[0].slice(0, 60), scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth,
    widestLine: pre.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a), '')}));

  const searchBoxes = Array.from(document.querySelectorAll(
      '.search-button-field, button.search-button, form.bd-search'))
    .filter(el => visible(el) && !el.closest('dialog:not([open])') && el.getBoundingClientRect().width > 0)
    .map(describe);

  return {
    scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
    theme: document.documentElement.dataset.theme,
    wideElements: Array.from(document.querySelectorAll('body *'))
      .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && visible(el))
      .slice(0, 5).map(describe),
    contrast: Array.from(contrast.values()), captions,
    backToTop: backToTop ? {...contrastOf(backToTop), text: backToTop.textContent.trim()} : null,
    errorOutput, visibleText, allText, tables, equations, code, searchBoxes,
    marksFont: Array.from(document.fonts).filter(f => f.family.replace(/"/g, '') === 'Course Marks')
      .map(f => f.status),
    checkMarks: (visibleText.match(/[\u2705\u274C\u270F]/g) || []).length,
  };
}"""

_OPEN_SOLUTIONS_JS = """() => {
  document.querySelectorAll('div.solution .admonition-title .toggle-button').forEach(b => b.click());
}"""


def _wait_until_rendered(tab) -> None:
    tab.wait_for_load_state("networkidle")
    if tab.locator("div.math, span.math").count():
        tab.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        tab.evaluate("() => MathJax.startup.promise")
        tab.wait_for_function("() => document.documentElement.dataset.courseMath === 'checked'")
    tab.evaluate("() => document.fonts.ready.then(() => true)")


def _stem(page: str) -> str:
    return Path(page).stem


@pytest.fixture(scope="session")
def measured(new_context, phone, desktop, base_url):
    """measured(page, size, dark) -> what MEASURE_JS saw on the page, opened once per combination."""
    contexts = {("phone", False): phone, ("desktop", False): desktop}
    cache: dict[tuple[str, str, bool], dict] = {}

    def get(page: str, size: str, dark: bool = False) -> dict:
        key = (page, size, dark)
        if key not in cache:
            if (size, dark) not in contexts:
                contexts[(size, dark)] = new_context(PHONE if size == "phone" else DESKTOP, dark=dark)
            tab = contexts[(size, dark)].new_page()
            try:
                tab.goto(urljoin(base_url, page), wait_until="load")
                _wait_until_rendered(tab)
                if not dark and page in CHAPTER_PAGES:
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    viewport = PHONE if size == "phone" else DESKTOP
                    tab.screenshot(path=SCREENSHOTS / f"{_stem(page)}-{viewport['width']}x{viewport['height']}.png")
                tab.evaluate(_OPEN_SOLUTIONS_JS)
                tab.wait_for_timeout(200)
                cache[key] = tab.evaluate(MEASURE_JS)
            finally:
                tab.close()
        return cache[key]

    return get


def _chapter_links() -> list[str]:
    return [f"{d}.html" for d in toc_docnames() if d.startswith("chapters/")]


# ---------------------------------------------------------------- the sidebar buttons (issue 13, item 1)


def _links_usable_in_viewport(tab, links) -> list[str]:
    """The problems of each link: hidden, outside the viewport, or covered by something else."""
    problems = []
    viewport = tab.viewport_size
    for link in links:
        href = link.get_attribute("href")
        if not link.is_visible():
            problems.append(f"{href}: not visible")
            continue
        link.scroll_into_view_if_needed()  # a list taller than the screen scrolls, as a reader would scroll it
        box = link.bounding_box()
        if not box or box["x"] < 0 or box["y"] < 0 or box["x"] + box["width"] > viewport["width"] + 1 \
                or box["y"] + box["height"] > viewport["height"] + 1:
            problems.append(f"{href}: outside the {viewport['width']}×{viewport['height']} viewport at {box}")
            continue
        on_top = tab.evaluate("""([x, y, el]) => { const hit = document.elementFromPoint(x, y);
                                                  return hit === el || el.contains(hit); }""",
                              [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, link.element_handle()])
        if not on_top:
            problems.append(f"{href}: covered by another element")
    return problems


def _menu_opens_the_chapter_list(context, base_url, page, screenshot: str | None = None) -> None:
    tab = context.new_page()
    try:
        tab.goto(urljoin(base_url, page), wait_until="load")
        tab.wait_for_load_state("networkidle")
        width = tab.viewport_size["width"]
        toggle = tab.locator(".primary-toggle:visible")
        assert toggle.count() >= 1, f"no visible menu button on {page} at {width} px"
        toggle.first.click()
        dialog = tab.locator("#pst-primary-sidebar-modal[open]")
        dialog.wait_for(timeout=5_000)
        nav = dialog.locator("nav.bd-docs-nav a")
        paths = nav.evaluate_all("els => els.map(a => new URL(a.href).pathname)")
        missing = [c for c in _chapter_links() if not any(p.endswith("/" + c) for p in paths)]
        assert not missing, f"the menu of {page} does not list {missing}"
        links = [nav.nth(next(i for i, p in enumerate(paths) if p.endswith("/" + c))) for c in _chapter_links()]
        problems = _links_usable_in_viewport(tab, links)
        if screenshot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=SCREENSHOTS / screenshot)
        assert not problems, f"after tapping the menu button on {page} at {width} px: {problems}"
        # and a tap on a chapter opens it
        target = next(c for c in _chapter_links() if c != page)
        links[_chapter_links().index(target)].click()
        tab.wait_for_url(re.compile(re.escape(target) + r"(#.*)?$"), timeout=10_000)
    finally:
        tab.close()


@pytest.mark.parametrize("page", PAGES)
def test_phone_menu_button_opens_the_chapter_list(phone, base_url, page):
    shot = f"{_stem(page)}-390x844-menu.png" if page in CHAPTER_PAGES else None
    _menu_opens_the_chapter_list(phone, base_url, page, shot)


@pytest.fixture(scope="session")
def tablet(new_context):
    """An 800 px wide window: narrower than the theme's 992 px breakpoint, so the sidebar is a dialog."""
    return new_context({"width": 800, "height": 1000})


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_tablet_menu_button_opens_the_chapter_list(tablet, base_url, page):
    _menu_opens_the_chapter_list(tablet, base_url, page)


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_phone_contents_button_opens_the_page_contents(phone, base_url, page):
    tab = phone.new_page()
    try:
        tab.goto(urljoin(base_url, page), wait_until="load")
        tab.wait_for_load_state("networkidle")
        toggle = tab.locator(".secondary-toggle:visible")
        assert toggle.count() >= 1, f"no visible Contents button on {page} at 390 px"
        toggle.first.click()
        dialog = tab.locator("#pst-secondary-sidebar-modal[open]")
        dialog.wait_for(timeout=5_000)
        links = dialog.locator("nav a.nav-link:visible").all()
        assert len(links) >= 3, f"the Contents dialog of {page} lists {len(links)} sections"
        problems = _links_usable_in_viewport(tab, links[:3])
        assert not problems, f"after tapping Contents on {page}: {problems}"
        tab.keyboard.press("Escape")
        tab.wait_for_function("() => !document.querySelector('#pst-secondary-sidebar-modal').open")
    finally:
        tab.close()


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_desktop_menu_button_collapses_and_restores_the_sidebar(desktop, base_url, page):
    tab = desktop.new_page()
    try:
        tab.goto(urljoin(base_url, page), wait_until="load")
        tab.wait_for_load_state("networkidle")
        sidebar = tab.locator("#pst-primary-sidebar")
        chapter = sidebar.locator("nav.bd-docs-nav a").first
        assert chapter.is_visible(), f"the chapter list of {page} is not shown at 1280 px"
        toggle = tab.locator(".primary-toggle:visible")
        assert toggle.count() >= 1, f"no visible menu button on {page} at 1280 px"
        toggle.first.click()
        tab.wait_for_function("() => !document.querySelector('#pst-primary-sidebar nav.bd-docs-nav a')"
                              ".checkVisibility({checkVisibilityCSS: true})", timeout=5_000)
        assert not tab.locator("#pst-primary-sidebar-modal[open]").count(), "a dialog opened instead"
        tab.wait_for_timeout(400)  # the theme's slide-out transition
        toggle.first.click()
        chapter.wait_for(state="visible", timeout=5_000)
    finally:
        tab.close()


# ---------------------------------------------------------------- every chapter page


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_screenshots_at_phone_and_desktop_size(measured, page):
    measured(page, "phone")
    measured(page, "desktop")
    for size in (PHONE, DESKTOP):
        shot = SCREENSHOTS / f"{_stem(page)}-{size['width']}x{size['height']}.png"
        assert shot.is_file() and shot.stat().st_size > 10_000, f"no {size['width']} px screenshot of {page}"


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_page_does_not_scroll_sideways_on_a_phone(measured, page):
    m = measured(page, "phone")
    assert m["scrollWidth"] <= m["clientWidth"], (
        f"{page} scrolls sideways at 390 px: {m['scrollWidth']} > {m['clientWidth']}, e.g. {m['wideElements']}")


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_page_shows_no_traceback_or_error_output(measured, page):
    m = measured(page, "desktop")
    assert not m["errorOutput"], f"error output on {page}: {m['errorOutput'][:5]}"
    assert "Traceback (most recent call last)" not in m["visibleText"], f"a traceback is shown on {page}"


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_page_shows_no_internal_markers(measured, page):
    m = measured(page, "desktop")
    shown = sorted({line.strip()[:80] for line in m["visibleText"].splitlines() if MARKERS.search(line)})
    hidden = sorted({line.strip()[:80] for line in m["allText"].splitlines() if MARKERS.search(line)})
    assert not shown, f"internal markers in the visible text of {page}: {shown[:5]}"
    assert not hidden, f"internal markers in the text of {page} (hidden parts included): {hidden[:5]}"


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_output_tables_have_padded_cells_and_right_aligned_numbers(measured, page, size):
    problems = []
    for table in measured(page, size)["tables"]:
        for cell in table["cells"]:
            if cell["padLeft"] < 6 or cell["padRight"] < 6:
                problems.append(f"{table['head']}: cell {cell['text']!r} has padding "
                                f"{cell['padLeft']}/{cell['padRight']} px")
            if cell["tag"] == "TD" and NUMBER.match(cell["text"]) and cell["align"] not in ("right", "end"):
                problems.append(f"{table['head']}: number {cell['text']!r} is aligned {cell['align']}")
        for gap in table["gaps"]:
            if gap["gap"] < 12:
                problems.append(f"{table['head']}: only {gap['gap']} px between {gap['between']!r}")
    assert not problems, f"{page} at {size} size: " + "; ".join(problems[:8])


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_text_and_captions_have_enough_contrast(measured, page, dark):
    m = measured(page, "desktop", dark)
    assert m["theme"] == ("dark" if dark else "light")
    low = sorted((c for c in m["contrast"] + m["captions"] if c["ratio"] < MIN_CONTRAST), key=lambda c: c["ratio"])
    if m["backToTop"] and m["backToTop"]["ratio"] < MIN_CONTRAST:
        low.append({**m["backToTop"], "element": "#pst-back-to-top"})
    assert not low, f"{page} ({'dark' if dark else 'light'}): text below {MIN_CONTRAST}:1: " + "; ".join(
        f"{c['element']} {c['text']!r} {c['fg']} on {c['bg']} = {c['ratio']}" for c in low[:8])


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_wide_equations_scroll_inside_their_box_with_a_cue(measured, page, size):
    problems, wide = [], []
    for eq in measured(page, size)["equations"]:
        name = repr(eq["tex"][:50])
        if not (eq["insideColumn"] and eq["insideBox"]):
            problems.append(f"{name} sticks out of its box or the text column")
        if not (eq["startShown"] and eq["endReached"]):
            problems.append(f"{name} is cut off: start shown {eq['startShown']}, end reachable {eq['endReached']}")
        if eq["contentWidth"] > eq["boxWidth"] + 1:
            wide.append(f"{eq['contentWidth']} px in {eq['boxWidth']} px: {eq['tex']}")
            if eq["overflowX"] not in ("auto", "scroll"):
                problems.append(f"{name} does not scroll (overflow-x {eq['overflowX']})")
            if not eq["cue"] or not eq["focusable"]:
                problems.append(f"{name} scrolls without a visible cue or keyboard focus")
    ARTIFACTS.mkdir(exist_ok=True)
    report = ARTIFACTS / "wide-equations.txt"
    tag = f"{page} at {size} size:"
    lines = [line for line in (report.read_text().splitlines() if report.exists() else []) if not line.startswith(tag)]
    report.write_text("\n".join(sorted(lines + [f"{tag} {w}" for w in wide])) + "\n")
    assert not problems, f"{page} at {size} size: {problems}"


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_code_cells_fit_the_column_at_desktop_size(measured, page):
    cells = measured(page, "desktop")["code"]
    wide = [c for c in cells if c["scrollWidth"] > c["clientWidth"] + 1]
    ARTIFACTS.mkdir(exist_ok=True)
    report = ARTIFACTS / "wide-code-cells.txt"
    lines = [line for line in (report.read_text().splitlines() if report.exists() else [])
             if not line.startswith(page + ":")]
    lines += [f"{page}: cell {c['firstLine']!r}: {len(c['widestLine'])} characters, {c['scrollWidth']} px in "
              f"{c['clientWidth']} px: {c['widestLine'].strip()[:100]!r}" for c in wide]
    report.write_text("\n".join(sorted(lines)) + "\n")
    assert not wide, (f"{len(wide)} of {len(cells)} code cells of {page} are wider than the 1280 px column "
                      f"(longest line {max(len(c['widestLine']) for c in wide)} characters; "
                      "see test-artifacts/wide-code-cells.txt)")


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_one_search_box_at_desktop_size(measured, page):
    boxes = measured(page, "desktop")["searchBoxes"]
    assert len(boxes) == 1, f"{page} shows {len(boxes)} search boxes at 1280 px: {boxes}"


def _system_has_emoji_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    out = subprocess.run(["fc-list", ":charset=2705", "family"], capture_output=True, text=True).stdout
    return bool(out.strip())


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_check_marks_have_a_font(measured, page):
    m = measured(page, "desktop")
    if not m["checkMarks"]:
        pytest.skip(f"{page} shows no ✅/❌/✏️")
    if _system_has_emoji_font():
        pytest.skip("this machine has a font with ✅, so the fallback font is not needed")
    assert m["marksFont"] == ["loaded"], f"{page} shows ✅/❌/✏️ but the Course Marks font is {m['marksFont']}"


# ---------------------------------------------------------------- search (issue 13, item 8)


def test_search_snippets_show_math_as_text(desktop, base_url):
    tab = desktop.new_page()
    try:
        tab.goto(urljoin(base_url, "search.html?q=kernel"), wait_until="load")
        summaries = tab.locator("#search-results ul.search li p.context")
        summaries.first.wait_for(timeout=20_000)
        tab.wait_for_timeout(1_000)  # the snippets arrive one page at a time
        texts = [s.inner_text() for s in summaries.all()]
    finally:
        tab.close()
    assert texts, "no search snippets for 'kernel'"
    raw = [t[:120] for t in texts if re.search(r"\\\(|\\\)|\\\[|\\\]|\\[A-Za-z]+", t)]
    assert not raw, f"search snippets show raw TeX: {raw[:3]}"


def test_tex_to_text_reads_common_math(desktop, base_url):
    tab = desktop.new_page()
    try:
        tab.goto(urljoin(base_url, "intro.html"), wait_until="load")
        got = tab.evaluate("""() => [String.raw`k\\times k`, String.raw`\\frac{n + 2p - k}{s} + 1`,
                                     String.raw`\\text{in\\_channels} \\cdot k^2`,
                                     String.raw`\\sqrt{\\sigma^2 + \\epsilon}`].map(window.courseTexToText)""")
    finally:
        tab.close()
    assert got == ["k×k", "(n + 2p - k)/(s) + 1", "in_channels · k^2", "√σ^2 + ε"], got


# ---------------------------------------------------------------- the built HTML


class _Ids:
    def __init__(self, html: str):
        self.ids = re.findall(r"""\sid=["']([^"']+)["']""", re.sub(r"<script.*?</script>", "", html, flags=re.S))


@pytest.mark.parametrize("page", PAGES)
def test_page_has_no_duplicate_ids(site, page):
    ids = _Ids((site.html / page).read_text(encoding="utf-8")).ids
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"ids used more than once on {page}: {duplicates}"


@pytest.mark.parametrize("page", CHAPTER_PAGES)
def test_chapter_images_have_alt_text_and_captions(site, page):
    html = (site.html / page).read_text(encoding="utf-8")
    images = re.findall(r"<img\b[^>]*\bsrc=\"[^\"]*_images/[^\"]+\"[^>]*>", html)
    alts = [(re.search(r"\balt=\"([^\"]*)\"", tag) or re.search("()", "")).group(1) for tag in images]
    missing = [tag[:90] for tag, alt in zip(images, alts, strict=True) if len(alt) < 20 or "_images/" in alt]
    captions = len(re.findall(r"<figcaption>", html))
    # Captions and alt text are cell metadata of the notebook (mystnb.figure.caption, mystnb.image.alt,
    # and course_site.figures for a cell with several images).
    assert not missing, f"images on {page} without real alt text: {missing[:3]}"
    assert captions >= len(images), f"{page}: {len(images)} images but {captions} captions"
