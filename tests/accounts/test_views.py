"""Account pages: register, log in/out, profile, password, language, throttling."""
import re

import pytest

from civic.accounts.models import User
from civic.extensions import db
from tests.conftest import PASSWORD


def test_register_then_login(client):
    resp = client.post("/register", data={"phone": "139 1234 5678", "password": PASSWORD,
                                          "confirm": PASSWORD, "display_name": "小王"})
    assert resp.status_code == 303 and "/login" in resp.headers["Location"]
    resp = client.post("/login", data={"phone": "13912345678", "password": PASSWORD})
    assert resp.status_code == 303
    assert "我的" in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_register_same_answer_for_existing_number(app, make):
    make.user(phone="13912345678")
    c1, c2 = app.test_client(), app.test_client()
    new = c1.post("/register", data={"phone": "13900001111", "password": PASSWORD,
                                     "confirm": PASSWORD})
    existing = c2.post("/register", data={"phone": "13912345678", "password": PASSWORD,
                                          "confirm": PASSWORD})
    assert new.status_code == existing.status_code == 303
    assert new.headers["Location"] == existing.headers["Location"]
    a = c1.get(new.headers["Location"]).get_data(as_text=True)
    b = c2.get(existing.headers["Location"]).get_data(as_text=True)
    def strip(html):
        return re.sub(r'(csrf_token" value=|X-CSRFToken": )"[^"]*"', "", html)
    assert strip(a) == strip(b)


@pytest.mark.parametrize("data,message", [
    ({"phone": "1234", "password": PASSWORD, "confirm": PASSWORD}, "有效的中国大陆手机号"),
    ({"phone": "13912345678", "password": "12345678", "confirm": "12345678"}, "太常见"),
    ({"phone": "13912345678", "password": "abc", "confirm": "abc"}, "至少需要 8 个字符"),
    ({"phone": "13912345678", "password": PASSWORD, "confirm": PASSWORD + "x"}, "两次输入的密码不一致"),
    ({"phone": "", "password": PASSWORD, "confirm": PASSWORD}, "请填写此项"),
])
def test_register_bad_input_rerenders_with_values(client, data, message):
    resp = client.post("/register", data={**data, "display_name": "老李"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert message in html
    assert 'value="老李"' in html
    if data["phone"]:
        assert f'value="{data["phone"]}"' in html
    with client.application.app_context():
        assert db.session.query(User).count() == 0


def test_login_same_message_for_unknown_number_and_wrong_password(client, make):
    make.user(phone="13912345678")
    a = client.post("/login", data={"phone": "13912345678", "password": "Wrong-Pass-123"})
    b = client.post("/login", data={"phone": "13955555555", "password": "Wrong-Pass-123"})
    assert a.status_code == b.status_code == 400
    assert "手机号或密码不正确" in a.get_data(as_text=True)
    assert "手机号或密码不正确" in b.get_data(as_text=True)


def test_logout_rotates_token_so_old_cookie_stops_working(app, make):
    user = make.user()
    c1 = app.test_client()
    c1.post("/login", data={"phone": user.phone, "password": PASSWORD})
    cookie = c1.get_cookie("session")
    assert c1.get("/account").status_code == 200
    # the same cookie replayed from another client after logout is refused
    c1.post("/logout")
    c2 = app.test_client()
    c2.set_cookie("session", cookie.value)
    resp = c2.get("/account")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_password_change_logs_out_other_devices(app, make):
    user = make.user()
    phone_a, phone_b = app.test_client(), app.test_client()
    for c in (phone_a, phone_b):
        c.post("/login", data={"phone": user.phone, "password": PASSWORD})
    resp = phone_a.post("/account/password", data={
        "current": PASSWORD, "new": "Brand-New-Pass-7", "confirm": "Brand-New-Pass-7"})
    assert resp.status_code == 303
    assert phone_a.get("/account").status_code == 200       # this device continues
    assert phone_b.get("/account").status_code == 302       # the other is logged out


def test_profile_update_and_language(client, make, auth):
    user = make.user()
    auth.login(user)
    resp = client.post("/account", data={"display_name": "<b>老王</b>", "show_name": "y",
                                         "locale": "en"})
    assert resp.status_code == 303
    html = client.get("/account").get_data(as_text=True)
    assert "&lt;b&gt;老王&lt;/b&gt;" in html and "<b>老王</b>" not in html
    with client.application.app_context():
        u = db.session.get(User, user.id)
        assert u.show_name and u.locale == "en"


def test_anonymous_language_switch(client):
    resp = client.post("/locale", data={"lang": "en", "next": "/register"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/register"
    html = client.get("/register").get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Register" in html


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example",
                                    "javascript:alert(1)", "http:/evil.example"])
def test_login_next_only_local(client, make, target):
    user = make.user()
    resp = client.post("/login?next=" + target, data={"phone": user.phone, "password": PASSWORD})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/"


def test_login_next_local_path_kept(client, make):
    user = make.user()
    resp = client.post("/login?next=/account", data={"phone": user.phone, "password": PASSWORD})
    assert resp.headers["Location"] == "/account"


def test_login_throttled_per_account(client, make):
    user = make.user()
    codes = [client.post("/login", data={"phone": user.phone, "password": f"bad-{i}-password"},
                         environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
             for i in range(12)]
    assert codes[:10] == [400] * 10 and codes[10:] == [429, 429]
    # the right password does not get through while throttled either
    assert client.post("/login", data={"phone": user.phone, "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code == 429


def test_login_throttled_per_ip_and_forwarded_for_does_not_help(client):
    codes = [client.post("/login", data={"phone": f"1390000{i:04d}", "password": "bad-password-x"},
                         headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in range(32)]
    assert codes[:30] == [400] * 30 and codes[30:] == [429, 429]


def test_successful_logins_are_not_counted(client, make):
    user = make.user()
    for _ in range(12):
        assert client.post("/login", data={"phone": user.phone, "password": PASSWORD}).status_code == 303
        client.post("/logout")


def test_staff_get_no_remember_cookie(client, make, auth):
    c = make.community()
    staff = make.staff(c, "moderator")
    resident = make.resident(c)
    resp = client.post("/login", data={"phone": resident.phone, "password": PASSWORD, "remember": "y"})
    assert "remember_token" in resp.headers.get("Set-Cookie", "") or any(
        "remember_token" in h for h in resp.headers.getlist("Set-Cookie"))
    client.post("/logout")
    resp = client.post("/login", data={"phone": staff.phone, "password": PASSWORD, "remember": "y"})
    assert not any("remember_token=" in h and "Expires=Thu, 01 Jan 1970" not in h
                   for h in resp.headers.getlist("Set-Cookie"))


def test_pages_require_login(client):
    for path in ("/account", "/account/password"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/logout").status_code == 405
