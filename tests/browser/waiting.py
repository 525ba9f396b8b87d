"""Polling for page state that works under the server's Content-Security-Policy (script-src 'self'):
Playwright's wait_for_function compiles its predicate with eval, which that policy forbids, while
page.evaluate runs through the debugger protocol and is allowed. The tests keep the CSP on, so they
also check that the page itself never needs eval or inline scripts."""
import time


def wait_js(page, expression, arg=None, timeout=30000):
    """Evaluates `expression` (a JS function source taking `arg`) until it returns a truthy value."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} ms waiting for: {expression} (arg {arg!r})")
        page.wait_for_timeout(40)
