"""Notifications (one row per recipient and event), e-mail preferences and the outbox."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civic import clock
from civic.models import Base, CreatedMixin, str_enum



class Notification(CreatedMixin, Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    #: event kind, e.g. "issue.threshold"; the message is rendered from kind + params
    kind: Mapped[str] = mapped_column(String(40))
    #: JSON parameters of the message (numbers, titles) — rendered autoescaped
    params: Mapped[str] = mapped_column(Text, default="{}")
    #: where the notification leads (a local path)
    link: Mapped[str] = mapped_column(String(200), default="")
    read_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} to {self.user_id}>"


class EmailMode(str, enum.Enum):
    #: one e-mail per notification, as it happens
    IMMEDIATE = "immediate"
    #: at most one e-mail a day listing what is new
    DAILY = "daily"
    #: in-app only
    OFF = "off"


class NotificationSetting(Base):
    """A user's e-mail preferences. No row means no e-mail."""

    __tablename__ = "notification_setting"
    __table_args__ = (
        CheckConstraint("mode = 'off' OR email IS NOT NULL", name="mode_needs_email"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    #: optional address for notifications only; never shown to anyone else
    email: Mapped[str | None] = mapped_column(String(254))
    mode: Mapped[EmailMode] = mapped_column(str_enum(EmailMode), default=EmailMode.OFF)
    #: when the last daily digest was built; the next one lists what came after it
    last_digest_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<NotificationSetting {self.user_id} {self.mode.value}>"


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    #: gave up after the last attempt
    FAILED = "failed"


class OutboxEmail(CreatedMixin, Base):
    """An e-mail waiting to be sent (or sent, or given up on) by `flask notifications send`."""

    __tablename__ = "outbox_email"
    __table_args__ = (
        Index("ix_outbox_email_status_next", "status", "next_attempt_at"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the recipient's account, if the mail is for one
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    #: rendered from an autoescaped template
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus), default=OutboxStatus.PENDING)
    #: failed delivery attempts so far
    attempts: Mapped[int] = mapped_column(default=0)
    #: not before this time; also a lease while a sender works on the mail
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    #: the last delivery error, without credentials
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} {self.status.value} to user {self.user_id}>"
