"""Fixtures for the explorer's browser tests: a `vitlens serve` process, a headless chromium, and a
page that records every console error, page error and failed request (a test fails on any of them)."""
import os
import re
import subprocess
import threading

import pytest
from playwright.sync_api import sync_playwright
from waiting import wait_js

URL_LINE = re.compile(r"^ViTLens explorer: (http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]+)$")
ARTIFACTS = os.environ.get("VITLENS_BROWSER_ARTIFACTS", ".build/browser-artifacts")


def _required(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the browser tests through tests/browser/run.sh")
    return value


@pytest.fixture(scope="session")
def server_url():
    """Starts `vitlens serve` on a free loopback port, yields the printed URL, stops the server."""
    if os.environ.get("VITLENS_BROWSER_URL"):  # an already running server (development)
        yield os.environ["VITLENS_BROWSER_URL"]
        return
    command = [_required("VITLENS_BIN"), "serve", "--model", _required("VITLENS_BROWSER_DINOV2"),
               "--model", _required("VITLENS_BROWSER_MINILM"), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=120)
    line = first[0].rstrip("\n") if first else ""
    match = URL_LINE.match(line)
    if not match:
        process.kill()
        _, err = process.communicate(timeout=10)
        pytest.fail(f"vitlens serve did not print its URL as its first line; got {line!r}; stderr: {err[-2000:]}")
    # Keep draining both pipes so the server never blocks on a full pipe.
    for stream in (process.stdout, process.stderr):
        threading.Thread(target=lambda s=stream: [None for _ in s], daemon=True).start()
    yield match.group(1)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=os.environ.get("VITLENS_CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
        yield b
        b.close()


class Problems:
    """Console errors, page errors and failed requests seen by a page; `allow` expects some."""

    def __init__(self):
        self.seen = []
        self.allowed = []

    def allow(self, pattern):
        self.allowed.append(re.compile(pattern))

    def add(self, text):
        self.seen.append(text)

    def unexpected(self):
        return [t for t in self.seen if not any(a.search(t) for a in self.allowed)]


@pytest.fixture
def page(browser, server_url):
    """A fresh page on the explorer; fails the test on any console error or failed request."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    problems = Problems()
    pg.on("console", lambda m: problems.add(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.add(f"page error: {e}"))
    pg.on("requestfailed", lambda r: problems.add(f"request failed: {r.url} {r.failure}"))
    pg.on("response", lambda r: problems.add(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    pg.problems = problems
    pg.goto(server_url)
    wait_js(pg, "() => document.body.dataset.ready === '1'", timeout=30000)
    yield pg
    unexpected = problems.unexpected()
    context.close()
    assert not unexpected, "\n".join(unexpected)


@pytest.fixture(scope="session")
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS
