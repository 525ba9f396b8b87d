"""`vitlens report` in a real headless chromium: the page of two photos and a sentence (real DINOv2 and
MiniLM) opens from a file:// URL with the network cut off, raises no console error, attempts no
request, and its layer slider, head buttons and head view switch what is shown.

Environment: VITLENS_BIN (the binary), VITLENS_BROWSER_DINOV2 and VITLENS_BROWSER_MINILM (model folders;
tests/browser/run.sh sets all three; VITLENS_DINOV2_DIR / VITLENS_MINILM_DIR are read too), VITLENS_CHROMIUM
(default /usr/bin/chromium). The screenshot goes to docs/images/report.png.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SENTENCE = "The animal didn't cross the street because it was too tired"
PHOTOS = ["photos/grace_hopper.jpg", "photos/astronaut.png"]
MODELS = pathlib.Path(os.environ.get("VITLENS_CACHE", pathlib.Path.home() / ".cache/vitlens")) / "models"


def _setting(names, default=None):
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    if default is not None and pathlib.Path(default).exists():
        return str(default)
    pytest.fail(f"set {' or '.join(names)} (tests/browser/run.sh does)")


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    """Builds the report once with the real models; returns its path."""
    binary = _setting(["VITLENS_BIN"], ROOT / ".build/debug/vitlens")
    dinov2 = _setting(["VITLENS_BROWSER_DINOV2", "VITLENS_DINOV2_DIR"], MODELS / "dinov2-small-focus")
    minilm = _setting(["VITLENS_BROWSER_MINILM", "VITLENS_MINILM_DIR"], MODELS / "all-MiniLM-L6-v2")
    out = tmp_path_factory.mktemp("report") / "report.html"
    command = [binary, "report", *PHOTOS, "--text", SENTENCE, "--model", dinov2, "--model", minilm, "-o", str(out), "--quiet"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "VITLENS_NO_DEBUG_WARNING": "1"})
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr == ""
    return out


@pytest.fixture(scope="module")
def report_browser(browser):
    """conftest.py's session chromium: Playwright's sync API allows one instance per process."""
    return browser


def open_offline(browser, path, javascript=True):
    """A page on `path` with every non-file request aborted and recorded, plus console/page errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, offline=True, java_script_enabled=javascript)
    problems, attempted = [], []

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            attempted.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:80]} {r.failure}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else attempted.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return context, page, problems, attempted


def explorer_state(page, section):
    return page.evaluate("""(id) => {
        const box = document.querySelector('#' + id + ' .explorer');
        const view = box.querySelector('.ov img.heat, .mx-img img');
        return { layer: box.dataset.layer, head: box.dataset.head, src: view.src };
    }""", section)


def grid_src(page, section, layer, head):
    return page.eval_on_selector(f'#{section} table.grid img[data-layer="{layer}"][data-head="{head}"]', "img => img.src")


def test_report_opens_offline_and_switches(report_file, report_browser):
    context, page, problems, attempted = open_offline(report_browser, report_file)
    try:
        assert page.evaluate("document.documentElement.classList.contains('js')")
        # Every embedded picture decodes.
        broken = page.evaluate("[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length")
        assert broken == 0
        assert page.locator("section.input.image").count() == 2
        assert page.locator("section.input.text").count() == 1
        assert page.locator("#img-1 .no-classifier").count() == 1  # the real DINOv2 has no classifier

        # Image explorer: the layer slider (keyboard Home = layer 0), then a head button, then a grid click.
        before = explorer_state(page, "img-1")
        assert (before["layer"], before["head"]) == ("11", "6")
        page.locator("#img-1 .layer-slider").focus()
        page.keyboard.press("Home")
        after = explorer_state(page, "img-1")
        assert after["layer"] == "0" and after["src"] != before["src"]
        assert after["src"] == grid_src(page, "img-1", 0, 6)
        page.locator('#img-1 .head-buttons button[data-head="2"]').click()
        assert explorer_state(page, "img-1")["src"] == grid_src(page, "img-1", 0, 2)
        assert page.locator('#img-1 .head-buttons button[data-head="2"]').get_attribute("class") == "active"
        page.locator('#img-1 table.grid img[data-layer="7"][data-head="4"]').click()
        state = explorer_state(page, "img-1")
        assert (state["layer"], state["head"]) == ("7", "4") and state["src"] == grid_src(page, "img-1", 7, 4)
        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowRight")
        assert explorer_state(page, "img-1")["layer"] == "8" and explorer_state(page, "img-1")["head"] == "5"
        assert explorer_state(page, "img-2")["layer"] == "11"  # sections switch independently

        # Head view: one layer shown; the slider switches it; a head toggle hides that head's lines.
        hv = page.locator("#text-1 .headview")
        assert hv.locator(".hv-layer").count() == 6
        assert [hv.locator(".hv-layer").nth(i).is_visible() for i in range(6)] == [False] * 5 + [True]
        hv.locator(".hv-layer-slider").focus()
        page.keyboard.press("Home")
        assert hv.get_attribute("data-layer") == "0"
        assert hv.locator('.hv-layer[data-layer="0"]').is_visible() and not hv.locator('.hv-layer[data-layer="5"]').is_visible()
        head0 = hv.locator('.hv-layer[data-layer="0"] g.hv-head[data-head="0"]')
        assert head0.evaluate("g => getComputedStyle(g).display") != "none"
        hv.locator('.hv-toggles input[data-head="0"]').uncheck()
        assert head0.evaluate("g => getComputedStyle(g).display") == "none"
        hv.locator('.hv-toggles input[data-head="0"]').check()
        # Hovering a query token isolates its lines.
        token = hv.locator('.hv-layer[data-layer="0"] text.hv-q[data-index="3"]')
        token.hover()
        visible = hv.locator('.hv-layer[data-layer="0"] line').evaluate_all(
            "ls => ls.filter(l => getComputedStyle(l).display !== 'none').map(l => l.dataset.query)")
        assert visible and set(visible) == {"3"}
        page.mouse.move(5, 5)
        total = hv.locator('.hv-layer[data-layer="0"] line').count()
        shown = hv.locator('.hv-layer[data-layer="0"] line').evaluate_all(
            "ls => ls.filter(l => getComputedStyle(l).display !== 'none').length")
        assert shown == total > len(visible)

        # Text matrices switch like the image explorer.
        page.locator('#text-1 .head-buttons button[data-head="3"]').click()
        assert explorer_state(page, "text-1")["src"] == grid_src(page, "text-1", 5, 3)

        page.locator('#img-1 .head-buttons button[data-head="6"]').click()
        page.locator("#img-1 h3").nth(1).evaluate("h => h.scrollIntoView()")
        (ROOT / "docs/images").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ROOT / "docs/images/report.png"))
        assert problems == [], problems
        assert attempted == [], attempted
    finally:
        context.close()


def test_report_without_javascript_shows_every_picture(report_file, report_browser):
    context, page, problems, attempted = open_offline(report_browser, report_file, javascript=False)
    try:
        assert page.locator("#img-1 table.grid img").count() == 12 * 7
        assert page.locator("#img-1 table.grid img").nth(0).is_visible()
        assert not page.locator("#img-1 .layer-slider").is_visible()
        assert all(page.locator("#text-1 .hv-layer").nth(i).is_visible() for i in range(6))
        assert problems == [] and attempted == []
    finally:
        context.close()
