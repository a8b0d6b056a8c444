"""Creating and reading notifications. Operations flush, never commit."""
from __future__ import annotations

import json
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from civic import clock
from civic.communities.models import Membership, MembershipStatus, Role
from civic.extensions import db
from civic.notifications.models import Notification


def notify(user_ids: Iterable[int], kind: str, *, community_id: int | None, link: str = "",
           **params) -> int:
    """One notification per distinct recipient, in a single INSERT. Returns how many."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    now = clock.now()
    payload = json.dumps(params, ensure_ascii=False, sort_keys=True)
    db.session.execute(insert(Notification), [
        {"user_id": uid, "community_id": community_id, "kind": kind, "params": payload,
         "link": link, "created_at": now} for uid in ids])
    return len(ids)


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
    p = json.loads(n.params or "{}")
    texts = {
        "issue.threshold": _("议题 #%(number)s「%(title)s」联署已达标，请在受理时限内处理。"),
        "issue.milestone": _("你提出的议题 #%(number)s「%(title)s」联署进度已达 %(percent)s%%。"),
        "issue.expired": _("议题 #%(number)s「%(title)s」征集期结束，未达到联署门槛。"),
    }
    template = texts.get(n.kind)
    if template is None:
        return n.kind
    try:
        return template % p
    except (KeyError, TypeError, ValueError):
        return n.kind
