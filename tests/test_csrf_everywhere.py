"""CSRF on every POST: each POST route of the URL map, filled with demo objects, is posted
by a signed-in moderator (who may do the most) without a token, as a plain form and as
htmx, with CSRF protection on as in production. Every one is refused with 400 and the
database is exactly as before. (Switching the language is the one exemption for anonymous
visitors; for a signed-in user it is checked like the rest.)"""
from __future__ import annotations

import re

import pytest

from civic import create_app
from civic.demo import DEMO_PASSWORD
from civic.extensions import db
from tests.conftest import _config
from tests.test_get_is_safe import _snapshot, _urls, _values


@pytest.fixture
def protected(db_url, tmp_path, runner):
    """The suite's database with the demo, served by an app with CSRF protection on."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    app = create_app({**_config(db_url, tmp_path), "WTF_CSRF_ENABLED": True})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_every_post_without_a_token_is_refused_and_changes_nothing(protected, htmx):
    client = protected.test_client()
    login = client.post("/login", data={"phone": "13800000001", "password": DEMO_PASSWORD,
                                        "csrf_token": _token(client, "/login")})
    assert login.status_code == 303
    with protected.app_context():
        urls = _urls(protected, _values(), "POST")
        before = _snapshot()
        db.session.remove()
    assert len(urls) > 60
    headers = {"HX-Request": "true"} if htmx else {}
    for url in urls:
        resp = client.post(url, data={"text": "x", "reason": "x"}, headers=headers)
        assert resp.status_code == 400, (url, resp.status_code)
    with protected.app_context():
        assert _snapshot() == before
        db.session.remove()


def test_a_valid_token_gets_through(protected):
    """The refusals above are CSRF's: the same client with its token is served."""
    client = protected.test_client()
    assert client.post("/login", data={"phone": "13800000001", "password": DEMO_PASSWORD,
                                       "csrf_token": _token(client, "/login")}
                       ).status_code == 303
    token = _token(client, "/notifications/")
    assert client.post("/notifications/read", data={"csrf_token": token}).status_code == 303
    assert client.post("/notifications/read", headers={"X-CSRFToken": token}
                       ).status_code == 303
