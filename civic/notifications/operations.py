"""Creating and reading notifications; e-mail preferences. Operations flush, never commit."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update

from civic import clock
from civic.accounts.models import User
from civic.communities.models import Membership, MembershipStatus, Role
from civic.domain import Invalid
from civic.extensions import db
from civic.notifications import mail
from civic.notifications.messages import sentence
from civic.notifications.models import (EmailMode, Notification, NotificationSetting, OutboxEmail,
                                        OutboxStatus)

#: deliberately simple: something@domain.tld, ASCII only (no SMTPUTF8 needed), no spaces
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", re.ASCII)


def notify(user_ids: Iterable[int], kind: str, *, community_id: int | None, link: str = "",
           **params) -> int:
    """One notification per distinct recipient, in a single INSERT. Returns how many.

    Recipients who asked for immediate e-mail also get an outbox mail: one SELECT of their
    settings and one INSERT, however many recipients there are."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    now = clock.now()
    payload = json.dumps(params, ensure_ascii=False, sort_keys=True)
    db.session.execute(insert(Notification), [
        {"user_id": uid, "community_id": community_id, "kind": kind, "params": payload,
         "link": link, "created_at": now} for uid in ids])
    # The mail renders the same plain-text params the notification centre will read back.
    _enqueue_immediate(ids, kind, json.loads(payload), link, now)
    return len(ids)


def _enqueue_immediate(ids: list[int], kind: str, params: dict, link: str,
                       now: datetime) -> None:
    rows = db.session.execute(
        select(NotificationSetting.user_id, NotificationSetting.email, User.locale)
        .join(User, User.id == NotificationSetting.user_id)
        .where(NotificationSetting.user_id.in_(ids),
               NotificationSetting.mode == EmailMode.IMMEDIATE,
               NotificationSetting.email.is_not(None), User.deleted_at.is_(None))).all()
    if not rows:
        return
    by_locale: dict[str, list] = defaultdict(list)
    for row in rows:
        by_locale[row.locale].append(row)
    values = []
    for locale, recipients in by_locale.items():
        # The same mail for everyone reading this language: rendered once.
        rendered = mail.render_notification(kind, params, link, locale)
        values += [{"user_id": r.user_id, "to_address": r.email, **rendered,
                    "status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": now,
                    "created_at": now} for r in recipients]
    db.session.execute(insert(OutboxEmail), values)


def staff_ids(community_id: int, role: Role) -> list[int]:
    return list(db.session.scalars(select(Membership.user_id).where(
        Membership.community_id == community_id, Membership.role == role,
        Membership.status == MembershipStatus.ACTIVE)))


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_all_read(user_id: int) -> None:
    db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(
        read_at=clock.now()))


def message(n: Notification) -> str:
    """The notification's sentence in the reader's language (params are plain text)."""
    try:
        params = json.loads(n.params or "{}")
    except ValueError:
        params = {}
    return sentence(n.kind, params if isinstance(params, dict) else {})


# --- e-mail preferences -------------------------------------------------------------


def valid_email(address: str) -> bool:
    return len(address) <= 254 and EMAIL_RE.fullmatch(address) is not None


def setting_for(user_id: int) -> NotificationSetting | None:
    return db.session.get(NotificationSetting, user_id)


def save_setting(user: User, email: str | None, mode: EmailMode) -> NotificationSetting:
    """Store the user's address and mode. Raises Invalid for a malformed address, or for
    e-mail without an address. Pending mails to an address no longer in use are dropped."""
    email = (email or "").strip() or None
    if email is not None and not valid_email(email):
        raise Invalid(_("请输入有效的邮箱地址，例如 name@example.com。"), field="email")
    if mode is not EmailMode.OFF and email is None:
        raise Invalid(_("要接收邮件通知，请先填写邮箱地址。"), field="email")
    setting = db.session.get(NotificationSetting, user.id)
    if setting is None:
        setting = NotificationSetting(user_id=user.id, mode=EmailMode.OFF)
        db.session.add(setting)
    if mode is EmailMode.DAILY and setting.mode is not EmailMode.DAILY:
        # The first digest covers what happens from now on, a day from now.
        setting.last_digest_at = clock.now()
    setting.email, setting.mode = email, mode
    db.session.flush()
    stale = delete(OutboxEmail).where(OutboxEmail.user_id == user.id,
                                      OutboxEmail.status == OutboxStatus.PENDING)
    if mode is not EmailMode.OFF:
        stale = stale.where(OutboxEmail.to_address != email)
    db.session.execute(stale)
    return setting


def forget(user_id: int) -> None:
    """Drop the user's address and unsent mails (for account deletion)."""
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.user_id == user_id,
                                                 OutboxEmail.status == OutboxStatus.PENDING))
    db.session.execute(delete(NotificationSetting).where(NotificationSetting.user_id == user_id))
