"use strict";
// The explorer's shell: models and colour tables from the API, the shared map style (the CLI's
// --colormap/--normalize/--alpha/--upsample), tabs, the status line, keyboard keys and downloads.
// The current state is mirrored read-only on document.body.dataset for scripts and tests.
const App = (() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    models: [],
    colormaps: {},
    style: { colormap: "viridis", norm: { mode: "max" }, alpha: 0.5, upsample: "nearest" },
    listeners: [],
  };

  /** Shows a one-line message in the status line ("error" messages stay until the next one). */
  function status(message, kind) {
    const s = $("status");
    s.textContent = message;
    s.className = kind || "";
    if (kind === "error") console.warn(`ViTLens: ${message}`);
  }

  /** Runs an async action and reports its failure in the status line instead of failing silently. */
  function guard(promise, what) {
    return Promise.resolve(promise).catch((e) => status(`${what}: ${e.message}`, "error"));
  }

  /** Publishes state for scripts/tests on <body data-*>. */
  function publish(values) {
    for (const [k, v] of Object.entries(values)) document.body.dataset[k] = v === undefined || v === null ? "" : String(v);
  }

  /** The colour table (768 bytes) of the current colormap. */
  function table() {
    return state.colormaps[state.style.colormap];
  }

  /** A CSS colour of the current colormap at t in [0, 1]. */
  function cssColor(t) {
    const k = Render.colorIndex(t), tb = table();
    return k < 0 ? "transparent" : `rgb(${tb[3 * k]},${tb[3 * k + 1]},${tb[3 * k + 2]})`;
  }

  function drawColorBar(low, high) {
    const c = $("colorbar"), tb = table();
    if (!tb) return;
    const ctx = c.getContext("2d"), img = ctx.createImageData(256, 1);
    for (let i = 0; i < 256; i++) img.data.set([tb[3 * i], tb[3 * i + 1], tb[3 * i + 2], 255], 4 * i);
    ctx.putImageData(img, 0, 0);
    if (low !== undefined) { $("bar-low").textContent = Render.label(low); $("bar-high").textContent = Render.label(high); }
  }

  function readStyle() {
    const mode = $("normalize").value, param = $("normalize-param");
    param.hidden = mode === "max" || mode === "minmax";
    let text = mode;
    if (mode === "percentile") {
      if (!param.value || !/^\d/.test(param.value)) param.value = "99";
      text = `p${param.value}`;
    } else if (mode === "fixed") {
      if (!param.value || !param.value.includes(",")) param.value = "0,1";
      text = `fixed:${param.value}`;
    }
    let norm;
    try {
      norm = Render.parseNormalization(text);
    } catch (e) {
      status(`normalisation: ${e.message}`, "error");
      return false;
    }
    state.style = { colormap: $("colormap").value, norm, alpha: Number($("alpha").value), upsample: $("upsample").value };
    $("alpha-out").textContent = state.style.alpha.toFixed(2);
    publish({ colormap: state.style.colormap, normalize: text, alpha: state.style.alpha, upsample: state.style.upsample });
    drawColorBar();
    return true;
  }

  function styleChanged() {
    if (readStyle()) state.listeners.forEach((f) => f());
  }

  /** Calls `f` whenever the map style changes. */
  function onStyle(f) { state.listeners.push(f); }

  /** Offers `blob` as a download called `name`. */
  function download(blob, name) {
    const a = $("download"), url = URL.createObjectURL(blob);
    a.href = url; a.download = name; a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status(`Exported ${name}`);
  }

  function selectTab(tab) {
    for (const b of document.querySelectorAll(".tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === tab));
    $("image-tab").hidden = tab !== "image";
    $("text-tab").hidden = tab !== "text";
    publish({ tab });
  }

  function isTyping(target) {
    const tag = target && target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && target.type !== "checkbox" && target.type !== "file");
  }

  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [1, 0], ArrowDown: [-1, 0] };
    const m = moves[event.key];
    if (!m) return;
    event.preventDefault();
    if (document.body.dataset.tab === "text") { if (m[0]) TextTab.stepLayer(m[0]); }
    else ImageTab.step(m[0], m[1]);
  }

  async function start() {
    for (const b of document.querySelectorAll(".tabs button")) b.addEventListener("click", () => selectTab(b.dataset.tab));
    for (const id of ["colormap", "normalize", "upsample"]) $(id).addEventListener("change", styleChanged);
    $("normalize-param").addEventListener("change", styleChanged);
    $("alpha").addEventListener("input", styleChanged);
    document.addEventListener("keydown", onKey);
    publish({ tab: "image", input: "", map: "" });
    try {
      const [models, colormaps] = await Promise.all([Api.models(), Api.colormaps()]);
      state.models = models.models || [];
      for (const [name, bytes] of Object.entries(colormaps.colormaps || {})) state.colormaps[name] = Uint8Array.from(bytes);
      for (const name of Object.keys(state.colormaps)) $("colormap").add(new Option(name, name, name === "viridis", name === "viridis"));
    } catch (e) {
      status(`Could not load models and colormaps: ${e.message}`, "error");
      return;
    }
    readStyle();
    ImageTab.init(state.models.filter((m) => m.kind === "image"));
    TextTab.init(state.models.filter((m) => m.kind === "text"));
    Explain.attach("image", $("image-explain"));
    Explain.attach("text", $("text-explain"));
    const names = state.models.map((m) => `${m.name} (${m.kind})`).join(", ");
    status(state.models.length ? `Models: ${names}. Open an image or switch to the text tab.` : "No model loaded: start vitlens serve with --model.", state.models.length ? "" : "error");
    publish({ ready: "1" });
  }

  return { start, status, guard, publish, table, cssColor, drawColorBar, onStyle, download, style: () => state.style, models: () => state.models, $ };
})();

document.addEventListener("DOMContentLoaded", App.start);
