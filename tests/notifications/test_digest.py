"""The daily digest: what is new since the last one, for its owner only; nothing new, no mail."""
from datetime import datetime, timedelta, timezone

from civic import clock
from civic.extensions import db
from civic.notifications.models import NotificationSetting
from civic.notifications.operations import notify
from civic.notifications.outbox import DIGEST_CAP

T0 = datetime(2026, 6, 1, 0, 0, tzinfo=timezone.utc)


def _notify_at(app, at, users, title, number=1, kind="issue.threshold"):
    clock.freeze(at)
    with app.test_request_context("/", method="POST"):
        notify([u.id for u in users], kind, community_id=None, link=f"/c/x/issues/{number}",
               number=number, title=title)
        db.session.commit()


def _digest(runner, at):
    clock.freeze(at)
    result = runner.invoke(args=["notifications", "digest"])
    assert result.exit_code == 0, result.output
    return result.output


def _last_digest(app, user):
    with app.app_context():
        return db.session.get(NotificationSetting, user.id).last_digest_at


def test_digest_lists_whats_new_for_its_owner_only(app, runner, make, set_email, outbox):
    app.config["PUBLIC_BASE_URL"] = "https://civic.example.org"
    me, neighbour = make.user(), make.user()
    set_email(me, "me@example.com", mode="daily", last_digest_at=T0)
    set_email(neighbour, "nb@example.com", mode="daily", last_digest_at=T0)
    _notify_at(app, T0 - timedelta(hours=1), [me], "旧消息", number=1)      # before the last digest
    _notify_at(app, T0 + timedelta(hours=2), [me], "垃圾分类点", number=2)
    _notify_at(app, T0 + timedelta(hours=3), [me], "<b>停车</b>", number=3)
    _notify_at(app, T0 + timedelta(hours=4), [neighbour], "邻居的议题", number=4)
    assert outbox() == []  # daily mode: no immediate mails
    # Less than a day since the last digest: not yet.
    assert "digests queued: 0" in _digest(runner, T0 + timedelta(hours=23))
    assert "digests queued: 2" in _digest(runner, T0 + timedelta(hours=25))
    mails = {m.user_id: m for m in outbox()}
    mine = mails[me.id]
    assert mine.to_address == "me@example.com" and "2 条新通知" in mine.subject
    for body in (mine.body_html, mine.body_text):
        assert "垃圾分类点" in body and "https://civic.example.org/c/x/issues/2" in body
        assert "旧消息" not in body and "邻居的议题" not in body
        assert "https://civic.example.org/notifications/settings" in body
        assert me.phone not in body
    assert "&lt;b&gt;停车&lt;/b&gt;" in mine.body_html and "<b>停车" not in mine.body_html
    # Newest first.
    assert mine.body_html.index("停车") < mine.body_html.index("垃圾分类点")
    assert "垃圾分类点" not in mails[neighbour.id].body_html
    assert _last_digest(app, me) == T0 + timedelta(hours=25)
    # Run again straight away: nothing.
    assert "digests queued: 0" in _digest(runner, T0 + timedelta(hours=26))
    assert len(outbox()) == 2


def test_nothing_new_no_mail(app, runner, make, set_email, outbox):
    user = make.user()
    set_email(user, "quiet@example.com", mode="daily", last_digest_at=T0)
    _notify_at(app, T0 - timedelta(minutes=5), [user], "早就看过了")
    assert "digests queued: 0" in _digest(runner, T0 + timedelta(days=3))
    assert outbox() == []
    # Something arrives later: the next run sends it.
    _notify_at(app, T0 + timedelta(days=3, hours=1), [user], "新的议题")
    assert "digests queued: 1" in _digest(runner, T0 + timedelta(days=3, hours=2))
    [mail] = outbox()
    assert "新的议题" in mail.body_text and "早就看过了" not in mail.body_text


def test_digest_caps_the_list(app, runner, make, set_email, outbox):
    user = make.user()
    set_email(user, "busy@example.com", mode="daily", last_digest_at=T0)
    clock.freeze(T0 + timedelta(hours=1))
    with app.test_request_context("/", method="POST"):
        for i in range(DIGEST_CAP + 5):
            notify([user.id], "issue.threshold", community_id=None, number=i + 1,
                   title=f"议题标题{i + 1:03d}")
        db.session.commit()
    _digest(runner, T0 + timedelta(days=1, hours=1))
    [mail] = outbox()
    assert mail.body_html.count("<li") == DIGEST_CAP
    assert f"{DIGEST_CAP + 5} 条新通知" in mail.subject
    assert "另有 5 条较早的通知未列出" in mail.body_html
    assert "议题标题055" in mail.body_html and "议题标题001" not in mail.body_html


def test_digest_only_for_daily_users_with_an_address(app, runner, make, set_email, outbox):
    immediate, off, daily = make.user(), make.user(), make.user()
    set_email(immediate, "i@example.com", mode="immediate", last_digest_at=T0)
    set_email(off, None, mode="off", last_digest_at=T0)
    set_email(daily, "d@example.com", mode="daily", last_digest_at=None)
    _notify_at(app, T0 + timedelta(hours=1), [immediate, off, daily], "三人都收到")
    _digest(runner, T0 + timedelta(days=2))
    digests = [m for m in outbox() if "条新通知" in m.subject]
    # No last digest yet: the first one covers the last day.
    assert [m.user_id for m in digests] == []
    _notify_at(app, T0 + timedelta(days=2, hours=1), [immediate, off, daily], "第二条")
    _digest(runner, T0 + timedelta(days=2, hours=2))
    digests = [m for m in outbox() if "条新通知" in m.subject]
    assert [m.user_id for m in digests] == [daily.id]
    assert "第二条" in digests[0].body_text
