"""Owners' ballots (业主表决) under Civil Code Art. 278 (DESIGN.md §5).

The electorate is frozen when the ballot opens (``BallotUnit``: every unit in scope with its
registered area and a per-ballot pseudonymous owner key). One row of ``BallotVote`` per
person in the headcount sense — an owner (all their units in scope) or the developer (all
its unsold units together) — whatever the channel: online, paper (书面) or proxy (委托).
The unique constraint is the rule that nobody is counted twice.
"""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.accounts.models import User
from civic.decisions import models as _decisions  # noqa: F401  (ballot.decision_id)
from civic.labels import N_, translate
from civic.models import Base, CreatedMixin, str_enum

#: the person key of the developer's unsold units in files and votes (the issue's format)
DEVELOPER = "developer"


class BallotState(str, enum.Enum):
    #: the notice is out; the electorate is not frozen yet
    NOTICED = "noticed"
    #: voting; the electorate is frozen
    OPEN = "open"
    #: voting ended; the provisional result is published and objections may be filed
    PROVISIONAL = "provisional"
    #: every objection answered after the objection period: the result is final
    FINAL = "final"

    @property
    def label(self) -> str:
        return translate(_STATE_LABELS[self.value])


_STATE_LABELS = {"noticed": N_("已发布通知"), "open": N_("表决中"),
                 "provisional": N_("暂定结果公示中"), "final": N_("结果已确定")}


class Channel(str, enum.Enum):
    ONLINE = "online"  # 线上
    PAPER = "paper"    # 书面表决票, entered by a moderator
    PROXY = "proxy"    # 书面委托, recorded by a moderator with the authorisation


class BallotChoice(str, enum.Enum):
    """Stored as the public file writes them."""

    YES = "yes"          # 同意
    NO = "no"            # 反对
    ABSTAIN = "abstain"  # 弃权


class Ballot(CreatedMixin, Base):
    __tablename__ = "ballot"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        CheckConstraint("item >= 1 AND item <= 9", name="item_range"),
        CheckConstraint("closes_at > opens_at", name="closes_after_open"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    #: 1, 2, … within the community
    number: Mapped[int]
    #: the decision (awaiting the owners' ballot) whose plan this ballot decides, if any
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    #: the question put to the owners, published with the notice
    question: Mapped[str] = mapped_column(Text)
    #: the matter of Art. 278 para. 1 (1–9)
    item: Mapped[int]
    #: empty: the whole community; else the buildings in scope (BallotBuilding)
    whole_community: Mapped[bool] = mapped_column(default=True)
    state: Mapped[BallotState] = mapped_column(str_enum(BallotState),
                                               default=BallotState.NOTICED)
    notice_at: Mapped[datetime]
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    #: the deadline first published; closes_at differs when the period was extended
    original_closes_at: Mapped[datetime]
    #: community rule on non-voters frozen at opening (None, "agree", "majority")
    silent_counts_as: Mapped[str | None] = mapped_column(String(10))
    opened_at: Mapped[datetime | None]
    #: the frozen electorate's totals, for the turnout display
    total_area: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    total_heads: Mapped[int | None]
    #: SHA-256 of the canonical electorate at opening
    electorate_hash: Mapped[str | None] = mapped_column(String(64))
    counted_at: Mapped[datetime | None]
    objection_ends_at: Mapped[datetime | None]
    final_at: Mapped[datetime | None]
    passed: Mapped[bool | None]
    #: the public ballot file (JSON) written at counting, and its SHA-256
    file_json: Mapped[str | None] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    def __repr__(self) -> str:
        return f"<Ballot {self.id} #{self.number} item={self.item} {self.state.value}>"


class BallotBuilding(Base):
    """A building in a ballot's scope (when not the whole community)."""

    __tablename__ = "ballot_building"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), primary_key=True)


class BallotExtension(CreatedMixin, Base):
    """An extension of the voting period, with its published reason."""

    __tablename__ = "ballot_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), index=True)
    previous_closes_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class BallotUnit(Base):
    """One unit of the frozen electorate."""

    __tablename__ = "ballot_unit"
    __table_args__ = (UniqueConstraint("ballot_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    #: "3-1201": building and unit number, as published in the ballot file
    label: Mapped[str] = mapped_column(String(60))
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"), index=True)
    #: the per-ballot pseudonymous person key: "o-17", or "developer"
    person: Mapped[str] = mapped_column(String(20))
    developer: Mapped[bool] = mapped_column(default=False)


class BallotVote(CreatedMixin, Base):
    """One person's vote, covering all their units in scope, by whatever channel."""

    __tablename__ = "ballot_vote"
    __table_args__ = (UniqueConstraint("ballot_id", "person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), index=True)
    person: Mapped[str] = mapped_column(String(20))
    choice: Mapped[BallotChoice] = mapped_column(str_enum(BallotChoice))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    #: online: the owner who voted; NULL for paper and proxy
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: paper and proxy: the moderator who entered it
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: proxy: the agent's name as written on the authorisation (never published)
    proxy_name: Mapped[str] = mapped_column(String(40), default="")
    #: proxy: the stored image of the signed authorisation (uploads, kind "proxies")
    proxy_document: Mapped[str | None] = mapped_column(String(64))
    #: the receipt code the owner can check (回执编号)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)

    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])


class BallotObjection(CreatedMixin, Base):
    """An owner's objection to a provisional result; answered publicly by a moderator."""

    __tablename__ = "ballot_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id"))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(foreign_keys=[author_id])
