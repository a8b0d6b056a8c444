"""Triage outcomes, the responsibility list, precedents and official responses."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.accounts.models import User
from civic.communities.models import Membership, Role
from civic.models import Base, CreatedMixin, str_enum


class Body(str, enum.Enum):
    """The three bodies of the joint meeting."""

    COMMITTEE = "committee"      # 居委会
    ASSOCIATION = "association"  # 业委会
    PROPERTY = "property"        # 物业

    @property
    def role(self) -> Role:
        return {Body.COMMITTEE: Role.MODERATOR, Body.ASSOCIATION: Role.ASSOCIATION,
                Body.PROPERTY: Role.PROPERTY}[self]

    @classmethod
    def of_role(cls, role: Role) -> Body | None:
        return {Role.MODERATOR: cls.COMMITTEE, Role.ASSOCIATION: cls.ASSOCIATION,
                Role.PROPERTY: cls.PROPERTY}.get(role)


class Outcome(str, enum.Enum):
    PENDING = "pending"
    RULING = "ruling"          # lead body disputed: awaiting the joint meeting's ruling
    ACCEPTED = "accepted"
    DECLINED = "declined"
    MERGED = "merged"
    REFERRED = "referred"



class Triage(CreatedMixin, Base):
    """The committee's handling of one issue that reached its threshold."""

    __tablename__ = "triage"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome), default=Outcome.PENDING)
    lead: Mapped[Body | None] = mapped_column(str_enum(Body))
    #: the other bodies taking part, comma-separated Body values
    participants: Mapped[str] = mapped_column(String(60), default="")
    #: published: the reason for declining, or the note of a referral
    reason: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"))
    office: Mapped[str] = mapped_column(String(80), default="")
    office_ref: Mapped[str] = mapped_column(String(60), default="")
    #: the joint meeting's ruling on who leads, when it was disputed
    ruling: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    #: the response clock, from acceptance
    response_due_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    #: each reminder goes out once
    triage_soon_sent_at: Mapped[datetime | None]
    triage_overdue_sent_at: Mapped[datetime | None]
    response_soon_sent_at: Mapped[datetime | None]
    response_overdue_sent_at: Mapped[datetime | None]

    @property
    def participant_bodies(self) -> list[Body]:
        return [Body(v) for v in self.participants.split(",") if v]

    def __repr__(self) -> str:
        return f"<Triage issue={self.issue_id} {self.outcome.value}>"


class ResponsibilityRule(Base):
    """权责清单: the default lead body for a category."""

    __tablename__ = "responsibility_rule"
    __table_args__ = (UniqueConstraint("community_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    lead: Mapped[Body] = mapped_column(str_enum(Body))
    note: Mapped[str] = mapped_column(String(200), default="")

    def __repr__(self) -> str:
        return f"<ResponsibilityRule {self.category}→{self.lead.value}>"


class Precedent(CreatedMixin, Base):
    """案例: a ruling on responsibility kept to guide later issues of the same category."""

    __tablename__ = "precedent"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(80))
    lead: Mapped[Body] = mapped_column(str_enum(Body))
    ruling: Mapped[str] = mapped_column(Text)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def __repr__(self) -> str:
        return f"<Precedent {self.id} {self.category}>"


class OfficialResponse(CreatedMixin, Base):
    """A response posted by a body, shown as official with the body's name."""

    __tablename__ = "official_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    body: Mapped[Body] = mapped_column(str_enum(Body))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id"))
    text: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(40))

    author: Mapped[User] = relationship()
    membership: Mapped[Membership] = relationship()

    def __repr__(self) -> str:
        return f"<OfficialResponse {self.id} {self.body.value}>"
