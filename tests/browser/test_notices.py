"""Notices on paper and the app on the phone, in Chromium.

Each print view, at A4 with print media emulated: no navigation or button shows, the PDF is
one page, the screenshot (kept under test-artifacts/screenshots/) looks like a notice, and
the QR code read from the screenshot — the pixels a phone camera would see — opens the
page printed on a phone. The service worker stores only allow-listed URLs and shows the
offline page when the network is gone."""
from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from civic import clock
from civic.demo import DEMO_PASSWORD
from civic.extensions import db
from tests.browser.conftest import PHONE, shot
from tests.browser.test_journeys import login
from tests.notices.qr import decode_image

#: the printable area of A4 with 18 mm margins, in CSS pixels (96 per inch)
A4_AREA = {"width": 658, "height": 985}


@pytest.fixture
def town(live_app):
    """The demo community, its ballot counted (a provisional result to print), and the public
    address set to the live server's, so the printed codes open on the test's phone."""
    from civic.ballots import operations as ballot_ops
    from civic.ballots.models import Ballot
    from civic.consultation.models import Consultation, Round, RoundState
    from civic.decisions.models import Decision, DecisionState
    from civic.issues.models import Issue, IssueState
    base = live_app.config["LIVE_URL"]
    live_app.config["PUBLIC_BASE_URL"] = base
    assert live_app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with live_app.test_request_context("/", method="POST"):
        b = db.session.scalar(select(Ballot))
        clock.freeze(b.closes_at + timedelta(minutes=1))
        assert ballot_ops.run_due()["counted"] == 1
        db.session.commit()
        d = db.session.scalar(select(Decision).where(Decision.state == DecisionState.PUBLICITY))
        rnd = db.session.scalar(select(Round).where(Round.state == RoundState.OPEN))
        issue = db.session.scalar(select(Issue).where(Issue.state == IssueState.COLLECTING)
                                  .order_by(Issue.number))
        decided = db.session.get(Issue, d.issue_id).number
        meeting = db.session.get(Issue, db.session.get(Consultation, rnd.consultation_id).issue_id)
        c = "/c/huayuan"
        out = {
            # name: (print view, page it prints, short code, title, must fit on one page)
            "decision": (f"{c}/issues/{decided}/decisions/{d.version}/print",
                         f"{c}/issues/{decided}/decisions/{d.version}", f"d{d.id}", d.title, True),
            "ballot": (f"{c}/ballots/{b.number}/notice/print", f"{c}/ballots/{b.number}",
                       f"b{b.id}", b.title, False),
            "ballot-result": (f"{c}/ballots/{b.number}/result/print", f"{c}/ballots/{b.number}",
                              f"b{b.id}", b.title, False),
            "round": (f"{c}/issues/{meeting.number}/rounds/{rnd.number}/print",
                      f"{c}/issues/{meeting.number}/rounds/{rnd.number}", f"r{rnd.id}",
                      meeting.title, False),
            "poster": (f"{c}/issues/{issue.number}/poster", f"{c}/issues/{issue.number}/",
                       f"i{issue.id}", issue.title, True),
        }
        db.session.remove()
    yield base, out
    clock.freeze(None)


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_each_notice_prints_on_a4_and_its_code_opens_the_page_on_a_phone(town, browser, phone):
    base, views = town
    ctx = browser.new_context(viewport=A4_AREA, locale="zh-CN")
    try:
        page = ctx.new_page()
        for name, (path, target, code, title, one_page) in views.items():
            page.emulate_media(media="screen")
            assert page.goto(base + path).status == 200, path
            # on screen: a way back and a print button (JavaScript on)
            assert page.locator(".tools a").is_visible()
            assert page.locator("[data-print]").is_visible()

            page.emulate_media(media="print")
            assert not page.locator(".tools").is_visible(), name
            assert page.locator("nav:visible, button:visible, form:visible").count() == 0, name
            for text in ("花园小区", title, "扫码查看详情"):
                assert page.get_by_text(text, exact=False).first.is_visible(), (name, text)
            assert page.locator("svg.qr").is_visible()
            shot(page, f"notice-{name}-a4-print")
            pdf = page.pdf(format="A4", print_background=True)
            pages = _pdf_pages(pdf)
            assert pages == 1 if one_page else 1 <= pages <= 2, (name, pages)

            # the code as printed, read from the pixels
            png = page.locator("svg.qr").screenshot()
            url = decode_image(Image.open(BytesIO(png)))
            assert url == f"{base}/s/{code}", (name, url)

            mobile = phone()
            assert mobile.goto(url).status == 200
            assert urlsplit(mobile.url).path == target, (name, mobile.url)
            assert title in mobile.content()
            if name in ("decision", "poster"):
                shot(mobile, f"notice-{name}-scanned-on-phone")
    finally:
        ctx.close()


def test_notices_on_a_phone_screen_are_accessible(town, phone):
    """axe (WCAG 2.1 AA), language and no horizontal scrolling at 360 px, as for every page."""
    from tests.browser.test_accessibility import check_page
    base, views = town
    page = phone()
    problems = []
    for name, (path, *_rest) in views.items():
        page.goto(base + path)
        problems += check_page(page, f"notice-{name}")
        shot(page, f"notice-{name}-phone-screen")
    page.goto(base + "/offline")
    problems += check_page(page, "offline")
    assert not problems, "\n".join(problems)


ALLOWED = re.compile(r"^/(offline|static/[\w./-]+)$")


def test_the_service_worker_stores_only_static_assets_and_the_offline_page(town, browser):
    base, views = town
    ctx = browser.new_context(**PHONE)
    try:
        page = ctx.new_page()
        login(page, base, "13800000005", DEMO_PASSWORD)
        assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
        # every kind of page, again now that the worker controls them: forms with CSRF
        # tokens, the account, notifications, a draft, a print view, an uploaded photo
        paths = ["/c/huayuan/", "/c/huayuan/issues/new", "/account", "/notifications/",
                 "/c/huayuan/issues/", views["poster"][1], views["poster"][0], "/join",
                 "/c/huayuan/issues/?q=%E8%B7%AF", "/manifest.webmanifest", "/offline"]
        for path in paths:
            page.goto(base + path)
        assert page.evaluate("!!navigator.serviceWorker.controller")
        page.evaluate("fetch('/c/huayuan/issues/', {method: 'GET'}).then(r => r.text())")
        stored = page.evaluate("""async () => {
            const out = [];
            for (const name of await caches.keys()) {
                const cache = await caches.open(name);
                for (const req of await cache.keys()) out.push(req.url);
            }
            return out;
        }""")
        paths_stored = {urlsplit(u).path + (("?" + urlsplit(u).query) if urlsplit(u).query
                                            else "") for u in stored}
        assert "/offline" in paths_stored and "/static/css/civic.css" in paths_stored
        assert "/static/css/print.css" in paths_stored   # fetched by the print view
        for u in stored:
            assert u.startswith(base + "/"), u
            assert ALLOWED.match(urlsplit(u).path) and not urlsplit(u).query, u

        # no network: a page the worker never stored gives the friendly offline page
        ctx.set_offline(True)
        page.goto(base + "/c/huayuan/decisions/")
        assert "当前网络不可用" in page.content()
        shot(page, "offline-page")
        ctx.set_offline(False)
    finally:
        ctx.close()


def test_the_allow_list_rule(live_app, browser):
    """cacheable() of sw.js itself, run in Chromium, on URLs in and out of the list."""
    base = live_app.config["LIVE_URL"]
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        source = page.request.get(base + "/sw.js").text()
        page.goto("about:blank")
        cases = [
            ("/static/css/civic.css", "GET", True), ("/static/js/htmx.min.js", "GET", True),
            ("/static/icons/icon-192.png", "GET", True), ("/offline", "GET", True),
            ("/static/css/civic.css", "POST", False), ("/offline", "POST", False),
            ("/static/css/civic.css?v=2", "GET", False), ("/offline?x=1", "GET", False),
            ("/", "GET", False), ("/account", "GET", False), ("/c/huayuan/", "GET", False),
            ("/c/huayuan/issues/new", "GET", False), ("/notifications/", "GET", False),
            ("/c/huayuan/issues/1/photos/abc.jpg", "GET", False), ("/sw.js", "GET", False),
            ("/manifest.webmanifest", "GET", False), ("/s/i1", "GET", False),
            ("/static/../account", "GET", False), ("/static/%2e%2e/account", "GET", False),
            ("/staticx/a.css", "GET", False), ("/offline/x", "GET", False),
            ("https://cdn.example.com/static/a.css", "GET", False),
            ("//evil.example/static/a.css", "GET", False),
        ]
        got = page.evaluate("""([src, origin, cases]) => {
            const stub = {addEventListener() {}, location: {origin}};
            const cacheable = new Function("self", src + "; return cacheable;")(stub);
            return cases.map(([url, method]) => cacheable(url, method, origin));
        }""", [source, base, [[base + u if u.startswith("/") and not u.startswith("//")
                               else (u if "://" in u else "http:" + u), m]
                              for u, m, _ in cases]])
        assert got == [want for *_, want in cases], list(zip(cases, got))
    finally:
        ctx.close()
