/* The course website's own scripts. Jupyter Book adds every .js file in _static/ to every page.
 *
 * 1. Sidebar toggles that do nothing (workaround, remove when upstream is fixed).
 * 2. Numbers in the notebooks' output tables are right-aligned.
 * 3. A display equation wider than its column scrolls inside its box, with a visible cue.
 * 4. Search snippets show math as plain text instead of raw TeX.
 * tests/browser/test_site_layout.py checks each of them in chromium.
 */
(() => {
  "use strict";

  const onReady = (fn) => {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  };

  /* 1. pydata-sphinx-theme 0.17.1 binds its sidebar handlers (open the sidebar as a dialog on a
   * narrow screen) to document.querySelector(".primary-toggle") and ".secondary-toggle" only, and
   * sphinx-book-theme 1.3.0 binds its wide-screen "collapse the sidebar" handler the same way. The
   * first .primary-toggle on a book page is the hidden one in the theme's header, so the visible
   * buttons in the article header only show their tooltip:
   *   https://github.com/pydata/pydata-sphinx-theme/issues/2451
   *   https://github.com/executablebooks/sphinx-book-theme/issues/988
   * A click on any other toggle is forwarded to the first one, which carries the themes' handlers.
   * The listener sits on the document, in the bubbling phase: the themes' handlers stop the
   * click's propagation, so once a fixed theme binds every toggle, this code never runs again and
   * can be deleted (with the test that clicks the visible toggle still passing). */
  document.addEventListener("click", (event) => {
    const toggle = event.target instanceof Element && event.target.closest(".primary-toggle, .secondary-toggle");
    if (!toggle) return;
    const selector = toggle.classList.contains("primary-toggle") ? ".primary-toggle" : ".secondary-toggle";
    const bound = document.querySelector(selector);
    if (!bound || bound === toggle) return;
    event.preventDefault();
    toggle.blur(); // as sphinx-book-theme does for its bound toggle: no tooltip left behind
    const tooltip = window.bootstrap && window.bootstrap.Tooltip && window.bootstrap.Tooltip.getInstance(toggle);
    if (tooltip) tooltip.hide();
    bound.click();
  });

  /* 2. Tables printed by the notebooks (course_lib's HTML tables, pandas DataFrames) carry no
   * alignment. A column whose body cells all hold numbers (23,550 or 8×14×14 or 0.98 or -) gets
   * the class "course-num" on its cells and header, which course.css right-aligns. */
  const NUMBER = /^[-+−]?(?:\d[\d,_ ]*(?:\.\d+)?(?:e[-+]?\d+)?%?|\.\d+)(?:\s*[×x]\s*\d+)*$/i;
  const PLACEHOLDER = /^(?:-|—|–|nan|None)?$/;

  function alignNumbers(table) {
    const rows = Array.from(table.rows);
    const body = rows.filter((row) => row.parentElement.tagName !== "THEAD");
    const columns = new Map(); // column index -> {cells, numeric}
    for (const row of rows) {
      let index = 0;
      for (const cell of row.cells) {
        const entry = columns.get(index) || {cells: [], numeric: 0, other: 0};
        entry.cells.push(cell);
        if (body.includes(row) && cell.tagName === "TD") {
          const text = cell.textContent.trim();
          if (NUMBER.test(text)) entry.numeric += 1;
          else if (!PLACEHOLDER.test(text)) entry.other += 1;
        }
        columns.set(index, entry);
        index += cell.colSpan || 1;
      }
    }
    for (const {cells, numeric, other} of columns.values()) {
      if (numeric > 0 && other === 0) cells.forEach((cell) => cell.classList.add("course-num"));
    }
    table.classList.add("course-table");
  }

  onReady(() => {
    document.querySelectorAll(".cell_output table").forEach(alignNumbers);
  });

  /* 3. Display equations: course.css lets MathJax's container in each div.math scroll sideways;
   * this marks the containers whose equation is wider than they are (class "course-math-scrolls":
   * edge shadows, a bar at the right edge until the end is reached, a visible scrollbar). MathJax
   * makes each container focusable, so the keyboard's arrow keys scroll it. Re-checked when the
   * box resizes or scrolls. */
  function markWideMath() {
    const check = (box) => {
      const scroller = box.querySelector(":scope > mjx-container") || box;
      const wide = scroller.scrollWidth > scroller.clientWidth + 1;
      scroller.classList.toggle("course-math-scrolls", wide);
      scroller.classList.toggle("course-math-at-end",
        wide && scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth - 1);
      if (wide && scroller.tabIndex < 0) scroller.tabIndex = 0;
    };
    const boxes = Array.from(document.querySelectorAll("div.math"));
    const observer = "ResizeObserver" in window
      ? new ResizeObserver((entries) => entries.forEach((entry) => check(entry.target))) : null;
    for (const box of boxes) {
      check(box);
      if (observer) observer.observe(box);
      box.addEventListener("scroll", () => check(box), {passive: true, capture: true});
    }
    document.documentElement.dataset.courseMath = "checked";
  }

  onReady(() => {
    if (!document.querySelector("div.math, span.math")) return;
    const whenTypeset = () => {
      const startup = window.MathJax && window.MathJax.startup;
      if (startup && startup.promise) startup.promise.then(markWideMath);
      else setTimeout(whenTypeset, 100);
    };
    whenTypeset();
  });

  /* 4. Sphinx's search builds a result's snippet from the text of the page it found, where math is
   * still TeX source: "\(k\times k\)". The snippet shows a plain-text reading instead: "k×k". */
  const SYMBOLS = {
    times: "×", cdot: "·", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠", neq: "≠", approx: "≈",
    to: "→", rightarrow: "→", leftarrow: "←", infty: "∞", sum: "Σ", prod: "Π", in: "∈", pm: "±",
    ldots: "…", dots: "…", cdots: "⋯", lfloor: "⌊", rfloor: "⌋", lceil: "⌈", rceil: "⌉", top: "⊤",
    sqrt: "√", partial: "∂", nabla: "∇", alpha: "α", beta: "β", gamma: "γ", delta: "δ",
    epsilon: "ε", varepsilon: "ε", eta: "η", theta: "θ", lambda: "λ", mu: "μ", pi: "π", rho: "ρ",
    sigma: "σ", tau: "τ", phi: "φ", omega: "ω", Sigma: "Σ", Delta: "Δ", Omega: "Ω",
  };

  const SPACED = new Set(["cdot", "le", "leq", "ge", "geq", "ne", "neq", "approx", "to", "rightarrow",
                          "leftarrow", "in", "pm"]);

  function texToText(tex) {
    let text = tex;
    for (let i = 0; i < 3; i++) {
      text = text.replace(/\\(?:frac|dfrac|tfrac)\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, "($1)/($2)");
    }
    text = text
      .replace(/\\(?:text|mathrm|mathbf|mathit|operatorname|textrm|textit|textbf|mathcal|boldsymbol)\s*\{([^{}]*)\}/g, "$1")
      .replace(/\\_/g, "_")
      // a control word swallows the spaces after it, as in TeX; relations get a space each side
      .replace(/\\([A-Za-z]+)\s*/g, (whole, name) => {
        const symbol = SYMBOLS[name] || "";
        return SPACED.has(name) ? ` ${symbol} ` : symbol;
      })
      .replace(/\\[,;:! ]/g, " ")
      .replace(/[{}]/g, "")
      .replace(/\s+/g, " ");
    return text.trim();
  }

  const MATH_IN_TEXT = /\\\(([\s\S]+?)\\\)|\\\[([\s\S]+?)\\\]|\$\$([\s\S]+?)\$\$/g;

  function patchSearch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.coursePatched) return false;
    const original = Search.htmlToText;
    Search.htmlToText = function htmlToText(...args) {
      const text = original.apply(this, args);
      return typeof text === "string" ? text.replace(MATH_IN_TEXT, (m, a, b, c) => texToText(a || b || c || "")) : text;
    };
    Search.htmlToText.coursePatched = true;
    return true;
  }

  if (!patchSearch()) onReady(patchSearch);
  window.courseTexToText = texToText; // for the browser tests
})();
