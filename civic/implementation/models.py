"""The expense ledger (支出台账) and progress updates (实施进展).

The ledger is append-only: an entry, its receipts and the owners' committee's review of it
are written once and never updated or deleted — the database refuses it (migration 0010
adds triggers). A mistake is fixed by a reversing entry (冲销), a negative entry that points
at the one it cancels, with a reason; each entry can be reversed once. Money is integer fen.
"""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (BigInteger, CheckConstraint, Date, ForeignKey, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.consultation.models import FundingSource
from civic.consultation.rules import Body
from civic.labels import N_, translate
from civic.models import Base, CreatedMixin, str_enum


class Expense(CreatedMixin, Base):
    __tablename__ = "expense"
    __table_args__ = (
        UniqueConstraint("issue_id", "number"),
        UniqueConstraint("created_by_id", "idempotency_key"),
        CheckConstraint("(reverses_id IS NULL AND amount_fen > 0) OR "
                        "(reverses_id IS NOT NULL AND amount_fen < 0)", name="amount_sign"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    #: the effective decision whose budget the entry is booked against
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), index=True)
    #: 1, 2, … within the issue: the entry's stable public number (支出 #n)
    number: Mapped[int]
    spent_on: Mapped[date] = mapped_column(Date)
    #: positive for a payment, negative for a reversing entry
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payee: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(500))
    #: the decision's funding source, copied so that totals never need the decision
    funding_source: Mapped[FundingSource] = mapped_column(str_enum(FundingSource))
    #: the entry this one cancels (a reversing entry); each entry is reversed at most once
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("expense.id"), unique=True)
    #: why it is reversed (reversing entries only)
    reason: Mapped[str] = mapped_column(Text, default="")
    #: the body on whose behalf the entry was made
    body: Mapped[Body] = mapped_column(str_enum(Body))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(40))

    receipts: Mapped[list[ExpenseReceipt]] = relationship(
        order_by="ExpenseReceipt.position", lazy="selectin")

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    def __repr__(self) -> str:
        return f"<Expense {self.id} issue={self.issue_id} #{self.number} {self.amount_fen}>"


class ExpenseReceipt(CreatedMixin, Base):
    """A photo of the receipt or invoice (票据), re-encoded like every upload."""

    __tablename__ = "expense_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expense.id"), index=True)
    #: server-chosen random file stem; files are <stem>.jpg and <stem>_t.jpg
    stem: Mapped[str] = mapped_column(String(40), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)


class ExpenseReview(CreatedMixin, Base):
    """The owners' committee's approval (or refusal) of a maintenance-fund expense; until
    it is approved the expense does not count. One review per entry, never changed."""

    __tablename__ = "expense_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expense.id"), unique=True)
    approved: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class ExpenseStatus(str, enum.Enum):
    """Derived, never stored: whether an entry counts against the budget."""

    COUNTED = "counted"    # 已计入
    PENDING = "pending"    # 待业委会审核 (maintenance fund)
    REFUSED = "refused"    # 业委会未同意

    @property
    def label(self) -> str:
        return translate(_STATUS_LABELS[self])


_STATUS_LABELS = {
    ExpenseStatus.COUNTED: N_("已计入"),
    ExpenseStatus.PENDING: N_("待业委会审核"),
    ExpenseStatus.REFUSED: N_("业委会未同意"),
}


class WorkStatus(str, enum.Enum):
    NOT_STARTED = "not_started"   # 未开始
    IN_PROGRESS = "in_progress"   # 实施中
    COMPLETED = "completed"       # 已完成

    @property
    def label(self) -> str:
        return translate(_WORK_LABELS[self])


_WORK_LABELS = {
    WorkStatus.NOT_STARTED: N_("未开始"),
    WorkStatus.IN_PROGRESS: N_("实施中"),
    WorkStatus.COMPLETED: N_("已完成"),
}


class ProgressUpdate(CreatedMixin, Base):
    """A progress update (实施进展) posted by a responsible body, with photos."""

    __tablename__ = "progress_update"
    __table_args__ = (UniqueConstraint("author_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[Body] = mapped_column(str_enum(Body))
    status: Mapped[WorkStatus] = mapped_column(str_enum(WorkStatus))
    text: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(40))

    photos: Mapped[list[ProgressPhoto]] = relationship(
        order_by="ProgressPhoto.position", lazy="selectin")


class ProgressPhoto(CreatedMixin, Base):
    __tablename__ = "progress_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("progress_update.id"), index=True)
    stem: Mapped[str] = mapped_column(String(40), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)


class Score(str, enum.Enum):
    SATISFIED = "satisfied"      # 满意
    BASIC = "basic"              # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意

    @property
    def label(self) -> str:
        return translate(_SCORE_LABELS[self])


_SCORE_LABELS = {
    Score.SATISFIED: N_("满意"),
    Score.BASIC: N_("基本满意"),
    Score.UNSATISFIED: N_("不满意"),
}


class Rating(CreatedMixin, Base):
    """A household's answer once the work is completed: was it resolved, and how satisfied
    it is. One per household per rating window (a reopened issue gets a new window)."""

    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("issue_id", "window_no", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"), index=True)
    #: the issue's rating window (1 for the first completion, 2 after a 回头看, …)
    window_no: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    resolved: Mapped[bool]
    score: Mapped[Score] = mapped_column(str_enum(Score))
    comment: Mapped[str] = mapped_column(String(500), default="")
