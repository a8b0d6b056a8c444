"""Implementation pages: the ledger of an issue, progress updates, community totals.

Thin views over :mod:`civic.implementation.operations`: load (404) → authorise (403) →
validate → operate → commit once → redirect (303, or HX-Location for htmx). An invalid
form is shown again with the user's values and the error at its field: 400 to browsers,
200 to htmx, which swaps only 2xx answers.

Everything here is public — the ledger, its receipts, progress photos and the community's
totals — except on a hidden issue, which is 404 to all but moderators (as its page is).
People appear only as the body they act for (物业, 居委会, 业委会), never by name or phone.

Once the work is completed the page also carries the residents' ratings (居民评价, see
:mod:`civic.implementation.ratings`): the tally of each window, the form for a household
that has not answered yet, and the comments — all anonymous, as the ratings are.
"""
from __future__ import annotations

import uuid

from flask import abort, flash, make_response, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from civic import clock, uploads
from civic import permissions as can
from civic.archive.stats import Rate
from civic.audit.operations import record_hashes
from civic.communities.loaders import community_or_404, require
from civic.communities.models import Community
from civic.consultation.models import FundingSource
from civic.decisions.models import Decision, DecisionState, Outcome
from civic.domain import DomainError, Invalid
from civic.extensions import db
from civic.htmx import attach as _attach
from civic.htmx import form_status as _status
from civic.htmx import refuse as _fail
from civic.htmx import render, see_other
from civic.implementation import bp
from civic.implementation import operations as ops
from civic.implementation import ratings
from civic.implementation.forms import (RESOLVED, ExpenseForm, ProgressForm, RatingForm,
                                        ReverseForm, ReviewForm)
from civic.implementation.models import (Expense, ExpenseReceipt, ExpenseStatus, ProgressPhoto,
                                         ProgressUpdate, Rating, Score, WorkStatus)
from civic.issues.models import Issue, IssueState

#: issue states in which an issue may have (had) an effective decision and a ledger
_LEDGER_STATES = (IssueState.IN_CONSULTATION, IssueState.DECIDED, IssueState.IN_PROGRESS,
                  IssueState.COMPLETED, IssueState.UNDER_REVIEW)
STATUS_BADGES = {ExpenseStatus.COUNTED: "badge-ok", ExpenseStatus.PENDING: "badge-warn",
                 ExpenseStatus.REFUSED: "badge-err"}
WORK_BADGES = {WorkStatus.NOT_STARTED: "", WorkStatus.IN_PROGRESS: "badge-warn",
               WorkStatus.COMPLETED: "badge-ok"}


# --- loading -----------------------------------------------------------------------------

def _issue(community: Community, number: int) -> Issue:
    """Issue #number, if the current user may see it: never a draft, and a hidden issue
    only for moderators (404 otherwise, as on the issue page)."""
    issue = db.session.scalar(select(Issue).where(Issue.community_id == community.id,
                                                  Issue.number == number))
    if issue is None or not issue.state.is_public:
        abort(404)
    if issue.hidden_at is not None and not can.can_moderate(current_user, community):
        abort(404)
    return issue


def _load(slug: str, number: int) -> tuple[Community, Issue]:
    community = community_or_404(slug)
    return community, _issue(community, number)


def _entry(issue: Issue, number: int) -> Expense:
    e = db.session.scalar(select(Expense).where(Expense.issue_id == issue.id,
                                                Expense.number == number))
    if e is None:
        abort(404)
    return e


def _url(community: Community, issue: Issue, anchor: str = "") -> str:
    return url_for("implementation.show", slug=community.slug, number=issue.number) + anchor


def _require_body(community: Community, decision: Decision | None) -> None:
    """403 unless the user books for this decision (its lead body or the committee); with
    no effective decision, staff of a responsible body are told why instead."""
    if decision is not None:
        require(ops.booking_body(current_user, community, decision) is not None)
    else:
        require(bool(ops.bodies_of(current_user, community)))


def _no_decision(community: Community, issue: Issue, message: str):
    """Nothing to book against (the decision is not, or no longer, effective): say so on
    the issue page, which shows where the decision stands."""
    return _fail(DomainError(message), url_for("issues.show", slug=community.slug,
                                               number=issue.number))


# --- form helpers ------------------------------------------------------------------------


def _files(field) -> list[bytes]:
    return [f.read() for f in (field.data or []) if f and getattr(f, "filename", "")]


def _reselect(field) -> None:
    """A browser never sends chosen files again: say so when the form comes back."""
    if any(f.filename for f in request.files.getlist(field.name)):
        field.description = _("表单未提交成功，请重新选择照片。")


def _today():
    return clock.local(clock.now()).date()


def _expense_form(decision: Decision | None, form: ExpenseForm | None = None) -> ExpenseForm:
    form = form or ExpenseForm(formdata=None, spent_on=_today(),
                               idempotency_key=uuid.uuid4().hex)
    bounds = {"max": _today().isoformat()}
    if decision is not None and decision.published_at is not None:
        bounds["min"] = clock.local(decision.published_at).date().isoformat()
    form.spent_on.render_kw = bounds
    return form


def _statuses(community: Community, issue: Issue, decision: Decision | None) -> list[WorkStatus]:
    """The statuses the user may post: 未开始 only before work starts, 已完成 only for
    the lead body."""
    out = [WorkStatus.NOT_STARTED] if issue.state is IssueState.DECIDED else []
    out.append(WorkStatus.IN_PROGRESS)
    if ops.can_complete(current_user, community, decision):
        out.append(WorkStatus.COMPLETED)
    return out


def _progress_form(community: Community, issue: Issue, decision: Decision | None,
                   form: ProgressForm | None = None) -> ProgressForm:
    form = form or ProgressForm(formdata=None, status=WorkStatus.IN_PROGRESS.value,
                                idempotency_key=uuid.uuid4().hex)
    form.status.choices = [SelectChoice(s.value, s.label)
                           for s in _statuses(community, issue, decision)]
    return form


def _percent(part: int, whole: int) -> int:
    """Share of the budget for a <progress max=100> (display only, 0–100)."""
    return max(0, min(100, part * 100 // whole)) if whole > 0 else 0


def _rating_form(form: RatingForm | None = None) -> RatingForm:
    form = form or RatingForm(formdata=None)
    form.score.choices = [SelectChoice(s.value, s.label) for s in Score]
    return form


# --- ratings (居民评价) --------------------------------------------------------------------

def _tally(s: ratings.Summary) -> dict:
    """A window's answers for display: per score (count, share of the households for a
    <progress max=100>), resolved, and 满意率 — (满意 + 基本满意) / all, one decimal, "—"
    when nobody answered (as the statistics page counts it)."""
    return {"window": s.window, "total": s.total, "resolved": s.resolved,
            "unresolved": s.total - s.resolved, "reopens": s.reopens,
            "rows": [(score, s.count(score), _percent(s.count(score), s.total))
                     for score in Score],
            "rate": Rate(s.satisfied + s.basic, s.total).percent}


def _comments(issue: Issue) -> list:
    """The non-empty comments of every window, newest first — without anything that could
    name the household (no user, no unit). One query."""
    return list(db.session.execute(
        select(Rating.window_no, Rating.score, Rating.resolved, Rating.comment,
               Rating.created_at)
        .where(Rating.issue_id == issue.id, Rating.comment != "")
        .order_by(Rating.created_at.desc(), Rating.id.desc())))


def _ratings(community: Community, issue: Issue) -> dict | None:
    """The 居民评价 section: None (and no query) before the work was first completed;
    otherwise at most four queries, however many households answered."""
    if issue.rating_window == 0:
        return None
    current = ratings.summary(issue)
    mine = ratings.household_rating(current_user, issue)   # no query for non-residents
    resident = can.is_verified_resident(current_user, community)
    is_open = ratings.window_open(issue)
    return {"open": is_open, "closes_at": ratings.closes_at(issue),
            "review": issue.state is IssueState.UNDER_REVIEW, "summary": current,
            "current": _tally(current), "earlier": [_tally(s) for s in ratings.earlier_summaries(issue)],
            "comments": _comments(issue), "mine": mine, "resident": resident,
            # ratings.can_rate, without asking for the household's answer twice
            "may_rate": is_open and resident and mine is None}


# --- the implementation page ---------------------------------------------------------------

def _page(community: Community, issue: Issue, forms: dict | None = None, status: int = 200,
          fragment: str | None = None, **extra):
    decision = ops.effective_decision(issue)
    ledger = ops.ledger_of(issue, decision)
    if decision is None and not ledger.lines:
        abort(404)   # nothing to carry out yet: the issue page says where things stand
    # what is carried out: the effective decision, else (it is being corrected) the one
    # the latest entry was booked against
    shown = decision or db.session.get(Decision, ledger.lines[-1].entry.decision_id)
    may_book = ops.can_book(current_user, community, decision)
    may_review = ops.can_review(current_user, community)
    may_post = ops.can_post(current_user, community, issue, decision)
    me = getattr(current_user, "id", None)
    rating = _ratings(community, issue)
    base = {"expense": _expense_form(decision) if may_book else None,
            "reverse": (None, ReverseForm(formdata=None)),
            "review": (None, ReviewForm(formdata=None)),
            "progress": _progress_form(community, issue, decision) if may_post else None,
            "rating": _rating_form() if rating and rating["may_rate"] else None}
    base.update(forms or {})
    return render(
        "implementation/show.html", fragment, status=status, community=community,
        supplement=_supplement(community, issue, decision),
        issue=issue, decision=decision, d=shown, ledger=ledger,
        numbers={line.entry.id: line.entry.number for line in ledger.lines},
        hashes=record_hashes("expense", [line.entry.id for line in ledger.lines]),
        percent=_percent(ledger.spent_fen, ledger.budget_fen),
        updates=ops.updates_of(issue), work=ops.work_status(issue),
        work_badges=WORK_BADGES, status_badges=STATUS_BADGES,
        may_book=may_book, may_review=may_review, may_post=may_post, me=me,
        can_complete=ops.can_complete(current_user, community, decision),
        funding_label=shown.funding_source.label if shown.funding_source else None,
        lead_label=shown.lead.label if shown.lead else None, forms=base, rating=rating,
        rating_days=ratings.RATING_DAYS, **extra)


def _supplement(community: Community, issue: Issue, decision: Decision | None) -> dict:
    """Where more money stands (补充决议): a supplementary decision on its way, a supplementary
    consultation under way, or — for moderators — the way to start one."""
    from civic.consultation import operations as consultation
    from civic.consultation.models import Consultation, ConsultationState
    from civic.decisions import operations as decisions
    if decision is None:
        return {}
    pending = (decisions.pending_supplement_query(decision.id)
               .with_only_columns(Decision.id).limit(1).scalar_subquery())
    row = db.session.execute(select(Consultation.state, pending).where(
        Consultation.issue_id == issue.id)).first()   # one query for everyone
    state, pending_id = row if row is not None else (None, None)
    return {"pending": db.session.get(Decision, pending_id) if pending_id else None,
            "consulting": state is ConsultationState.OPEN,
            "may_open": pending_id is None and state is ConsultationState.CLOSED
            and can.is_moderator(current_user, community)
            and consultation.can_open_supplement(issue)}


@bp.route("/issues/<int:number>/implementation")
def show(slug: str, number: int):
    community, issue = _load(slug, number)
    return _page(community, issue)


# --- booking and reversing -------------------------------------------------------------------

@bp.route("/issues/<int:number>/expenses", methods=["POST"])
@login_required
def book(slug: str, number: int):
    community, issue = _load(slug, number)
    decision = ops.effective_decision(issue)
    _require_body(community, decision)
    if decision is None:
        return _no_decision(community, issue, _("决议生效并通过实施方案后，才能登记支出。"))
    form = ExpenseForm()
    target = _url(community, issue, "#ledger")
    status = 400
    if form.validate_on_submit():
        try:
            entry = ops.add_expense(
                current_user, issue, spent_on=form.spent_on.data, amount_fen=form.amount.fen,
                payee=form.payee.data, purpose=form.purpose.data,
                receipts=_files(form.receipts),
                idempotency_key=form.idempotency_key.data or None)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, target)
        else:
            n = entry.number
            pending = entry.funding_source is FundingSource.MAINTENANCE_FUND
            db.session.commit()
            flash(_("已登记支出 #%(n)s，业委会审核同意后计入预算。", n=n) if pending
                  else _("已登记支出 #%(n)s。", n=n), "success")
            return see_other(_url(community, issue, f"#expense-{n}"))
    _reselect(form.receipts)
    return _page(community, issue, {"expense": _expense_form(decision, form)},
                 status=_status(status), fragment="implementation/_expense_form.html")


@bp.route("/issues/<int:number>/expenses/<int:k>/reverse", methods=["POST"])
@login_required
def reverse(slug: str, number: int, k: int):
    community, issue = _load(slug, number)
    entry = _entry(issue, k)
    _require_body(community, ops.effective_decision(issue))
    form = ReverseForm()
    status = 400
    if form.validate_on_submit():
        try:
            r = ops.reverse_expense(current_user, entry, form.reason.data)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, _url(community, issue, f"#expense-{k}"))
        else:
            n = r.number
            db.session.commit()
            flash(_("已冲销支出 #%(k)s，冲销记录为支出 #%(n)s。", k=k, n=n), "success")
            return see_other(_url(community, issue, f"#expense-{n}"))
    return _page(community, issue, {"reverse": (k, form)}, status=_status(status),
                 fragment="implementation/_reverse_form.html", e=entry)


@bp.route("/issues/<int:number>/expenses/<int:k>/review", methods=["POST"])
@login_required
def review(slug: str, number: int, k: int):
    community, issue = _load(slug, number)
    entry = _entry(issue, k)
    require(ops.can_review(current_user, community))
    form = ReviewForm()
    status = 400
    if form.validate_on_submit():
        approved = form.verdict.data == "approve"
        try:
            ops.review_expense(current_user, entry, approved=approved,
                               note=form.note.data or "")
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, _url(community, issue, f"#expense-{k}"))
        else:
            db.session.commit()
            flash(_("已同意支出 #%(n)s，计入预算。", n=k) if approved
                  else _("已记录不同意的意见，支出 #%(n)s 不计入预算。", n=k), "success")
            return see_other(_url(community, issue, f"#expense-{k}"))
    return _page(community, issue, {"review": (k, form)}, status=_status(status),
                 fragment="implementation/_review_form.html", e=entry)


# --- progress --------------------------------------------------------------------------------

@bp.route("/issues/<int:number>/progress", methods=["POST"])
@login_required
def progress(slug: str, number: int):
    community, issue = _load(slug, number)
    decision = ops.effective_decision(issue)
    _require_body(community, decision)
    if decision is None:
        return _no_decision(community, issue, _("决议生效并通过实施方案后，才能发布实施进展。"))
    form = ProgressForm()
    target = _url(community, issue, "#progress")
    status = 400
    if form.validate_on_submit():
        try:
            u = ops.post_update(current_user, issue, status=form.status.data,
                                text=form.text.data, photos=_files(form.photos),
                                idempotency_key=form.idempotency_key.data or None)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, target)
        else:
            done = u.status is WorkStatus.COMPLETED
            db.session.commit()
            flash(_("已确认办结，已通知提议人和联署住户。") if done else _("实施进展已发布。"),
                  "success")
            return see_other(target)
    _reselect(form.photos)
    return _page(community, issue,
                 {"progress": _progress_form(community, issue, decision, form)},
                 status=_status(status), fragment="implementation/_progress_form.html")


# --- ratings -------------------------------------------------------------------------------

@bp.route("/issues/<int:number>/ratings", methods=["POST"])
@login_required
def rate(slug: str, number: int):
    """A household's answer once the work is completed: only verified residents (staff do
    not rate their own work); one answer per household per window — a second one, or a
    double submit, is refused by the operation (and the database) with a clear message."""
    community, issue = _load(slug, number)
    require(can.is_verified_resident(current_user, community))
    form = _rating_form(RatingForm())
    target = _url(community, issue, "#ratings")
    status = 400
    if form.validate_on_submit():
        try:
            ratings.rate(current_user, issue, resolved=RESOLVED[form.resolved.data],
                         score=form.score.data, comment=form.comment.data or "")
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, target)
        else:
            db.session.commit()
            flash(_("感谢评价。"), "success")
            return see_other(target)
    return _page(community, issue, {"rating": form}, status=_status(status),
                 fragment="implementation/_rating_form.html")


# --- receipts and progress photos ------------------------------------------------------------

def _image(community: Community, issue: Issue | None, kind: str, stem: str, thumb: bool):
    """A public image of the ledger, with the checks of issue photos."""
    if issue is None or issue.community_id != community.id or not issue.state.is_public:
        abort(404)
    if issue.hidden_at is not None and not can.can_moderate(current_user, community):
        abort(404)
    path = uploads.path_of(kind, f"{stem}_t.jpg" if thumb else f"{stem}.jpg")
    if not path.exists():
        abort(404)
    public = issue.hidden_at is None
    resp = make_response(send_file(path, mimetype="image/jpeg", max_age=300 if public else 0))
    resp.headers["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _stem_ok(stem: str) -> bool:
    return len(stem) == 32 and stem.isascii() and stem.isalnum()


@bp.route("/receipts/<stem>.jpg")
@bp.route("/receipts/<stem>_t.jpg", endpoint="receipt_thumb", defaults={"thumb": True})
def receipt(slug: str, stem: str, thumb: bool = False):
    community = community_or_404(slug)
    if not _stem_ok(stem):
        abort(404)
    issue = db.session.scalar(
        select(Issue).join(Expense, Expense.issue_id == Issue.id)
        .join(ExpenseReceipt, ExpenseReceipt.expense_id == Expense.id)
        .where(ExpenseReceipt.stem == stem))
    return _image(community, issue, "receipts", stem, thumb)


@bp.route("/progress-photos/<stem>.jpg")
@bp.route("/progress-photos/<stem>_t.jpg", endpoint="progress_thumb", defaults={"thumb": True})
def progress_photo(slug: str, stem: str, thumb: bool = False):
    community = community_or_404(slug)
    if not _stem_ok(stem):
        abort(404)
    issue = db.session.scalar(
        select(Issue).join(ProgressUpdate, ProgressUpdate.issue_id == Issue.id)
        .join(ProgressPhoto, ProgressPhoto.update_id == ProgressUpdate.id)
        .where(ProgressPhoto.stem == stem))
    return _image(community, issue, "progress", stem, thumb)


# --- sums without receipts: the issue panel and the community's spending ---------------------

def _sums(*where) -> dict[int, tuple[int, int]]:
    """{issue id: (counted fen, pending fen)} of the entries matching `where`. Two queries."""
    rows = db.session.execute(select(Expense.id, Expense.issue_id, Expense.reverses_id,
                                     Expense.amount_fen, Expense.funding_source)
                              .where(*where)).all()
    reviews = ops.reviews_for(r.id for r in rows
                              if r.funding_source is FundingSource.MAINTENANCE_FUND
                              and r.reverses_id is None)
    out: dict[int, list[int]] = {}
    for r in rows:
        sums = out.setdefault(r.issue_id, [0, 0])   # a refused entry still counts as one
        st = ops.status_of(r, reviews)
        if st is ExpenseStatus.COUNTED:
            sums[0] += r.amount_fen
        elif st is ExpenseStatus.PENDING:
            sums[1] += r.amount_fen
    return {k: (v[0], v[1]) for k, v in out.items()}


@bp.app_template_global()
def implementation_status(issue: Issue) -> dict:
    """What the issue page shows about carrying out its decision: shown once the issue
    has an effective adopted decision or any ledger entry. No query before a decision."""
    if issue.state not in _LEDGER_STATES:
        return {"show": False}
    decision = ops.effective_decision(issue)
    sums = _sums(Expense.issue_id == issue.id)
    if decision is None and not sums:
        return {"show": False}
    spent, pending = sums.get(issue.id, (0, 0))
    budget = decision.budget_fen if decision else 0
    return {"show": True, "decision": decision, "work": ops.work_status(issue),
            "work_badge": WORK_BADGES[ops.work_status(issue)], "spent_fen": spent,
            "pending_fen": pending, "budget_fen": budget, "percent": _percent(spent, budget),
            # the ratings, from the issue's own columns (no query)
            "rating_open": ratings.window_open(issue), "closes_at": ratings.closes_at(issue),
            "review": issue.state is IssueState.UNDER_REVIEW,
            "rated": issue.state is IssueState.COMPLETED and issue.rating_window > 0}


@bp.route("/spending")
def spending(slug: str):
    """The community's counted spending per year and funding source, and each effective
    decision's budget against what has been spent on it."""
    community = community_or_404(slug)
    totals = ops.totals(community)
    used = {s for year in totals.by_year.values() for s in year}
    sources = [s for s in FundingSource if s in used]
    rows = db.session.execute(
        select(Decision, Issue).join(Issue, Issue.id == Decision.issue_id)
        .where(Decision.community_id == community.id,
               Decision.state == DecisionState.EFFECTIVE, Decision.outcome == Outcome.ADOPTED)
        .order_by(Issue.number.desc())).all()
    sums = _sums(Expense.community_id == community.id)
    is_mod = can.can_moderate(current_user, community)
    items = []
    for d, issue in rows:
        spent, pending = sums.get(issue.id, (0, 0))
        work = ops.work_status(issue)
        items.append({"d": d, "issue": issue, "spent_fen": spent, "pending_fen": pending,
                      "percent": _percent(spent, d.budget_fen), "work": work,
                      "work_badge": WORK_BADGES[work],
                      "visible": issue.hidden_at is None or is_mod})
    return render("implementation/spending.html", community=community, totals=totals,
                  sources=sources, items=items)
