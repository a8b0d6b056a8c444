"""Issues (议题), household co-signs (联署), photos and comments."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (CheckConstraint, ForeignKey, Index, Numeric, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.accounts.models import User
from civic.communities.models import Building, Membership, Unit
from civic.labels import N_, translate
from civic.models import Base, CreatedMixin, str_enum



class IssueState(str, enum.Enum):
    DRAFT = "draft"
    COLLECTING = "collecting"
    AWAITING_TRIAGE = "awaiting_triage"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    MERGED = "merged"
    REFERRED = "referred"
    IN_CONSULTATION = "in_consultation"
    DECIDED = "decided"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    #: reopened for review (回头看): most households rated the result 不满意
    UNDER_REVIEW = "under_review"

    @property
    def is_public(self) -> bool:
        """Drafts are the author's own; everything from collecting on is public."""
        return self is not IssueState.DRAFT

    @property
    def label(self) -> str:
        return translate(_STATE_LABELS[self.value])


_STATE_LABELS = {
    "draft": N_("草稿"), "collecting": N_("征集联署"), "awaiting_triage": N_("待受理"),
    "expired": N_("未达标"), "withdrawn": N_("已撤回"), "accepted": N_("已受理"),
    "declined": N_("不予受理"), "merged": N_("已合并"), "referred": N_("已转办"),
    "in_consultation": N_("协商中"), "decided": N_("已决议"), "in_progress": N_("实施中"),
    "completed": N_("已办结"), "under_review": N_("回头看"),
}


class ThresholdKind(str, enum.Enum):
    #: a fixed number of households
    HOUSEHOLDS = "households"
    #: a share of the verified households (e.g. 1/5, as for convening a 居民会议)
    SHARE = "share"
    #: 20% of owners by area AND by headcount (as for a temporary 业主大会)
    OWNERS = "owners"


class Issue(CreatedMixin, Base):
    __tablename__ = "issue"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        UniqueConstraint("author_id", "idempotency_key"),
        CheckConstraint("cosign_count >= 0", name="cosign_count_nonnegative"),
        Index("ix_issue_community_state", "community_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    #: per-community number shown as #N
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(80))
    #: Markdown as written by the author
    body: Mapped[str] = mapped_column(Text, default="")
    #: sanitised HTML rendered from body at write time
    body_html: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(20))
    #: the building concerned, or NULL for a common area described in place_text
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"))
    place_text: Mapped[str] = mapped_column(String(60), default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: the author's household when proposing (for "N号楼居民")
    author_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    state: Mapped[IssueState] = mapped_column(str_enum(IssueState, 24), default=IssueState.DRAFT)
    #: client-generated key of the creating form, so a double submit creates one issue
    idempotency_key: Mapped[str | None] = mapped_column(String(40))

    # --- threshold, frozen when collecting starts -----------------------------------
    threshold_kind: Mapped[ThresholdKind | None] = mapped_column(str_enum(ThresholdKind, 24))
    #: households needed (HOUSEHOLDS, SHARE)
    need_households: Mapped[int | None]
    #: OWNERS: total exclusive area and owner headcount of the community when frozen
    base_area: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    base_heads: Mapped[int | None]
    collecting_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    #: when the threshold was crossed; starts the triage clock
    threshold_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: when the lead body marked the work completed (已办结); starts the rating window
    completed_at: Mapped[datetime | None]
    #: the current rating window: 0 before completion, 1 after, +1 at each completion
    rating_window: Mapped[int] = mapped_column(default=0, server_default="0")
    #: when the current window's ratings were tallied (NULL while it is open)
    rating_closed_at: Mapped[datetime | None]
    #: when a majority of 不满意 reopened the issue for review (回头看)
    review_opened_at: Mapped[datetime | None]

    # --- exact running tallies, updated under the issue's row lock --------------------
    cosign_count: Mapped[int] = mapped_column(default=0)
    #: OWNERS kind: exclusive area and distinct owners among co-signing owner households
    cosign_area: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    cosign_heads: Mapped[int] = mapped_column(default=0)

    # --- moderation (see civic.moderation): hidden content is kept, never deleted --------
    #: when it was hidden from residents and the public; NULL while visible
    hidden_at: Mapped[datetime | None]
    #: the moderator's reason; empty when hidden automatically by residents' reports
    hidden_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: the moderator who hid it; NULL when hidden automatically by reports
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    author_unit: Mapped[Unit | None] = relationship(foreign_keys=[author_unit_id])
    building: Mapped[Building | None] = relationship()
    photos: Mapped[list[IssuePhoto]] = relationship(order_by="IssuePhoto.position",
                                                    cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Issue {self.community_id}#{self.number} {self.state.value}>"


class Cosign(CreatedMixin, Base):
    """One household's co-sign of an issue: the unique constraint is the rule."""

    __tablename__ = "cosign"
    __table_args__ = (UniqueConstraint("issue_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: the signer was an owner of the unit (counts toward OWNERS thresholds)
    by_owner: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(String(140), default="")

    user: Mapped[User] = relationship()
    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<Cosign issue={self.issue_id} unit={self.unit_id}>"


class IssuePhoto(CreatedMixin, Base):
    __tablename__ = "issue_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    #: server-chosen random file stem; files are <stem>.jpg and <stem>_t.jpg
    stem: Mapped[str] = mapped_column(String(40), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<IssuePhoto {self.stem}>"


class Comment(CreatedMixin, Base):
    """A comment on an issue; replies go one level deep."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: the membership the author spoke through: a household, or a staff body
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(40))
    #: moderation, as on Issue: hidden comments keep their text
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    membership: Mapped[Membership] = relationship()

    def __repr__(self) -> str:
        return f"<Comment {self.id} on {self.issue_id}>"


class Category(Base):
    """A community's issue categories (editable; defaults from DESIGN.md)."""

    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Category {self.name}>"


DEFAULT_CATEGORIES = ["环境卫生", "停车", "绿化", "安全", "设施维修", "噪音", "宠物", "加装电梯",
                      "物业服务", "其他"]
