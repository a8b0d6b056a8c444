"""A user's own data (个人信息保护法): download it as JSON, and delete the account.

Deleting removes what identifies the person — phone number, password, name, e-mail address,
unsent mail, notes to the committee — and ends every membership and session. What they did
in the community's public record (issues, co-signs, comments, votes, ratings) stays, shown
as "已注销用户" and linked to the user's pseudonym only, never a name. The audit chain holds
pseudonyms only, so it verifies unchanged.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.security import check_password_hash

from civic import clock
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.audit.models import AuditEvent
from civic.domain import Invalid
from civic.extensions import db
from civic.models import Base

#: columns never exported: secrets, not data about the person
SECRET_COLUMNS = {"password_hash", "session_token", "code_hash"}
EXPORT_LIMIT = 10_000


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _user_columns():
    """(table, column) for every column that refers to a user account, found from the
    schema itself, so a new table is exported without anyone remembering to add it."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "user_account" for fk in column.foreign_keys):
                yield table, column


def export_data(user: User) -> dict:
    """Everything stored about or by the user, as plain JSON-able values."""
    account = {c.name: _plain(getattr(user, c.key)) for c in User.__table__.columns
               if c.name not in SECRET_COLUMNS}
    records: dict[str, list[dict]] = {}
    for table, column in _user_columns():
        rows = db.session.execute(select(table).where(column == user.id)
                                  .limit(EXPORT_LIMIT)).mappings().all()
        if not rows:
            continue
        out = records.setdefault(table.name, [])
        for row in rows:
            item = {k: _plain(v) for k, v in row.items() if k not in SECRET_COLUMNS}
            item["_as"] = column.name
            out.append(item)
    events = db.session.execute(select(AuditEvent).where(AuditEvent.actor == user.pseudonym)
                                .order_by(AuditEvent.seq).limit(EXPORT_LIMIT)).scalars()
    records["audit_event"] = [{"seq": e.seq, "at": _plain(e.at), "action": e.action,
                               "object_type": e.object_type, "object_id": e.object_id,
                               "hash": e.hash} for e in events]
    return {"exported_at": _plain(clock.now()), "account": account, "records": records}


def delete_account(user: User, password: str) -> None:
    """Delete the account after the password is confirmed. Raises Invalid (field password).
    Flushes; the caller commits."""
    from civic.communities.models import Claim, ClaimStatus, Membership, MembershipStatus
    from civic.notifications.operations import forget

    if not user.password_hash or not check_password_hash(user.password_hash, password or ""):
        raise Invalid(_("密码不正确。"), field="password")
    now = clock.now()
    db.session.execute(update(Membership).where(
        Membership.user_id == user.id, Membership.status != MembershipStatus.REVOKED)
        .values(status=MembershipStatus.REVOKED, revoked_at=now,
                revoked_reason="账号已注销"))
    db.session.execute(update(Claim).where(Claim.user_id == user.id,
                                           Claim.status == ClaimStatus.PENDING)
                       .values(status=ClaimStatus.REJECTED, decided_at=now,
                               reason="账号已注销"))
    db.session.execute(update(Claim).where(Claim.user_id == user.id).values(note=""))
    forget(user.id)
    user.phone = None
    user.password_hash = None
    user.display_name = ""
    user.show_name = False
    user.is_admin = False
    user.deleted_at = now
    user.rotate_session()
    db.session.flush()
    audit.record("account.delete", user, actor=user)
