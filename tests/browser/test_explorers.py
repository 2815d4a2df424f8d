"""The live explorers of the website (_static/explorers/explorers.js), checked in chromium against course_lib.

Each explorer is driven through its own controls, the way a reader uses it, for hundreds of random
settings, and the numbers it shows are compared with what course_lib computes in Python:
conv_output_size (and its error messages), receptive_field and receptive_region, and
one_cycle_schedule in both styles. Further tests step the kernel with a click and a key press, cut the
network off, check that every control is labelled and reachable with the keyboard, and that each
explorer fits a 390 px phone in dark mode (screenshots in test-artifacts/screenshots/explorers-*.png).
Two more check the library reference page (reference.md): every exported name documented, every
"Taught in:" line a link to a built chapter, and no sideways scrolling on a phone.

The chapters hold the explorers as placeholders, <div class="course-explorer" data-explorer="...">,
which the script fills. Set COURSE_TEST_SITE=/path/to/html to test an already built site.
"""

from __future__ import annotations

import math
import random

import pytest
from torch import nn

from course_lib import conv_output_size, one_cycle_schedule, receptive_field, receptive_region

from .conftest import ARTIFACTS, DESKTOP, NUMBERED_PAGES, PHONE

SCREENSHOTS = ARTIFACTS / "screenshots"
PAGES = {
    "conv": "chapters/01_convolutions_and_shapes.html",
    "receptive": "chapters/03_dense_to_cnn.html",
    "onecycle": "chapters/04_training_stability.html",
}
N_RANDOM = 500
ROOT = ".course-explorer[data-explorer={}]"


@pytest.fixture(scope="module")
def explorer(desktop, base_url):
    """The desktop page of one explorer, explorer("conv") -> page, kept open while tests use it.

    Only one is open at a time: the chapter pages' own animations would otherwise share the
    renderer's main thread with the page under test and slow it down threefold."""
    opened = {}

    def get(name: str):
        if name not in opened:
            for other in opened.values():
                other.close()
            opened.clear()
            page = desktop.new_page()
            page.errors = []
            page.on("console", lambda m, page=page: m.type == "error" and page.errors.append(m.text))
            page.on("pageerror", lambda e, page=page: page.errors.append(f"uncaught: {e}"))
            page.goto(base_url + PAGES[name], wait_until="load")
            root = page.locator(ROOT.format(name))
            assert root.count() == 1, (f"{PAGES[name]} has no explorer placeholder "
                                       f"<div class='course-explorer' data-explorer='{name}'>")
            page.wait_for_selector(ROOT.format(name) + ".ce-ready")
            opened[name] = page
        return opened[name]

    yield get
    for page in opened.values():
        page.close()


# ---------------------------------------------------------------- 1. convolution arithmetic

_CONV_SET_JS = """async ([settings]) => {
  const drawn = () => Promise.resolve();  // the explorer's queued update (a microtask) runs first; no frame is rendered
  const root = document.querySelector('.course-explorer[data-explorer=conv]');
  const field = (name) => root.querySelector(`input[data-name="${name}"]`);
  const out = [];
  for (const s of settings) {
    for (const [name, value] of Object.entries(s)) {
      const input = field(name);
      input.value = value;
      input.dispatchEvent(new Event('input', {bubbles: true}));
    }
    await drawn();  // the grid is redrawn once per batch of edits
    const error = root.querySelector('[data-role=error]');
    const args = ['n', 'ks', 'stride', 'padding', 'dilation'].map((k) => Number(s[k]));
    let api;
    try { api = window.courseExplorers.convOutputSize(...args); } catch (e) { api = 'ValueError: ' + e.message; }
    out.push({
      error: error.hidden ? null : error.textContent,
      shown: root.querySelector('[data-role=formula] [data-role=output]')?.textContent ?? null,
      formula: root.querySelector('[data-role=formula]').textContent,
      shapes: root.querySelector('[data-role=shapes]').textContent,
      padded: root.querySelectorAll('rect.ce-pad, rect.ce-input').length,
      outputs: root.querySelectorAll('rect.ce-out').length,
      taps: root.querySelectorAll('rect.ce-kernel').length,
      stepperHidden: root.querySelector('.ce-stepper').hidden,
      api,
    });
  }
  return out;
}"""


def _python_conv(n, ks, stride, padding, dilation):
    try:
        return conv_output_size(n, ks, stride, padding, dilation)
    except ValueError as e:
        return f"ValueError: {e}"


def _random_conv_settings(count: int, seed: int = 15) -> list[dict]:
    rng = random.Random(seed)
    settings = []
    for _ in range(count):
        settings.append({"n": rng.randint(1, 32), "ks": rng.randint(1, 11), "stride": rng.randint(1, 6),
                         "padding": rng.randint(0, 6), "dilation": rng.randint(1, 5),
                         "in_channels": rng.randint(1, 64), "out_channels": rng.randint(1, 64)})
    return settings


def test_conv_explorer_shows_conv_output_size_for_500_random_settings(explorer):
    page = explorer("conv")
    settings = _random_conv_settings(N_RANDOM)
    shown = page.evaluate(_CONV_SET_JS, [[{k: str(v) for k, v in s.items()} for s in settings]])
    invalid = 0
    for s, got in zip(settings, shown, strict=True):
        n, ks, st, p, d = s["n"], s["ks"], s["stride"], s["padding"], s["dilation"]
        want = _python_conv(n, ks, st, p, d)
        assert got["api"] == want, s
        if isinstance(want, str):
            invalid += 1
            assert got["error"] == want and got["shown"] is None and got["stepperHidden"], (s, got)
            continue
        assert got["error"] is None and got["shown"] == str(want), (s, got)
        inner = n + 2 * p - d * (ks - 1) - 1
        assert f"⌊({n} + 2·{p} − {d}·({ks} − 1) − 1) / {st}⌋ + 1 = ⌊{inner} / {st}⌋ + 1 = {want}" in got["formula"]
        cin, cout = s["in_channels"], s["out_channels"]
        params = cout * cin * ks * ks + cout
        assert got["shapes"].startswith(f"input (N, {cin}, {n}, {n}) → weight ({cout}, {cin}, {ks}, {ks}) → "
                                        f"output (N, {cout}, {want}, {want}); {params:,} parameters")
        assert (got["padded"], got["outputs"], got["taps"]) == ((n + 2 * p) ** 2, want * want, ks * ks), s
    assert 50 < invalid < N_RANDOM - 50, f"the random settings should mix valid and invalid ones, got {invalid} invalid"


@pytest.mark.parametrize("field, value, python_kwargs", [
    ("stride", "0", {"stride": 0}),
    ("padding", "-1", {"padding": -1}),
    ("n", "0", {"n": 0}),
    ("ks", "2.5", {"ks": 2.5}),
    ("dilation", "2.0", {"dilation": 2.0}),
    ("ks", "9", {"ks": 9}),
])
def test_conv_explorer_shows_the_same_error_as_conv_output_size(explorer, field, value, python_kwargs):
    page = explorer("conv")
    base = {"n": 5, "ks": 3, "stride": 1, "padding": 1, "dilation": 1}
    got = page.evaluate(_CONV_SET_JS, [[{**{k: str(v) for k, v in base.items()}, field: value}]])[0]
    with pytest.raises(ValueError) as raised:
        conv_output_size(**{**base, **python_kwargs})
    assert got["error"] == f"ValueError: {raised.value}"
    assert page.locator(ROOT.format("conv") + " [data-role=error]").is_visible()
    page.evaluate(_CONV_SET_JS, [[{k: str(v) for k, v in base.items()}]])  # back to a valid setting


def _kernel_cells(page) -> set[tuple[int, int]]:
    cells = page.eval_on_selector_all(ROOT.format("conv") + " rect.ce-kernel",
                                      "els => els.map(e => [Number(e.getAttribute('y')), Number(e.getAttribute('x'))])")
    return {(round(y / 10), round(x / 10)) for y, x in cells}


def test_a_click_and_a_key_press_move_the_kernel_one_step(explorer):
    page = explorer("conv")
    page.evaluate(_CONV_SET_JS, [[{"n": "5", "ks": "3", "stride": "2", "padding": "1", "dilation": "1"}]])
    root = page.locator(ROOT.format("conv"))
    step = lambda: int(root.get_attribute("data-step"))  # noqa: E731
    start = step()
    assert start == 0 and _kernel_cells(page) == {(r, c) for r in range(3) for c in range(3)}
    root.locator("[data-role=next]").click()
    assert step() == 1 and _kernel_cells(page) == {(r, c) for r in range(3) for c in range(2, 5)}
    figure = root.locator("[data-role=figure]")
    figure.focus()
    page.keyboard.press("ArrowRight")
    assert step() == 2 and _kernel_cells(page) == {(r, c) for r in range(3) for c in range(4, 7)}
    page.keyboard.press("ArrowLeft")
    assert step() == 1
    page.keyboard.press("End")
    assert step() == 8 and _kernel_cells(page) == {(r, c) for r in range(4, 7) for c in range(4, 7)}
    page.keyboard.press("ArrowRight")  # wraps around to the first position
    assert step() == 0
    root.locator("[data-role=prev]").click()
    assert step() == 8
    assert "step 9 of 9: output (2, 2)" in root.locator("[data-role=step-text]").text_content()
    root.locator("rect.ce-out[data-step='4']").click()  # a click on an output cell jumps to it
    assert step() == 4 and _kernel_cells(page) == {(r, c) for r in range(2, 5) for c in range(2, 5)}


# ---------------------------------------------------------------- 2. receptive fields

_RF_SET_JS = """async ([cases]) => {
  const drawn = () => Promise.resolve();  // the explorer's queued update (a microtask) runs first; no frame is rendered
  const root = document.querySelector('.course-explorer[data-explorer=receptive]');
  const q = (sel) => root.querySelector(sel);
  const fire = (el, type) => el.dispatchEvent(new Event(type, {bubbles: true}));
  const setValue = (el, value) => { el.value = String(value); fire(el, 'input'); };
  const out = [];
  for (const c of cases) {  // edits the stack the previous case left, as a reader would
    setValue(q('input[data-name=input_size]'), c.n);
    let rows = () => root.querySelectorAll('.ce-stack tbody tr');
    while (rows().length > c.layers.length) rows()[rows().length - 1].querySelector('button').click();
    while (rows().length < c.layers.length) q('[data-role=add-conv]').click();
    c.layers.forEach((layer, i) => {
      const sel = root.querySelector(`select[data-layer="${i}"][data-key=type]`);
      if (sel.value !== layer.type) { sel.value = layer.type; fire(sel, 'change'); }
    });
    c.layers.forEach((layer, i) => {
      for (const key of ['kernel', 'stride', 'padding', 'dilation']) {
        if (key === 'dilation' && layer.type === 'AvgPool2d') continue;
        setValue(root.querySelector(`input[data-layer="${i}"][data-key=${key}]`), layer[key]);
      }
      const ceil = root.querySelector(`input[data-layer="${i}"][data-key=ceilMode]`);
      if (layer.type !== 'Conv2d' && ceil.checked !== layer.ceilMode) {
        ceil.checked = layer.ceilMode;
        fire(ceil, 'change');
      }
    });
    await drawn();
    const error = q('[data-role=error]');
    const result = {error: error.hidden ? null : error.textContent};
    if (!error.hidden) { out.push(result); continue; }
    const col = (tr, name) => tr.querySelector(`[data-col=${name}]`).textContent;
    result.table = Array.from(root.querySelectorAll('[data-role=rf-table] tbody tr')).map((tr) => ({
      output: col(tr, 'output'), size: col(tr, 'size'), jump: col(tr, 'jump'), padding: col(tr, 'padding'),
      start: col(tr, 'start')}));
    if (c.pick) {
      const layerSel = q('select[data-role=layer]');
      layerSel.value = String(c.pick.layer); fire(layerSel, 'change');
      const row = q('input[data-name=unit_row]'), col = q('input[data-name=unit_col]');
      row.value = String(c.pick.unit[0]); col.value = String(c.pick.unit[1]); fire(col, 'input');
      await drawn();
      result.region = root.dataset.region;
      result.seen = root.querySelectorAll('rect.ce-seen').length;
      result.summary = q('[data-role=summary]').textContent;
    }
    let api;
    try { api = window.courseExplorers.receptiveField(c.layers, c.n); } catch (e) { api = 'ValueError: ' + e.message; }
    result.api = api;
    out.push(result);
  }
  return out;
}"""


def _random_stack(rng: random.Random) -> list[dict]:
    layers = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["Conv2d", "Conv2d", "MaxPool2d", "AvgPool2d"])
        if kind == "Conv2d":
            layers.append({"type": kind, "kernel": rng.randint(1, 7), "stride": rng.randint(1, 3),
                           "padding": rng.randint(0, 3), "dilation": rng.randint(1, 3), "ceilMode": False})
        else:
            k = rng.randint(1, 4)
            layers.append({"type": kind, "kernel": k, "stride": rng.randint(1, 3), "padding": rng.randint(0, k // 2),
                           "dilation": rng.randint(1, 2) if kind == "MaxPool2d" else 1,
                           "ceilMode": rng.random() < 0.3})
    return layers


def _torch_stack(layers: list[dict]) -> nn.Sequential:
    made = []
    for spec in layers:
        k, s, p, d = spec["kernel"], spec["stride"], spec["padding"], spec["dilation"]
        if spec["type"] == "Conv2d":
            made.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))
        elif spec["type"] == "MaxPool2d":
            made.append(nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=spec["ceilMode"]))
        else:
            made.append(nn.AvgPool2d(k, stride=s, padding=p, ceil_mode=spec["ceilMode"]))
    return nn.Sequential(*made)


def test_receptive_field_explorer_shows_receptive_field_for_500_random_stacks(explorer):
    page = explorer("receptive")
    rng = random.Random(3)
    cases, expected = [], []
    for _ in range(N_RANDOM):
        layers = _random_stack(rng)
        n = rng.randint(4, 64)
        model = _torch_stack(layers)
        try:
            rows = receptive_field(model, (1, n, n))
        except ValueError as e:
            cases.append({"n": n, "layers": layers, "pick": None})
            expected.append((f"ValueError: {e}", None, None))
            continue
        layer = rng.randrange(len(rows))
        out = rows[layer].output_size
        unit = (rng.randrange(out), rng.randrange(out))
        region = receptive_region(model, (1, n, n), layer=layer, unit=unit)
        cases.append({"n": n, "layers": layers, "pick": {"layer": layer, "unit": list(unit)}})
        expected.append((None, rows, (layer, unit, region)))
    shown = page.evaluate(_RF_SET_JS, [cases])
    errors = 0
    for case, got, (error, rows, pick) in zip(cases, shown, expected, strict=True):
        if error is not None:
            errors += 1
            assert got["error"] == error, (case, got)
            continue
        assert got["error"] is None, (case, got)
        table = [(r["output"], int(r["size"]), int(r["jump"]), int(r["padding"]), int(r["start"]))
                 for r in got["table"]]
        want = [(f"{r.output_size}×{r.output_size}", r.size, r.stride, r.padding, -r.padding) for r in rows]
        assert table == want, case
        api = [(r["size"], r["stride"], r["padding"], r["outputSize"], r["layer"], r["name"]) for r in got["api"]]
        assert api == [(r.size, r.stride, r.padding, r.output_size, r.layer, r.name) for r in rows], case
        layer, unit, (rows_slice, cols_slice) = pick
        want_region = f"{rows_slice.start},{rows_slice.stop},{cols_slice.start},{cols_slice.stop}"
        assert got["region"] == want_region, (case, pick)
        height, width = rows_slice.stop - rows_slice.start, cols_slice.stop - cols_slice.start
        assert got["seen"] == height * width, (case, pick)
        assert f"Unit ({unit[0]}, {unit[1]}) of layer {layer} " in got["summary"]
    assert 20 < errors < N_RANDOM - 100, f"the random stacks should include some too deep for their input, got {errors}"


def test_receptive_field_explorer_starts_from_simple_cnn(explorer):
    from course_lib import simple_cnn

    page = explorer("receptive")
    page.locator(ROOT.format("receptive") + " [data-role=reset]").click()
    page.locator(ROOT.format("receptive") + " input[data-name=input_size]").fill("28")
    sizes = page.eval_on_selector_all(ROOT.format("receptive") + " [data-role=rf-table] tbody [data-col=size]",
                                      "els => els.map(e => Number(e.textContent))")
    assert sizes == [row.size for row in receptive_field(simple_cnn(), (1, 28, 28)) if row.layer == "Conv2d"]


def test_arrow_keys_move_the_receptive_field_unit(explorer):
    page = explorer("receptive")
    root = page.locator(ROOT.format("receptive"))
    root.locator("[data-role=reset]").click()
    root.locator("select[data-role=layer]").select_option("1")  # 7×7 output, centre unit (3, 3)
    assert root.locator("input[data-name=unit_row]").input_value() == "3"
    root.locator("[data-role=figure]").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    model = _torch_stack([{"type": "Conv2d", **c} for c in page.evaluate("window.courseExplorers.simpleCnn")][:2])
    rows, cols = receptive_region(model, (1, 28, 28), layer=1, unit=(4, 5))
    assert root.get_attribute("data-region") == f"{rows.start},{rows.stop},{cols.start},{cols.stop}"


# ---------------------------------------------------------------- 3. the 1cycle schedule

_CYCLE_SET_JS = """async ([cases]) => {
  const drawn = () => Promise.resolve();  // the explorer's queued update (a microtask) runs first; no frame is rendered
  const root = document.querySelector('.course-explorer[data-explorer=onecycle]');
  const fire = (el, type) => el.dispatchEvent(new Event(type, {bubbles: true}));
  const slider = root.querySelector('input[data-role=step]');
  const out = [];
  for (const c of cases) {
    for (const [name, value] of Object.entries(c.fields)) {
      const input = root.querySelector(`input[data-name="${name}"]`);
      input.value = value; fire(input, 'input');
    }
    await drawn();
    const error = root.querySelector('[data-role=error]');
    const result = {error: error.hidden ? null : error.textContent, points: []};
    if (error.hidden) {
      result.curves = root.querySelectorAll('polyline.ce-curve').length;
      for (const t of c.steps) {
        slider.value = String(t); fire(slider, 'input');
        const cells = {};
        for (const td of root.querySelectorAll('[data-role=readout] td')) {
          cells[`${td.dataset.style}.${td.dataset.key}`] = [Number(td.dataset.value), td.textContent];
        }
        result.points.push(cells);
      }
    }
    out.push(result);
  }
  return out;
}"""


def _python_number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and not any(ch in text for ch in ".eE") else value


def _random_cycle_cases(count: int, seed: int = 4) -> list[dict]:
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        fields = {
            "lr_max": repr(round(10 ** rng.uniform(-4, 0), 6)),
            "pct_start": repr(round(rng.uniform(0, 0.95), 2)),
            "div": repr(round(rng.uniform(1, 100), 1)) if rng.random() < 0.7 else str(rng.randint(1, 100)),
            "div_final": repr(round(10 ** rng.uniform(0, 6), 1)),
            "n_steps": str(rng.randint(2, 600)),
            "moms0": repr(round(rng.uniform(0.8, 0.99), 2)),
            "moms1": repr(round(rng.uniform(0.5, 0.95), 2)),
            "moms2": repr(round(rng.uniform(0.8, 0.99), 2)),
        }
        if i % 50 == 0:  # pct_start*n_steps == 1: OneCycleLR's warm-up of zero steps, an error for style "torch"
            fields["pct_start"], fields["n_steps"] = rng.choice([("0.25", "4"), ("0.5", "2"), ("0.1", "10"),
                                                                 ("0.02", "50")])
        cases.append(fields)
    return cases


def test_one_cycle_explorer_shows_one_cycle_schedule_at_20_steps_for_500_random_settings(explorer):
    page = explorer("onecycle")
    cases, expected = [], []
    for fields in _random_cycle_cases(N_RANDOM):
        v = {k: _python_number(x) for k, x in fields.items()}
        n = v["n_steps"]
        steps = sorted({round(k * (n - 1) / 19) for k in range(20)})
        kwargs = dict(pct_start=v["pct_start"], div=v["div"], div_final=v["div_final"],
                      moms=(v["moms0"], v["moms1"], v["moms2"]))
        try:
            want = {style: one_cycle_schedule(n, v["lr_max"], style=style, **kwargs) for style in ("fastai", "torch")}
        except ValueError as e:
            want = f"ValueError: {e}"
        cases.append({"fields": fields, "steps": steps})
        expected.append(want)
    shown = page.evaluate(_CYCLE_SET_JS, [cases])
    errors, exact, compared, worst = 0, 0, 0, 0.0
    for case, got, want in zip(cases, shown, expected, strict=True):
        if isinstance(want, str):
            errors += 1
            assert got["error"] == want, (case, got)
            continue
        assert got["error"] is None and got["curves"] == 4, (case, got["error"])
        for t, cells in zip(case["steps"], got["points"], strict=True):
            for style in ("fastai", "torch"):
                for key in ("lr", "mom"):
                    value, text = cells[f"{style}.{key}"]
                    py = float(getattr(want[style], key)[t])
                    compared += 1
                    exact += value == py
                    worst = max(worst, abs(value - py) / abs(py))
                    assert math.isclose(value, py, rel_tol=1e-12, abs_tol=0), (case, t, style, key, value, py)
                    assert math.isclose(float(text), py, rel_tol=1e-5), (case, t, style, key, text, py)
    assert errors == N_RANDOM // 50
    print(f"1cycle: {compared} values compared, {exact} bit-for-bit equal, worst relative difference {worst:.1e}")
    assert compared >= N_RANDOM * 4 * 10


@pytest.mark.parametrize("field, value, python_kwargs", [
    ("lr_max", "0", {"lr_max": 0}),
    ("div", "-2.5", {"div": -2.5}),
    ("pct_start", "1.0", {"pct_start": 1.0}),
    ("moms1", "1", {"moms": (0.95, 1, 0.95)}),
    ("n_steps", "1", {"n_steps": 1}),
    ("n_steps", "100.0", {"n_steps": 100.0}),
])
def test_one_cycle_explorer_shows_the_same_error_as_one_cycle_schedule(explorer, field, value, python_kwargs):
    page = explorer("onecycle")
    base = {"lr_max": "0.06", "pct_start": "0.25", "div": "25.0", "div_final": "100000.0", "n_steps": "117",
            "moms0": "0.95", "moms1": "0.85", "moms2": "0.95"}
    got = page.evaluate(_CYCLE_SET_JS, [[{"fields": {**base, field: value}, "steps": []}]])[0]
    kwargs = {"n_steps": 117, "lr_max": 0.06, **python_kwargs}
    with pytest.raises(ValueError) as raised:
        one_cycle_schedule(kwargs.pop("n_steps"), kwargs.pop("lr_max"), **kwargs)
    assert got["error"] == f"ValueError: {raised.value}"
    page.evaluate(_CYCLE_SET_JS, [[{"fields": base, "steps": []}]])  # back to a valid setting


def test_one_cycle_api_gives_every_step_of_one_cycle_schedule(explorer):
    page = explorer("onecycle")
    cases = [(117, 0.06, {}), (117, 0.06, {"pctStart": 0.3, "divFinal": 25.0 * 1e4, "style": "torch"}),
             (1000, 0.1, {"pctStart": 0.1, "div": 10.0, "divFinal": 1e4, "moms": [0.9, 0.8, 0.9], "style": "torch"}),
             (2, 1.0, {"pctStart": 0.0}), (3, 0.5, {"pctStart": 0.9, "style": "torch"})]
    got = page.evaluate("([cases]) => cases.map(([n, lr, o]) => window.courseExplorers.oneCycleSchedule(n, lr, o))",
                        [cases])
    names = {"pctStart": "pct_start", "div": "div", "divFinal": "div_final", "moms": "moms", "style": "style"}
    for (n, lr, options), sched in zip(cases, got, strict=True):
        want = one_cycle_schedule(n, lr, **{names[k]: v for k, v in options.items()})
        for key in ("lr", "mom"):
            for a, b in zip(sched[key], getattr(want, key).tolist(), strict=True):
                assert math.isclose(a, b, rel_tol=1e-12), (n, lr, options, key)


# ---------------------------------------------------------------- 4. the library reference


def test_reference_documents_course_lib_and_links_each_entry_to_its_chapter(desktop, base_url, site):
    import inspect

    import course_lib

    page = desktop.new_page()
    page.goto(base_url + "reference.html", wait_until="load")
    found = page.evaluate("""() => ({
      ids: Array.from(document.querySelectorAll('dl.py > dt[id]')).map(dt => dt.id),
      links: Array.from(document.querySelectorAll('a.ce-taught')).map(a => [a.getAttribute('href'), a.textContent]),
      unlinked: Array.from(document.querySelectorAll('article p'))
        .filter(p => /^Taught in:/.test(p.textContent.trim()) && !p.querySelector('a')).map(p => p.textContent)})""")
    page.close()
    documented = {i.rsplit(".", 1)[-1] for i in found["ids"]}
    skipped = {"CheckResult", "check"}  # the exercise checks belong to the grader, documented in instructors.md
    missing = [n for n in course_lib.__all__ if n not in documented and n not in skipped]
    assert missing == [], f"reference.md does not document {missing}"
    assert found["unlinked"] == []
    for name in course_lib.__all__:
        if name in skipped:
            continue
        doc = inspect.getdoc(getattr(course_lib, name)) or ""
        if "Taught in: chapters/" in doc:
            chapter = doc.split("Taught in: ")[1].split()[0]
            assert any(href == chapter + ".html" for href, _ in found["links"]), f"no link to {chapter} for {name}"
    for href, text in found["links"]:
        assert (site.html / href).is_file(), href
        # a numbered chapter's link shows its number, e.g. "1. Convolutions and their shapes"
        assert text[0].isdigit() == (href in NUMBERED_PAGES), (href, text)


def test_reference_fits_a_phone(new_context, base_url):
    context = new_context(PHONE)
    page = context.new_page()
    page.goto(base_url + "reference.html", wait_until="load")
    width = page.evaluate("document.documentElement.scrollWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "explorers-reference-phone.png"))
    page.close()
    assert width <= PHONE["width"], f"the reference page is {width} px wide on a {PHONE['width']} px phone"


# ---------------------------------------------------------------- all explorers


@pytest.mark.parametrize("name", list(PAGES))
def test_explorer_works_with_the_network_cut_off(new_context, base_url, name):
    context = new_context(DESKTOP)
    page = context.new_page()
    page.goto(base_url + PAGES[name], wait_until="load")
    page.wait_for_selector(ROOT.format(name) + ".ce-ready")
    assert context.traffic.external == [], f"the page asked for {context.traffic.external[:5]}"
    context.set_offline(True)
    root = page.locator(ROOT.format(name))
    if name == "conv":
        root.locator("input[data-name=n]").fill("28")
        assert root.get_attribute("data-output") == str(conv_output_size(28, 3, 2, 1))
    elif name == "receptive":
        root.locator("[data-role=add-conv]").click()
        assert root.locator("[data-role=rf-table] tbody tr").count() == 6
        root.locator("[data-role=add-pool]").click()  # simple_cnn's last layer is 1×1: no room for a 2×2 pool
        stack = [{"type": "Conv2d", **c} for c in page.evaluate("window.courseExplorers.simpleCnn")]
        stack += [{"type": "Conv2d", "kernel": 3, "stride": 1, "padding": 1, "dilation": 1},
                  {"type": "MaxPool2d", "kernel": 2, "stride": 2, "padding": 0, "dilation": 1, "ceilMode": False}]
        with pytest.raises(ValueError) as raised:
            receptive_field(_torch_stack(stack), (1, 28, 28))
        assert root.locator("[data-role=error]").text_content() == f"ValueError: {raised.value}"
    else:
        root.locator("input[data-name=n_steps]").fill("4")
        root.locator("input[data-name=pct_start]").fill("0.25")
        with pytest.raises(ValueError) as raised:
            one_cycle_schedule(4, 0.06, pct_start=0.25, style="torch")
        assert root.locator("[data-role=error]").text_content() == f"ValueError: {raised.value}"
        root.locator("input[data-name=n_steps]").fill("117")
    context.set_offline(False)
    page.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_explorer_controls_are_labelled_and_reachable_by_keyboard(explorer, name):
    """Every control has a label; Tab reaches the figure and the step slider. Saves a desktop screenshot."""
    page = explorer(name)
    unlabelled = page.eval_on_selector_all(
        ROOT.format(name) + " input, " + ROOT.format(name) + " select, " + ROOT.format(name) + " button",
        """els => els.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                                 && !e.textContent.trim()).map(e => e.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    first = page.locator(ROOT.format(name) + " input, " + ROOT.format(name) + " select").first
    first.focus()
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        info = page.evaluate(f"""() => {{ const a = document.activeElement;
            return a.closest('{ROOT.format(name)}') ? (a.dataset.role || a.dataset.name || a.tagName) : null; }}""")
        if info is None:
            break
        reached.add(info)
    assert "figure" in reached or name == "onecycle", reached
    assert "step" in reached or name == "receptive", reached
    assert page.errors == []
    page.evaluate("document.activeElement.blur()")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(ROOT.format(name)).screenshot(path=str(SCREENSHOTS / f"explorers-{name}-desktop.png"))


@pytest.mark.parametrize("name", list(PAGES))
def test_explorer_fits_a_phone_in_dark_mode(new_context, base_url, name):
    context = new_context(PHONE, dark=True)
    page = context.new_page()
    page.goto(base_url + PAGES[name], wait_until="load")
    page.wait_for_selector(ROOT.format(name) + ".ce-ready")
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    root = page.locator(ROOT.format(name))
    root.scroll_into_view_if_needed()
    box = root.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, box
    overflow = page.evaluate(f"""() => {{
      const root = document.querySelector('{ROOT.format(name)}');
      const edge = root.getBoundingClientRect().right + 0.5;
      return Array.from(root.querySelectorAll('*'))
        .filter(e => !e.closest('.ce-scroll') && e.getBoundingClientRect().right > edge)
        .map(e => e.tagName + '.' + e.getAttribute('class'));
    }}""")
    assert overflow == []
    colours = page.evaluate(f"""() => {{
      const root = document.querySelector('{ROOT.format(name)}');
      const s = getComputedStyle(root);
      return [s.color, s.backgroundColor, getComputedStyle(root.querySelector('input')).backgroundColor];
    }}""")
    luminance = [sum(int(c) for c in col[col.index("(") + 1:col.index(")")].split(",")[:3]) / 3 for col in colours]
    assert luminance[0] > 150 and luminance[1] < 100 and luminance[2] < 100, colours  # light text on dark boxes
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SCREENSHOTS / f"explorers-{name}-phone-dark.png"))
    page.close()

