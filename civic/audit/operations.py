"""Writing and verifying the audit chain. Operations flush, never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Text, bindparam, cast, func, insert, literal, select, text, true

from civic import clock
from civic.audit.chain import (GENESIS, canonical_json, link_hash, record_body,
                               record_body_before_seq)
from civic.audit.models import AuditEvent
from civic.extensions import db

#: key of the PostgreSQL advisory lock that serialises appends to the chain
_PG_LOCK_KEY = 727_800_278
_LOCK = text(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
_TABLE = AuditEvent.__table__
#: the chain's last link
_LAST = select(_TABLE.c.seq, _TABLE.c.hash).order_by(_TABLE.c.seq.desc()).limit(1)
_APPEND = insert(_TABLE)
#: the columns every append writes itself (seq, prev_hash and hash follow from the chain)
_GIVEN = ("at", "actor", "action", "object_type", "object_id", "community_id", "payload")


def _append_linked():
    """PostgreSQL: the append in one statement, which reads the chain's last link, numbers
    the event after it and hashes it — SHA-256(prev_hash ‖ text up to the number ‖ number
    ‖ "}"), the rule of civic.audit.chain, computed by the database — so that the read and
    the insert are one round trip. Run under the chain's lock: the statement's snapshot,
    taken after the lock is granted, holds the last committed link."""
    last = _LAST.subquery("last")
    one = select(literal(1).label("x")).subquery("one")
    seq = func.coalesce(last.c.seq, 0) + 1
    prev = func.coalesce(last.c.hash, GENESIS)
    text_ = prev.concat(bindparam("before_seq", type_=Text)).concat(
        cast(seq, Text)).concat("}")
    digest = func.encode(func.sha256(func.convert_to(text_, "UTF8")), "hex")
    rows = select(seq, *(bindparam(c, type_=_TABLE.c[c].type) for c in _GIVEN), prev,
                  digest).select_from(one.outerjoin(last, true()))
    return (insert(_TABLE).from_select(["seq", *_GIVEN, "prev_hash", "hash"], rows)
            .returning(_TABLE.c.seq, _TABLE.c.prev_hash, _TABLE.c.hash))


_APPEND_LINKED = _append_linked()


class Appended(NamedTuple):
    """An event as appended (what the chain holds; not a session's instance)."""
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    community_id: int | None
    payload: str
    prev_hash: str
    hash: str


def actor_of(user) -> str:
    """The pseudonymous actor id for a user (or "system" for jobs and commands)."""
    return user.pseudonym if user is not None and getattr(user, "pseudonym", None) else "system"


def record(action: str, obj=None, *, actor=None, community_id: int | None = None,
           object_type: str | None = None, object_id=None, **payload) -> Appended:
    """Append one event in the current transaction.

    `obj` is a model instance (its table name and id are used) unless object_type/object_id
    are given. `payload` must hold no personal data: ids and pseudonyms only.
    """
    # the chain is appended in SQL, not through the session's unit of work: every change
    # of the records writes one event, so this is among the app's hottest paths
    session = db.session
    conn = session.connection()
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        conn.execute(_LOCK)
    if obj is not None:
        session.flush()
        object_type = object_type or obj.__tablename__
        object_id = obj.id if object_id is None else object_id
        if community_id is None:
            community_id = getattr(obj, "community_id", None)
    values = {"at": clock.now(), "actor": actor if isinstance(actor, str)
              else actor_of(actor), "action": action, "object_type": object_type or "-",
              "object_id": str(object_id if object_id is not None else "-"),
              "community_id": community_id, "payload": canonical_json(payload)}
    if postgresql:
        row = conn.execute(_APPEND_LINKED, {
            **values, "before_seq": record_body_before_seq(**values)}).one()
        return Appended(row.seq, **values, prev_hash=row.prev_hash, hash=row.hash)
    # SQLite: the transaction began IMMEDIATE, so it holds the database's write lock
    last = conn.execute(_LAST).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    event = Appended(seq, **values, prev_hash=prev,
                     hash=link_hash(prev, record_body(seq, **values)))
    conn.execute(_APPEND, event._asdict())
    return event


@dataclass
class ChainReport:
    ok: bool
    count: int
    head: str
    #: seq of the first event that does not verify, with the reason
    broken_at: int | None = None
    reason: str = ""


def verify_chain(batch: int = 5000) -> ChainReport:
    """Recompute every link from the genesis hash; stop at the first mismatch."""
    prev, count, last_seq = GENESIS, 0, 0
    while True:
        rows = db.session.execute(
            select(*AuditEvent.__table__.c).where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return ChainReport(True, count, prev)
        for ev in rows:
            if ev.seq != last_seq + 1:
                return ChainReport(False, count, prev, ev.seq, "序号不连续")
            if ev.prev_hash != prev:
                return ChainReport(False, count, prev, ev.seq, "前一哈希不符")
            expect = link_hash(prev, record_body(ev.seq, ev.at, ev.actor, ev.action,
                                                 ev.object_type, ev.object_id, ev.community_id,
                                                 ev.payload))
            if expect != ev.hash:
                return ChainReport(False, count, prev, ev.seq, "哈希不符")
            prev, last_seq, count = ev.hash, ev.seq, count + 1


def head_hash() -> str:
    last = db.session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).scalar()
    return last or GENESIS


def record_hashes(object_type: str, ids) -> dict[str, str]:
    """The hash of each object's first event — the record of its creation in the chain —
    by object id (as text). One query, however many objects, from the chain's index by
    object (never a scan of the chain, which grows with every change)."""
    ids = [str(i) for i in ids]
    if not ids:
        return {}
    return dict(db.session.execute(first_events(object_type, ids)).all())


def first_events(object_type: str, ids: list[str]):
    """(object id, hash) of each object's first event."""
    first = (select(AuditEvent.object_id, func.min(AuditEvent.seq).label("seq"))
             .where(AuditEvent.object_type == object_type, AuditEvent.object_id.in_(ids))
             .group_by(AuditEvent.object_id).subquery())
    return select(AuditEvent.object_id, AuditEvent.hash).join(first,
                                                              AuditEvent.seq == first.c.seq)
