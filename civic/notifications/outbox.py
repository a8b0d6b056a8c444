"""Scheduled e-mail work: building daily digests and delivering the outbox over SMTP.

build_digests() is an operation (flushes; the caller commits). send_due() is a job: it
commits after each mail, so one failure never loses the others, and it holds no database
transaction while talking to the SMTP server."""
from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, or_, select, update

from civic import clock
from civic.accounts.models import User
from civic.extensions import db
from civic.notifications import mail
from civic.notifications.models import (EmailMode, Notification, NotificationSetting, OutboxEmail,
                                        OutboxStatus)

#: wait after the 1st, 2nd … 5th failed attempt; the 6th failure gives up
BACKOFF_MINUTES = (1, 5, 30, 120, 720)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
#: a claimed mail is left alone by other senders for this long (then retried if we died)
LEASE = timedelta(minutes=10)
SMTP_TIMEOUT = 20
BATCH = 500
DIGEST_CAP = 50


# --- daily digest -------------------------------------------------------------------


def build_digests() -> int:
    """Queue one digest mail for each daily-mode user whose last digest is a day old or
    more and who has notifications since then (at most DIGEST_CAP listed, newest first).
    Nothing new, no mail. Returns how many were queued."""
    now = clock.now()
    day_ago = now - timedelta(days=1)
    due = db.session.execute(
        select(NotificationSetting.user_id, NotificationSetting.email,
               NotificationSetting.last_digest_at, User.locale)
        .join(User, User.id == NotificationSetting.user_id)
        .where(NotificationSetting.mode == EmailMode.DAILY,
               NotificationSetting.email.is_not(None), User.deleted_at.is_(None),
               or_(NotificationSetting.last_digest_at.is_(None),
                   NotificationSetting.last_digest_at <= day_ago))
        .order_by(NotificationSetting.user_id)).all()
    queued = 0
    for row in due:
        since = row.last_digest_at or day_ago
        new = (Notification.user_id == row.user_id, Notification.created_at > since,
               Notification.created_at <= now)
        total = db.session.scalar(select(func.count(Notification.id)).where(*new)) or 0
        if not total:
            continue
        # Guarded, so two digest runs at once send one digest.
        guard = NotificationSetting.last_digest_at.is_(None) if row.last_digest_at is None \
            else NotificationSetting.last_digest_at == row.last_digest_at
        claimed = db.session.execute(update(NotificationSetting).where(
            NotificationSetting.user_id == row.user_id, guard).values(last_digest_at=now))
        if claimed.rowcount != 1:
            continue
        items = db.session.scalars(select(Notification).where(*new)
                                   .order_by(Notification.id.desc()).limit(DIGEST_CAP)).all()
        rendered = mail.render_digest(
            [{"kind": n.kind, "params": _params(n), "link": n.link, "created_at": n.created_at}
             for n in items], total, row.locale)
        db.session.add(OutboxEmail(user_id=row.user_id, to_address=row.email, **rendered,
                                   status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now,
                                   created_at=now))
        queued += 1
    db.session.flush()
    return queued


def _params(n: Notification) -> dict:
    try:
        params = json.loads(n.params or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


# --- delivery -----------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    #: failed attempts that will be retried later
    retrying: int = 0
    #: mails given up on in this run
    gave_up: int = 0
    #: why the run stopped early (the server could not be reached), if it did
    stopped: str = ""


def smtp_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def pending_count() -> int:
    return db.session.scalar(select(func.count(OutboxEmail.id)).where(
        OutboxEmail.status == OutboxStatus.PENDING)) or 0


def sender_address() -> str:
    cfg = current_app.config
    if cfg.get("SMTP_FROM"):
        return cfg["SMTP_FROM"]
    if "@" in (cfg.get("SMTP_USER") or ""):
        return cfg["SMTP_USER"]
    return "civic@localhost"


def send_due(limit: int = BATCH) -> SendReport | None:
    """Deliver pending mails whose time has come. None if SMTP is not configured (the
    mails stay pending). If the server cannot be reached the run stops after recording
    the failure on the mail at hand; the rest wait for the next run untouched."""
    if not smtp_configured():
        return None
    now = clock.now()
    ids = list(db.session.scalars(
        select(OutboxEmail.id).where(OutboxEmail.status == OutboxStatus.PENDING,
                                     OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(limit)))
    db.session.commit()
    report = SendReport()
    sender = sender_address()
    smtp: smtplib.SMTP | None = None
    try:
        for mail_id in ids:
            claimed = _claim(mail_id, sender)
            if claimed is None:
                continue
            to, message = claimed
            if message is None:
                _failed(report, mail_id, "ValueError: the message could not be composed")
                continue
            connecting = smtp is None
            try:
                if smtp is None:
                    smtp = _connect()
                    connecting = False
                smtp.send_message(message, from_addr=sender, to_addrs=[to])
            except (OSError, ValueError) as exc:  # smtplib.SMTPException is an OSError
                _close(smtp)
                smtp = None
                error = _describe(exc)
                _failed(report, mail_id, error)
                if connecting:
                    report.stopped = error
                    break
                continue
            _record_sent(mail_id)
            report.sent += 1
    finally:
        _close(smtp)
    return report


def _claim(mail_id: int, sender: str) -> tuple[str, EmailMessage | None] | None:
    """Take the mail for LEASE (guarded: one sender only) and compose it; commits.

    Returns (to_address, message or None if it cannot be composed), or None if another
    sender has it or it is no longer due."""
    now = clock.now()
    res = db.session.execute(update(OutboxEmail).where(
        OutboxEmail.id == mail_id, OutboxEmail.status == OutboxStatus.PENDING,
        OutboxEmail.next_attempt_at <= now).values(next_attempt_at=now + LEASE))
    if res.rowcount != 1:
        db.session.commit()
        return None
    row = db.session.get(OutboxEmail, mail_id, populate_existing=True)
    to = row.to_address
    try:
        message = mail.compose(to=to, subject=row.subject, text=row.body_text,
                               html=row.body_html, sender=sender)
    except (ValueError, TypeError):
        message = None
    db.session.commit()
    return to, message


def _failed(report: SendReport, mail_id: int, error: str) -> None:
    if _record_failure(mail_id, error):
        report.gave_up += 1
    else:
        report.retrying += 1


def _record_sent(mail_id: int) -> None:
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id == mail_id).values(
        status=OutboxStatus.SENT, sent_at=clock.now(), last_error=None))
    db.session.commit()


def _record_failure(mail_id: int, error: str) -> bool:
    """Count the attempt and schedule the next one; True if this was the last."""
    row = db.session.get(OutboxEmail, mail_id, populate_existing=True)
    row.attempts += 1
    row.last_error = error
    gave_up = row.attempts >= MAX_ATTEMPTS
    if gave_up:
        row.status = OutboxStatus.FAILED
    else:
        row.next_attempt_at = clock.now() + timedelta(minutes=BACKOFF_MINUTES[row.attempts - 1])
    db.session.commit()
    return gave_up


def _connect() -> smtplib.SMTP:
    cfg = current_app.config
    helo = urlsplit(cfg["PUBLIC_BASE_URL"]).hostname or "localhost"
    smtp = smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], local_hostname=helo,
                        timeout=SMTP_TIMEOUT)
    try:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["SMTP_USER"]:
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except OSError:  # includes smtplib.SMTPException
        smtp.close()


def _reply(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    """The error for last_error: type, SMTP code and reply, never the credentials."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"{exc.smtp_code} {_reply(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{code} {_reply(reply)}" for code, reply in exc.recipients.values())
    else:
        text = str(exc)
    text = f"{type(exc).__name__}: {text}"
    secret = current_app.config.get("SMTP_PASSWORD")
    if secret:
        text = text.replace(secret, "***")
    return " ".join(text.split())[:300]
