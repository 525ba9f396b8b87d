"use strict";
// Map arithmetic of the CLI (Sources/ViTLensRender: MapNormalization, Upsampling, Colormap, Overlay),
// step for step in float32: every operation the Swift code does in Float is rounded with Math.fround,
// so a value lands in the same colormap bin as in the CLI's pictures. The colour tables come from
// GET /api/colormaps (never a copy here).
const Render = (() => {
  const f = Math.fround;

  /** Parses a normalisation as the page names it: "max", "minmax", "pNN" or "fixed:LOW,HIGH". */
  function parseNormalization(text) {
    const t = String(text).trim();
    if (t === "max" || t === "minmax") return { mode: t };
    let m = /^p(\d+(?:\.\d*)?)$/.exec(t);
    if (m) {
      const p = f(Number(m[1]));
      if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${m[1]} must be in [0, 100]`);
      return { mode: "percentile", p };
    }
    m = /^fixed:\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)$/.exec(t);
    if (m) {
      const low = f(Number(m[1])), high = f(Number(m[2]));
      if (!(Number.isFinite(low) && Number.isFinite(high) && low < high)) throw new Error(`fixed range (${m[1]}, ${m[2]}) needs finite low < high`);
      return { mode: "fixed", low, high };
    }
    throw new Error(`unknown normalisation "${t}" (max, minmax, pNN or fixed:LOW,HIGH)`);
  }

  /** NumPy's percentile (method "linear") of sorted finite float32 values, as MapNormalization.percentile. */
  function percentile(sorted, p) {
    const position = (sorted.length - 1) * p / 100;
    const i = Math.floor(position);
    const j = Math.min(i + 1, sorted.length - 1);
    const t = position - i;
    const a = sorted[i], b = sorted[j];
    return f(t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t);
  }

  /** The (low, high) range MapNormalization.range(of:) picks for `values` (a Float32Array). */
  function range(values, norm) {
    if (norm.mode === "fixed") return { low: norm.low, high: norm.high };
    if (norm.mode === "percentile") {
      const finite = Array.from(values).filter(Number.isFinite).sort((x, y) => x - y);
      if (finite.length === 0) return { low: 0, high: 0 };
      return { low: finite[0], high: percentile(finite, norm.p) };
    }
    let lo = Infinity, hi = -Infinity;
    for (const x of values) {
      if (Number.isFinite(x)) { if (x < lo) lo = x; if (x > hi) hi = x; }
    }
    if (!(lo <= hi)) return { low: 0, high: 0 };
    return norm.mode === "max" ? { low: 0, high: hi } : { low: lo, high: hi };
  }

  /** MapNormalization.rescale: clamp((v - low) / (high - low), 0, 1) in float32, NaN kept, degenerate ranges to 0/1. */
  function rescale(values, low, high) {
    const out = new Float32Array(values.length);
    const degenerate = !(high > low);
    const span = f(high - low);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isNaN(v)) out[i] = NaN;
      else if (degenerate) out[i] = v > low ? 1 : 0;
      else out[i] = Math.min(Math.max(f(f(v - low) / span), 0), 1);
    }
    return out;
  }

  /** Normalises a map: {values, low, high}. */
  function normalize(values, norm) {
    const r = range(values, norm);
    return { values: rescale(values, r.low, r.high), low: r.low, high: r.high };
  }

  /** Upsampling.linearTaps: source indices and float32 weights along one axis. */
  function linearTaps(input, output) {
    const scale = f(input / output);
    const taps = [];
    for (let d = 0; d < output; d++) {
      const s = Math.max(f(f(scale * f(d + 0.5)) - 0.5), 0);
      const i0 = Math.min(Math.trunc(s), input - 1);
      const i1 = Math.min(i0 + 1, input - 1);
      const w1 = Math.min(Math.max(f(s - i0), 0), 1);
      taps.push([i0, i1, f(1 - w1), w1]);
    }
    return taps;
  }

  /** Upsampling.apply: a rows x columns map to height x width, "nearest" or "bilinear" (half-pixel centres). */
  function upsample(values, rows, columns, height, width, mode) {
    const out = new Float32Array(height * width);
    if (mode === "nearest") {
      const sx = [];
      for (let x = 0; x < width; x++) sx.push(Math.min(Math.floor((2 * x + 1) * columns / (2 * width)), columns - 1));
      for (let y = 0; y < height; y++) {
        const row = Math.min(Math.floor((2 * y + 1) * rows / (2 * height)), rows - 1) * columns;
        for (let x = 0; x < width; x++) out[y * width + x] = values[row + sx[x]];
      }
      return out;
    }
    const xs = linearTaps(columns, width), ys = linearTaps(rows, height);
    for (let y = 0; y < height; y++) {
      const [a0, a1, v0, v1] = ys[y];
      const r0 = a0 * columns, r1 = a1 * columns;
      for (let x = 0; x < width; x++) {
        const [b0, b1, u0, u1] = xs[x];
        const top = f(f(u0 * values[r0 + b0]) + f(u1 * values[r0 + b1]));
        const bottom = f(f(u0 * values[r1 + b0]) + f(u1 * values[r1 + b1]));
        out[y * width + x] = f(f(v0 * top) + f(v1 * bottom));
      }
    }
    return out;
  }

  /** Colormap.index: the table entry for x, or -1 for NaN (drawn transparent). */
  function colorIndex(x) {
    if (Number.isNaN(x)) return -1;
    if (x >= 1) return 255;
    if (x < 0) return 0;
    return Math.floor(x * 256);
  }

  /** Fills RGBA pixels with the table colours of normalised values (alpha 255, NaN transparent). */
  function colorize(values, table, rgba) {
    const px = rgba || new Uint8ClampedArray(values.length * 4);
    for (let i = 0; i < values.length; i++) {
      const k = colorIndex(values[i]);
      if (k < 0) { px[4 * i] = px[4 * i + 1] = px[4 * i + 2] = px[4 * i + 3] = 0; continue; }
      px[4 * i] = table[3 * k]; px[4 * i + 1] = table[3 * k + 1]; px[4 * i + 2] = table[3 * k + 2]; px[4 * i + 3] = 255;
    }
    return px;
  }

  /**
   * Overlay.apply with a constant weight (the CLI's --alpha): out = round_half_up((1 - w) I + w C) in
   * float32, NaN pixels (alpha 0 in `colour`) leave the photo unchanged. Both arguments are RGBA bytes.
   */
  function blend(photo, colour, alpha) {
    const w = f(alpha), keep = f(1 - w);
    const out = new Uint8ClampedArray(photo.length);
    for (let i = 0; i < photo.length; i += 4) {
      for (let c = 0; c < 3; c++) {
        out[i + c] = colour[i + 3] === 0 ? photo[i + c]
          : Math.min(Math.max(Math.floor(f(f(f(keep * photo[i + c]) + f(w * colour[i + c])) + 0.5)), 0), 255);
      }
      out[i + 3] = 255;
    }
    return out;
  }

  /** Draws a normalised grid onto a canvas, one canvas pixel per value, or upsampled to height x width. */
  function drawMap(canvas, values, rows, columns, table, size, mode) {
    const height = size ? size[0] : rows, width = size ? size[1] : columns;
    const big = size ? upsample(values, rows, columns, height, width, mode) : values;
    canvas.width = width; canvas.height = height;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(width, height);
    colorize(big, table, img.data);
    ctx.putImageData(img, 0, 0);
  }

  /** A short number for labels (4 significant digits). */
  function label(x) {
    if (!Number.isFinite(x)) return String(x);
    if (x === 0) return "0";
    const a = Math.abs(x);
    return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
  }

  return { parseNormalization, range, rescale, normalize, upsample, linearTaps, colorIndex, colorize, blend, drawMap, label, percentile };
})();
