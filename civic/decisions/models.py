"""Decisions (决议) of the joint meeting, their publicity period (公示期) and objections (异议).

A decision's content — outcome, adopted plan, rule, tally, lead body, due date, budget and
funding source — is written once, hashed (``content_hash``) and never updated: the database
refuses it (migration 0008 adds triggers). A correction is a new version that links to the
one it corrects; only the lifecycle columns (state and its timestamps) ever change.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.accounts.models import User
from civic.consultation.models import FundingSource
from civic.consultation.rules import Body, Rule
from civic.models import Base, CreatedMixin, str_enum


class DecisionState(str, enum.Enum):
    #: a plan reserved to the owners (Civil Code Art. 278): waits for the owners' ballot
    AWAITING_BALLOT = "awaiting_ballot"
    #: published; residents may object until the period ends (公示中)
    PUBLICITY = "publicity"
    #: the period is over and every objection was answered (已生效)
    EFFECTIVE = "effective"
    #: withdrawn back into consultation (已撤回)
    WITHDRAWN = "withdrawn"
    #: replaced by a correction (已更正); stays public, linked to its correction
    SUPERSEDED = "superseded"
    #: the owners' ballot did not approve the plan (业主表决未通过)
    BALLOT_FAILED = "ballot_failed"


class Outcome(str, enum.Enum):
    ADOPTED = "adopted"    # 通过方案
    REJECTED = "rejected"  # 不予实施


#: the columns a decision is born with and keeps forever (the triggers list them too)
CONTENT_COLUMNS = ("community_id", "issue_id", "consultation_id", "round_id", "version",
                   "corrects_id", "outcome", "adopted_option_id", "title", "summary",
                   "rule", "tally", "lead", "due_on", "budget_fen", "funding_source",
                   "owners_item", "correction_note", "content_hash", "published_by_id",
                   "supplements_id")


class Decision(CreatedMixin, Base):
    __tablename__ = "decision"
    __table_args__ = (
        UniqueConstraint("issue_id", "version"),
        CheckConstraint("budget_fen >= 0", name="budget_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id"))
    #: the round whose vote decided it
    round_id: Mapped[int] = mapped_column(ForeignKey("consultation_round.id"))
    #: 1, 2, … per issue (a withdrawn decision and its successor, or a correction)
    version: Mapped[int]
    #: the decision this one corrects (更正); that one becomes SUPERSEDED
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), unique=True)
    #: a supplementary decision (补充决议) of a later round raising the budget of this
    #: effective decision, which it replaces (SUPERSEDED) when it takes effect itself
    supplements_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), index=True)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome))
    adopted_option_id: Mapped[int | None] = mapped_column(ForeignKey("round_option.id"))
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[Rule] = mapped_column(str_enum(Rule))
    #: canonical JSON: every round's options, outcomes and named votes (see operations)
    tally: Mapped[str] = mapped_column(Text)
    lead: Mapped[Body | None] = mapped_column(str_enum(Body))
    due_on: Mapped[date | None]
    #: approved budget in fen (分)
    budget_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    funding_source: Mapped[FundingSource | None] = mapped_column(str_enum(FundingSource))
    #: Art. 278 matter (1–9) when the plan is reserved to the owners
    owners_item: Mapped[int | None]
    correction_note: Mapped[str] = mapped_column(Text, default="")
    #: SHA-256 of the canonical JSON of the content (operations.content_payload)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    # lifecycle: the only columns that change
    state: Mapped[DecisionState] = mapped_column(str_enum(DecisionState))
    published_at: Mapped[datetime | None]
    publicity_ends_at: Mapped[datetime | None]
    effective_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdraw_reason: Mapped[str] = mapped_column(Text, default="")

    published_by: Mapped[User] = relationship(foreign_keys=[published_by_id])

    def __repr__(self) -> str:
        return f"<Decision {self.id} issue={self.issue_id} v{self.version} {self.state.value}>"


class Objection(CreatedMixin, Base):
    """A resident's objection (异议) to a decision in its publicity period; a moderator
    answers it publicly. Until every objection is answered the decision cannot take effect."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id"))
    text: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(40))
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
