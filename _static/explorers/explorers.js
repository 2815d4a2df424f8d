/* Live explorers of the course website: convolution arithmetic (chapter 1), receptive fields
 * (chapter 3) and the 1cycle schedule (chapter 4). Plain JavaScript and SVG, nothing loaded from
 * the network. Jupyter Book adds every .js file under _static/ to every page; this script fills
 * each placeholder <div class="course-explorer" data-explorer="conv|receptive|onecycle"> it finds
 * and does nothing on other pages.
 *
 * window.courseExplorers holds the pure compute functions, written to give exactly what
 * course_lib gives (same formulas, same order of float operations, same error messages):
 *   convOutputSize(n, ks, stride, padding, dilation)      = course_lib.conv_output_size
 *   receptiveField(layers, inputSize)                     = course_lib.receptive_field
 *   receptiveRegion(layers, inputSize, layer, unit)       = course_lib.receptive_region
 *   oneCycleSchedule(nSteps, lrMax, options)              = course_lib.one_cycle_schedule
 * tests/browser/test_explorers.py compares them, and the numbers the explorers show, with
 * course_lib in chromium.
 */
(() => {
  "use strict";

  // ------------------------------------------------------------------ Python-like formatting

  /** Python's repr() of a float (shortest round-trip digits, 'e-05' style exponents, '4.0'). */
  function pyFloatRepr(x) {
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    const [mant, expText] = x.toExponential().split("e");
    const exp = parseInt(expText, 10);
    if (exp < -4 || exp >= 16) {
      const sign = exp < 0 ? "-" : "+";
      return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, "0")}`;
    }
    const negative = mant.startsWith("-");
    const digits = mant.replace("-", "").replace(".", "");
    let text;
    if (exp >= 0) {
      const whole = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, "0");
      const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : "0";
      text = `${whole}.${frac}`;
    } else {
      text = `0.${"0".repeat(-exp - 1)}${digits}`;
    }
    return negative ? `-${text}` : text;
  }

  /** A float whose value is a whole number, as Python gets it from "2.0" (JS numbers cannot tell 2 from 2.0). */
  class PyFloat {
    constructor(value) { this.value = value; }
  }

  /** Python's repr() of a value read from a form field: whole numbers are ints, other numbers floats. */
  function pyRepr(value) {
    if (typeof value === "string") return `'${value}'`;
    if (value instanceof PyFloat) return pyFloatRepr(value.value);
    if (typeof value === "number" && Number.isInteger(value)) return String(value);
    return pyFloatRepr(value);
  }

  function pyTypeName(value) {
    if (typeof value === "string") return "str";
    if (value instanceof PyFloat) return "float";
    if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
    return typeof value;
  }

  /** A PyFloat as a plain number, for the parameters Python accepts as floats. */
  const unbox = (value) => (value instanceof PyFloat ? value.value : value);

  /** course_lib._validate.check_int, message for message. */
  function checkInt(name, value, minimum) {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new Error(`${name} must be an int, got ${pyRepr(value)} of type ${pyTypeName(value)}`);
    }
    if (minimum !== undefined && value < minimum) {
      const rule = minimum === 0 ? "a non-negative int" : minimum === 1 ? "a positive int" : `an int >= ${minimum}`;
      throw new Error(`${name} must be ${rule}, got ${value}`);
    }
    return value;
  }

  /** course_lib._validate.check_number: the value as a plain number if ok(value) holds. */
  function checkNumber(name, value, rule, ok) {
    const number = unbox(value);
    if (typeof number !== "number" || Number.isNaN(number) || !ok(number)) {
      throw new Error(`${name} must be ${rule}, got ${pyRepr(value)}`);
    }
    return number;
  }

  // ------------------------------------------------------------------ compute API

  /** course_lib.conv_output_size: output size of a convolution along one axis. */
  function convOutputSize(n, ks, stride = 1, padding = 0, dilation = 1) {
    checkInt("n", n, 1);
    checkInt("ks", ks, 1);
    checkInt("stride", stride, 1);
    checkInt("padding", padding, 0);
    checkInt("dilation", dilation, 1);
    const span = dilation * (ks - 1) + 1;
    const padded = n + 2 * padding;
    if (span > padded) {
      throw new Error(
        `the kernel is larger than the padded input: ks=${ks} with dilation=${dilation} ` +
        `spans ${span} pixels, but n + 2*padding = ${n} + 2*${padding} = ${padded}`);
    }
    return Math.floor((padded - span) / stride) + 1;
  }

  const LAYER_TYPES = ["Conv2d", "MaxPool2d", "AvgPool2d"];

  /** A layer as receptiveField takes it, with Python's defaults for the missing fields. */
  function normLayer(layer) {
    const type = layer.type || "Conv2d";
    if (!LAYER_TYPES.includes(type)) throw new Error(`layer type must be one of ${LAYER_TYPES.join(", ")}, got ${type}`);
    const kernel = layer.kernel;
    const pool = type !== "Conv2d";
    return {
      type,
      kernel,
      stride: layer.stride === undefined ? (pool ? kernel : 1) : layer.stride,
      padding: layer.padding === undefined ? 0 : layer.padding,
      dilation: type === "AvgPool2d" || layer.dilation === undefined ? 1 : layer.dilation,
      ceilMode: pool && Boolean(layer.ceilMode),
    };
  }

  /** receptive.py's _output_size (Conv2d and the pools; ceil_mode as in MaxPool2d's docs). */
  function layerOutputSize(n, spec) {
    const span = spec.dilation * (spec.kernel - 1) + 1;
    if (spec.ceilMode) {
      let out = -Math.floor(-(n + 2 * spec.padding - span) / spec.stride) + 1;
      if ((out - 1) * spec.stride >= n + spec.padding) out -= 1;
      return out;
    }
    return Math.floor((n + 2 * spec.padding - span) / spec.stride) + 1;
  }

  function walk(layers, inputSize) {
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new Error("model must contain at least one layer, got an empty nn.Sequential");
    }
    let r = 1, jump = 1, pad = 0;
    let hw = inputSize === undefined || inputSize === null ? null : checkInt("input_size", inputSize, 1);
    const steps = [];
    layers.forEach((raw, index) => {
      const spec = normLayer(raw);
      const name = String(index);
      checkInt(`layer ${index}'s kernel_size`, spec.kernel, 1);
      checkInt(`layer ${index}'s stride`, spec.stride, 1);
      checkInt(`layer ${index}'s padding`, spec.padding, 0);
      checkInt(`layer ${index}'s dilation`, spec.dilation, 1);
      const span = spec.dilation * (spec.kernel - 1) + 1;
      r += (span - 1) * jump;
      pad += spec.padding * jump;
      jump *= spec.stride;
      const sizeIn = hw;
      if (hw !== null) {
        const out = layerOutputSize(hw, spec);
        if (out < 1) {
          throw new Error(
            `input_size (1, ${inputSize}, ${inputSize}) is too small: layer '${name}' (${spec.type}) gets a ` +
            `${hw}×${hw} input, but its kernel spans ${span}×${span} pixels with padding ` +
            `(${spec.padding}, ${spec.padding})`);
        }
        hw = out;
      }
      steps.push({name, spec, r, jump, pad, sizeIn, sizeOut: hw});
    });
    return steps;
  }

  /** course_lib.receptive_field for a plain stack of square Conv2d / MaxPool2d / AvgPool2d layers.
   * layers: [{type, kernel, stride, padding, dilation, ceilMode}], inputSize: the input's height
   * (= width) or null. Returns one row per layer: {name, layer, size, stride, padding, outputSize},
   * size r, effective stride (jump) S and effective padding P as in Araujo et al. (2019). */
  function receptiveField(layers, inputSize = null) {
    return walk(layers, inputSize).map((s) => ({
      name: s.name, layer: s.spec.type, size: s.r, stride: s.jump, padding: s.pad, outputSize: s.sizeOut,
    }));
  }

  /** course_lib.receptive_region: [rowStart, rowStop, colStart, colStop] (half-open, like slices) of
   * the input pixels unit [row, col] of layer `layer` is connected to, clipped at every border. */
  function receptiveRegion(layers, inputSize, layer = -1, unit = null) {
    const steps = walk(layers, inputSize);
    checkInt("layer", layer);
    if (!(-steps.length <= layer && layer < steps.length)) {
      throw new Error(`layer must index one of the model's ${steps.length} layers ` +
                      `(-${steps.length} to ${steps.length - 1}), got ${layer}`);
    }
    const index = ((layer % steps.length) + steps.length) % steps.length;
    const out = steps[index].sizeOut;
    if (unit === null) unit = [Math.floor((out - 1) / 2), Math.floor((out - 1) / 2)];
    if (unit[0] >= out || unit[1] >= out || unit[0] < 0 || unit[1] < 0) {
      throw new Error(`unit must lie inside layer ${index}'s ${out}×${out} output, got (${unit[0]}, ${unit[1]})`);
    }
    const result = [];
    for (let a = 0; a < 2; a += 1) {
      let reached = new Set([unit[a]]);
      for (let i = index; i >= 0; i -= 1) {
        const {spec, sizeIn} = steps[i];
        const next = new Set();
        for (const v of reached) {
          for (let t = 0; t < spec.kernel; t += 1) {
            const w = v * spec.stride - spec.padding + t * spec.dilation;
            if (w >= 0 && w < sizeIn) next.add(w);
          }
        }
        reached = next;
      }
      if (reached.size === 0) result.push([0, 0]);
      else result.push([Math.min(...reached), Math.max(...reached) + 1]);
    }
    if (result[0][1] === 0 || result[1][1] === 0) return [0, 0, 0, 0];
    return [result[0][0], result[0][1], result[1][0], result[1][1]];
  }

  /** course_lib.cosine_anneal. */
  function cosineAnneal(start, end, pct) {
    return end + (start - end) * (1.0 + Math.cos(Math.PI * pct)) / 2.0;
  }

  /** course_lib.one_cycle_schedule: {lr: [...], mom: [...]} for every step, style "fastai" or "torch". */
  function oneCycleSchedule(nSteps, lrMaxIn, options = {}) {
    const {pctStart: pctIn = 0.25, div: divIn = 25.0, divFinal: divFinalIn = 1e5, moms: momsIn = [0.95, 0.85, 0.95],
           style = "fastai"} = options;
    checkInt("n_steps", nSteps, 2);
    const positive = (v) => Number.isFinite(v) && v > 0;
    const lrMax = checkNumber("lr_max", lrMaxIn, "a positive finite number", positive);
    const div = checkNumber("div", divIn, "a positive finite number", positive);
    const divFinal = checkNumber("div_final", divFinalIn, "a positive finite number", positive);
    const pctStart = checkNumber("pct_start", pctIn, "a number in [0, 1)", (v) => v >= 0 && v < 1);
    const moms = momsIn.map((m, i) => checkNumber(`moms[${i}]`, m, "a number in [0, 1)", (v) => v >= 0 && v < 1));
    if (style !== "fastai" && style !== "torch") throw new Error(`style must be one of ('fastai', 'torch'), got '${style}'`);
    const [momStart, momMid, momEnd] = moms;
    const lrStart = lrMax / div, lrEnd = lrMax / divFinal;
    const lr = [], mom = [];
    if (style === "fastai") {
      for (let t = 0; t < nSteps; t += 1) {
        const pos = t / nSteps;
        if (pos < pctStart) {
          const pct = pos / pctStart;
          lr.push(cosineAnneal(lrStart, lrMax, pct));
          mom.push(cosineAnneal(momStart, momMid, pct));
        } else {
          const pct = (pos - pctStart) / (1 - pctStart);
          lr.push(cosineAnneal(lrMax, lrEnd, pct));
          mom.push(cosineAnneal(momMid, momEnd, pct));
        }
      }
    } else {
      const peak = pctStart * nSteps - 1;
      if (peak === 0) {
        throw new Error(`pct_start*n_steps must not be 1 for style 'torch' (the warm-up would last ` +
                        `zero steps and OneCycleLR divides by zero), got ${pyFloatRepr(pctStart)}*${nSteps}`);
      }
      for (let t = 0; t < nSteps; t += 1) {
        if (t <= peak) {
          const pct = t / peak;
          lr.push(cosineAnneal(lrStart, lrMax, pct));
          mom.push(cosineAnneal(momStart, momMid, pct));
        } else {
          const pct = (t - peak) / (nSteps - 1 - peak);
          lr.push(cosineAnneal(lrMax, lrEnd, pct));
          mom.push(cosineAnneal(momMid, momEnd, pct));
        }
      }
    }
    return {lr, mom};
  }

  // ------------------------------------------------------------------ DOM helpers

  const SVG_NS = "http://www.w3.org/2000/svg";
  let uid = 0;

  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) el.append(c);
    return el;
  }

  function s(tag, attrs = {}) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, v);
    return el;
  }

  /** A labelled number field; returns {wrap, input}. */
  function numberField(label, value, {min, max, step = 1, name, hint} = {}) {
    const id = `ce-${++uid}`;
    const input = h("input", {id, type: "number", value, min, max, step, name, inputmode: step === 1 ? "numeric" : "decimal",
                              "data-name": name});
    const wrap = h("div", {class: "ce-field"}, h("label", {for: id, text: label}), input);
    if (hint) {
      const hintId = `${id}-hint`;
      wrap.append(h("span", {class: "ce-hint", id: hintId, text: hint}));
      input.setAttribute("aria-describedby", hintId);
    }
    return {wrap, input};
  }

  /** The value a number field holds, as Python would parse what the reader typed: "3" is an int,
   * "2.5" a float, "2.0" or "1e5" a PyFloat (check_int rejects it), an empty field the string "". */
  function readNumber(input) {
    const text = input.value.trim();
    if (text === "") return "";
    const v = Number(text);
    if (Number.isNaN(v)) return text;
    return /[.eE]/.test(text) && Number.isInteger(v) ? new PyFloat(v) : v;
  }

  function fmtNumber(x, digits = 6) {
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1e-3 && a < 1e4) return String(Number(x.toPrecision(digits)));
    return x.toExponential(digits - 1).replace(/\.?0+e/, "e");
  }

  /** fn, run once at the end of the current task however often it is asked for: a reader's edit
   * recomputes the numbers at once, and the SVG is redrawn once per batch of edits. */
  function coalesce(fn) {
    let queued = false;
    return () => {
      if (queued) return;
      queued = true;
      queueMicrotask(() => { queued = false; fn(); });
    };
  }

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // ------------------------------------------------------------------ 1. convolution arithmetic

  function convExplorer(root) {
    root.innerHTML = "";
    root.classList.add("ce-ready");
    const d = root.dataset;
    const fields = {
      n: numberField("input size n", d.n || 7, {min: 1, max: 32, name: "n"}),
      ks: numberField("kernel size k", d.ks || 3, {min: 1, max: 11, name: "ks"}),
      stride: numberField("stride s", d.stride || 2, {min: 1, max: 6, name: "stride"}),
      padding: numberField("padding p", d.padding || 1, {min: 0, max: 6, name: "padding"}),
      dilation: numberField("dilation d", d.dilation || 1, {min: 1, max: 5, name: "dilation"}),
      cin: numberField("in channels", d.cin || 1, {min: 1, max: 512, name: "in_channels"}),
      cout: numberField("out channels", d.cout || 8, {min: 1, max: 512, name: "out_channels"}),
    };
    const controls = h("fieldset", {class: "ce-controls"}, h("legend", {text: "Convolution settings"}),
      ...Object.values(fields).map((f) => f.wrap));
    const formula = h("p", {class: "ce-formula", "aria-live": "polite", "data-role": "formula"});
    const shapes = h("p", {class: "ce-shapes", "data-role": "shapes"});
    const error = h("p", {class: "ce-error", role: "alert", "data-role": "error", hidden: true});
    const prev = h("button", {type: "button", class: "ce-button", "data-role": "prev", text: "◀ previous"});
    const next = h("button", {type: "button", class: "ce-button", "data-role": "next", text: "next ▶"});
    const stepId = `ce-${++uid}`;
    const stepRange = h("input", {type: "range", id: stepId, min: 0, max: 0, value: 0, "data-role": "step"});
    const stepText = h("span", {class: "ce-step-text", "aria-live": "polite", "data-role": "step-text"});
    const stepper = h("div", {class: "ce-stepper"}, prev,
      h("label", {for: stepId, class: "ce-step-label", text: "kernel position"}), stepRange, next, stepText);
    const figure = h("div", {class: "ce-figure", tabindex: 0, role: "group", "data-role": "figure",
      "aria-label": "Padded input, kernel position and output. Left and right arrow keys move the kernel one position."});
    const legend = h("p", {class: "ce-legend"},
      h("span", {class: "ce-swatch ce-sw-input"}), " input ", h("span", {class: "ce-swatch ce-sw-pad"}), " padding ",
      h("span", {class: "ce-swatch ce-sw-kernel"}), " kernel taps ", h("span", {class: "ce-swatch ce-sw-unread"}),
      " never read ", h("span", {class: "ce-swatch ce-sw-current"}), " output being computed ",
      h("span", {class: "ce-swatch ce-sw-done"}), " already computed");
    root.append(h("p", {class: "ce-title", text: "Explorer: convolution arithmetic"}), controls, formula, shapes, error,
      stepper, figure, legend);

    let state = null;
    let step = 0;

    function read() {
      const v = {};
      for (const [k, f] of Object.entries(fields)) v[k] = readNumber(f.input);
      return v;
    }

    function compute() {
      const v = read();
      try {
        const o = convOutputSize(v.n, v.ks, v.stride, v.padding, v.dilation);
        checkInt("in_channels", v.cin, 1);
        checkInt("out_channels", v.cout, 1);
        return {...v, o};
      } catch (e) {
        return {error: e.message};
      }
    }

    // Numbers and drawing are recomputed once per batch of edits (a microtask: before the next paint).
    const update = coalesce(() => {
      state = compute();
      root.dataset.error = state.error ? "true" : "false";
      if (state.error) {
        error.hidden = false;
        error.textContent = `ValueError: ${state.error}`;
        formula.textContent = "";
        shapes.textContent = "";
        root.dataset.output = "";
        stepper.hidden = true;
        figure.replaceChildren();
        return;
      }
      error.hidden = true;
      error.textContent = "";
      stepper.hidden = false;
      const {n, ks, stride, padding, dilation, cin, cout, o} = state;
      const inner = n + 2 * padding - dilation * (ks - 1) - 1;
      formula.replaceChildren(
        h("span", {class: "ce-f-general", text: "o = ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1"}), " = ",
        `⌊(${n} + 2·${padding} − ${dilation}·(${ks} − 1) − 1) / ${stride}⌋ + 1 = ⌊${inner} / ${stride}⌋ + 1 = `,
        h("strong", {"data-role": "output", text: String(o)}));
      root.dataset.output = String(o);
      const params = cout * cin * ks * ks + cout;
      shapes.textContent = `input (N, ${cin}, ${n}, ${n}) → weight (${cout}, ${cin}, ${ks}, ${ks}) → output ` +
        `(N, ${cout}, ${o}, ${o}); ${params.toLocaleString("en")} parameters with bias (${cout}·${cin}·${ks}·${ks} + ${cout})`;
      stepRange.max = String(o * o - 1);
      step = Math.min(step, o * o - 1);
      draw();
    });

    function draw() {
      const {n, ks, stride, padding, dilation, o} = state;
      const P = n + 2 * padding;
      stepRange.value = String(step);
      const row = Math.floor(step / o), col = step % o;
      stepText.textContent = `step ${step + 1} of ${o * o}: output (${row}, ${col}) reads padded rows ` +
        `${row * stride}–${row * stride + dilation * (ks - 1)}, columns ${col * stride}–${col * stride + dilation * (ks - 1)}`;
      root.dataset.step = String(step);
      const read = new Set();
      for (let i = 0; i < o; i += 1) for (let a = 0; a < ks; a += 1) read.add(i * stride + a * dilation);
      const taps = new Set();
      for (let a = 0; a < ks; a += 1) for (let b = 0; b < ks; b += 1) taps.add(`${row * stride + a * dilation},${col * stride + b * dilation}`);
      const cell = 10;
      const gap = 3 * cell;
      const width = Math.max((P + o) * cell + gap, P * cell + gap + 62) + 2, height = Math.max(P, o) * cell + 16;
      const svg = s("svg", {viewBox: `-1 -15 ${width} ${height}`, class: "ce-grid", role: "img",
        style: `max-width: ${Math.round(width * 2.2)}px`,
        "aria-label": `padded input ${P}×${P} with the kernel at output (${row}, ${col}); output ${o}×${o}`});
      const label = (x, text) => { const t = s("text", {x, y: -4, class: "ce-svg-label"}); t.textContent = text; return t; };
      svg.append(label(0, `padded input ${P}×${P}`), label(P * cell + gap, `output ${o}×${o}`));
      const cells = []; // one string of markup: much faster than an element at a time for 40×40 grids
      for (let i = 0; i < P; i += 1) {
        for (let j = 0; j < P; j += 1) {
          const isPad = i < padding || j < padding || i >= n + padding || j >= n + padding;
          let cls = isPad ? "ce-pad" : "ce-input";
          if (!isPad && (!read.has(i) || !read.has(j))) cls += " ce-unread";
          if (taps.has(`${i},${j}`)) cls += " ce-kernel";
          cells.push(`<rect x="${j * cell}" y="${i * cell}" width="${cell}" height="${cell}" class="ce-cell ${cls}"/>`);
        }
      }
      const span = dilation * (ks - 1) + 1;
      svg.append(s("rect", {x: col * stride * cell, y: row * stride * cell, width: span * cell, height: span * cell,
        class: "ce-window"}));
      const ox = P * cell + gap;
      for (let i = 0; i < o; i += 1) {
        for (let j = 0; j < o; j += 1) {
          const k = i * o + j;
          const cls = k === step ? "ce-current" : k < step ? "ce-done" : "ce-todo";
          cells.push(`<rect x="${ox + j * cell}" y="${i * cell}" width="${cell}" height="${cell}" class="ce-cell ce-out ${cls}" data-step="${k}"/>`);
        }
      }
      svg.insertAdjacentHTML("afterbegin", cells.join(""));
      figure.replaceChildren(svg);
    }

    function go(delta) {
      if (!state || state.error) return;
      const total = state.o * state.o;
      step = ((step + delta) % total + total) % total;
      draw();
    }

    for (const f of Object.values(fields)) f.input.addEventListener("input", update);
    prev.addEventListener("click", () => go(-1));
    next.addEventListener("click", () => go(1));
    stepRange.addEventListener("input", () => { step = Number(stepRange.value); draw(); });
    figure.addEventListener("keydown", (event) => {
      if (!state || state.error) return;
      const moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, " ": 1};
      if (event.key in moves) go(moves[event.key]);
      else if (event.key === "Home") { step = 0; draw(); }
      else if (event.key === "End") { step = state.o * state.o - 1; draw(); }
      else return;
      event.preventDefault();
    });
    figure.addEventListener("click", (event) => {
      const target = event.target instanceof Element && event.target.closest("[data-step]");
      if (target) { step = Number(target.dataset.step); draw(); } else go(1);
    });
    update();
  }

  // ------------------------------------------------------------------ 2. receptive fields

  /** simple_cnn()'s convolutions: 1→8 (5×5) then four 3×3, all stride 2 with padding ks//2. */
  const SIMPLE_CNN = [
    {type: "Conv2d", kernel: 5, stride: 2, padding: 2, dilation: 1},
    {type: "Conv2d", kernel: 3, stride: 2, padding: 1, dilation: 1},
    {type: "Conv2d", kernel: 3, stride: 2, padding: 1, dilation: 1},
    {type: "Conv2d", kernel: 3, stride: 2, padding: 1, dilation: 1},
    {type: "Conv2d", kernel: 3, stride: 2, padding: 1, dilation: 1},
  ];

  function receptiveExplorer(root) {
    root.innerHTML = "";
    root.classList.add("ce-ready");
    let layers = SIMPLE_CNN.map((l) => ({...l}));
    let chosen = 1; // simple_cnn's second convolution: a 9×9 field on a 7×7 grid of units
    let unit = null;
    let outSize = 0; // the chosen layer's output size, 0 while the stack is invalid
    const inputField = numberField("input size", root.dataset.n || 28, {min: 1, max: 64, name: "input_size"});
    const stackBody = h("tbody");
    const stack = h("table", {class: "ce-stack"},
      h("caption", {text: "Layers (ReLU, BatchNorm and Flatten keep the receptive field, so only convolutions and pools are listed)"}),
      h("thead", {}, h("tr", {}, ...["#", "layer", "kernel", "stride", "padding", "dilation", "ceil", ""].map((t) => h("th", {scope: "col", text: t})))),
      stackBody);
    const addConv = h("button", {type: "button", class: "ce-button", "data-role": "add-conv", text: "+ convolution"});
    const addPool = h("button", {type: "button", class: "ce-button", "data-role": "add-pool", text: "+ max pool"});
    const reset = h("button", {type: "button", class: "ce-button", "data-role": "reset", text: "reset to simple_cnn()"});
    const layerId = `ce-${++uid}`;
    const layerSelect = h("select", {id: layerId, "data-role": "layer"});
    const unitRow = numberField("unit row", 0, {min: 0, name: "unit_row"});
    const unitCol = numberField("unit column", 0, {min: 0, name: "unit_col"});
    const pick = h("fieldset", {class: "ce-controls"}, h("legend", {text: "Which unit"}), inputField.wrap,
      h("div", {class: "ce-field"}, h("label", {for: layerId, text: "after layer"}), layerSelect), unitRow.wrap, unitCol.wrap);
    const error = h("p", {class: "ce-error", role: "alert", "data-role": "error", hidden: true});
    const summary = h("p", {class: "ce-formula", "aria-live": "polite", "data-role": "summary"});
    const figure = h("div", {class: "ce-figure", tabindex: 0, role: "group", "data-role": "figure",
      "aria-label": "The input, with the pixels the chosen unit sees highlighted. Arrow keys move the unit."});
    const tableBody = h("tbody");
    const table = h("table", {class: "ce-table", "data-role": "rf-table"},
      h("caption", {text: "Receptive field per layer: size r, jump (effective stride) S, effective padding P; unit u starts at input pixel u·S − P"}),
      h("thead", {}, h("tr", {}, ...["#", "layer", "output", "size r", "jump S", "padding P", "start of unit 0"].map((t) => h("th", {scope: "col", text: t})))),
      tableBody);
    const legend = h("p", {class: "ce-legend"}, h("span", {class: "ce-swatch ce-sw-seen"}), " pixels the unit sees ",
      h("span", {class: "ce-swatch ce-sw-distill"}), " r × r region u·S − P … u·S − P + r − 1 (beyond the image: padding)");
    root.append(h("p", {class: "ce-title", text: "Explorer: receptive fields"}),
      h("div", {class: "ce-scroll"}, stack), h("div", {class: "ce-buttons"}, addConv, addPool, reset), pick, error, summary, figure, legend,
      h("div", {class: "ce-scroll"}, table));

    function cellInput(i, key, label, value, min, disabled) {
      const input = h("input", {type: "number", value, min, max: 15, step: 1, "aria-label": `layer ${i} ${label}`,
        "data-layer": i, "data-key": key, disabled});
      input.addEventListener("input", () => {
        const v = readNumber(input);
        layers[i][key] = v;
        update();
      });
      return input;
    }

    function renderStack() {
      stackBody.replaceChildren();
      layers.forEach((layer, i) => {
        const typeSel = h("select", {"aria-label": `layer ${i} type`, "data-layer": i, "data-key": "type"},
          ...LAYER_TYPES.map((t) => h("option", {value: t, text: t, selected: t === layer.type})));
        typeSel.addEventListener("change", () => {
          layer.type = typeSel.value;
          const row = typeSel.closest("tr");
          const dilation = row.querySelector('[data-key="dilation"]');
          if (layer.type === "AvgPool2d") { layer.dilation = 1; dilation.value = "1"; }
          dilation.disabled = layer.type === "AvgPool2d";
          const ceilBox = row.querySelector('[data-key="ceilMode"]');
          if (layer.type === "Conv2d") { layer.ceilMode = false; ceilBox.checked = false; }
          ceilBox.disabled = layer.type === "Conv2d";
          layerSelect.options[i].textContent = `${i}: ${layer.type}`;
          update();
        });
        const ceil = h("input", {type: "checkbox", "aria-label": `layer ${i} ceil_mode`, checked: Boolean(layer.ceilMode),
          disabled: layer.type === "Conv2d", "data-layer": i, "data-key": "ceilMode"});
        ceil.addEventListener("change", () => { layer.ceilMode = ceil.checked; update(); });
        const remove = h("button", {type: "button", class: "ce-button ce-small", "aria-label": `remove layer ${i}`, text: "✕",
          disabled: layers.length === 1});
        remove.addEventListener("click", () => {
          layers.splice(i, 1);
          chosen = Math.min(chosen, layers.length - 1);
          renderStack();
          update();
        });
        stackBody.append(h("tr", {},
          h("td", {text: String(i)}), h("td", {}, typeSel),
          h("td", {}, cellInput(i, "kernel", "kernel size", layer.kernel, 1)),
          h("td", {}, cellInput(i, "stride", "stride", layer.stride, 1)),
          h("td", {}, cellInput(i, "padding", "padding", layer.padding, 0)),
          h("td", {}, cellInput(i, "dilation", "dilation", layer.dilation, 1, layer.type === "AvgPool2d")),
          h("td", {}, ceil), h("td", {}, remove)));
      });
      layerSelect.replaceChildren(...layers.map((l, i) => h("option", {value: i, text: `${i}: ${l.type}`, selected: i === chosen})));
    }

    addConv.addEventListener("click", () => {
      layers.push({type: "Conv2d", kernel: 3, stride: 1, padding: 1, dilation: 1});
      chosen = layers.length - 1; unit = null; renderStack(); update();
    });
    addPool.addEventListener("click", () => {
      layers.push({type: "MaxPool2d", kernel: 2, stride: 2, padding: 0, dilation: 1, ceilMode: false});
      chosen = layers.length - 1; unit = null; renderStack(); update();
    });
    reset.addEventListener("click", () => {
      layers = SIMPLE_CNN.map((l) => ({...l})); chosen = 1; unit = null; renderStack(); update();
    });
    layerSelect.addEventListener("change", () => { chosen = Number(layerSelect.value); unit = null; update(); });
    inputField.input.addEventListener("input", () => { unit = null; update(); });
    for (const f of [unitRow, unitCol]) {
      f.input.addEventListener("input", () => {
        const r = readNumber(unitRow.input), c = readNumber(unitCol.input);
        if (typeof r === "number" && typeof c === "number") { unit = [r, c]; update(); }
      });
    }
    figure.addEventListener("keydown", (event) => {
      const moves = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1]};
      if (!(event.key in moves) || !outSize) return;
      event.preventDefault();
      const [dr, dc] = moves[event.key];
      const base = unit || [0, 0];
      unit = [Math.max(0, Math.min(outSize - 1, base[0] + dr)), Math.max(0, Math.min(outSize - 1, base[1] + dc))];
      update();
    });

    function fail(message) {
      error.hidden = false;
      error.textContent = `ValueError: ${message}`;
      root.dataset.error = "true";
      summary.textContent = "";
      figure.replaceChildren();
      tableBody.replaceChildren();
      outSize = 0;
    }

    const update = coalesce(() => {
      const n = readNumber(inputField.input);
      let rows;
      try {
        rows = receptiveField(layers, n);
      } catch (e) {
        fail(e.message);
        return;
      }
      error.hidden = true;
      root.dataset.error = "false";
      tableBody.replaceChildren(...rows.map((row, i) => h("tr", {class: i === chosen ? "ce-chosen" : null, "data-row": i},
        h("td", {text: row.name}), h("td", {text: row.layer}), h("td", {text: `${row.outputSize}×${row.outputSize}`, "data-col": "output"}),
        h("td", {text: String(row.size), "data-col": "size"}), h("td", {text: String(row.stride), "data-col": "jump"}),
        h("td", {text: String(row.padding), "data-col": "padding"}), h("td", {text: String(-row.padding), "data-col": "start"}))));
      const row = rows[chosen];
      const out = row.outputSize;
      outSize = out;
      if (unit === null) unit = [Math.floor((out - 1) / 2), Math.floor((out - 1) / 2)];
      unit = [Math.max(0, Math.min(out - 1, unit[0])), Math.max(0, Math.min(out - 1, unit[1]))];
      unitRow.input.max = unitCol.input.max = String(out - 1);
      if (document.activeElement !== unitRow.input) unitRow.input.value = String(unit[0]);
      if (document.activeElement !== unitCol.input) unitCol.input.value = String(unit[1]);
      layerSelect.value = String(chosen);
      const region = receptiveRegion(layers, n, chosen, unit);
      const top = unit[0] * row.stride - row.padding, left = unit[1] * row.stride - row.padding;
      const seen = region[1] > region[0]
        ? `rows ${region[0]}–${region[1] - 1}, columns ${region[2]}–${region[3] - 1} of the ${n}×${n} input`
        : "no input pixel: it reads padding only";
      summary.replaceChildren(`Unit (${unit[0]}, ${unit[1]}) of layer ${chosen} (${row.layer}, output ${out}×${out}): receptive field `,
        h("strong", {"data-role": "size", text: `${row.size}×${row.size}`}),
        `, jump ${row.stride}, padding ${row.padding}; it sees ${seen} (unclipped: ${top}…${top + row.size - 1}, ${left}…${left + row.size - 1}).`);
      root.dataset.region = region.join(",");
      drawInput(n, region, top, left, row.size);
    });

    function drawInput(n, region, top, left, size) {
      const lo = Math.min(0, top, left), hi = Math.max(n, top + size, left + size);
      const span = hi - lo;
      const cell = 10;
      const svg = s("svg", {viewBox: `${lo * cell - 2} ${lo * cell - 2} ${span * cell + 4} ${span * cell + 4}`, class: "ce-grid ce-rf-grid",
        style: `max-width: ${Math.round((span * cell + 4) * 1.6)}px`,
        role: "img", "aria-label": `the ${n}×${n} input; highlighted: ${region[1] - region[0]}×${region[3] - region[2]} pixels the unit sees`});
      const cells = [];
      for (let i = 0; i < n; i += 1) {
        for (let j = 0; j < n; j += 1) {
          const inside = i >= region[0] && i < region[1] && j >= region[2] && j < region[3];
          cells.push(`<rect x="${j * cell}" y="${i * cell}" width="${cell}" height="${cell}" class="ce-cell ${inside ? "ce-seen" : "ce-input"}"/>`);
        }
      }
      svg.insertAdjacentHTML("beforeend", cells.join(""));
      svg.append(s("rect", {x: 0, y: 0, width: n * cell, height: n * cell, class: "ce-image"}));
      svg.append(s("rect", {x: left * cell, y: top * cell, width: size * cell, height: size * cell, class: "ce-distill"}));
      figure.replaceChildren(svg);
    }

    renderStack();
    update();
  }

  // ------------------------------------------------------------------ 3. the 1cycle schedule

  function oneCycleExplorer(root) {
    root.innerHTML = "";
    root.classList.add("ce-ready");
    const f = {
      lrMax: numberField("maximum rate lr_max", 0.06, {min: 0, step: "any", name: "lr_max"}),
      pctStart: numberField("pct_start", 0.25, {min: 0, max: 0.99, step: 0.01, name: "pct_start"}),
      div: numberField("div", 25, {min: 1, step: "any", name: "div"}),
      divFinal: numberField("div_final", 100000, {min: 1, step: "any", name: "div_final"}),
      nSteps: numberField("training steps", 117, {min: 2, max: 5000, name: "n_steps"}),
      mom0: numberField("moms[0]", 0.95, {min: 0, max: 0.99, step: 0.01, name: "moms0"}),
      mom1: numberField("moms[1]", 0.85, {min: 0, max: 0.99, step: 0.01, name: "moms1"}),
      mom2: numberField("moms[2]", 0.95, {min: 0, max: 0.99, step: 0.01, name: "moms2"}),
    };
    const logId = `ce-${++uid}`;
    const logBox = h("input", {type: "checkbox", id: logId, "data-role": "log"});
    const controls = h("fieldset", {class: "ce-controls"}, h("legend", {text: "one_cycle_schedule(n_steps, lr_max, …)"}),
      ...Object.values(f).map((x) => x.wrap),
      h("div", {class: "ce-field ce-check"}, logBox, h("label", {for: logId, text: "log-scale rate"})));
    const mapping = h("p", {class: "ce-hint", "data-role": "mapping"});
    const error = h("p", {class: "ce-error", role: "alert", "data-role": "error", hidden: true});
    const stepId = `ce-${++uid}`;
    const stepRange = h("input", {type: "range", id: stepId, min: 0, max: 116, value: 0, "data-role": "step"});
    const stepper = h("div", {class: "ce-stepper"}, h("label", {for: stepId, class: "ce-step-label", text: "inspect step"}), stepRange);
    const readout = h("table", {class: "ce-table ce-readout", "aria-live": "polite", "data-role": "readout"});
    const charts = h("div", {class: "ce-charts", "data-role": "charts"});
    const legend = h("p", {class: "ce-legend"}, h("span", {class: "ce-swatch ce-sw-fastai"}), " fastai fit_one_cycle (style=\"fastai\") ",
      h("span", {class: "ce-swatch ce-sw-torch"}), " PyTorch OneCycleLR (style=\"torch\")");
    root.append(h("p", {class: "ce-title", text: "Explorer: the 1cycle schedule"}), controls, mapping, error, charts, legend, stepper,
      h("div", {class: "ce-scroll"}, readout));
    let current = null;

    function read() {
      const v = {};
      for (const [k, x] of Object.entries(f)) {
        const raw = readNumber(x.input);
        v[k] = raw;
      }
      return v;
    }

    function update() {
      let v = read();
      const out = {};
      try {
        const options = {pctStart: v.pctStart, div: v.div, divFinal: v.divFinal, moms: [v.mom0, v.mom1, v.mom2]};
        out.fastai = oneCycleSchedule(v.nSteps, v.lrMax, {...options, style: "fastai"});
        out.torch = oneCycleSchedule(v.nSteps, v.lrMax, {...options, style: "torch"});
      } catch (e) {
        error.hidden = false;
        error.textContent = `ValueError: ${e.message}`;
        root.dataset.error = "true";
        charts.replaceChildren();
        cursors.length = 0;
        readout.replaceChildren();
        current = null;
        return;
      }
      error.hidden = true;
      root.dataset.error = "false";
      v = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unbox(x)]));
      current = {v, ...out};
      mapping.textContent = `OneCycleLR(max_lr=${fmtNumber(v.lrMax)}, total_steps=${v.nSteps}, pct_start=${fmtNumber(v.pctStart)}, ` +
        `div_factor=${fmtNumber(v.div)}, final_div_factor=${fmtNumber(v.divFinal / v.div)}) gives the "torch" curves: its final_div_factor divides ` +
        `the starting rate, so div_final = div_factor × final_div_factor.`;
      stepRange.max = String(v.nSteps - 1);
      if (Number(stepRange.value) > v.nSteps - 1) stepRange.value = String(v.nSteps - 1);
      chartsSoon();
      draw();
    }

    function chart(title, key, log, t) {
      const W = 320, H = 190, L = 52, R = 8, T = 22, B = 30;
      const all = current.fastai[key].concat(current.torch[key]);
      let lo = Math.min(...all), hi = Math.max(...all);
      const tf = log ? (y) => Math.log10(y) : (y) => y;
      lo = tf(lo); hi = tf(hi);
      if (hi - lo < 1e-12) { hi += 0.5; lo -= 0.5; }
      const n = current.v.nSteps;
      const x = (i) => L + (W - L - R) * i / (n - 1);
      const y = (val) => T + (H - T - B) * (1 - (tf(val) - lo) / (hi - lo));
      const svg = s("svg", {viewBox: `0 0 ${W} ${H}`, class: "ce-chart", role: "img",
        "aria-label": `${title} against the training step, fastai solid, torch dashed`});
      const text = (x0, y0, str, cls, anchor) => { const e = s("text", {x: x0, y: y0, class: cls, "text-anchor": anchor}); e.textContent = str; return e; };
      svg.append(text(L, 14, title + (log && key === "lr" ? " (log scale)" : ""), "ce-svg-label"));
      svg.append(s("line", {x1: L, y1: H - B, x2: W - R, y2: H - B, class: "ce-axis"}), s("line", {x1: L, y1: T, x2: L, y2: H - B, class: "ce-axis"}));
      for (const frac of [0, 0.5, 1]) {
        const val = lo + (hi - lo) * frac;
        const yy = T + (H - T - B) * (1 - frac);
        svg.append(s("line", {x1: L - 3, y1: yy, x2: W - R, y2: yy, class: "ce-gridline"}));
        svg.append(text(L - 5, yy + 3, fmtNumber(log ? 10 ** val : val, 3), "ce-tick", "end"));
      }
      svg.append(text(L, H - B + 13, "0", "ce-tick", "middle"), text(W - R, H - B + 13, String(n - 1), "ce-tick", "end"),
        text((L + W - R) / 2, H - 4, "training step", "ce-tick", "middle"));
      for (const style of ["fastai", "torch"]) {
        const pts = current[style][key].map((val, i) => `${x(i).toFixed(2)},${y(val).toFixed(2)}`).join(" ");
        svg.append(s("polyline", {points: pts, class: `ce-curve ce-${style}`}));
      }
      const cursor = s("line", {x1: x(t), y1: T, x2: x(t), y2: H - B, class: "ce-cursor"});
      cursor.moveTo = (step) => { cursor.setAttribute("x1", x(step)); cursor.setAttribute("x2", x(step)); };
      svg.append(cursor);
      cursors.push(cursor);
      return svg;
    }

    const cursors = [];
    const chartsSoon = coalesce(() => { if (current) drawCharts(); });

    function drawCharts() {
      cursors.length = 0;
      const t = Number(stepRange.value);
      charts.replaceChildren(chart("learning rate", "lr", logBox.checked, t), chart("momentum (β1)", "mom", false, t));
    }

    function draw() {
      if (!current) return;
      const t = Number(stepRange.value);
      for (const c of cursors) c.moveTo(t);
      const cell = (style, key) => {
        const val = current[style][key][t];
        return h("td", {text: fmtNumber(val, 6), "data-style": style, "data-key": key, "data-value": String(val)});
      };
      readout.replaceChildren(
        h("caption", {text: `step ${t} of ${current.v.nSteps} (counting from 0)`}),
        h("thead", {}, h("tr", {}, h("th", {scope: "col", text: "style"}), h("th", {scope: "col", text: "learning rate"}), h("th", {scope: "col", text: "momentum"}))),
        h("tbody", {}, h("tr", {}, h("th", {scope: "row", text: "fastai"}), cell("fastai", "lr"), cell("fastai", "mom")),
          h("tr", {}, h("th", {scope: "row", text: "torch"}), cell("torch", "lr"), cell("torch", "mom"))));
      root.dataset.step = String(t);
    }

    for (const x of Object.values(f)) x.input.addEventListener("input", update);
    stepRange.addEventListener("input", draw);
    logBox.addEventListener("change", () => { if (current) drawCharts(); });
    update();
  }

  // ------------------------------------------------------------------ 4. the library reference

  /** On the reference page, "Taught in: chapters/NN_name" at the end of a docstring becomes a link. */
  function linkTaughtIn() {
    const root = document.querySelector("[data-course-reference]");
    if (!root) return;
    const prefix = root.dataset.courseReference || "";
    const scope = root.closest("article, main") || document.body;
    for (const p of scope.querySelectorAll("p")) {
      const m = p.textContent.trim().match(/^Taught in:\s*(chapters\/\d\d_[a-z0-9_]+|instructors)\.?$/);
      if (!m) continue;
      const title = (document.querySelector(`a[href$="${m[1]}.html"]`) || {}).textContent;
      p.replaceChildren("Taught in: ", h("a", {href: `${prefix}${m[1]}.html`, class: "ce-taught", text: (title || m[1]).trim()}));
    }
  }

  // ------------------------------------------------------------------ start

  const EXPLORERS = {conv: convExplorer, receptive: receptiveExplorer, onecycle: oneCycleExplorer};

  function start() {
    for (const root of document.querySelectorAll(".course-explorer[data-explorer]")) {
      const make = EXPLORERS[root.dataset.explorer];
      if (!make || root.classList.contains("ce-ready")) continue;
      try {
        make(root);
      } catch (e) {
        root.textContent = `The explorer could not start: ${e.message}`;
        throw e;
      }
    }
    linkTaughtIn();
  }

  window.courseExplorers = {
    convOutputSize, receptiveField, receptiveRegion, oneCycleSchedule, cosineAnneal, pyFloatRepr, simpleCnn: SIMPLE_CNN,
    start,
  };
  onReady(start);
})();
