"""Rotating the secret key: with the old key among SECRET_KEY_FALLBACKS, people stay signed in
across the change; without it, every old session is void."""
from __future__ import annotations

from civic import create_app
from tests.conftest import PASSWORD, _config


def _signed_in(app, cookie: str) -> bool:
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client.get("/account").status_code == 200


def test_sessions_survive_a_rotation_only_with_the_old_key_as_fallback(app, make, tmp_path,
                                                                       monkeypatch, db_url):
    user = make.user()
    client = app.test_client()
    assert client.post("/login", data={"phone": user.phone, "password": PASSWORD}
                       ).status_code == 303
    cookie = client.get_cookie("session").value
    assert _signed_in(app, cookie)

    new_key = {**_config(db_url, tmp_path), "SECRET_KEY": "rotated-secret"}
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "test-secret")
    assert _signed_in(create_app(new_key), cookie)
    monkeypatch.delenv("SECRET_KEY_FALLBACKS")
    assert not _signed_in(create_app(new_key), cookie)
