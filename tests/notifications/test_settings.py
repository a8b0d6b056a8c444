"""The e-mail settings page: validation, re-render with values, one's own settings only."""
import re
from datetime import datetime, timezone

import pytest

from civic import clock
from civic.extensions import db
from civic.notifications.models import EmailMode, NotificationSetting, OutboxEmail
from civic.notifications.operations import notify

URL = "/notifications/settings"


def _checked(html: str) -> list[str]:
    return re.findall(r'<input checked[^>]* name="mode" type="radio" value="(\w+)"', html)


def _setting(app, user):
    with app.app_context():
        s = db.session.get(NotificationSetting, user.id)
        return None if s is None else (s.email, s.mode, s.last_digest_at)


def test_login_required(client):
    resp = client.get(URL)
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]
    assert client.post(URL, data={"email": "a@example.com", "mode": "immediate"}).status_code \
        in (302, 303)


def test_page_linked_from_centre_and_defaults_to_off(client, auth, make):
    auth.login(make.user())
    assert 'href="/notifications/settings"' in client.get("/notifications/").get_data(as_text=True)
    html = client.get(URL).get_data(as_text=True)
    assert "立即发送" in html and "每日摘要" in html and "不发送邮件" in html
    assert _checked(html) == ["off"]


def test_save_immediate(app, client, auth, make):
    user = make.user()
    auth.login(user)
    resp = client.post(URL, data={"email": "  zhang@example.com ", "mode": "immediate"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(URL)
    assert _setting(app, user) == ("zhang@example.com", EmailMode.IMMEDIATE, None)
    html = client.get(URL).get_data(as_text=True)
    assert 'value="zhang@example.com"' in html and _checked(html) == ["immediate"]
    assert "通知设置已保存" in html


def test_save_htmx(app, client, auth, make):
    user = make.user()
    auth.login(user)
    resp = client.post(URL, data={"email": "h@example.com", "mode": "off"},
                       headers={"HX-Request": "true"})
    assert resp.status_code == 204 and resp.headers["HX-Location"].endswith(URL)
    assert _setting(app, user) == ("h@example.com", EmailMode.OFF, None)


def test_daily_starts_counting_now(app, client, auth, make):
    at = datetime(2026, 7, 1, 3, 0, tzinfo=timezone.utc)
    clock.freeze(at)
    user = make.user()
    auth.login(user)
    client.post(URL, data={"email": "d@example.com", "mode": "daily"})
    assert _setting(app, user) == ("d@example.com", EmailMode.DAILY, at)


@pytest.mark.parametrize("address", ["not-an-address", "a@b", "a b@example.com",
                                     "<script>@x.com", "王@example.com", "x@" + "a" * 260 + ".com"])
def test_bad_address_rerenders_with_value(app, client, auth, make, address):
    user = make.user()
    auth.login(user)
    resp = client.post(URL, data={"email": address, "mode": "immediate"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "请输入有效的邮箱地址" in html
    if "<" in address:
        assert "&lt;script&gt;@x.com" in html and "<script>@x.com" not in html
    else:
        assert f'value="{address}"' in html
    assert _checked(html) == ["immediate"]
    assert _setting(app, user) is None


def test_mail_without_address_refused(app, client, auth, make):
    user = make.user()
    auth.login(user)
    for mode in ("immediate", "daily"):
        resp = client.post(URL, data={"email": "", "mode": mode})
        assert resp.status_code == 400
        assert "请先填写邮箱地址" in resp.get_data(as_text=True)
    assert _setting(app, user) is None


def test_unknown_mode_refused(app, client, auth, make):
    user = make.user()
    auth.login(user)
    resp = client.post(URL, data={"email": "a@example.com", "mode": "hourly"})
    assert resp.status_code == 400 and 'id="mode-err"' in resp.get_data(as_text=True)
    assert _setting(app, user) is None


def test_turning_off_drops_unsent_mails(app, client, auth, make, set_email, outbox):
    user, other = make.user(), make.user()
    set_email(user, "old@example.com")
    set_email(other, "other@example.com")
    with app.test_request_context("/", method="POST"):
        notify([user.id, other.id], "issue.expired", community_id=None, number=1, title="t")
        db.session.commit()
    auth.login(user)
    client.post(URL, data={"email": "new@example.com", "mode": "immediate"})
    # The mail queued for the old address is not sent there any more; the neighbour's stays.
    assert [m.to_address for m in outbox()] == ["other@example.com"]
    client.post(URL, data={"email": "", "mode": "off"})
    assert _setting(app, user) == (None, EmailMode.OFF, None)


def test_only_ones_own_settings(app, client, auth, make, set_email):
    """The form has no user field, and one sent anyway is ignored."""
    me, neighbour = make.user(), make.user()
    set_email(neighbour, "neighbour@example.com")
    auth.login(me)
    html = client.get(URL).get_data(as_text=True)
    assert "neighbour@example.com" not in html
    client.post(URL, data={"email": "me@example.com", "mode": "daily", "user_id": neighbour.id})
    assert _setting(app, neighbour)[0:2] == ("neighbour@example.com", EmailMode.IMMEDIATE)
    assert _setting(app, me)[0:2] == ("me@example.com", EmailMode.DAILY)


def test_database_refuses_mail_mode_without_address(app, make):
    from sqlalchemy.exc import IntegrityError
    user = make.user()
    with app.app_context():
        db.session.add(NotificationSetting(user_id=user.id, email=None, mode=EmailMode.DAILY))
        with pytest.raises(IntegrityError):
            db.session.commit()


def test_another_users_notifications_never_appear(app, client, auth, make):
    me, other = make.user(), make.user()
    with app.test_request_context("/", method="POST"):
        notify([other.id], "issue.threshold", community_id=None, number=5, title="别人的议题")
        notify([me.id], "issue.threshold", community_id=None, number=6, title="我的议题")
        db.session.commit()
        assert db.session.query(OutboxEmail).count() == 0
    auth.login(me)
    html = client.get("/notifications/").get_data(as_text=True)
    assert "我的议题" in html and "别人的议题" not in html


def test_forget_drops_address_and_unsent_mails(app, make, set_email, outbox):
    """For account deletion: no address kept, nothing left to send."""
    from civic.notifications.operations import forget
    user, other = make.user(), make.user()
    set_email(user, "bye@example.com")
    set_email(other, "stay@example.com")
    with app.test_request_context("/", method="POST"):
        notify([user.id, other.id], "issue.expired", community_id=None, number=1, title="t")
        forget(user.id)
        db.session.commit()
    assert _setting(app, user) is None
    assert [m.to_address for m in outbox()] == ["stay@example.com"]
