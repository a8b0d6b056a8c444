"""Carrying out an effective decision. Operations flush, never commit; they raise
:class:`~civic.domain.DomainError` (or NotAllowed/Invalid) with a message for the user.

The ledger's rules:

- entries are booked against the issue's effective, adopted decision, in its funding source;
- an entry is never changed; a reversing entry (冲销) cancels one, once, with a reason;
- an entry counts against the budget once it stands: at once, except maintenance-fund
  (专项维修资金) entries, which stand only after an owners' committee member other than the
  one who entered it approves them; a refused entry never counts;
- a new entry is refused when the approved budget could no longer cover every entry that
  stands or awaits approval — spending beyond the budget needs a supplementary decision.

Concurrent bookings serialise on the decision's row (SELECT … FOR UPDATE on PostgreSQL, the
write lock of BEGIN IMMEDIATE on SQLite), so the guard sees every earlier entry.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from civic import clock, uploads
from civic import permissions as can
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.communities.models import Community, Role
from civic.consultation.models import FundingSource
from civic.consultation.rules import Body
from civic.database import for_update
from civic.decisions import operations as decisions
from civic.decisions.models import Decision
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.implementation.models import (Expense, ExpenseReceipt, ExpenseReview, ExpenseStatus,
                                         ProgressPhoto, ProgressUpdate, WorkStatus)
from civic.issues.models import Issue, IssueState
from civic.money import format_fen

MAX_PHOTOS = 6
MAX_TEXT = 2000
#: the bodies that carry out decisions, with the role their staff hold
BODY_ROLES = {Body.COMMITTEE: Role.MODERATOR, Body.ASSOCIATION: Role.ASSOCIATION,
              Body.PROPERTY: Role.PROPERTY}
#: issue states in which the work is being carried out (progress may be posted); after a
#: 回头看 the lead body carries on and marks the work completed again
UNDER_WAY = (IssueState.DECIDED, IssueState.IN_PROGRESS, IssueState.UNDER_REVIEW)


# --- reading -------------------------------------------------------------------------

def effective_decision(issue: Issue) -> Decision | None:
    """The issue's effective decision that adopted a plan — what is carried out — or None."""
    return decisions.effective_plan(issue.id)


def bodies_of(user, community) -> list[Body]:
    """The bodies the user works for in this community."""
    roles = can.roles_in(user, community)
    return [b for b, r in BODY_ROLES.items() if r in roles]


def booking_body(user, community, decision: Decision) -> Body | None:
    """On whose behalf the user books expenses for this decision: the lead body, or the
    residents' committee, which keeps the books of every decision. None: not allowed."""
    bodies = bodies_of(user, community)
    if decision.lead in bodies:
        return decision.lead
    if Body.COMMITTEE in bodies:
        return Body.COMMITTEE
    return None


def can_book(user, community, decision: Decision | None) -> bool:
    return decision is not None and booking_body(user, community, decision) is not None


def can_review(user, community) -> bool:
    return can.has_role(user, community, Role.ASSOCIATION)


def entries_of(issue: Issue) -> list[Expense]:
    return list(db.session.scalars(select(Expense).where(Expense.issue_id == issue.id)
                                   .order_by(Expense.number)))


def reviews_for(expense_ids) -> dict[int, ExpenseReview]:
    ids = list(expense_ids)
    if not ids:
        return {}
    return {r.expense_id: r for r in db.session.scalars(
        select(ExpenseReview).where(ExpenseReview.expense_id.in_(ids)))}


def status_of(e: Expense, reviews: dict[int, ExpenseReview]) -> ExpenseStatus:
    """Whether the entry counts. A reversing entry follows the entry it cancels; an entry
    outside the maintenance fund counts at once."""
    original = e.reverses_id if e.reverses_id is not None else e.id
    if e.funding_source is not FundingSource.MAINTENANCE_FUND:
        return ExpenseStatus.COUNTED
    review = reviews.get(original)
    if review is None:
        return ExpenseStatus.PENDING
    return ExpenseStatus.COUNTED if review.approved else ExpenseStatus.REFUSED


@dataclass
class Line:
    entry: Expense
    status: ExpenseStatus
    review: ExpenseReview | None
    #: the reversing entry that cancels this one, if any
    reversed_by: Expense | None = None


@dataclass
class Ledger:
    decision: Decision | None
    lines: list[Line] = field(default_factory=list)
    budget_fen: int = 0
    #: entries that stand (counted)
    spent_fen: int = 0
    #: maintenance-fund entries awaiting the owners' committee
    pending_fen: int = 0

    @property
    def remaining_fen(self) -> int:
        """What the budget can still cover: neither counted nor awaiting approval."""
        return self.budget_fen - self.spent_fen - self.pending_fen

    @property
    def share(self) -> float:
        """Spent share of the budget, for the meter (display only)."""
        return min(1.0, self.spent_fen / self.budget_fen) if self.budget_fen else 0.0


def ledger_of(issue: Issue, decision: Decision | None = None) -> Ledger:
    """The issue's entries with their status and the running totals against the budget."""
    decision = decision if decision is not None else effective_decision(issue)
    entries = entries_of(issue)
    reviews = reviews_for(e.id for e in entries)
    by_reversed = {e.reverses_id: e for e in entries if e.reverses_id is not None}
    ledger = Ledger(decision=decision, budget_fen=decision.budget_fen if decision else 0)
    for e in entries:
        status = status_of(e, reviews)
        ledger.lines.append(Line(e, status, reviews.get(e.id), by_reversed.get(e.id)))
        if status is ExpenseStatus.COUNTED:
            ledger.spent_fen += e.amount_fen
        elif status is ExpenseStatus.PENDING:
            ledger.pending_fen += e.amount_fen
    return ledger


@dataclass
class Totals:
    """Counted spending of a community: {year: {funding source: fen}} and sums."""

    by_year: dict[int, dict[FundingSource, int]]

    @property
    def years(self) -> list[int]:
        return sorted(self.by_year, reverse=True)

    def year_total(self, year: int) -> int:
        return sum(self.by_year.get(year, {}).values())

    def source_total(self, source: FundingSource) -> int:
        return sum(v.get(source, 0) for v in self.by_year.values())

    @property
    def total(self) -> int:
        return sum(self.year_total(y) for y in self.by_year)


def totals(community: Community) -> Totals:
    """Counted spending per year (of the payment date) and funding source. Two queries."""
    rows = db.session.execute(select(Expense.id, Expense.reverses_id, Expense.spent_on,
                                     Expense.amount_fen, Expense.funding_source)
                              .where(Expense.community_id == community.id)).all()
    reviews = reviews_for(r.id for r in rows
                          if r.funding_source is FundingSource.MAINTENANCE_FUND
                          and r.reverses_id is None)
    by_year: dict[int, dict[FundingSource, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r.funding_source is FundingSource.MAINTENANCE_FUND:
            review = reviews.get(r.reverses_id if r.reverses_id is not None else r.id)
            if review is None or not review.approved:
                continue
        by_year[r.spent_on.year][r.funding_source] += r.amount_fen
    return Totals({y: dict(v) for y, v in by_year.items()})


# --- booking ---------------------------------------------------------------------------

def _today() -> date:
    return clock.local(clock.now()).date()


def _lock_decision(issue: Issue) -> Decision:
    d = db.session.execute(for_update(decisions.effective_plan_query(issue.id))
                           ).scalar_one_or_none()
    if d is None:
        raise DomainError(_("决议生效并通过实施方案后，才能登记支出。"))
    return d


def _next_number(issue_id: int) -> int:
    return (db.session.scalar(select(func.max(Expense.number)).where(
        Expense.issue_id == issue_id)) or 0) + 1


def _by_key(user: User, key: str | None) -> Expense | None:
    if not key:
        return None
    return db.session.scalar(select(Expense).where(Expense.created_by_id == user.id,
                                                   Expense.idempotency_key == key))


def _text(value: str, field_name: str, limit: int, empty: str, too_long: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(empty, field=field_name)
    if len(value) > limit:
        raise Invalid(too_long, field=field_name)
    return value


def _process(photos: list[bytes], field_name: str) -> list[uploads.Processed]:
    if len(photos) > MAX_PHOTOS:
        raise Invalid(_("最多上传 %(n)d 张照片。", n=MAX_PHOTOS), field=field_name)
    try:
        return [uploads.process_image(p) for p in photos]
    except Invalid as e:
        raise Invalid(str(e), field=field_name) from None


def _store(kind: str, processed: list[uploads.Processed]) -> list[tuple[str, int, int]]:
    out = []
    for p in processed:
        stem = uploads.new_stem()
        uploads.store(db.session, kind, {f"{stem}.jpg": p.display, f"{stem}_t.jpg": p.thumb})
        out.append((stem, p.width, p.height))
    return out


def add_expense(actor: User, issue: Issue, *, spent_on, amount_fen, payee: str, purpose: str,
                receipts: list[bytes], idempotency_key: str | None = None) -> Expense:
    """Book a payment against the issue's effective decision. Raises NotAllowed, Invalid
    (field: spent_on, amount, payee, purpose, receipts), DomainError."""
    community = db.session.get(Community, issue.community_id)
    existing = _by_key(actor, idempotency_key)
    if existing is not None:
        if existing.issue_id == issue.id:
            return existing
        raise DomainError(_("这张表单已经提交过了，请刷新页面后重新填写。"))
    d = _lock_decision(issue)
    body = booking_body(actor, community, d)
    if body is None:
        raise NotAllowed(_("只有负责实施的一方或居委会可以登记支出。"))
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise Invalid(_("请填写大于 0 的金额。"), field="amount")
    today = _today()
    if not isinstance(spent_on, date):
        raise Invalid(_("请填写支付日期。"), field="spent_on")
    if spent_on > today:
        raise Invalid(_("支付日期不能晚于今天。"), field="spent_on")
    published = clock.local(d.published_at).date() if d.published_at else today
    if spent_on < published:
        raise Invalid(_("支付日期不能早于决议公布的日期（%(day)s）。", day=published.isoformat()),
                      field="spent_on")
    payee = _text(payee, "payee", 120, _("请填写收款方。"), _("收款方不能超过 120 字。"))
    purpose = _text(purpose, "purpose", 500, _("请填写用途。"), _("用途不能超过 500 字。"))
    if not receipts:
        raise Invalid(_("请上传至少一张票据照片。"), field="receipts")
    processed = _process(receipts, "receipts")
    ledger = ledger_of(issue, d)
    if amount_fen > ledger.remaining_fen:
        raise Invalid(_("这笔支出超出批准预算：预算 %(budget)s 元，已计入和待审核共 %(used)s 元，"
                        "尚余 %(left)s 元。超出预算的支出须先经补充决议批准：居委会可以在"
                        "“实施与支出”页发起补充协商，由联席会议表决追加预算。",
                        budget=format_fen(ledger.budget_fen),
                        used=format_fen(ledger.spent_fen + ledger.pending_fen),
                        left=format_fen(max(0, ledger.remaining_fen))), field="amount")
    e = Expense(community_id=issue.community_id, issue_id=issue.id, decision_id=d.id,
                number=_next_number(issue.id), spent_on=spent_on, amount_fen=amount_fen,
                payee=payee, purpose=purpose, funding_source=d.funding_source, body=body,
                created_by_id=actor.id, idempotency_key=idempotency_key or None, reason="")
    db.session.add(e)
    db.session.flush()
    for position, (stem, width, height) in enumerate(_store("receipts", processed)):
        db.session.add(ExpenseReceipt(expense_id=e.id, stem=stem, width=width, height=height,
                                      position=position))
    db.session.flush()
    db.session.refresh(e, ["receipts"])
    audit.record("expense.add", e, actor=actor, issue=issue.number, number=e.number,
                 decision=d.id, amount_fen=e.amount_fen, funding_source=e.funding_source.value,
                 spent_on=e.spent_on.isoformat(), receipts=len(processed))
    if e.funding_source is FundingSource.MAINTENANCE_FUND:
        from civic.notifications.operations import notify, staff_ids
        notify([uid for uid in staff_ids(community.id, Role.ASSOCIATION) if uid != actor.id],
               "expense.review", community_id=community.id, link=ledger_link(community, issue),
               number=issue.number, title=issue.title, amount=format_fen(e.amount_fen))
    return e


def reverse_expense(actor: User, expense: Expense, reason: str) -> Expense:
    """A reversing entry (冲销) for `expense`, dated today. Raises NotAllowed, Invalid
    (field reason), DomainError."""
    issue = db.session.get(Issue, expense.issue_id)
    community = db.session.get(Community, issue.community_id)
    d = _lock_decision(issue)
    if booking_body(actor, community, d) is None:
        raise NotAllowed(_("只有负责实施的一方或居委会可以冲销支出。"))
    reason = _text(reason, "reason", 500, _("请说明冲销的理由。"), _("理由不能超过 500 字。"))
    if expense.is_reversal:
        raise DomainError(_("冲销记录不能再冲销；如有错误，请重新登记一笔支出。"))
    if db.session.scalar(select(Expense.id).where(Expense.reverses_id == expense.id)):
        raise DomainError(_("这笔支出已经冲销过了。"))
    r = Expense(community_id=expense.community_id, issue_id=expense.issue_id,
                decision_id=expense.decision_id, number=_next_number(expense.issue_id),
                spent_on=_today(), amount_fen=-expense.amount_fen,
                payee=expense.payee, purpose=expense.purpose,
                funding_source=expense.funding_source, reverses_id=expense.id, reason=reason,
                body=booking_body(actor, community, d), created_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(r)
    except IntegrityError:
        raise DomainError(_("这笔支出已经冲销过了。")) from None
    audit.record("expense.reverse", r, actor=actor, issue=issue.number, number=r.number,
                 reverses=expense.number, amount_fen=r.amount_fen)
    return r


def review_expense(actor: User, expense: Expense, *, approved: bool, note: str = "") -> ExpenseReview:
    """The owners' committee approves (or refuses, with a reason) a maintenance-fund entry.
    Raises NotAllowed, Invalid (field note), DomainError."""
    community = db.session.get(Community, expense.community_id)
    if not can_review(actor, community):
        raise NotAllowed(_("只有业委会成员可以审核专项维修资金支出。"))
    if expense.funding_source is not FundingSource.MAINTENANCE_FUND or expense.is_reversal:
        raise DomainError(_("只有动用专项维修资金的支出需要业委会审核。"))
    if expense.created_by_id == actor.id:
        raise NotAllowed(_("不能审核自己登记的支出，请由另一位业委会成员审核。"))
    note = (note or "").strip()
    if not approved and not note:
        raise Invalid(_("不同意时请说明理由。"), field="note")
    if len(note) > 500:
        raise Invalid(_("说明不能超过 500 字。"), field="note")
    issue = db.session.get(Issue, expense.issue_id)
    _lock_decision(issue)
    if db.session.scalar(select(ExpenseReview.id).where(ExpenseReview.expense_id == expense.id)):
        raise DomainError(_("这笔支出已经审核过了。"))
    review = ExpenseReview(expense_id=expense.id, approved=bool(approved), note=note,
                           reviewer_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(review)
    except IntegrityError:
        raise DomainError(_("这笔支出已经审核过了。")) from None
    audit.record("expense.approve" if approved else "expense.refuse", review, actor=actor,
                 community_id=expense.community_id, issue=issue.number, number=expense.number)
    return review


def ledger_link(community: Community, issue: Issue) -> str:
    return f"/c/{community.slug}/issues/{issue.number}/implementation"


def _tell_households(issue: Issue, community: Community, kind: str) -> int:
    from civic.decisions.operations import households_of
    from civic.notifications.operations import notify
    return notify(households_of(issue), kind, community_id=issue.community_id,
                  link=ledger_link(community, issue), number=issue.number, title=issue.title)


# --- progress --------------------------------------------------------------------------

def updates_of(issue: Issue) -> list[ProgressUpdate]:
    return list(db.session.scalars(select(ProgressUpdate).where(
        ProgressUpdate.issue_id == issue.id).order_by(ProgressUpdate.id.desc())))


def work_status(issue: Issue) -> WorkStatus:
    if issue.state is IssueState.COMPLETED:
        return WorkStatus.COMPLETED
    if issue.state in (IssueState.IN_PROGRESS, IssueState.UNDER_REVIEW):
        return WorkStatus.IN_PROGRESS
    return WorkStatus.NOT_STARTED


def posting_body(user, community, decision: Decision) -> Body | None:
    """The responsible bodies post progress: the lead body, and the committee."""
    return booking_body(user, community, decision)


def can_post(user, community, issue: Issue, decision: Decision | None) -> bool:
    return (decision is not None and issue.state in UNDER_WAY
            and posting_body(user, community, decision) is not None)


def can_complete(user, community, decision: Decision | None) -> bool:
    return decision is not None and decision.lead in bodies_of(user, community)


def post_update(actor: User, issue: Issue, *, status, text: str, photos: list[bytes],
                idempotency_key: str | None = None) -> ProgressUpdate:
    """A progress update. `in_progress` moves the issue from 已决议 to 实施中; `completed`
    — the lead body only — marks the work done (已办结). Raises NotAllowed, Invalid (field
    status, text, photos), DomainError."""
    if idempotency_key:
        existing = db.session.scalar(select(ProgressUpdate).where(
            ProgressUpdate.author_id == actor.id,
            ProgressUpdate.idempotency_key == idempotency_key))
        if existing is not None:
            if existing.issue_id == issue.id:
                return existing
            raise DomainError(_("这张表单已经提交过了，请刷新页面后重新填写。"))
    community = db.session.get(Community, issue.community_id)
    d = _lock_decision(issue)
    body = posting_body(actor, community, d)
    if body is None:
        raise NotAllowed(_("只有负责实施的一方或居委会可以发布实施进展。"))
    try:
        status = WorkStatus(status)
    except ValueError:
        raise Invalid(_("请选择实施状态。"), field="status") from None
    if status is WorkStatus.COMPLETED and d.lead not in bodies_of(actor, community):
        raise NotAllowed(_("只有牵头实施的%(lead)s可以确认办结。", lead=d.lead.label))
    text = _text(text, "text", MAX_TEXT, _("请填写进展说明。"), _("进展说明不能超过 2000 字。"))
    processed = _process(photos, "photos")
    now = clock.now()
    if status is WorkStatus.COMPLETED:
        res = db.session.execute(update(Issue).where(
            Issue.id == issue.id, Issue.state.in_(UNDER_WAY))
            .values(state=IssueState.COMPLETED, completed_at=now,
                    rating_window=Issue.rating_window + 1, rating_closed_at=None))
    elif status is WorkStatus.IN_PROGRESS:
        res = db.session.execute(update(Issue).where(
            Issue.id == issue.id, Issue.state == IssueState.DECIDED)
            .values(state=IssueState.IN_PROGRESS))
        if res.rowcount != 1:  # already under way (or under review): the state stays
            res = db.session.execute(update(Issue).where(
                Issue.id == issue.id, Issue.state.in_(UNDER_WAY)).values(state=Issue.state))
    else:
        res = db.session.execute(update(Issue).where(
            Issue.id == issue.id, Issue.state == IssueState.DECIDED).values(state=Issue.state))
    if res.rowcount != 1:
        if issue.state is IssueState.COMPLETED:
            raise DomainError(_("这个议题已经办结。"))
        raise DomainError(_("实施已经开始，不能再标记为未开始。"))
    db.session.refresh(issue, ["state", "completed_at", "rating_window", "rating_closed_at"])
    u = ProgressUpdate(community_id=issue.community_id, issue_id=issue.id, decision_id=d.id,
                       author_id=actor.id, body=body, status=status, text=text,
                       idempotency_key=idempotency_key or None)
    db.session.add(u)
    db.session.flush()
    for position, (stem, width, height) in enumerate(_store("progress", processed)):
        db.session.add(ProgressPhoto(update_id=u.id, stem=stem, width=width, height=height,
                                     position=position))
    db.session.flush()
    db.session.refresh(u, ["photos"])
    audit.record("progress.post", u, actor=actor, issue=issue.number, status=status.value,
                 photos=len(processed))
    if status is WorkStatus.COMPLETED:
        audit.record("issue.complete", issue, actor=actor, number=issue.number)
        _tell_households(issue, community, "issue.completed")
    return u
