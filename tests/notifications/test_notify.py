"""notify(): in-app rows for everyone, immediate mails for those who asked — in a bounded
number of statements — and user data escaped in mail and page alike."""
import pytest

from civic.accounts.models import User
from civic.extensions import db
from civic.notifications.messages import sentence
from civic.notifications.models import EmailMode, Notification, NotificationSetting, OutboxEmail
from civic.notifications.operations import notify

XSS = "<script>alert(1)</script>"


def _users(app, n, *, prefix):
    """n users in one go; every third asks for immediate mail, every third for a digest,
    and one reads English."""
    with app.app_context():
        users = [User(phone=f"{prefix}{i:08d}", password_hash="x",
                      locale="en" if i == 0 else "zh_CN") for i in range(n)]
        db.session.add_all(users)
        db.session.flush()
        modes = [EmailMode.IMMEDIATE, EmailMode.DAILY, EmailMode.OFF]
        db.session.add_all([NotificationSetting(user_id=u.id, email=f"r{prefix}{i}@example.com",
                                                mode=modes[i % 3]) for i, u in enumerate(users)])
        db.session.commit()
        return [u.id for u in users]


@pytest.mark.parametrize("n", [3, 300])
def test_fan_out_is_bounded(app, count_queries, n):
    ids = _users(app, n, prefix="136")
    with app.test_request_context("/", method="POST"):
        with count_queries() as q:
            assert notify(ids, "issue.threshold", community_id=None, link="/c/x/issues/1",
                          number=1, title="电梯") == n
        db.session.commit()
        assert db.session.query(Notification).count() == n
        assert db.session.query(OutboxEmail).count() == len(range(0, n, 3))
    # INSERT notifications, SELECT settings, INSERT outbox — for 3 as for 300.
    assert q.count == 3, q.statements


def test_fan_out_same_statement_count_for_3_and_300(app, count_queries):
    counts = []
    for n, prefix in ((3, "135"), (300, "134")):
        ids = _users(app, n, prefix=prefix)
        with app.test_request_context("/", method="POST"):
            with count_queries() as q:
                notify(ids, "issue.threshold", community_id=None, number=1, title="电梯")
            db.session.commit()
        counts.append(q.count)
    assert counts[0] == counts[1]


def test_no_settings_no_mail_and_one_statement_less(app, make, count_queries):
    users = [make.user() for _ in range(3)]
    with app.test_request_context("/", method="POST"):
        with count_queries() as q:
            notify([u.id for u in users] * 2, "issue.expired", community_id=None, number=2,
                   title="x")
        db.session.commit()
        assert db.session.query(Notification).count() == 3
        assert db.session.query(OutboxEmail).count() == 0
    assert q.count == 2


def test_deleted_and_off_users_get_no_mail(app, make, set_email, outbox):
    from civic import clock
    gone, off, daily, keen = make.user(), make.user(), make.user(), make.user()
    for u, mode in ((gone, "immediate"), (off, "off"), (daily, "daily"), (keen, "immediate")):
        set_email(u, f"{u.pseudonym}@example.com", mode=mode)
    with app.app_context():
        db.session.get(User, gone.id).deleted_at = clock.now()
        db.session.commit()
    with app.test_request_context("/", method="POST"):
        notify([gone.id, off.id, daily.id, keen.id], "issue.expired", community_id=None,
               number=2, title="x")
        db.session.commit()
    assert [m.user_id for m in outbox()] == [keen.id]


def test_title_is_escaped_in_mail_and_centre(app, client, auth, make, set_email, outbox):
    user = make.user()
    set_email(user, "x@example.com")
    with app.test_request_context("/", method="POST"):
        notify([user.id], "issue.threshold", community_id=None, link="/c/x/issues/4",
               number=4, title=XSS)
        db.session.commit()
    [mail] = outbox()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.body_html
    assert "<script" not in mail.body_html
    # The plain-text part is text/plain: the title as written, nothing to interpret.
    assert XSS in mail.body_text
    auth.login(user)
    html = client.get("/notifications/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS not in html


@pytest.mark.parametrize("kind, params", [
    ("issue.response", {"number": 1, "title": "t", "body": '<img src=x onerror="alert(1)">'}),
    ("content.hidden", {"what": "意见", "reason": "<b>广告</b>"}),
    ("membership.suspended", {"community": "<i>花园</i>小区"}),
])
def test_every_param_is_escaped_in_html(app, make, set_email, outbox, kind, params):
    user = make.user()
    set_email(user, "y@example.com")
    with app.test_request_context("/", method="POST"):
        notify([user.id], kind, community_id=None, **params)
        db.session.commit()
    [mail] = outbox()
    for value in params.values():
        if isinstance(value, str) and "<" in value:
            assert value not in mail.body_html
            assert value.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") \
                in mail.body_html


@pytest.mark.parametrize("link", ["javascript:alert(1)", "//evil.example/x",
                                  "https://evil.example/"])
def test_only_local_links_become_mail_links(app, make, set_email, outbox, link):
    app.config["PUBLIC_BASE_URL"] = "https://civic.example.org"
    user = make.user()
    set_email(user, "z@example.com")
    with app.test_request_context("/", method="POST"):
        notify([user.id], "issue.expired", community_id=None, link=link, number=1, title="t")
        db.session.commit()
    [mail] = outbox()
    assert "evil" not in mail.body_html and "javascript" not in mail.body_html
    assert "evil" not in mail.body_text and "javascript" not in mail.body_text
    assert "https://civic.example.org/notifications/settings" in mail.body_html


def test_mail_in_the_readers_language(app, make, set_email, outbox):
    en, zh = make.user(locale="en"), make.user()
    set_email(en, "en@example.com")
    set_email(zh, "zh@example.com")
    with app.test_request_context("/", method="POST"):
        notify([en.id, zh.id], "issue.expired", community_id=None, number=1, title="t")
        db.session.commit()
    by_user = {m.user_id: m for m in outbox()}
    assert 'lang="en"' in by_user[en.id].body_html
    assert 'lang="zh-CN"' in by_user[zh.id].body_html


def test_subject_is_one_short_line(app, make, set_email, outbox):
    user = make.user()
    set_email(user, "s@example.com")
    with app.test_request_context("/", method="POST"):
        notify([user.id], "issue.threshold", community_id=None, number=1,
               title="第一行\r\nBcc: victim@example.com " + "长" * 300)
        db.session.commit()
    [mail] = outbox()
    assert "\n" not in mail.subject and "\r" not in mail.subject and len(mail.subject) <= 200


NEW_KINDS = {
    "issue.accepted": ({"number": 7, "title": "电梯", "lead": "物业"}, ["#7", "电梯", "物业"]),
    "issue.declined": ({"number": 7, "title": "电梯"}, ["#7", "电梯", "未被受理"]),
    "issue.merged": ({"number": 7, "title": "电梯", "target": 3}, ["#7", "电梯", "#3"]),
    "issue.referred": ({"number": 7, "title": "电梯", "office": "街道城管科"}, ["#7", "街道城管科"]),
    "issue.response": ({"number": 7, "title": "电梯", "body": "业委会"}, ["#7", "业委会", "答复"]),
    "clock.due_soon": ({"number": 7, "title": "电梯", "what": "受理", "hours": 12},
                       ["#7", "受理", "12 小时"]),
    "clock.overdue": ({"number": 7, "title": "电梯", "what": "答复"}, ["#7", "答复", "超过"]),
    "content.hidden": ({"what": "意见", "reason": "含有广告"}, ["意见", "隐藏", "含有广告"]),
    "content.restored": ({"what": "议题"}, ["议题", "恢复"]),
    "membership.suspended": ({"community": "花园小区"}, ["花园小区", "暂停"]),
    "issue.threshold": ({"number": 7, "title": "电梯"}, ["#7", "联署已达标"]),
    "issue.milestone": ({"number": 7, "title": "电梯", "percent": 50}, ["50%"]),
    "issue.expired": ({"number": 7, "title": "电梯"}, ["征集期结束"]),
}


@pytest.mark.parametrize("kind", sorted(NEW_KINDS))
def test_messages_for_every_kind(app, kind):
    params, expected = NEW_KINDS[kind]
    with app.test_request_context("/"):
        text = sentence(kind, params)
        assert text != kind
        for part in expected:
            assert part in text
        # A missing parameter falls back to the kind instead of failing.
        assert sentence(kind, {}) == kind
