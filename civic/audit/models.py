"""The append-only, hash-chained audit log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civic.models import Base


class AuditEvent(Base):
    __tablename__ = "audit_event"
    #: an object's events in order: its first is the record of its creation, whose hash
    #: the decision and spending pages show (civic.audit.operations.record_hashes)
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id", "seq"),)

    #: gap-free sequence number, assigned under a lock; also the primary key
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    #: pseudonymous actor ("u-…", or "system"); never a name or phone number
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    community_id: Mapped[int | None] = mapped_column(index=True)
    #: canonical JSON (sorted keys, no spaces, UTF-8) of the event's details
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: SHA-256(prev_hash ‖ canonical record), hex
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.seq} {self.action}>"
