"""Page weight (QUALITY.md §5): the first load of each main page — a fresh browser context,
empty cache, JavaScript on — transfers at most 60 KB (HTML + CSS + JS as the server
compresses them, headers included) in at most 8 requests, all to the app's own host, and
loads no web font. Bytes are Chromium's own count (CDP Network.loadingFinished
encodedDataLength), the figure DevTools shows as "transferred"."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import PHONE
from tests.browser.sample import build_community
from tests.browser.test_journeys import login

MAX_BYTES = 60 * 1024
MAX_REQUESTS = 8


def measure(browser, url: str, storage_state=None) -> dict:
    """Load `url` in a new context with an empty cache; what went over the wire."""
    ctx = browser.new_context(java_script_enabled=True, storage_state=storage_state, **PHONE)
    try:
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        requests: dict[str, dict] = {}

        def sent(e):
            requests.setdefault(e["requestId"], {})["url"] = e["request"]["url"]
            requests[e["requestId"]]["type"] = e.get("type", "")

        def received(e):
            r = requests.setdefault(e["requestId"], {})
            headers = {k.lower(): v for k, v in e["response"]["headers"].items()}
            r["encoding"] = headers.get("content-encoding", "")
            r["length"] = int(headers.get("content-length") or 0)
            r["mime"] = e["response"]["mimeType"]
            r["status"] = e["response"]["status"]

        def finished(e):
            requests.setdefault(e["requestId"], {})["bytes"] = int(e["encodedDataLength"])

        cdp.on("Network.requestWillBeSent", sent)
        cdp.on("Network.responseReceived", received)
        cdp.on("Network.loadingFinished", finished)
        response = page.goto(url, wait_until="networkidle")
        assert response.status == 200, (url, response.status)
        page.wait_for_timeout(100)      # let the last loadingFinished events arrive
        loaded = [r for r in requests.values() if r.get("url", "").startswith("http")]
        return {"bytes": sum(r.get("bytes", 0) for r in loaded), "requests": loaded,
                "fonts": page.evaluate("document.fonts.size")}
    finally:
        ctx.close()


@pytest.fixture
def sessions(live_app, make, make_issue, browser):
    """The sample community and a logged-in browser state for each role."""
    d = build_community(live_app, make, make_issue)
    base = live_app.config["LIVE_URL"]
    states = {}
    for role in ("resident", "moderator", "newcomer"):
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        login(page, base, d[role].phone)
        states[role] = ctx.storage_state()
        ctx.close()
    return d, states


def test_first_load_of_each_main_page_is_light(live_app, browser, sessions):
    base = live_app.config["LIVE_URL"]
    host = urlsplit(base).netloc
    d, states = sessions
    slug, n = d["c"].slug, d["n"]
    m = f"/c/{slug}/manage"
    pages = [
        ("public home", "/?all=1", None),
        ("login", "/login", None),
        ("register", "/register", None),
        ("community home (anonymous)", f"/c/{slug}/", None),
        ("community home (resident)", f"/c/{slug}/", "resident"),
        ("issue list", f"/c/{slug}/issues/", "resident"),
        ("issue page, collecting", f"/c/{slug}/issues/{n['collecting']}/", "resident"),
        ("issue page, accepted + response", f"/c/{slug}/issues/{n['accepted']}/", "resident"),
        ("issue page, declined", f"/c/{slug}/issues/{n['declined']}/", None),
        ("new issue form", f"/c/{slug}/issues/new", "resident"),
        ("account", "/account", "resident"),
        ("notifications", "/notifications/", "resident"),
        ("join", "/join", "newcomer"),
        ("precedents", f"/c/{slug}/precedents/", None),
        ("manage dashboard", f"{m}/", "moderator"),
        ("triage issue", f"{m}/triage/{n['waiting']}", "moderator"),
        ("roster building", f"{m}/roster/buildings/{d['b1'].id}", "moderator"),
        ("members", f"{m}/members", "moderator"),
        ("reports queue", f"{m}/reports", "moderator"),
    ]
    problems, lines = [], []
    for name, path, role in pages:
        got = measure(browser, base + path, states.get(role))
        reqs = got["requests"]
        lines.append(f"{name:34} {got['bytes']:>7,} B {len(reqs)} requests")
        if got["bytes"] > MAX_BYTES:
            problems.append(f"{name}: {got['bytes']} bytes > {MAX_BYTES}")
        if len(reqs) > MAX_REQUESTS:
            problems.append(f"{name}: {len(reqs)} requests > {MAX_REQUESTS}")
        for r in reqs:
            if urlsplit(r["url"]).netloc != host:
                problems.append(f"{name}: third-party request {r['url']}")
            if r.get("type") == "Font" or (r.get("mime") or "").startswith("font/"):
                problems.append(f"{name}: web font {r['url']}")
            # a body over 1 KB must be compressed (a tiny file under Flask-Compress's minimum
            # size is not, and its headers alone may pass 1 KB)
            body = r.get("length") or r.get("bytes", 0)
            if (r.get("mime") in ("text/html", "text/css", "application/javascript",
                                  "text/javascript") and body > 1024
                    and not r.get("encoding")):
                problems.append(f"{name}: {r['url']} sent uncompressed ({r['bytes']} B)")
        if got["fonts"]:
            problems.append(f"{name}: {got['fonts']} @font-face rules")
    print("\n" + "\n".join(lines))
    assert not problems, "\n".join(problems + lines)
