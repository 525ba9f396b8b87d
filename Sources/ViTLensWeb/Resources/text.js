"use strict";
// The text tab (BERT-family models): bertviz's head view (lines whose opacity is the weight), the
// T x T matrix of a head or fusion, and the layers x heads model view; all three are SVG, exported
// as SVG or PNG.
const TextTab = (() => {
  const $ = App.$;
  const NS = "http://www.w3.org/2000/svg";
  const s = { models: [], input: null, layer: 0, hidden: new Set(), matrixHead: "0", seq: 0 };

  function svg(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.append(e);
    return e;
  }

  /** A distinct colour per head (evenly spaced hues). */
  function headColor(h, heads) { return `hsl(${Math.round(h * 360 / heads)}, 75%, 42%)`; }

  function textWidth(tokens) { return Math.max(40, ...tokens.map((t) => 8 * t.length + 8)); }

  function publish(rendered) {
    App.publish({ textInput: s.input ? s.input.id : "", textLayer: s.layer, textView: $("text-view").value, textRendered: rendered || "" });
  }

  async function analyse() {
    const model = $("text-model").value, text = $("sentence").value;
    if (!model) { App.status("No text model loaded: start vitlens serve with a BERT-family --model.", "error"); return; }
    if (!text.trim()) { App.status("Enter a sentence first.", "error"); return; }
    App.status("Running the text model…", "busy");
    try {
      s.input = await Api.uploadText(model, text);
    } catch (e) {
      App.status(`text: ${e.message}`, "error");
      return;
    }
    s.layer = s.input.layers - 1; s.hidden.clear();
    const layer = $("text-layer");
    layer.textContent = "";
    for (let l = 0; l < s.input.layers; l++) layer.add(new Option(String(l), String(l)));
    layer.value = String(s.layer);
    const mh = $("matrix-head");
    mh.textContent = "";
    for (let h = 0; h < s.input.heads; h++) mh.add(new Option(`head ${h}`, String(h)));
    for (const f of ["mean", "max", "min", "std"]) mh.add(new Option(f, f));
    mh.value = s.matrixHead = "0";
    const toggles = $("head-toggles");
    toggles.textContent = "";
    for (let h = 0; h < s.input.heads; h++) {
      const label = document.createElement("label");
      label.className = "head-toggle";
      label.style.color = headColor(h, s.input.heads);
      const box = document.createElement("input");
      box.type = "checkbox"; box.checked = true; box.dataset.head = h;
      box.addEventListener("change", () => { if (box.checked) s.hidden.delete(h); else s.hidden.add(h); applyVisibility(); });
      label.append(box, ` ${h}`);
      toggles.append(label);
    }
    $("export-svg").disabled = false; $("export-png").disabled = false;
    App.status(`${s.input.tokens.length} tokens, ${s.input.layers} layers × ${s.input.heads} heads.`);
    App.guard(Explain.setInput("text", s.input), "explain");
    await draw();
  }

  async function draw() {
    if (!s.input) return;
    const view = $("text-view").value, seq = ++s.seq;
    $("matrix-head-label").hidden = view !== "matrix";
    $("head-toggles").hidden = view !== "head";
    publish("");
    let root;
    try {
      if (view === "head") root = await headView();
      else if (view === "matrix") root = await matrixView();
      else root = await modelView();
    } catch (e) {
      if (seq === s.seq) App.status(`${view} view: ${e.message}`, "error");
      return;
    }
    if (seq !== s.seq) return;
    const area = $("text-area");
    area.textContent = "";
    area.append(root);
    applyVisibility();
    publish(`${view}:${s.layer}:${view === "matrix" ? s.matrixHead : ""}`);
  }

  // ---- head view ----------------------------------------------------------------------------

  async function headView() {
    const data = await Api.attention(s.input.id, { layer: s.layer, head: "all", query: "all", keys: "all" });
    const [heads, T] = data.shape, tokens = s.input.tokens;
    const tw = Math.max(textWidth(tokens), 110), gap = 220, row = 24, top = 36;
    const W = 2 * tw + gap + 20, H = top + T * row + 10;
    const root = svg("svg", { xmlns: NS, viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "head-view", "font-family": "sans-serif", "font-size": 13 });
    svg("rect", { width: W, height: H, fill: "#ffffff" }, root);
    svg("text", { x: 10, y: 16, fill: "#555" }, root).textContent = `layer ${s.layer}: query`;
    svg("text", { x: 10 + tw + gap, y: 16, fill: "#555" }, root).textContent = "key";
    const x1 = 14 + tw, x2 = 6 + tw + gap;
    for (let h = 0; h < heads; h++) {
      const g = svg("g", { "data-head": h, stroke: headColor(h, heads), "stroke-width": 2 }, root);
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          const w = data.values[(h * T + i) * T + j];
          svg("line", {
            x1, y1: top + i * row, x2, y2: top + j * row,
            "stroke-opacity": Number.isFinite(w) ? w.toFixed(5) : 0, "data-head": h, "data-query": i, "data-key": j,
          }, g);
        }
      }
    }
    for (const [side, x, anchor] of [["query", 10 + tw, "end"], ["key", 10 + tw + gap, "start"]]) {
      tokens.forEach((t, i) => {
        const e = svg("text", { x, y: top + i * row + 4, "text-anchor": anchor, class: "token", "data-side": side, "data-index": i, fill: "#111" }, root);
        e.textContent = t;
        e.addEventListener("mouseenter", () => isolate(side, i));
        e.addEventListener("mouseleave", () => isolate(null));
      });
    }
    return root;
  }

  /** Shows only the lines of query (or key) token i; null shows all. */
  function isolate(side, i) {
    for (const line of document.querySelectorAll("#text-area line[data-query]")) {
      const match = side === null || Number(line.dataset[side]) === i;
      line.style.display = match ? "" : "none";
    }
    for (const t of document.querySelectorAll("#text-area text.token")) {
      t.classList.toggle("focus", side !== null && t.dataset.side === side && Number(t.dataset.index) === i);
    }
  }

  function applyVisibility() {
    for (const g of document.querySelectorAll("#text-area g[data-head]")) g.style.display = s.hidden.has(Number(g.dataset.head)) ? "none" : "";
  }

  // ---- matrix view --------------------------------------------------------------------------

  function matrixParams() {
    return /^\d+$/.test(s.matrixHead) ? { head: s.matrixHead } : { fusion: s.matrixHead };
  }

  async function matrixView() {
    const data = await Api.attention(s.input.id, Object.assign({ layer: s.layer }, matrixParams(), { query: "all", keys: "all" }));
    const [T] = data.shape, tokens = s.input.tokens;
    const n = Render.normalize(data.values, App.style().norm);
    App.drawColorBar(n.low, n.high);
    const tw = textWidth(tokens), cell = 24, left = tw + 14, top = tw * 0.75 + 14;
    const W = left + T * cell + 10, H = top + T * cell + 10;
    const root = svg("svg", { xmlns: NS, viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "matrix-view", "font-family": "sans-serif", "font-size": 12 });
    svg("rect", { width: W, height: H, fill: "#ffffff" }, root);
    for (let i = 0; i < T; i++) {
      svg("text", { x: left - 6, y: top + i * cell + cell / 2 + 4, "text-anchor": "end" }, root).textContent = tokens[i];
      const cx = left + i * cell + cell / 2;
      svg("text", { x: cx, y: top - 6, transform: `rotate(-60 ${cx} ${top - 6})` }, root).textContent = tokens[i];
      for (let j = 0; j < T; j++) {
        const r = svg("rect", { x: left + j * cell, y: top + i * cell, width: cell, height: cell, fill: App.cssColor(n.values[i * T + j]), "data-query": i, "data-key": j }, root);
        svg("title", {}, r).textContent = `${tokens[i]} → ${tokens[j]}: ${Render.label(data.values[i * T + j])}`;
      }
    }
    return root;
  }

  // ---- model view ---------------------------------------------------------------------------

  async function modelView() {
    const data = await Api.attention(s.input.id, { layer: "all", head: "all", query: "all", keys: "all" });
    const [layers, heads, T] = data.shape, area = T * T, st = App.style();
    const size = 64, pad = 8, left = 34, top = 22;
    const W = left + heads * (size + pad), H = top + layers * (size + pad);
    const root = svg("svg", { xmlns: NS, viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "model-view", "font-family": "sans-serif", "font-size": 11 });
    svg("rect", { width: W, height: H, fill: "#ffffff" }, root);
    const c = document.createElement("canvas");
    for (let h = 0; h < heads; h++) svg("text", { x: left + h * (size + pad) + size / 2, y: 14, "text-anchor": "middle" }, root).textContent = `head ${h}`;
    for (let l = 0; l < layers; l++) {
      svg("text", { x: 4, y: top + l * (size + pad) + size / 2 + 4 }, root).textContent = `L${l}`;
      for (let h = 0; h < heads; h++) {
        const n = Render.normalize(data.values.subarray((l * heads + h) * area, (l * heads + h + 1) * area), st.norm);
        Render.drawMap(c, n.values, T, T, App.table(), [size, size], "nearest");
        const img = svg("image", { x: left + h * (size + pad), y: top + l * (size + pad), width: size, height: size, href: c.toDataURL("image/png"), "data-layer": l, "data-head": h, class: "thumb" }, root);
        svg("title", {}, img).textContent = `layer ${l}, head ${h}: click for its matrix`;
        img.addEventListener("click", () => {
          s.layer = l; $("text-layer").value = String(l);
          s.matrixHead = String(h); $("matrix-head").value = s.matrixHead;
          $("text-view").value = "matrix";
          draw();
        });
      }
    }
    return root;
  }

  // ---- export -------------------------------------------------------------------------------

  function currentSVG() {
    const root = $("text-area").querySelector("svg");
    if (!root) return null;
    const copy = root.cloneNode(true);
    for (const e of copy.querySelectorAll("[style]")) if (e.style.display === "none") e.remove();
    return new XMLSerializer().serializeToString(copy);
  }

  function fileBase() { return `text-${$("text-view").value}-layer${s.layer}`; }

  function exportSVG() {
    const text = currentSVG();
    if (text) App.download(new Blob([text], { type: "image/svg+xml" }), `${fileBase()}.svg`);
  }

  function exportPNG() {
    const text = currentSVG(), root = $("text-area").querySelector("svg");
    if (!text) return;
    const img = new Image();
    img.onload = () => {
      const c = document.createElement("canvas"), scale = 2;
      c.width = root.width.baseVal.value * scale; c.height = root.height.baseVal.value * scale;
      const ctx = c.getContext("2d");
      ctx.scale(scale, scale);
      ctx.drawImage(img, 0, 0);
      c.toBlob((blob) => App.download(blob, `${fileBase()}.png`), "image/png");
    };
    img.onerror = () => App.status("PNG export: the SVG could not be rasterised", "error");
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
  }

  /** Moves the layer by `d` (the arrow keys). */
  function stepLayer(d) {
    if (!s.input) return;
    s.layer = Math.min(Math.max(s.layer + d, 0), s.input.layers - 1);
    $("text-layer").value = String(s.layer);
    draw();
  }

  function init(models) {
    s.models = models;
    const sel = $("text-model");
    for (const m of models) sel.add(new Option(`${m.name} (${m.layers}×${m.heads})`, m.id));
    if (!models.length) sel.add(new Option("no text model", ""));
    $("analyze-text").addEventListener("click", analyse);
    $("sentence").addEventListener("keydown", (e) => { if (e.key === "Enter") analyse(); });
    $("text-layer").addEventListener("change", () => { s.layer = Number($("text-layer").value); draw(); });
    $("matrix-head").addEventListener("change", () => { s.matrixHead = $("matrix-head").value; draw(); });
    $("text-view").addEventListener("change", draw);
    $("export-svg").addEventListener("click", exportSVG);
    $("export-png").addEventListener("click", exportPNG);
    App.onStyle(() => { if (s.input && $("text-view").value !== "head") draw(); });
  }

  return { init, stepLayer, state: s };
})();
