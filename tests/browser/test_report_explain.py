"""The report's explanation part in headless chromium, offline: a report of the tiny fixture classifier
(vit-p16-cls, explained for its top-1 class) and the fixture BERT (explained for a sentence similarity)
shows one method at a time, and its method buttons (mouse and keyboard) switch the picture and the token
colours. Without JavaScript every method's figure is visible.

Environment: VITLENS_BIN (the binary; default .build/debug/vitlens), VITLENS_CHROMIUM."""
import json
import os
import pathlib
import subprocess

import pytest

from test_report import ROOT, open_offline

FIXTURES = ROOT / "Tests/Fixtures/models"
SENTENCE = "The animal didn't cross the street because it was too tired"
OTHER = "The dog was exhausted"
METHODS = ["chefer", "grad-rollout", "attn-grad", "input-grad"]


@pytest.fixture(scope="module")
def explained_report(tmp_path_factory):
    binary = os.environ.get("VITLENS_BIN") or str(ROOT / ".build/debug/vitlens")
    out = tmp_path_factory.mktemp("report-explain") / "report.html"
    command = [binary, "report", "photos/rocket.jpg", "--text", SENTENCE, "--model", str(FIXTURES / "vit-p16-cls"),
               "--model", str(FIXTURES / "bert-tiny"), "--explain-text-target", "similar-text:" + OTHER, "-o", str(out), "--quiet"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "VITLENS_NO_DEBUG_WARNING": "1"})
    assert run.returncode == 0, run.stderr
    return out


def shown(page, section):
    return page.eval_on_selector_all(f"#{section} .ex-method",
                                     "fs => fs.filter(f => getComputedStyle(f).display !== 'none').map(f => f.dataset.method)")


def token_colours(page):
    return page.eval_on_selector_all("#text-1 .ex-method.active .ex-tok", "ts => ts.map(t => getComputedStyle(t).backgroundColor)")


def embedded(page, section):
    return json.loads(page.eval_on_selector(f"#{section}-data", "s => s.textContent"))


def test_report_explanations_switch_by_method(explained_report, browser, artifacts):
    context, page, problems, attempted = open_offline(browser, explained_report)
    try:
        assert page.evaluate("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length") == 0
        # The image: top-1 of the classifier, the class the prediction table ranks first.
        data = embedded(page, "img-1")
        top = data["prediction"][0]
        assert data["explanation"]["class_index"] == top["index"] and data["explanation"]["target"] == "top1"
        heading = page.locator("#img-1 h3", has_text="Explanation of").inner_text()
        assert f"(class {top['index']}" in heading and top["label"] in heading
        assert [m["method"] for m in data["explanation"]["methods"]] == METHODS
        assert page.locator("#img-1 .explain").get_attribute("data-method") == "chefer"
        assert shown(page, "img-1") == ["chefer"]
        size = page.eval_on_selector("#img-1 .ex-method.active img.ex-map", "i => [i.naturalHeight, i.naturalWidth]")
        assert size == data["input_size"]
        before = page.eval_on_selector("#img-1 .ex-method.active img.ex-map", "i => i.src")

        # Keyboard: Tab order reaches the buttons; Enter on grad-rollout switches the figure.
        button = page.locator('#img-1 .method-buttons button[data-method="grad-rollout"]')
        button.focus()
        page.keyboard.press("Enter")
        assert shown(page, "img-1") == ["grad-rollout"]
        assert button.get_attribute("aria-pressed") == "true"
        assert page.locator('#img-1 .method-buttons button[data-method="chefer"]').get_attribute("aria-pressed") == "false"
        after = page.eval_on_selector("#img-1 .ex-method.active img.ex-map", "i => i.src")
        assert after != before, "the picture did not change with the method"
        for method in METHODS:
            page.locator(f'#img-1 .method-buttons button[data-method="{method}"]').click()
            assert shown(page, "img-1") == [method]
            assert page.locator("#img-1 .explain").get_attribute("data-method") == method

        # The sentence: its tokens coloured by the map; switching the method recolours them.
        text = embedded(page, "text-1")["explanation"]
        assert text["target"] == "similar-text:" + OTHER and 0 < text["methods"][0]["target_value"] < 1
        tokens = page.locator("#text-1 ol.tokens li").count()
        assert shown(page, "text-1") == ["chefer"]
        chefer = token_colours(page)
        assert len(chefer) == tokens == text["methods"][0]["map"]["shape"][0]
        page.locator('#text-1 .method-buttons button[data-method="input-grad"]').click()
        gradient = token_colours(page)
        assert shown(page, "text-1") == ["input-grad"] and len(gradient) == tokens
        assert gradient != chefer, "the token colours did not change with the method"
        assert shown(page, "img-1") == ["input-grad"]  # sections switch independently

        page.locator("#img-1 .explain").scroll_into_view_if_needed()
        page.locator("#img-1 .explain").screenshot(path=os.path.join(artifacts, "report-explain.png"))
        assert problems == [], problems
        assert attempted == [], attempted
    finally:
        context.close()


def test_report_explanations_without_javascript_show_every_method(explained_report, browser):
    context, page, problems, attempted = open_offline(browser, explained_report, javascript=False)
    try:
        assert shown(page, "img-1") == METHODS and shown(page, "text-1") == METHODS
        assert not page.locator("#img-1 .method-buttons").is_visible()
        assert problems == [] and attempted == []
    finally:
        context.close()
