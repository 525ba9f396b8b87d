"use strict";
// The "Explain" panels of the image and text tabs: a gradient explanation of the current input
// (GET api/inputs/ID/explain) for a method and a target, drawn with the maps' colormap, normalisation,
// upsampling and alpha; a colour bar and a PNG export. State is mirrored on document.body.dataset
// (explainImage / explainText = the request's query string once drawn) for scripts and tests.
const Explain = (() => {
  const $ = App.$;
  const METHODS = [["chefer", "Chefer relevance"], ["grad-rollout", "gradient rollout"], ["attn-grad", "attention × gradient (sum of layers)"], ["input-grad", "input × gradient"]];
  const panels = {};

  function element(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children || []) e.append(c);
    return e;
  }

  function labelled(text, control, id) {
    const l = element("label", { id: `${id}-label` }, [`${text} `, control]);
    return l;
  }

  /** Builds the panel of tab `kind` ("image" or "text") into `container`. */
  function attach(kind, container) {
    const id = (name) => `${kind}-explain-${name}`;
    const method = element("select", { id: id("method") });
    for (const [value, text] of METHODS) method.add(new Option(text, value));
    const target = element("select", { id: id("target") });
    const cls = element("input", { id: id("class"), list: id("labels"), size: "18", placeholder: "name or index" });
    const labels = element("datalist", { id: id("labels") });
    const other = element("select", { id: id("other") });
    const tokens = element("input", { id: id("tokens"), size: "7", value: "1,2", placeholder: "I,J" });
    const run = element("button", { id: id("run"), text: "Explain" });
    const exportButton = element("button", { id: id("export"), text: "Export PNG", disabled: "" });
    const bar = element("canvas", { id: id("colorbar"), width: "256", height: "1", class: "explain-bar" });
    const low = element("span", { id: id("low"), text: "0" }), high = element("span", { id: id("high"), text: "1" });
    const canvas = element("canvas", { id: id("canvas"), width: "1", height: "1", class: "explain-canvas", role: "img", "aria-label": "explanation map" });
    const note = element("p", { id: id("note"), class: "hint", "aria-live": "polite" });
    const controls = element("div", { class: "bar small" }, [
      labelled("Method", method, id("method")), labelled("Target", target, id("target")),
      labelled("Class", cls, id("class")), labelled("Similar to", other, id("other")),
      labelled(kind === "image" ? "Tokens I,J (patch features)" : "Tokens I,J", tokens, id("tokens")), labels, run, exportButton,
    ]);
    container.append(controls, element("span", { class: "colorbar" }, [low, bar, high]), canvas, note);
    const p = { kind, id, input: null, photo: null, seq: 0, data: null, elements: { method, target, cls, labels, other, tokens, run, exportButton, canvas, note } };
    panels[kind] = p;
    for (const c of [method, target, other]) c.addEventListener("change", () => { showFields(p); request(p); });
    for (const c of [cls, tokens]) c.addEventListener("change", () => request(p));
    run.addEventListener("click", () => request(p));
    exportButton.addEventListener("click", () => exportPNG(p));
    other.addEventListener("focus", () => App.guard(fillOthers(p), "inputs"));
    App.onStyle(() => { if (p.data) draw(p); });
    showFields(p);
    return p;
  }

  function showFields(p) {
    const t = p.elements.target.value;
    for (const [name, kindShown] of [["class", "class"], ["other", "similar"], ["tokens", "token"]]) $(`${p.id(name)}-label`).hidden = t !== kindShown;
  }

  /** The current input of tab `kind` changed (`photo`: its RGBA pixels, images only). */
  async function setInput(kind, input, photo) {
    const p = panels[kind];
    if (!p) return;
    p.input = input; p.photo = photo || null; p.data = null;
    const e = p.elements, model = App.models().find((m) => m.id === input.model) || {};
    const previous = e.target.value;
    e.target.textContent = "";
    if (model.classifier) {
      e.target.add(new Option("top-1 class", "top1"));
      e.target.add(new Option("class by name", "class"));
    }
    e.target.add(new Option("similar to another input", "similar"));
    e.target.add(new Option(kind === "image" ? "patch pair (feature similarity)" : "token pair (feature similarity)", "token"));
    if ([...e.target.options].some((o) => o.value === previous)) e.target.value = previous;
    e.labels.textContent = "";
    for (const name of model.labels || []) e.labels.append(new Option(name, name));
    e.exportButton.disabled = true;
    showFields(p);
    await fillOthers(p);
    App.publish({ [`explain${kind === "image" ? "Image" : "Text"}`]: "" });
    if (e.target.value !== "similar" || e.other.value) await request(p);
    else e.note.textContent = "Upload another input of this model to explain a similarity.";
  }

  /** Lists the other uploaded inputs of the same model and kind for "similar to". */
  async function fillOthers(p) {
    if (!p.input) return;
    const list = (await Api.inputs()).inputs || [], e = p.elements, chosen = e.other.value;
    e.other.textContent = "";
    for (const i of list) {
      if (i.id !== p.input.id && i.model === p.input.model && i.kind === p.input.kind) {
        const label = i.kind === "text" ? (i.tokens || []).filter((t) => !/^\[(CLS|SEP)\]$/.test(t)).join(" ") : i.name;
        e.other.add(new Option(label || i.id, i.id));
      }
    }
    if ([...e.other.options].some((o) => o.value === chosen)) e.other.value = chosen;
  }

  /** The request's target, or null with a note saying what is missing. */
  function target(p) {
    const e = p.elements;
    switch (e.target.value) {
      case "top1": return "top1";
      case "class": {
        const v = e.cls.value.trim();
        if (!v) { e.note.textContent = "Type a class name (the list offers the model's labels) or an index."; return null; }
        return /^\d+$/.test(v) ? `class:${v}` : `label:${v}`;
      }
      case "similar":
        if (!e.other.value) { e.note.textContent = "Upload another input of this model to explain a similarity."; return null; }
        return `similar-input:${e.other.value}`;
      default: return `token:${e.tokens.value.replace(/\s+/g, "")}`;
    }
  }

  async function request(p) {
    if (!p.input) return;
    const t = target(p);
    if (!t) return;
    const params = { method: p.elements.method.value, target: t }, seq = ++p.seq, key = Api.query(params);
    p.elements.note.textContent = `Computing ${params.method} for ${t}…`;
    let data;
    try {
      data = await Api.explain(p.input.id, params);
    } catch (error) {
      if (seq === p.seq) { p.elements.note.textContent = `explain: ${error.message}`; App.status(`explain (${key}): ${error.message}`, "error"); }
      return;
    }
    if (seq !== p.seq) return;
    p.data = data; p.key = key;
    draw(p);
  }

  /** Sums a leading layers axis (attn-grad) away. */
  function summed(data, rank) {
    const shape = data.shape, values = Float32Array.from(data.values);
    if (shape.length === rank) return { shape, values };
    const inner = shape.slice(1), size = inner.reduce((a, b) => a * b, 1), out = new Float32Array(size);
    for (let k = 0; k < shape[0]; k++) for (let i = 0; i < size; i++) out[i] += values[k * size + i];
    return { shape: inner, values: out };
  }

  function draw(p) {
    const st = App.style(), d = p.data, e = p.elements, c = e.canvas;
    const map = summed(d, p.kind === "image" ? 2 : 1), norm = Render.normalize(map.values, st.norm);
    if (p.kind === "image") {
      const [rows, columns] = map.shape, w = p.input.width, h = p.input.height;
      const colour = document.createElement("canvas");
      Render.drawMap(colour, norm.values, rows, columns, App.table(), [h, w], st.upsample);
      c.width = w; c.height = h;
      const ctx = c.getContext("2d"), img = ctx.createImageData(w, h);
      const rgba = colour.getContext("2d").getImageData(0, 0, w, h).data;
      img.data.set(p.photo ? Render.blend(p.photo, rgba, st.alpha) : rgba);
      ctx.putImageData(img, 0, 0);
    } else {
      drawTokens(c, p.input.tokens || [], norm.values);
    }
    drawBar(p, norm.low, norm.high);
    const what = d.label ? ` (class ${d.class_index} "${d.label}")` : d.class_index !== undefined && d.class_index !== null ? ` (class ${d.class_index})` : "";
    e.note.textContent = `${d.method} for ${d.target}${what}: target value ${Number(d.target_value).toPrecision(6)}${d.cached ? " (cached)" : ""}.`;
    e.exportButton.disabled = false;
    App.publish({ [`explain${p.kind === "image" ? "Image" : "Text"}`]: p.key, [`explain${p.kind === "image" ? "Image" : "Text"}Value`]: d.target_value });
  }

  /** Text: one cell a token, coloured by its relevance, the token written in it. */
  function drawTokens(c, tokens, values) {
    const font = "13px sans-serif", widths = [], probe = c.getContext("2d");
    probe.font = font;
    for (const t of tokens) widths.push(Math.max(28, Math.ceil(probe.measureText(t).width) + 10));
    c.width = Math.max(1, widths.reduce((a, b) => a + b, 0)); c.height = 28;
    const ctx = c.getContext("2d");
    ctx.font = font; ctx.textBaseline = "middle"; ctx.textAlign = "center";
    let x = 0;
    tokens.forEach((t, i) => {
      const k = Render.colorIndex(values[i]), tb = App.table();
      const [r, g, b] = k < 0 ? [255, 255, 255] : [tb[3 * k], tb[3 * k + 1], tb[3 * k + 2]];
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(x, 0, widths[i], c.height);
      ctx.fillStyle = 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#000" : "#fff";
      ctx.fillText(t, x + widths[i] / 2, c.height / 2);
      x += widths[i];
    });
  }

  function drawBar(p, low, high) {
    const c = $(p.id("colorbar")), tb = App.table();
    if (!tb) return;
    const ctx = c.getContext("2d"), img = ctx.createImageData(256, 1);
    for (let i = 0; i < 256; i++) img.data.set([tb[3 * i], tb[3 * i + 1], tb[3 * i + 2], 255], 4 * i);
    ctx.putImageData(img, 0, 0);
    $(p.id("low")).textContent = Render.label(low); $(p.id("high")).textContent = Render.label(high);
  }

  function exportPNG(p) {
    if (!p.data) return;
    const base = (p.input.name || p.kind).replace(/\.[^.]*$/, "").replace(/[^a-z0-9]+/gi, "-").slice(0, 40);
    const t = p.data.target.replace(/^similar-input:.*/, "similar").replace(/[^a-z0-9]+/gi, "-");
    p.elements.canvas.toBlob((blob) => App.download(blob, `${base}-${p.data.method}-${t}.png`), "image/png");
  }

  return { attach, setInput, panels };
})();
