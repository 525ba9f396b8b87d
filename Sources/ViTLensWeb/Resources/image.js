"use strict";
// The image tab: upload, the query map over the model input, heads grid, model view, rollout, DINO
// masks and the mean-attention-distance plot. Every number comes from the API; this file only draws.
const ImageTab = (() => {
  const $ = App.$;
  const s = {
    models: [], input: null, file: null,
    layer: 0, head: 0, fusion: "head", query: "cls", pinned: null,
    photoPixels: null, distance: null, hoverHead: null, seq: 0,
  };
  const cache = new Map(); // url -> Promise of {shape, values}; a small LRU of recent maps

  function cached(kind, params) {
    const key = `${kind}?${Api.query(params)}`;
    if (cache.has(key)) {
      const hit = cache.get(key);
      cache.delete(key); cache.set(key, hit);
      return hit;
    }
    const p = (kind === "attention" ? Api.attention(s.input.id, params) : Api.rollout(s.input.id, params));
    p.catch(() => cache.delete(key));
    cache.set(key, p);
    while (cache.size > 300) cache.delete(cache.keys().next().value);
    return p;
  }

  function model() { return s.models.find((m) => m.id === $("image-model").value); }
  function grid() { return s.input.layout.grid; }
  function headParams() { return s.fusion === "head" ? { head: s.head } : { fusion: s.fusion }; }
  function headLabel() { return s.fusion === "head" ? `head ${s.head}` : s.fusion; }

  function queryLabel(q) {
    const m = /^patch:(\d+),(\d+)$/.exec(q);
    if (m) return `patch (${m[1]}, ${m[2]})`;
    const prefix = s.input ? s.input.layout.prefix : [];
    if (q === "cls") return "CLS";
    return prefix[Number(q)] !== undefined ? prefix[Number(q)] : `token ${q}`;
  }

  function publish() {
    App.publish({
      input: s.input ? s.input.id : "", layer: s.layer, head: s.fusion === "head" ? s.head : "",
      fusion: s.fusion, query: s.query, pinned: s.pinned || "",
    });
    const probe = s.input && s.input.layout.pooling_head_layer === s.layer ? " (pooling head: every row is the probe's)" : "";
    $("layer-out").textContent = s.input ? `${s.layer} / ${s.input.layers - 1}${probe}` : "–";
    $("head-out").textContent = s.input ? (s.fusion === "head" ? `${s.head} / ${s.input.heads - 1}` : `(${s.fusion})`) : "–";
    $("query-label").textContent = s.input ? `${queryLabel(s.query)}${s.pinned ? " (pinned)" : ""}` : "–";
    for (const b of document.querySelectorAll("#prefix-buttons button")) b.classList.toggle("active", b.dataset.query === s.query);
  }

  // ---- upload -------------------------------------------------------------------------------

  function sizeHint() {
    const m = model();
    if (!m) return;
    const p = m.patch_size, d = m.default_size;
    if (!$("image-size").value) $("image-size").value = `${d[0]}x${d[1]}`;
    $("size-hint").textContent = `multiples of ${p}: ${[1, 2, 3].map((k) => `${p * k * 8}x${p * k * 8}`).join(", ")}`;
  }

  async function upload(file) {
    const m = model();
    if (!m) { App.status("No image model loaded: start vitlens serve with an image --model.", "error"); return; }
    const size = $("image-size").value.trim();
    if (!/^\d+x\d+$/.test(size)) { App.status(`size "${size}": expected HxW, e.g. ${m.default_size[0]}x${m.default_size[1]}`, "error"); return; }
    s.file = file;
    App.status(`Uploading ${file.name} (${(file.size / 1024).toFixed(0)} KiB) to ${m.name} at ${size}…`, "busy");
    let input;
    try {
      input = await Api.uploadImage(m.id, size, file);
    } catch (e) {
      App.status(`${file.name}: ${e.message}`, "error");
      return;
    }
    await show(input);
    App.status(`${file.name}: ${input.layers} layers × ${input.heads} heads, ${input.layout.grid.rows}×${input.layout.grid.columns} patches of ${input.layout.grid.patch_size} px, ${input.layout.tokens} tokens.`);
  }

  async function show(input) {
    s.input = input; cache.clear();
    s.layer = input.layers - 1; s.head = 0; s.fusion = $("fusion").value; s.pinned = null; s.query = input.layout.prefix.length ? "cls" : "patch:0,0";
    $("layer").max = input.layers - 1; $("layer").value = s.layer;
    $("head").max = input.heads - 1; $("head").value = 0;
    $("rollout-depth").max = input.layers - 1; $("rollout-depth").value = input.layers - 1;
    const buttons = $("prefix-buttons");
    buttons.textContent = "";
    input.layout.prefix.forEach((name, i) => {
      const b = document.createElement("button");
      b.dataset.query = i === 0 && name === "cls" ? "cls" : String(i);
      b.textContent = name === "cls" ? "CLS" : name;
      b.addEventListener("click", () => { s.pinned = b.dataset.query; setQuery(b.dataset.query); });
      buttons.append(b);
    });
    const photo = $("photo");
    await new Promise((resolve, reject) => {
      photo.onload = resolve;
      photo.onerror = () => reject(new Error("the model input image did not load"));
      photo.src = Api.imageURL(input.id);
    }).catch((e) => App.status(e.message, "error"));
    const c = document.createElement("canvas");
    c.width = input.width; c.height = input.height;
    const ctx = c.getContext("2d");
    ctx.drawImage(photo, 0, 0, input.width, input.height);
    s.photoPixels = ctx.getImageData(0, 0, input.width, input.height).data;
    $("cursor-canvas").width = input.width; $("cursor-canvas").height = input.height;
    $("stage").classList.remove("empty");
    $("stage").style.aspectRatio = `${input.width} / ${input.height}`;
    $("export-image").disabled = false;
    const pred = input.prediction || [];
    $("prediction").textContent = pred.length ? "Prediction: " + pred.map((p) => `${p.label} ${(100 * p.probability).toFixed(1)} %`).join(", ") : "";
    const c2 = input.cache || {};
    $("cache-note").textContent = c2.mode === "partial"
      ? `Cache: partial (${c2.dtype}); these views recompute (slow): ${(c2.recompute || []).join(", ")}.`
      : c2.mode ? `Cache: ${c2.mode}, ${c2.dtype}, ${(c2.bytes / 1048576).toFixed(1)} MiB.` : "";
    publish();
    App.guard(loadDistance(), "distance");
    App.guard(Explain.setInput("image", input, s.photoPixels), "explain");
    await refreshAll();
  }

  // ---- the main map -------------------------------------------------------------------------

  async function drawMain() {
    if (!s.input) return;
    const seq = ++s.seq;
    const params = Object.assign({ layer: s.layer }, headParams(), { query: s.query });
    const key = Api.query(params);
    let data;
    try {
      data = await cached("attention", params);
    } catch (e) {
      if (seq === s.seq) App.status(`attention (${key}): ${e.message}`, "error");
      return;
    }
    if (seq !== s.seq) return;
    const st = App.style(), [rows, columns] = data.shape;
    const norm = Render.normalize(data.values, st.norm);
    Render.drawMap($("map-canvas"), norm.values, rows, columns, App.table(), [s.input.height, s.input.width], st.upsample);
    $("map-canvas").style.opacity = st.alpha;
    App.drawColorBar(norm.low, norm.high);
    drawCursor();
    App.publish({ map: key, mapLow: norm.low, mapHigh: norm.high });
  }

  function drawCursor() {
    const c = $("cursor-canvas"), ctx = c.getContext("2d");
    ctx.clearRect(0, 0, c.width, c.height);
    const m = /^patch:(\d+),(\d+)$/.exec(s.query);
    if (!m) return;
    const p = grid().patch_size;
    ctx.lineWidth = Math.max(1, p / 7);
    ctx.strokeStyle = s.pinned ? "#ff3b30" : "#ffffff";
    ctx.strokeRect(Number(m[2]) * p + 0.5, Number(m[1]) * p + 0.5, p - 1, p - 1);
  }

  function patchAt(event) {
    const r = $("cursor-canvas").getBoundingClientRect(), g = grid();
    const x = Math.floor((event.clientX - r.left) / r.width * s.input.width);
    const y = Math.floor((event.clientY - r.top) / r.height * s.input.height);
    const row = Math.floor(y / g.patch_size), col = Math.floor(x / g.patch_size);
    if (x < 0 || y < 0 || row >= g.rows || col >= g.columns) return null;
    return `patch:${row},${col}`;
  }

  let sideTimer = null;
  function setQuery(q) {
    if (!s.input) return;
    s.query = q;
    publish();
    drawMain();
    clearTimeout(sideTimer);
    sideTimer = setTimeout(() => { drawHeads(); drawModelView(); drawMasks(); if ($("rollout-query").value === "current") drawRollout(); }, 150);
  }

  function refreshAll() {
    publish();
    return Promise.all([drawMain(), drawHeads(), drawModelView(), drawRollout(), drawMasks(), Promise.resolve(drawDistance())]);
  }

  /** Moves the layer by `dl` and the head by `dh` (the arrow keys). */
  function step(dl, dh) {
    if (!s.input) return;
    if (dl) s.layer = Math.min(Math.max(s.layer + dl, 0), s.input.layers - 1);
    if (dh) {
      if (s.fusion !== "head") { s.fusion = "head"; $("fusion").value = "head"; }
      else s.head = (s.head + dh + s.input.heads) % s.input.heads;
    }
    $("layer").value = s.layer; $("head").value = s.head;
    refreshForPosition(dl !== 0);
  }

  function refreshForPosition(layerChanged) {
    publish();
    drawMain();
    if (layerChanged) { drawHeads(); drawMasks(); }
    else markHeads();
    markModelView();
    drawDistance();
  }

  // ---- small multiples ------------------------------------------------------------------------

  /** A tile: the photo with a map canvas over it. */
  function tile(values, rows, columns, caption, onClick, opacity) {
    const st = App.style();
    const fig = document.createElement("figure");
    fig.className = "tile";
    const box = document.createElement("div");
    box.className = "tile-box";
    box.style.aspectRatio = `${s.input.width} / ${s.input.height}`;
    const img = document.createElement("img");
    img.src = Api.imageURL(s.input.id); img.alt = "";
    const c = document.createElement("canvas");
    Render.drawMap(c, values, rows, columns, App.table(), st.upsample === "bilinear" ? [s.input.height, s.input.width] : null, st.upsample);
    c.style.opacity = opacity === undefined ? st.alpha : opacity;
    box.append(img, c);
    const cap = document.createElement("figcaption");
    cap.textContent = caption;
    fig.append(box, cap);
    if (onClick) { fig.addEventListener("click", onClick); fig.tabIndex = 0; fig.classList.add("clickable"); }
    return fig;
  }

  function slice(data, index, size) { return data.values.subarray(index * size, (index + 1) * size); }

  let headsSeq = 0;
  async function drawHeads() {
    if (!s.input) return;
    const seq = ++headsSeq;
    const data = await App.guard(cached("attention", { layer: s.layer, head: "all", query: s.query }), "heads grid");
    if (!data || seq !== headsSeq) return;
    const [heads, rows, columns] = data.shape, area = rows * columns, st = App.style();
    const box = $("heads-grid");
    box.textContent = "";
    for (let h = 0; h < heads; h++) {
      const n = Render.normalize(slice(data, h, area), st.norm);
      const t = tile(n.values, rows, columns, `head ${h}`, () => { s.fusion = "head"; $("fusion").value = "head"; s.head = h; $("head").value = h; refreshForPosition(false); });
      t.dataset.head = h;
      t.addEventListener("mouseenter", () => { s.hoverHead = h; drawDistance(); });
      t.addEventListener("mouseleave", () => { s.hoverHead = null; drawDistance(); });
      box.append(t);
    }
    markHeads();
    App.publish({ heads: `${s.layer}|${s.query}` });
  }

  function markHeads() {
    for (const t of document.querySelectorAll("#heads-grid .tile")) t.classList.toggle("current", s.fusion === "head" && Number(t.dataset.head) === s.head);
  }

  let modelSeq = 0;
  async function drawModelView() {
    if (!s.input || !$("model-view").closest("details").open) return;
    const seq = ++modelSeq;
    const data = await App.guard(cached("attention", { layer: "all", head: "all", query: s.query }), "model view");
    if (!data || seq !== modelSeq) return;
    const [layers, heads, rows, columns] = data.shape, area = rows * columns, st = App.style();
    const box = $("model-view");
    box.textContent = "";
    box.style.gridTemplateColumns = `auto repeat(${heads}, minmax(0, ${Math.max(24, Math.min(56, Math.floor(480 / heads)))}px))`;
    box.append(document.createElement("span"));
    for (let h = 0; h < heads; h++) { const l = document.createElement("span"); l.className = "axis"; l.textContent = `h${h}`; box.append(l); }
    for (let l = 0; l < layers; l++) {
      const lab = document.createElement("span"); lab.className = "axis"; lab.textContent = `L${l}`; box.append(lab);
      for (let h = 0; h < heads; h++) {
        const n = Render.normalize(slice(data, l * heads + h, area), st.norm);
        const c = document.createElement("canvas");
        Render.drawMap(c, n.values, rows, columns, App.table(), null, "nearest");
        c.dataset.layer = l; c.dataset.head = h;
        c.title = `layer ${l}, head ${h}`;
        c.addEventListener("click", () => {
          s.layer = l; s.head = h; s.fusion = "head"; $("fusion").value = "head"; $("layer").value = l; $("head").value = h;
          refreshForPosition(true);
        });
        box.append(c);
      }
    }
    markModelView();
    App.publish({ modelView: s.query });
  }

  function markModelView() {
    for (const c of document.querySelectorAll("#model-view canvas")) {
      c.classList.toggle("current", Number(c.dataset.layer) === s.layer && s.fusion === "head" && Number(c.dataset.head) === s.head);
    }
  }

  let rolloutSeq = 0;
  async function drawRollout() {
    if (!s.input || !$("rollout-view").closest("details").open) return;
    const seq = ++rolloutSeq;
    const seed = $("rollout-query").value;
    const params = {
      residual: $("rollout-residual").value, fusion: $("rollout-fusion").value, discard: $("rollout-discard").value,
      discard_mode: $("rollout-discard-mode").value, last_layer: $("rollout-depth").value,
      query: seed === "current" ? s.query : seed,
    };
    $("rollout-depth-out").textContent = `0…${params.last_layer}`;
    const data = await App.guard(cached("rollout", params), "rollout");
    if (!data || seq !== rolloutSeq) return;
    const [rows, columns] = data.shape;
    const n = Render.normalize(Float32Array.from(data.values), App.style().norm);
    const mass = data.cls_mass !== undefined ? `, CLS mass ${Render.label(data.cls_mass)}` : "";
    $("rollout-view").textContent = "";
    $("rollout-view").append(tile(n.values, rows, columns, `rollout of layers ${data.layers ? data.layers.join("…") : `0…${params.last_layer}`} (${queryLabel(params.query)})${mass}`));
  }

  let masksSeq = 0;
  async function drawMasks() {
    if (!s.input || !$("masks-view").closest("details").open) return;
    const seq = ++masksSeq;
    const threshold = $("mask-threshold").value;
    $("mask-threshold-out").textContent = threshold;
    const data = await App.guard(Api.masks(s.input.id, { layer: s.layer, query: s.query, threshold }), "masks");
    if (!data || seq !== masksSeq) return;
    const [heads, rows, columns] = data.shape, area = rows * columns;
    const box = $("masks-view");
    box.textContent = "";
    // Kept patches get the colormap's top colour at 60 %, the rest shows the photo (the CLI's mask pictures).
    const values = Float32Array.from(data.values, (v) => (v > 0 ? 1 : NaN));
    for (let h = 0; h < heads; h++) {
      const mass = data.kept_mass ? ` (${(100 * data.kept_mass[h]).toFixed(0)} %)` : "";
      box.append(tile(values.subarray(h * area, (h + 1) * area), rows, columns, `head ${h}${mass}`, null, 0.6));
    }
  }

  // ---- distance plot ------------------------------------------------------------------------

  async function loadDistance() {
    s.distance = null;
    s.distance = await Api.distance(s.input.id);
    drawDistance();
  }

  function svg(tag, attrs, parent) {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.append(e);
    return e;
  }

  function drawDistance() {
    const box = $("distance-plot");
    const d = s.distance;
    if (!d || !s.input) { box.textContent = ""; return; }
    const [layers, heads] = d.shape;
    const W = 380, H = 226, L = 56, R = 10, T = 16, B = 34;
    const max = Math.max(...d.values.filter(Number.isFinite), 1);
    const x = (l) => L + (layers === 1 ? 0.5 : l / (layers - 1)) * (W - L - R);
    const y = (v) => H - B - v / max * (H - T - B);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "plot", role: "img", "aria-label": "mean attention distance per layer and head" });
    svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis-line" }, root);
    svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis-line" }, root);
    for (let l = 0; l < layers; l++) svg("text", { x: x(l), y: H - B + 14, "text-anchor": "middle", class: "tick" }, root).textContent = l;
    for (const v of [0, max / 2, max]) svg("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", class: "tick" }, root).textContent = Render.label(v);
    svg("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", class: "tick" }, root).textContent = "layer";
    svg("text", { x: 10, y: (T + H - B) / 2, transform: `rotate(-90 10 ${(T + H - B) / 2})`, "text-anchor": "middle", class: "tick" }, root).textContent = "distance (px)";
    const focus = s.hoverHead !== null ? s.hoverHead : s.fusion === "head" ? s.head : null;
    for (let l = 0; l < layers; l++) {
      for (let h = 0; h < heads; h++) {
        const v = d.values[l * heads + h];
        if (!Number.isFinite(v)) continue;
        const current = l === s.layer && s.fusion === "head" && h === s.head;
        const dot = svg("circle", {
          cx: x(l), cy: y(v), r: current ? 5 : h === focus ? 3.5 : 2.5,
          class: `dot${h === focus ? " focus" : ""}${current ? " current" : ""}`, "data-layer": l, "data-head": h,
        }, root);
        svg("title", {}, dot).textContent = `layer ${l}, head ${h}: ${Render.label(v)} px`;
        dot.addEventListener("mouseenter", () => { s.hoverHead = h; drawDistance(); });
        dot.addEventListener("click", () => {
          s.layer = l; s.head = h; s.fusion = "head"; $("fusion").value = "head"; $("layer").value = l; $("head").value = h;
          refreshForPosition(true);
        });
      }
    }
    root.addEventListener("mouseleave", () => { if (s.hoverHead !== null) { s.hoverHead = null; drawDistance(); } });
    box.textContent = "";
    box.append(root);
  }

  // ---- export -------------------------------------------------------------------------------

  /** The overlay as the CLI blends it (Overlay.apply, constant alpha), as a PNG download. */
  function exportPNG() {
    if (!s.input || !s.photoPixels) return;
    const m = $("map-canvas"), w = m.width, h = m.height;
    const colour = m.getContext("2d").getImageData(0, 0, w, h).data;
    const out = document.createElement("canvas");
    out.width = w; out.height = h;
    const ctx = out.getContext("2d"), img = ctx.createImageData(w, h);
    img.data.set(Render.blend(s.photoPixels, colour, App.style().alpha));
    ctx.putImageData(img, 0, 0);
    const base = (s.input.name || "image").replace(/\.[^.]*$/, "");
    const q = s.query.replace(/[^a-z0-9]+/gi, "-");
    out.toBlob((blob) => App.download(blob, `${base}-layer${s.layer}-${headLabel().replace(" ", "")}-${q}.png`), "image/png");
  }

  // ---- wiring -------------------------------------------------------------------------------

  function init(models) {
    s.models = models;
    const sel = $("image-model");
    for (const m of models) sel.add(new Option(`${m.name} (${m.layers}×${m.heads}, /${m.patch_size})`, m.id));
    if (!models.length) sel.add(new Option("no image model", ""));
    sizeHint();
    sel.addEventListener("change", () => { $("image-size").value = ""; sizeHint(); if (s.file) upload(s.file); });
    $("image-size").addEventListener("change", () => { if (s.file) upload(s.file); });
    $("file-input").addEventListener("change", (e) => { const f = e.target.files[0]; if (f) upload(f); e.target.value = ""; });
    document.addEventListener("dragover", (e) => { e.preventDefault(); document.body.classList.add("dragging"); });
    document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) document.body.classList.remove("dragging"); });
    document.addEventListener("drop", (e) => {
      e.preventDefault();
      document.body.classList.remove("dragging");
      const f = e.dataTransfer && e.dataTransfer.files[0];
      if (!f) { App.status("Drop a JPEG or PNG file.", "error"); return; }
      document.getElementById("tab-image").click();
      upload(f);
    });
    const cursor = $("cursor-canvas");
    cursor.addEventListener("mousemove", (e) => {
      if (!s.input || s.pinned) return;
      const q = patchAt(e);
      if (q && q !== s.query) setQuery(q);
    });
    cursor.addEventListener("click", (e) => {
      if (!s.input) return;
      const q = patchAt(e);
      if (!q) return;
      s.pinned = s.pinned === q ? null : q;
      setQuery(q);
    });
    $("layer").addEventListener("input", () => { s.layer = Number($("layer").value); refreshForPosition(true); });
    $("head").addEventListener("input", () => { s.head = Number($("head").value); s.fusion = "head"; $("fusion").value = "head"; refreshForPosition(false); });
    $("fusion").addEventListener("change", () => { s.fusion = $("fusion").value; refreshForPosition(false); });
    for (const id of ["rollout-residual", "rollout-fusion", "rollout-discard", "rollout-discard-mode", "rollout-query"]) $(id).addEventListener("change", drawRollout);
    $("rollout-depth").addEventListener("input", drawRollout);
    $("mask-threshold").addEventListener("input", drawMasks);
    $("model-view").closest("details").addEventListener("toggle", drawModelView);
    $("rollout-view").closest("details").addEventListener("toggle", drawRollout);
    $("masks-view").closest("details").addEventListener("toggle", drawMasks);
    $("export-image").addEventListener("click", exportPNG);
    App.onStyle(() => { if (s.input) refreshAll(); });
  }

  return { init, step, state: s };
})();
