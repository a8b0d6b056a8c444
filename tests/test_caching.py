"""Conditional GET on HTML pages: anonymous, session-free pages are public for a short while
and stale-while-revalidate, and answer 304 to a matching ETag; personal pages are private."""
from __future__ import annotations

import pytest


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
