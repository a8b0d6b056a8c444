"""Real-browser tests: the app served on 127.0.0.1 (CSRF on, as in production), driven by
Debian's Chromium through Playwright at phone size, with JavaScript on or off."""
from __future__ import annotations

import atexit
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from civic import create_app
from civic.extensions import db, limiter

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
         "locale": "zh-CN", "device_scale_factor": 1}
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def live_app(db_url, tmp_path):
    os.environ["CIVIC_INSTANCE"] = str(tmp_path / "instance")
    app = create_app({"SECRET_KEY": "browser-test", "SQLALCHEMY_DATABASE_URI": db_url,
                      "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        limiter._storage_dead = False
        limiter.reset()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


#: one Playwright and one Chromium per test process. Modules elsewhere import the fixture
#: below, which makes pytest hold one fixture instance per importing module; a second
#: sync_playwright() in the same thread fails ("Sync API inside the asyncio loop"), so every
#: instance hands out the same browser, stopped when the process exits.
_SHARED: dict = {}


def _stop_shared() -> None:
    b, p = _SHARED.pop("browser", None), _SHARED.pop("playwright", None)
    if b is not None:
        b.close()
    if p is not None:
        p.stop()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium "
                    "(.ci/run does it with apt-get)")
    if "browser" not in _SHARED:
        from playwright.sync_api import sync_playwright
        _SHARED["playwright"] = sync_playwright().start()
        _SHARED["browser"] = _SHARED["playwright"].chromium.launch(executable_path=CHROMIUM,
                                                                   args=ARGS)
        atexit.register(_stop_shared)
    yield _SHARED["browser"]


@pytest.fixture
def phone(browser):
    """phone(js=True) → a new page in its own phone-sized context."""
    contexts = []

    def open_page(js: bool = True):
        ctx = browser.new_context(java_script_enabled=js, **PHONE)
        ctx.set_default_timeout(15000)
        contexts.append(ctx)
        return ctx.new_page()
    yield open_page
    for ctx in contexts:
        ctx.close()


def shot(page, name: str) -> None:
    """Keep a screenshot for people to look at (test-artifacts/ is git-ignored)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_horizontal_scroll(page) -> bool:
    # clientWidth, not innerWidth: a mobile browser widens its layout viewport (and
    # innerWidth) to fit content that overflows, which would hide the very overflow sought.
    return page.evaluate("document.documentElement.scrollWidth"
                         " <= document.documentElement.clientWidth + 1")
