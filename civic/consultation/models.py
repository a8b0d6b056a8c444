"""Consultations of the joint meeting: rounds, seats, options and named seat votes.

The decision arithmetic lives in :mod:`civic.consultation.rules`; these tables hold what it
is fed. A round's question, options, seats, rule, quorum and deadline are frozen when it
opens (``frozen_hash``); the database keeps one vote per seat per option and one seat per
person per round.
"""
from __future__ import annotations

import enum
from datetime import datetime
from fractions import Fraction

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic import clock
from civic.accounts.models import User
from civic.consultation.rules import Body, Rule, Vote
from civic.labels import N_, translate
from civic.models import Base, CreatedMixin, str_enum


class ConsultationState(str, enum.Enum):
    OPEN = "open"
    #: a round adopted an option (or the matter left consultation); no further rounds
    CLOSED = "closed"


class RoundState(str, enum.Enum):
    #: being prepared, no notice out yet
    DRAFT = "draft"
    #: the notice is published; seats and options may still change
    NOTICED = "noticed"
    #: voting; question, options, seats, rule and deadline are frozen
    OPEN = "open"
    #: votes are final and the outcome is recorded
    CLOSED = "closed"

    @property
    def is_frozen(self) -> bool:
        return self in (RoundState.OPEN, RoundState.CLOSED)


class FundingSource(str, enum.Enum):
    MAINTENANCE_FUND = "maintenance_fund"  # 专项维修资金
    PUBLIC_INCOME = "public_income"        # 公共收益
    AUTONOMY_FUND = "autonomy_fund"        # 自治金
    SERVICE_FEE = "service_fee"            # 物业服务费
    GOVERNMENT = "government"              # 政府拨款
    OTHER = "other"                        # 其他

    @property
    def label(self) -> str:
        return translate(_FUNDING_LABELS[self])


_FUNDING_LABELS = {
    FundingSource.MAINTENANCE_FUND: N_("专项维修资金"),
    FundingSource.PUBLIC_INCOME: N_("公共收益"),
    FundingSource.AUTONOMY_FUND: N_("自治金"),
    FundingSource.SERVICE_FEE: N_("物业服务费"),
    FundingSource.GOVERNMENT: N_("政府拨款"),
    FundingSource.OTHER: N_("其他"),
}


class Consultation(CreatedMixin, Base):
    """The joint meeting's consultation on one accepted issue: a sequence of rounds."""

    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    state: Mapped[ConsultationState] = mapped_column(str_enum(ConsultationState),
                                                     default=ConsultationState.OPEN)
    closed_at: Mapped[datetime | None]
    #: escalated to the street office (街道) when the rounds reach no decision
    escalated_at: Mapped[datetime | None]
    escalated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    escalation_note: Mapped[str] = mapped_column(Text, default="", server_default="")

    rounds: Mapped[list[Round]] = relationship(order_by="Round.number",
                                               back_populates="consultation")

    def __repr__(self) -> str:
        return f"<Consultation {self.id} issue={self.issue_id} {self.state.value}>"


class Round(CreatedMixin, Base):
    """One round of the joint meeting on a consultation (第N轮协商)."""

    __tablename__ = "consultation_round"
    __table_args__ = (
        UniqueConstraint("consultation_id", "number"),
        CheckConstraint("quorum_den > 0 AND quorum_num >= 0 AND quorum_num <= quorum_den",
                        name="quorum_fraction"),
        CheckConstraint("closes_at > starts_at", name="closes_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    #: 1, 2, … within the consultation
    number: Mapped[int]
    state: Mapped[RoundState] = mapped_column(str_enum(RoundState), default=RoundState.DRAFT)
    #: the question put to the meeting (议程), published with the notice
    agenda: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(80), default="")
    online: Mapped[bool] = mapped_column(default=False)
    #: invited outside offices attending without a vote, one per line (列席单位)
    guests: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: when the meeting starts; the round cannot open earlier
    starts_at: Mapped[datetime]
    #: when voting ends; votes after it are refused and the round may be closed by the job
    closes_at: Mapped[datetime]
    #: when the notice was published (at least ROUND_NOTICE_DAYS before starts_at)
    notice_at: Mapped[datetime | None]
    rule: Mapped[Rule] = mapped_column(str_enum(Rule), default=Rule.CONSENSUS)
    #: quorum as an exact fraction of all seats (see rules.decide)
    quorum_num: Mapped[int] = mapped_column(default=1)
    quorum_den: Mapped[int] = mapped_column(default=2)
    #: SHA-256 of the canonical JSON of the frozen round (operations.frozen_payload)
    frozen_hash: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: when the seats were reminded that voting closes within 24 hours (once)
    reminded_at: Mapped[datetime | None]
    #: the option adopted at closing; NULL when open, or when nothing was adopted
    adopted_option_id: Mapped[int | None] = mapped_column(
        ForeignKey("round_option.id", use_alter=True))

    consultation: Mapped[Consultation] = relationship(back_populates="rounds")
    seats: Mapped[list[Seat]] = relationship(order_by="Seat.id", back_populates="round",
                                             viewonly=True)
    options: Mapped[list[Option]] = relationship(order_by="Option.position",
                                                 foreign_keys="Option.round_id", viewonly=True)

    @property
    def quorum(self) -> Fraction:
        return Fraction(self.quorum_num, self.quorum_den)

    def __repr__(self) -> str:
        return f"<Round {self.id} #{self.number} {self.state.value}>"


class Seat(CreatedMixin, Base):
    """A voting seat of one person for one body in one round (one person, one seat)."""

    __tablename__ = "round_seat"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("consultation_round.id"))
    body: Mapped[Body] = mapped_column(str_enum(Body))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: the staff membership (or, for 居民代表, the resident membership) the seat is held by
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id"))
    #: the public title, e.g. "业委会主任"
    title: Mapped[str] = mapped_column(String(40), default="")

    round: Mapped[Round] = relationship(back_populates="seats")
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Seat {self.id} round={self.round_id} {self.body.value}>"


class Option(CreatedMixin, Base):
    """A plan (方案) put to a round; 维持现状 (do nothing) is always one of them."""

    __tablename__ = "round_option"
    __table_args__ = (
        UniqueConstraint("round_id", "position"),
        CheckConstraint("cost_fen >= 0", name="cost_nonnegative"),
        CheckConstraint("owners_item IS NULL OR (owners_item >= 1 AND owners_item <= 9)",
                        name="owners_item_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("consultation_round.id"), index=True)
    #: display order; the status-quo option is 0
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    #: estimated cost in fen (分)
    cost_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    funding_source: Mapped[FundingSource | None] = mapped_column(str_enum(FundingSource))
    #: the body that would carry it out; NULL for 维持现状
    executor: Mapped[Body | None] = mapped_column(str_enum(Body))
    is_status_quo: Mapped[bool] = mapped_column(default=False)
    #: the matter of Civil Code Art. 278 (1–9) this plan is, when it is reserved to the
    #: owners: adopting it leads to an owners' ballot before it becomes a decision
    owners_item: Mapped[int | None]

    def __repr__(self) -> str:
        return f"<Option {self.id} round={self.round_id} #{self.position}>"


class SeatVote(CreatedMixin, Base):
    """One seat's named vote on one option; changeable while the round is open."""

    __tablename__ = "seat_vote"
    __table_args__ = (UniqueConstraint("seat_id", "option_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("consultation_round.id"), index=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("round_seat.id"))
    option_id: Mapped[int] = mapped_column(ForeignKey("round_option.id"), index=True)
    vote: Mapped[Vote] = mapped_column(str_enum(Vote))
    #: published with the vote; required for 反对
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    seat: Mapped[Seat] = relationship()

    def __repr__(self) -> str:
        return f"<SeatVote seat={self.seat_id} option={self.option_id} {self.vote.value}>"


class Statement(CreatedMixin, Base):
    """A body's written statement (立场陈述) in a round: one per body, replaceable until the
    round closes (each version is in the audit log)."""

    __tablename__ = "round_statement"
    __table_args__ = (UniqueConstraint("round_id", "body"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("consultation_round.id"))
    body: Mapped[Body] = mapped_column(str_enum(Body))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    author: Mapped[User] = relationship()


class RoundComment(CreatedMixin, Base):
    """A verified resident's opinion (意见征集) on a round while it is noticed or open."""

    __tablename__ = "round_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("consultation_round.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: the residency the author spoke through (shown as their building)
    membership_id: Mapped[int] = mapped_column(ForeignKey("membership.id"))
    text: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(40))

    author: Mapped[User] = relationship()


class MinutesState(str, enum.Enum):
    #: the moderator is writing them
    DRAFT = "draft"
    #: submitted: each attending body confirms or objects
    CONFIRMING = "confirming"
    #: every attending body confirmed this revision; never edited again
    PUBLISHED = "published"


class Minutes(CreatedMixin, Base):
    """会议纪要 of one round. Editing before publication starts a new revision, which every
    attending body must confirm afresh."""

    __tablename__ = "round_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("consultation_round.id"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=1)
    state: Mapped[MinutesState] = mapped_column(str_enum(MinutesState),
                                                default=MinutesState.DRAFT)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]


class MinutesConfirmation(CreatedMixin, Base):
    """One attending body's answer to one revision of the minutes: confirmed, or objected
    to with a note."""

    __tablename__ = "minutes_confirmation"
    __table_args__ = (UniqueConstraint("minutes_id", "revision", "body"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("round_minutes.id"))
    revision: Mapped[int]
    body: Mapped[Body] = mapped_column(str_enum(Body))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    confirmed: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship()
