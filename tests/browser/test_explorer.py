"""The explorer in a real headless chromium against `vitlens serve` with real models: the map canvas
shows exactly the CLI's colours of the API's maps, the keys move layer and head, and the text tab's
head view draws the API's attention weights."""
import base64
import os
import urllib.parse

import numpy as np

from cli_render import expected_map_pixels
from waiting import wait_js

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
PHOTO = os.path.join(ROOT, "photos", "grace_hopper.jpg")
SENTENCE = "The animal didn't cross the street because it was too tired"

READ_CANVAS = """() => {
  const c = document.getElementById('map-canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let s = '';
  for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
  return {width: c.width, height: c.height, b64: btoa(s)};
}"""

FETCH_F32 = """async (url) => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(url + ': ' + r.status);
  const d = new Uint8Array(await r.arrayBuffer());
  let s = '';
  for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
  return {shape: r.headers.get('X-ViTLens-Shape'), b64: btoa(s)};
}"""


def dataset(page):
    return page.evaluate("Object.assign({}, document.body.dataset)")


def canvas_rgba(page):
    c = page.evaluate(READ_CANVAS)
    return np.frombuffer(base64.b64decode(c["b64"]), dtype=np.uint8).reshape(c["height"], c["width"], 4)


def api_f32(page, url):
    r = page.evaluate(FETCH_F32, url)
    shape = [int(s) for s in r["shape"].split(",")]
    return np.frombuffer(base64.b64decode(r["b64"]), dtype="<f4").reshape(shape)


def map_key(layer, head, query):
    return f"layer={layer}&head={head}&query={urllib.parse.quote(query, safe='')}"


def wait_for_map(page, key):
    wait_js(page, "(k) => document.body.dataset.map === k", arg=key, timeout=30000)


def click_patch(page, input_, row, column):
    box = page.locator("#cursor-canvas").bounding_box()
    p = input_["layout"]["grid"]["patch_size"]
    x = box["x"] + (column + 0.5) * p * box["width"] / input_["width"]
    y = box["y"] + (row + 0.5) * p * box["height"] / input_["height"]
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def check_canvas_is_cli_colours(page, input_, layer, head, query, table, normalization="max", upsampling="nearest"):
    grid = api_f32(page, f"api/inputs/{input_['id']}/attention?layer={layer}&head={head}&query={urllib.parse.quote(query)}&format=f32")
    rows, columns = input_["layout"]["grid"]["rows"], input_["layout"]["grid"]["columns"]
    assert grid.shape == (rows, columns)
    shown = canvas_rgba(page)
    assert shown.shape[:2] == (input_["height"], input_["width"])
    expected = expected_map_pixels(grid, input_["height"], input_["width"], table, normalization, upsampling)
    assert (shown[..., 3] == 255).all()
    mismatched = int((shown[..., :3] != expected).any(axis=-1).sum())
    assert mismatched == 0, f"{mismatched} pixels differ from the CLI's colours for {query}"
    return shown


def upload_photo(page):
    page.set_input_files("#file-input", PHOTO)
    wait_js(page, "() => document.body.dataset.input && document.body.dataset.map", timeout=60000)
    input_id = dataset(page)["input"]
    return page.evaluate("async (id) => (await fetch('api/inputs/' + id)).json()", input_id)


def test_image_tab_shows_the_apis_maps_in_the_clis_colours(page, artifacts):
    input_ = upload_photo(page)
    last = input_["layers"] - 1
    table = page.evaluate("async () => (await (await fetch('api/colormaps')).json()).colormaps.viridis")
    assert len(table) == 768
    wait_for_map(page, map_key(last, 0, "cls"))
    check_canvas_is_cli_colours(page, input_, last, 0, "cls", table)

    click_patch(page, input_, 4, 5)
    wait_for_map(page, map_key(last, 0, "patch:4,5"))
    assert dataset(page)["pinned"] == "patch:4,5"
    first = check_canvas_is_cli_colours(page, input_, last, 0, "patch:4,5", table)

    click_patch(page, input_, 11, 9)
    wait_for_map(page, map_key(last, 0, "patch:11,9"))
    second = check_canvas_is_cli_colours(page, input_, last, 0, "patch:11,9", table)
    assert (first != second).any(), "the map did not change between two patches"

    # Keys: right = next head, down = previous layer.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    d = dataset(page)
    assert (d["head"], d["layer"]) == ("1", str(last - 2))
    wait_for_map(page, map_key(last - 2, 1, "patch:11,9"))
    check_canvas_is_cli_colours(page, input_, last - 2, 1, "patch:11,9", table)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    d = dataset(page)
    assert (d["head"], d["layer"]) == ("0", str(last - 1))

    # The same rules with bilinear upsampling and min-max scaling, in another colormap.
    page.select_option("#upsample", "bilinear")
    page.select_option("#normalize", "minmax")
    page.select_option("#colormap", "inferno")
    wait_for_map(page, map_key(last - 1, 0, "patch:11,9"))
    wait_js(page, "() => document.body.dataset.upsample === 'bilinear' && document.body.dataset.colormap === 'inferno'")
    inferno = page.evaluate("async () => (await (await fetch('api/colormaps')).json()).colormaps.inferno")
    page.wait_for_timeout(200)
    check_canvas_is_cli_colours(page, input_, last - 1, 0, "patch:11,9", inferno, "minmax", "bilinear")
    page.select_option("#upsample", "nearest")
    page.select_option("#normalize", "max")
    page.select_option("#colormap", "viridis")

    heads, layers = input_["heads"], input_["layers"]
    page.click("#prefix-buttons button[data-query='cls']")
    wait_for_map(page, map_key(last - 1, 0, "cls"))
    assert dataset(page)["query"] == "cls"
    wait_js(page, "(k) => document.body.dataset.heads === k", arg=f"{last - 1}|cls")
    page.locator("#heads-grid .tile").nth(heads - 1).click()
    assert dataset(page)["head"] == str(heads - 1)

    # The model view (layers x heads of the CLS maps); a click goes to that layer and head.
    page.locator("#model-view").evaluate("e => e.closest('details').open = true")
    wait_js(page, "() => document.body.dataset.modelView === 'cls'")
    assert page.locator("#model-view canvas").count() == layers * heads
    details = page.locator("#model-view").locator("xpath=..")
    details.scroll_into_view_if_needed()
    details.screenshot(path=os.path.join(artifacts, "explorer-model-view.png"))
    page.locator("#model-view canvas[data-layer='3'][data-head='2']").click()
    d = dataset(page)
    assert (d["layer"], d["head"]) == ("3", "2")
    page.locator("#model-view").evaluate("e => e.closest('details').open = false")
    for _ in range(last - 3):
        page.keyboard.press("ArrowUp")
    wait_for_map(page, map_key(last, 2, "cls"))
    check_canvas_is_cli_colours(page, input_, last, 2, "cls", table)

    # Rollout, masks and the distance plot answer and draw.
    page.locator("#rollout-view").evaluate("e => e.closest('details').open = true")
    page.locator("#masks-view").evaluate("e => e.closest('details').open = true")
    wait_js(page, "() => document.querySelectorAll('#rollout-view canvas').length === 1")
    wait_js(page, "(n) => document.querySelectorAll('#masks-view canvas').length === n", arg=heads)
    wait_js(page, "(n) => document.querySelectorAll('#distance-plot circle').length === n", arg=layers * heads)
    wait_js(page, "(k) => document.body.dataset.heads === k", arg=f"{last}|cls")
    page.wait_for_timeout(300)  # let the tiles' images paint
    page.screenshot(path=os.path.join(artifacts, "explorer-image.png"), full_page=True)
    page.locator("#heads-grid").locator("xpath=..").screenshot(path=os.path.join(artifacts, "explorer-heads.png"))

    with page.expect_download() as download:
        page.click("#export-image")
    assert download.value.suggested_filename.endswith(".png")


def test_dropped_file_is_uploaded_at_the_chosen_size(page):
    photo = os.path.join(ROOT, "photos", "astronaut.png")
    page.fill("#image-size", "112x112")
    data = base64.b64encode(open(photo, "rb").read()).decode()
    page.evaluate("""(b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'astronaut.png', {type: 'image/png'}));
      document.body.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", data)
    wait_js(page, "() => document.body.dataset.input && document.body.dataset.map", timeout=60000)
    input_ = page.evaluate("async (id) => (await fetch('api/inputs/' + id)).json()", dataset(page)["input"])
    assert (input_["name"], input_["height"], input_["width"]) == ("astronaut.png", 112, 112)
    assert input_["layout"]["grid"]["rows"] == 112 // input_["layout"]["grid"]["patch_size"]
    assert page.evaluate("() => [document.getElementById('map-canvas').width, document.getElementById('map-canvas').height]") == [112, 112]
    assert page.locator("#status").inner_text().startswith("astronaut.png: ")


def test_bad_upload_shows_the_servers_message(page):
    page.problems.allow(r"status of 400|HTTP 400")
    page.set_input_files("#file-input", files=[{"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": b"not a jpeg at all"}])
    wait_js(page, "() => document.getElementById('status').classList.contains('error')", timeout=30000)
    text = page.locator("#status").inner_text()
    assert text.startswith("broken.jpg: ") and len(text) > len("broken.jpg: ") + 5, text


def test_text_head_view_draws_the_apis_weights(page, artifacts):
    page.click("#tab-text")
    page.fill("#sentence", SENTENCE)
    page.click("#analyze-text")
    wait_js(page, "() => (document.body.dataset.textRendered || '').startsWith('head:')", timeout=60000)
    d = dataset(page)
    text_input = page.evaluate("async (id) => (await fetch('api/inputs/' + id)).json()", d["textInput"])
    layer = int(d["textLayer"])
    assert layer == text_input["layers"] - 1
    # Another layer through the selector, then compare one head's lines with the API.
    page.select_option("#text-layer", "2")
    wait_js(page, "() => document.body.dataset.textRendered === 'head:2:'")
    weights = api_f32(page, f"api/inputs/{text_input['id']}/attention?layer=2&head=all&query=all&keys=all&format=f32")
    heads, tokens = text_input["heads"], len(text_input["tokens"])
    assert weights.shape == (heads, tokens, tokens)
    head = heads // 2
    lines = page.evaluate(
        "(h) => Array.from(document.querySelectorAll(`#text-area line[data-head='${h}']`), l => [+l.dataset.query, +l.dataset.key, +l.getAttribute('stroke-opacity')])",
        head)
    assert len(lines) == tokens * tokens
    worst = max(abs(o - float(weights[head, q, k])) for q, k, o in lines)
    assert worst <= 1e-3, f"head {head}: line opacity differs from the API by {worst}"
    assert {(q, k) for q, k, _ in lines} == {(q, k) for q in range(tokens) for k in range(tokens)}

    # Hovering a token isolates its lines; a head checkbox hides that head.
    page.locator("#text-area text.token[data-side='query'][data-index='3']").hover()
    visible = page.evaluate("Array.from(document.querySelectorAll('#text-area line')).filter(l => l.style.display !== 'none').map(l => +l.dataset.query)")
    assert set(visible) == {3} and len(visible) == heads * tokens
    page.mouse.move(5, 5)
    page.locator(f"#head-toggles input[data-head='{head}']").uncheck()
    assert page.evaluate("(h) => document.querySelector(`#text-area g[data-head='${h}']`).style.display", head) == "none"
    page.locator(f"#head-toggles input[data-head='{head}']").check()
    page.locator("#text-area svg").screenshot(path=os.path.join(artifacts, "explorer-text.png"))

    with page.expect_download() as svg:
        page.click("#export-svg")
    assert svg.value.suggested_filename == "text-head-layer2.svg"
    body = open(svg.value.path(), encoding="utf-8").read()
    assert body.startswith("<svg") and body.count("<line") == heads * tokens * tokens

    page.select_option("#text-view", "matrix")
    wait_js(page, "() => document.body.dataset.textRendered === 'matrix:2:0'")
    assert page.locator("#text-area rect[data-query]").count() == tokens * tokens
    page.select_option("#text-view", "model")
    wait_js(page, "() => document.body.dataset.textRendered.startsWith('model:')")
    assert page.locator("#text-area image.thumb").count() == text_input["layers"] * heads
    with page.expect_download() as png:
        page.click("#export-png")
    assert open(png.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
