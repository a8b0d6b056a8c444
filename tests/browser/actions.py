"""Steps shared by the longer phone journeys: submit a form and wait for the answer, the
same way with JavaScript on (htmx swaps, HX-Location) and off (a full page load)."""
from __future__ import annotations

import time

from playwright.sync_api import Error as PlaywrightError

from civic.extensions import db

STALE = "s => { const el = document.querySelector(s); if (el) el.dataset.stale = '1'; }"
FRESH = "s => { const el = document.querySelector(s); return !!el && !el.dataset.stale; }"


def submit(page, button: str, replaced: str = "main") -> str:
    """Click `button` and wait until the element `replaced` is a new one: after a page load
    (JavaScript off, or a plain form), after htmx swapped the body (HX-Location) or after it
    swapped that element alone (a fragment). Returns the text of `main` then."""
    page.evaluate(STALE, replaced)
    page.click(button)
    wait_fresh(page, replaced)
    page.wait_for_load_state()
    return page.inner_text("main")


def wait_fresh(page, replaced: str, timeout: float = 20.0) -> None:
    """Poll from Python rather than with `wait_for_function`: a full page load may tear
    down the document between two polls ("execution context was destroyed"), and a page
    that is not in front may not run animation frames. Both only delay the answer here."""
    wait_true(page, FRESH, replaced, timeout, what=f"{replaced} was not replaced")


def wait_true(page, predicate: str, arg=None, timeout: float = 20.0, what: str = "") -> None:
    """Poll `predicate`, a JavaScript function of `arg`, from Python until it returns true.
    Not `wait_for_function`: it polls an expression by `eval`, which the app's Content
    Security Policy forbids (then it fails whenever the first check is false)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(predicate, arg):
                return
        except PlaywrightError:
            pass  # navigating: the next poll asks the new document
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or predicate}: not within {timeout:.0f} s")
        time.sleep(0.05)


def ops(app):
    """Operations run as in a POST (the live app checks CSRF only on HTTP)."""
    return app.test_request_context("/", method="POST")


def read(app, fn):
    """fn() in a short app context, for values the test needs between steps."""
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()
