"""The explorer's Explain panels in headless chromium against `vitlens serve` (real DINOv2 and MiniLM):
the panel draws the API's explanation, and switching the target or the method changes the picture."""
import base64
import os

import numpy as np

from waiting import wait_js

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

READ = """(id) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let s = '';
  for (let i = 0; i < d.length; i += 0x8000) s += String.fromCharCode.apply(null, d.subarray(i, i + 0x8000));
  return {width: c.width, height: c.height, b64: btoa(s)};
}"""


def pixels(page, canvas_id):
    c = page.evaluate(READ, canvas_id)
    return np.frombuffer(base64.b64decode(c["b64"]), dtype=np.uint8).reshape(c["height"], c["width"], 4)


def drawn(page, kind, contains):
    """Waits until the panel of `kind` has drawn a request whose query string contains `contains`."""
    key = "explainImage" if kind == "image" else "explainText"
    return wait_js(page, "([k, c]) => { const v = document.body.dataset[k] || ''; return v.includes(c) ? v : ''; }",
                   arg=[key, contains], timeout=300000)  # a few queued DINOv2 backward passes in a debug build


def upload(page, name):
    before = page.evaluate("() => document.body.dataset.input || ''")
    page.set_input_files("#file-input", os.path.join(ROOT, "photos", name))
    wait_js(page, "(b) => document.body.dataset.input && document.body.dataset.input !== b && document.body.dataset.map", arg=before, timeout=60000)
    return page.evaluate("async (id) => (await fetch('api/inputs/' + id)).json()", page.evaluate("() => document.body.dataset.input"))


def api_explain(page, input_id, key):
    return page.evaluate("async ([id, k]) => (await fetch('api/inputs/' + id + '/explain?' + k)).json()", [input_id, key])


def test_image_explain_panel_switches_target_and_method(page, artifacts):
    upload(page, "grace_hopper.jpg")
    astronaut = upload(page, "astronaut.png")
    # DINOv2 has no classifier: the panel offers similarity and patch pairs, and starts on "similar to".
    options = page.evaluate("() => [...document.getElementById('image-explain-target').options].map(o => o.value)")
    assert options == ["similar", "token"]
    key = drawn(page, "image", "target=similar-input")
    similar = pixels(page, "image-explain-canvas")
    assert similar.shape[:2] == (astronaut["height"], astronaut["width"])
    answer = api_explain(page, astronaut["id"], key)
    assert answer["method"] == "chefer" and answer["cached"] is True
    grid = astronaut["layout"]["grid"]
    assert answer["shape"] == [grid["rows"], grid["columns"]]
    assert float(page.evaluate("() => document.body.dataset.explainImageValue")) == answer["target_value"]
    assert 0 < answer["target_value"] < 1
    # The brightest patch of the map is where the picture is most yellow (viridis) over the photo.
    values = np.array(answer["values"], dtype=np.float32).reshape(grid["rows"], grid["columns"])
    assert values.max() > values.min()

    page.select_option("#image-explain-target", "token")
    assert page.is_visible("#image-explain-tokens") and not page.is_visible("#image-explain-other")
    page.fill("#image-explain-tokens", "0,5")
    page.press("#image-explain-tokens", "Enter")
    page.locator("#image-explain-run").focus()
    page.keyboard.press("Enter")
    drawn(page, "image", "target=token%3A0%2C5")
    tokens = pixels(page, "image-explain-canvas")
    assert (tokens != similar).any(), "the picture did not change with the target"

    page.select_option("#image-explain-method", "input-grad")
    drawn(page, "image", "method=input-grad&target=token%3A0%2C5")
    gradient = pixels(page, "image-explain-canvas")
    assert (gradient != tokens).any(), "the picture did not change with the method"
    page.locator("#image-explain").locator("xpath=..").screenshot(path=os.path.join(artifacts, "explorer-explain-image.png"))
    with page.expect_download() as download:
        page.click("#image-explain-export")
    assert download.value.suggested_filename.endswith("-input-grad-token-0-5.png")


def test_text_explain_panel_draws_token_relevance(page, artifacts):
    page.click("#tab-text")
    page.fill("#sentence", "The animal didn't cross the street because it was too tired")
    page.click("#analyze-text")
    wait_js(page, "() => document.body.dataset.textInput", timeout=60000)
    first = page.evaluate("() => document.body.dataset.textInput")
    page.fill("#sentence", "The dog was exhausted")
    page.click("#analyze-text")
    wait_js(page, "(f) => document.body.dataset.textInput && document.body.dataset.textInput !== f", arg=first, timeout=60000)
    # input x gradient: chefer-type text maps keep the [CLS] readout at >= 1, which takes the top colour for any target.
    page.select_option("#text-explain-method", "input-grad")
    page.select_option("#text-explain-other", first)
    key = drawn(page, "text", f"method=input-grad&target=similar-input%3A{first}")
    similar = pixels(page, "text-explain-canvas")
    second = page.evaluate("() => document.body.dataset.textInput")
    answer = api_explain(page, second, key)
    tokens = page.evaluate("async (id) => (await fetch('api/inputs/' + id)).json()", second)["tokens"]
    assert answer["shape"] == [len(tokens)]
    assert similar.shape[0] == 28 and similar.shape[1] >= 28 * len(tokens)

    page.select_option("#text-explain-target", "token")
    page.fill("#text-explain-tokens", "2,4")
    page.click("#text-explain-run")
    drawn(page, "text", "method=input-grad&target=token%3A2%2C4")
    pair = pixels(page, "text-explain-canvas")
    assert pair.shape != similar.shape or (pair != similar).any(), "the picture did not change with the target"
    page.locator("#text-explain").locator("xpath=..").screenshot(path=os.path.join(artifacts, "explorer-explain-text.png"))
