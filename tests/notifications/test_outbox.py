"""Delivering the outbox over SMTP: success, retries with backoff, giving up, no SMTP."""
from datetime import datetime, timedelta, timezone

from civic import clock
from civic.extensions import db
from civic.notifications.models import OutboxEmail, OutboxStatus
from civic.notifications.operations import notify
from civic.notifications.outbox import BACKOFF_MINUTES, LEASE, MAX_ATTEMPTS, _claim

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=timezone.utc)


def _notify(app, users, kind="issue.threshold", link="/c/x/issues/3", **params):
    params = params or {"number": 3, "title": "楼道灯坏了"}
    with app.test_request_context("/", method="POST"):
        notify([u.id for u in users], kind, community_id=None, link=link, **params)
        db.session.commit()


def _send(runner):
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def test_send_delivers_and_marks_sent(app, runner, make, set_email, outbox, smtp_server):
    clock.freeze(T0)
    app.config["PUBLIC_BASE_URL"] = "https://civic.example.org/"
    user = make.user(display_name="王阿姨")
    set_email(user, "wang@example.com")
    _notify(app, [user])
    assert "mails sent: 1" in _send(runner)
    [mail] = outbox()
    assert mail.status is OutboxStatus.SENT and mail.sent_at == T0 and mail.attempts == 0
    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == ["wang@example.com"]
    assert envelope.mail_from == "notify@civic.example.org"
    msg = smtp_server.parsed()
    assert "议题 #3「楼道灯坏了」联署已达标" in msg["Subject"]
    assert msg["Auto-Submitted"] == "auto-generated"
    for body in (smtp_server.html(), smtp_server.text()):
        assert "议题 #3「楼道灯坏了」联署已达标" in body
        assert "https://civic.example.org/c/x/issues/3" in body
        assert "https://civic.example.org/notifications/settings" in body
        assert user.phone not in body and "王阿姨" not in body
    assert user.phone.encode() not in envelope.content
    # Nothing left to do: a second run sends nothing again.
    assert "mails sent: 0" in _send(runner)
    assert len(smtp_server.messages) == 1


def test_one_mail_per_recipient(app, runner, make, set_email, smtp_server):
    a, b, c = make.user(), make.user(), make.user()
    set_email(a, "a@example.com")
    set_email(b, "b@example.com")
    _notify(app, [a, b, c])
    _send(runner)
    assert sorted(e.rcpt_tos[0] for e in smtp_server.messages) == ["a@example.com", "b@example.com"]
    assert all("b@example.com" not in e.content.decode() for e in smtp_server.messages
               if e.rcpt_tos == ["a@example.com"])


def test_refused_then_retried_with_backoff_then_sent(app, runner, make, set_email, outbox,
                                                     smtp_server):
    clock.freeze(T0)
    user = make.user()
    set_email(user, "li@example.com")
    _notify(app, [user])
    smtp_server.refuse = "451 4.3.0 Try again later"
    output = _send(runner)
    assert "to retry: 1" in output
    [mail] = outbox()
    assert mail.status is OutboxStatus.PENDING and mail.attempts == 1
    assert mail.next_attempt_at == T0 + timedelta(minutes=1)
    assert "451" in mail.last_error and "Try again later" in mail.last_error
    # Not due yet: nothing is attempted, even once the server works again.
    smtp_server.refuse = None
    clock.freeze(T0 + timedelta(seconds=30))
    assert "mails sent: 0" in _send(runner)
    assert smtp_server.messages == []
    clock.freeze(T0 + timedelta(minutes=1))
    assert "mails sent: 1" in _send(runner)
    [mail] = outbox()
    assert mail.status is OutboxStatus.SENT and mail.attempts == 1 and mail.last_error is None
    assert len(smtp_server.messages) == 1


def test_gives_up_after_six_attempts(app, runner, make, set_email, outbox, smtp_server):
    now = T0
    clock.freeze(now)
    user = make.user()
    set_email(user, "zhao@example.com")
    _notify(app, [user])
    smtp_server.refuse = "451 4.3.0 Try again later"
    assert MAX_ATTEMPTS == 6
    for attempt, minutes in enumerate(BACKOFF_MINUTES, start=1):
        _send(runner)
        [mail] = outbox()
        assert mail.attempts == attempt and mail.status is OutboxStatus.PENDING
        assert mail.next_attempt_at == now + timedelta(minutes=minutes)
        # One second early: still waiting.
        clock.freeze(mail.next_attempt_at - timedelta(seconds=1))
        _send(runner)
        assert outbox()[0].attempts == attempt
        now = mail.next_attempt_at
        clock.freeze(now)
    assert "given up: 1" in _send(runner)
    [mail] = outbox()
    assert mail.status is OutboxStatus.FAILED and mail.attempts == 6 and "451" in mail.last_error
    smtp_server.refuse = None
    clock.freeze(now + timedelta(days=30))
    _send(runner)
    assert smtp_server.messages == [] and outbox()[0].status is OutboxStatus.FAILED


def test_one_failure_does_not_lose_the_others(app, runner, make, set_email, outbox, smtp_server):
    """A recipient the server refuses is retried alone; the other mails go out."""
    users = [make.user() for _ in range(3)]
    for i, u in enumerate(users):
        set_email(u, f"user{i}@example.com")
    _notify(app, users)

    refused = "user1@example.com"

    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address == refused:
            return "450 4.2.0 Mailbox busy"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handle_RCPT = handle_RCPT
    output = _send(runner)
    assert "mails sent: 2" in output and "to retry: 1" in output
    by_address = {m.to_address: m for m in outbox()}
    assert by_address[refused].status is OutboxStatus.PENDING
    assert by_address[refused].attempts == 1 and "450" in by_address[refused].last_error
    assert {a for a, m in by_address.items() if m.status is OutboxStatus.SENT} == {
        "user0@example.com", "user2@example.com"}


def test_unreachable_server_stops_the_run(app, runner, make, set_email, outbox, closed_port):
    clock.freeze(T0)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port)
    users = [make.user() for _ in range(3)]
    for i, u in enumerate(users):
        set_email(u, f"u{i}@example.com")
    _notify(app, users)
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0 and "to retry: 1" in result.output
    first, *rest = outbox()
    assert first.attempts == 1 and "refused" in first.last_error.lower()
    assert first.next_attempt_at == T0 + timedelta(minutes=1)
    # The others were not attempted, so they keep all their attempts.
    assert all(m.attempts == 0 and m.status is OutboxStatus.PENDING and m.next_attempt_at == T0
               for m in rest)


def test_auth_failure_keeps_secrets_out_of_last_error(app, runner, make, set_email, outbox,
                                                      auth_smtp_server):
    inbox, port = auth_smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_USER="civic-mailer",
                      SMTP_PASSWORD="S3cret-Pa55word", SMTP_FROM="notify@civic.example.org")
    user = make.user()
    set_email(user, "qian@example.com")
    _notify(app, [user])
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0
    [mail] = outbox()
    assert mail.attempts == 1 and mail.status is OutboxStatus.PENDING
    assert "SMTPAuthenticationError" in mail.last_error
    assert "S3cret-Pa55word" not in mail.last_error and "S3cret-Pa55word" not in result.output
    assert inbox.messages == []


def test_without_smtp_mails_stay_pending(app, runner, make, set_email, outbox):
    app.config["SMTP_HOST"] = ""
    user = make.user()
    set_email(user, "sun@example.com")
    _notify(app, [user])
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0
    assert result.output.count("\n") == 1 and "SMTP 未配置" in result.output
    assert "1 封邮件" in result.output
    [mail] = outbox()
    assert mail.status is OutboxStatus.PENDING and mail.attempts == 0 and mail.last_error is None


def test_a_claimed_mail_is_not_taken_twice(app, make, set_email, outbox):
    """Two senders at once: the guarded claim gives the mail to one of them."""
    clock.freeze(T0)
    user = make.user()
    set_email(user, "zhou@example.com")
    _notify(app, [user])
    [mail] = outbox()
    with app.app_context():
        assert _claim(mail.id, "notify@civic.example.org") is not None
        assert _claim(mail.id, "notify@civic.example.org") is None
    assert outbox()[0].next_attempt_at == T0 + LEASE


def test_jobs_run_builds_digests_and_sends(app, runner, make, set_email, smtp_server):
    """The scheduled job queues the digest and sends it, in one run."""
    clock.freeze(T0)
    user = make.user()
    set_email(user, "daily@example.com", mode="daily", last_digest_at=T0 - timedelta(days=2))
    _notify(app, [user], number=9, title="<script>alert(1)</script>")
    assert smtp_server.messages == []  # daily: nothing immediate
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "digests queued: 1" in result.output and "mails sent: 1" in result.output
    html = smtp_server.html()
    assert "议题 #9「&lt;script&gt;alert(1)&lt;/script&gt;」联署已达标" in html
    assert "<script>" not in html


def test_outbox_tables_match_migration(app):
    """No drift between the outbox models and 0005 (the whole schema is checked in
    tests/test_app.py once the migration chain is linear)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                db.metadata)

    def mine(entry):
        text = repr(entry)
        return "notification_setting" in text or "outbox_email" in text

    flat = [d for item in diff for d in (item if isinstance(item, list) else [item])]
    assert [d for d in flat if mine(d)] == []
    assert OutboxEmail.__table__.name == "outbox_email"
