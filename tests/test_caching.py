"""Conditional GET on HTML pages: anonymous, session-free pages are public for a short while
and stale-while-revalidate, and answer 304 to a matching ETag; personal pages are private."""
from __future__ import annotations

import pytest

from civic.caching import PUBLIC
from civic.extensions import db
from tests.conftest import Auth


@pytest.fixture
def page(make, make_issue):
    c = make.community()
    _id, number = make_issue(c, need=3, title="楼下垃圾桶满了")
    return f"/c/{c.slug}/issues/{number}/"


def test_an_anonymous_page_is_public_and_conditional(client, page):
    first = client.get(page)
    assert first.status_code == 200
    cc = first.headers["Cache-Control"]
    assert cc.startswith("public") and "stale-while-revalidate=" in cc
    etag = first.headers["ETag"]
    body = first.get_data(as_text=True)
    assert "csrf_token" not in body and "X-CSRFToken" not in body
    again = client.get(page, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get(page, headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_same_page_is_the_same_for_every_anonymous_visitor(app, page):
    a, b = app.test_client(), app.test_client()
    assert a.get(page).headers["ETag"] == b.get(page).headers["ETag"]


def test_a_signed_in_page_is_private(client, auth, make, page):
    """Private to the browser and revalidated on each use. (Its ETag changes every second:
    the CSRF token in it is signed with a timestamp, so it rarely earns a 304.)"""
    auth.login(make.user())
    first = client.get(page)
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "X-CSRFToken" in first.get_data(as_text=True) and first.headers["ETag"]


def test_a_page_with_a_form_token_is_private(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        resp = client.get("/login")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert 'name="csrf_token"' in resp.get_data(as_text=True)
    assert resp.headers["Cache-Control"] == "private, no-cache"


def test_anonymous_visitors_switch_language_without_a_token_and_users_need_one(app, make, page):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        anon = app.test_client()
        resp = anon.post("/locale", data={"lang": "en", "next": page})
        assert resp.status_code == 303
        assert 'lang="en"' in anon.get(page).get_data(as_text=True)
        user = make.user()
        signed = app.test_client()
        login_page = signed.get("/login").get_data(as_text=True)
        import re
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                          r'name="csrf_token" value="([^"]+)"', login_page)
        token = next(t for t in token.groups() if t)
        from tests.conftest import PASSWORD
        assert signed.post("/login", data={"phone": user.phone, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 303
        assert signed.post("/locale", data={"lang": "en", "next": page}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# --- computed once per change (civic.caching.page_cache / per_change) -----------------------

@pytest.fixture
def cached(app):
    from civic.extensions import cache
    app.config["PAGE_CACHE"] = True
    with app.app_context():
        cache.clear()
    yield cache
    app.config["PAGE_CACHE"] = False


def _fresh(app, url: str, **kw) -> str:
    """The page as rendered now, with nothing stored."""
    app.config["PAGE_CACHE"] = False
    try:
        return app.test_client().get(url, **kw).get_data(as_text=True)
    finally:
        app.config["PAGE_CACHE"] = True


def test_an_anonymous_page_is_rendered_once_per_change(app, make, make_issue, cached,
                                                       count_queries):
    c = make.community()
    _id, number = make_issue(c, need=3, title="楼下垃圾桶满了")
    page = f"/c/{c.slug}/issues/{number}/"
    anon = app.test_client()
    first = anon.get(page)
    with count_queries() as q:
        again = anon.get(page)
    assert again.get_data() == first.get_data()
    assert q.count == 1                       # the data version, nothing else
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert anon.get(page, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    # a co-sign is a change: the next anonymous visitor sees it at once
    resident = app.test_client()
    Auth(resident).login(make.resident(c))
    assert resident.post(f"/c/{c.slug}/issues/{number}/cosign").status_code == 303
    after = anon.get(page).get_data(as_text=True)
    assert after != first.get_data(as_text=True)
    assert after == _fresh(app, page)


def test_every_anonymous_page_kind_is_the_page_rendered_now(app, make, make_issue, cached):
    c = make.community()
    make_issue(c, need=3)
    anon = app.test_client()
    for url in ("/", f"/c/{c.slug}/", f"/c/{c.slug}/issues/", f"/c/{c.slug}/decisions/",
                f"/c/{c.slug}/stats"):
        anon.get(url)
        assert anon.get(url).get_data(as_text=True) == _fresh(app, url), url


def test_nothing_personal_is_stored_or_served(app, make, make_issue, cached, auth, client):
    c = make.community()
    _id, number = make_issue(c, need=3)
    page = f"/c/{c.slug}/issues/{number}/"
    anon = app.test_client()
    public = anon.get(page).get_data(as_text=True)
    user = make.resident(c)
    auth.login(user)
    mine = client.get(page)
    assert mine.headers["Cache-Control"] == "private, no-cache"
    assert mine.get_data(as_text=True) != public and "X-CSRFToken" in mine.get_data(as_text=True)
    # and what the signed-in user saw was not stored for the next anonymous visitor
    assert anon.get(page).get_data(as_text=True) == public
    # an htmx request is not answered from the store either
    assert anon.get(page, headers={"HX-Request": "true"}).headers["Cache-Control"] == \
        "private, no-cache"


def test_each_language_has_its_own_stored_page(app, make, make_issue, cached):
    c = make.community()
    _id, number = make_issue(c, need=3)
    page = f"/c/{c.slug}/issues/{number}/"
    zh = app.test_client()
    assert 'lang="zh' in zh.get(page).get_data(as_text=True)
    en = app.test_client()
    en.post("/locale", data={"lang": "en", "next": page})
    assert 'lang="en"' in en.get(page).get_data(as_text=True)
    assert 'lang="zh' in zh.get(page).get_data(as_text=True)


def test_a_flashed_message_is_not_lost_to_the_store(app, make, cached, client):
    c = make.community()
    page = f"/c/{c.slug}/"
    stored = app.test_client().get(page).get_data(as_text=True)
    with client.session_transaction() as s:
        s["_flashes"] = [("info", "已退出登录。测试")]
    flashed = client.get(page).get_data(as_text=True)
    assert "已退出登录。测试" in flashed and flashed != stored
    assert "已退出登录。测试" not in app.test_client().get(page).get_data(as_text=True)


def test_a_failing_store_only_costs_the_rendering(app, make, make_issue, cached, monkeypatch):
    c = make.community()
    _id, number = make_issue(c, need=3)
    page = f"/c/{c.slug}/issues/{number}/"

    def broken(*a, **k):
        raise ConnectionError("redis is down")
    monkeypatch.setattr(cached, "get", broken)
    monkeypatch.setattr(cached, "set", broken)
    resp = app.test_client().get(page)
    assert resp.status_code == 200 and resp.get_data(as_text=True) == _fresh(app, page)


def test_the_statistics_are_computed_once_per_change_for_signed_in_users(
        app, make, make_issue, cached, auth, client, monkeypatch):
    from civic.archive import stats
    c = make.community()
    make_issue(c, need=3)
    calls = []
    real = stats.report
    monkeypatch.setattr(stats, "report", lambda *a, **k: calls.append(1) or real(*a, **k))
    auth.login(make.resident(c))
    first = client.get(f"/c/{c.slug}/stats")
    client.get(f"/c/{c.slug}/stats")
    assert first.status_code == 200 and len(calls) == 1
    client.get(f"/c/{c.slug}/stats?year=2025")      # another question: computed
    assert len(calls) == 2
    from civic.audit import operations as audit
    with app.test_request_context("/", method="POST"):
        audit.record("test.change", actor="system", community_id=c.id)
        db.session.commit()
    client.get(f"/c/{c.slug}/stats")                 # a change: computed again
    assert len(calls) == 3


def test_no_public_page_gives_an_anonymous_visitor_a_session(app, runner, client):
    """With CSRF protection on, as in production: every page an anonymous visitor reaches
    in the demo is public and sets no cookie, so that shared caches (the nginx micro-cache)
    may keep it and the visitor's next pages stay cacheable too. Forms an anonymous visitor
    cannot use are not built for them (building one puts a CSRF token in the session)."""
    from tests.archive.test_privacy_scan import crawl
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    pages = [p for p, _text in crawl(client, ["/", "/c/huayuan/", "/audit/"]).items()]
    html = [p for p in pages if not p.endswith((".csv", ".json", ".xml", ".atom"))
            and "/api/v1" not in p]
    assert len(html) > 60
    app.config["WTF_CSRF_ENABLED"] = True
    bad = {}
    try:
        for path in html:
            resp = app.test_client().get(path)
            if resp.mimetype != "text/html":
                continue
            cookie = resp.headers.get("Set-Cookie", "")
            if resp.headers.get("Cache-Control") != PUBLIC or cookie:
                bad[path] = (resp.headers.get("Cache-Control"), cookie[:40])
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert not bad, " ".join(sorted(bad))


def test_what_changes_with_the_clock_alone_is_at_most_30_seconds_old(app, make, make_issue,
                                                                      cached):
    """No record changes when a co-sign window runs out, only the clock: a stored page is
    served for 30 seconds of the app's clock from when it was stored, even when the clock
    jumps (the frozen clock of jobs and tests)."""
    from datetime import timedelta

    from civic import clock
    c = make.community()
    _id, number = make_issue(c, need=3)
    page = f"/c/{c.slug}/issues/{number}/"
    start = clock.now()
    anon = app.test_client()
    try:
        clock.freeze(start)
        before = anon.get(page).get_data(as_text=True)
        clock.freeze(start + timedelta(days=29, hours=1))
        later = anon.get(page).get_data(as_text=True)
        assert later != before and later == _fresh(app, page)
    finally:
        clock.freeze(None)


def test_stored_pages_lapse_one_by_one_not_all_at_once(app, make, make_issue, cached,
                                                       count_queries):
    """Each page is kept 30 seconds from when it was stored: one stored 20 s after another
    is still served when the first has lapsed, so the pages of a busy site are not all
    rendered again in the same moment."""
    from datetime import datetime, timedelta, timezone

    from civic import clock
    c = make.community()
    pages = [f"/c/{c.slug}/issues/{make_issue(c, need=3)[1]}/" for _ in range(2)]
    # 25 s into a 30-second period of the clock, so the second page is stored in the next
    # one and read in the one after: whole periods would have dropped it with the first
    t0 = datetime(2026, 11, 23, 8, 0, 25, tzinfo=timezone.utc)
    assert int(t0.timestamp()) % 30 == 25
    anon = app.test_client()
    try:
        clock.freeze(t0)
        anon.get(pages[0])
        clock.freeze(t0 + timedelta(seconds=20))
        anon.get(pages[1])
        clock.freeze(t0 + timedelta(seconds=35))
        with count_queries() as second:
            anon.get(pages[1])
        with count_queries() as first:
            anon.get(pages[0])
    finally:
        clock.freeze(None)
    assert second.count == 1, second.statements      # from the store: 15 s old
    assert first.count > 1                             # rendered again: 35 s old
