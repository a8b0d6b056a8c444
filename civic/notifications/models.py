"""Notifications: one row per recipient and event."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civic.models import Base, CreatedMixin


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
