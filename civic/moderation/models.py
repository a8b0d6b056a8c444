"""Reports of content by households, and the moderators' decisions with their reasons."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civic.models import Base, CreatedMixin, str_enum



class TargetType(str, enum.Enum):
    """What a report or a moderator's action is about."""

    ISSUE = "issue"
    COMMENT = "comment"
    MEMBERSHIP = "membership"


class Report(CreatedMixin, Base):
    """One household's report of an issue or a comment: the unique constraint is the rule."""

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("target_type", "target_id", "reporter_unit_id"),
        Index("ix_report_community_open", "community_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    #: 'issue' or 'comment'
    target_type: Mapped[TargetType] = mapped_column(str_enum(TargetType))
    target_id: Mapped[int]
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: the reporting household: one report per unit and item
    reporter_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    #: a preset reason, optionally followed by the resident's own words; moderators only
    reason: Mapped[str] = mapped_column(String(200))
    #: when a moderator hid, restored or dismissed the item; NULL while awaiting review
    resolved_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Report {self.target_type.value}:{self.target_id} unit={self.reporter_unit_id}>"


class ActionKind(str, enum.Enum):
    HIDE = "hide"
    RESTORE = "restore"
    #: reports reviewed and found unfounded; the item stays visible
    DISMISS = "dismiss"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"


class ModerationAction(CreatedMixin, Base):
    """A moderator's decision and its reason, kept for the committee's own record.

    The hash-chained audit log records the same decisions without the free-text reason
    (personal data stays out of it); this table is where the reason lives."""

    __tablename__ = "moderation_action"
    __table_args__ = (Index("ix_moderation_action_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[ActionKind] = mapped_column(str_enum(ActionKind))
    target_type: Mapped[TargetType] = mapped_column(str_enum(TargetType))
    target_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"<ModerationAction {self.action.value} {self.target_type.value}:{self.target_id}>"
