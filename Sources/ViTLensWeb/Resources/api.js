"use strict";
// The HTTP API of `vitlens serve` (docs/API.md), relative URLs only; the token lives in the cookie the
// server set on the first request. Every failure becomes an Error whose message is the server's one line.
const Api = (() => {
  async function failure(response) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (_) { /* not JSON: keep the status line */ }
    const error = new Error(message);
    error.status = response.status;
    return error;
  }

  async function request(url, options) {
    let response;
    try {
      response = await fetch(url, Object.assign({ credentials: "same-origin" }, options || {}));
    } catch (e) {
      throw new Error(`the server does not answer (${url.split("?")[0]}): ${e.message}`);
    }
    if (!response.ok) throw await failure(response);
    return response;
  }

  /** GET (or another method) returning JSON. */
  async function json(url, options) {
    return (await request(url, options)).json();
  }

  /** GET with format=f32: {shape, values: Float32Array, headers}. */
  async function f32(url) {
    const response = await request(url + (url.includes("?") ? "&" : "?") + "format=f32");
    const shapeText = response.headers.get("X-ViTLens-Shape") || "";
    const shape = shapeText.split(",").filter((s) => s !== "").map(Number);
    const buffer = await response.arrayBuffer();
    const values = new Float32Array(buffer.slice(0));
    const count = shape.reduce((a, b) => a * b, 1);
    if (values.length !== count) throw new Error(`${url.split("?")[0]}: ${values.length} values for shape [${shape}]`);
    return { shape, values, recomputed: response.headers.get("X-ViTLens-Recomputed") === "1" };
  }

  /** Query string from an object, skipping undefined and null values. */
  function query(params) {
    return Object.entries(params)
      .filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join("&");
  }

  return {
    models: () => json("api/models"),
    colormaps: () => json("api/colormaps"),
    uploadImage: (model, size, file) =>
      json(`api/inputs?${query({ model, size, name: file.name })}`, { method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" } }),
    uploadText: (model, text) =>
      json(`api/inputs?${query({ model })}`, { method: "POST", body: JSON.stringify({ text }), headers: { "Content-Type": "application/json" } }),
    attention: (id, params) => f32(`api/inputs/${id}/attention?${query(params)}`),
    rollout: (id, params) => json(`api/inputs/${id}/rollout?${query(params)}`),
    masks: (id, params) => json(`api/inputs/${id}/masks?${query(params)}`),
    distance: (id) => json(`api/inputs/${id}/distance`),
    explain: (id, params) => json(`api/inputs/${id}/explain?${query(params)}`),
    inputs: () => json("api/inputs"),
    imageURL: (id) => `api/inputs/${id}/image.png`,
    query,
  };
})();
