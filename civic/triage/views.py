"""Triage pages: the moderators' queue and dashboard, official responses."""
from __future__ import annotations

import uuid

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from civic import clock
from civic import permissions as can
from civic.communities.loaders import check, community_or_404
from civic.communities.models import Claim, ClaimStatus, Community
from civic.domain import DomainError, Invalid
from civic.extensions import db
from civic.htmx import perform, render, see_other
from civic.issues import operations as issue_ops
from civic.issues.models import Issue, IssueState
from civic.triage import bp, clocks
from civic.triage import operations as ops
from civic.triage.forms import (AcceptForm, DeclineForm, MergeForm, ReferForm, ResponseForm,
                                RulingForm)
from civic.triage.models import Body, Outcome, Precedent, Triage


def _issue(community: Community, number: int) -> Issue:
    issue = db.session.execute(select(Issue).where(
        Issue.community_id == community.id, Issue.number == number)).scalar_one_or_none()
    if issue is None or not issue.state.is_public:
        abort(404)
    return issue


@bp.app_template_global()
def triage_status(issue: Issue) -> dict:
    """What the public issue page shows about triage: outcome, clocks, official responses."""
    t = ops.triage_of(issue)
    community = db.session.get(Community, issue.community_id)
    now = clock.now()
    due = ops.triage_due(issue, community)
    merged_into = db.session.get(Issue, t.merged_into_id) if t and t.merged_into_id else None
    return {
        "triage": t, "now": now, "merged_into": merged_into,
        "triage_due": due,
        "triage_clock": clocks.state(due, now) if due and issue.state is IssueState.AWAITING_TRIAGE else None,
        "response_clock": clocks.state(t.response_due_at, now, t.responded_at)
        if t and t.response_due_at else None,
        "responses": ops.responses_of(issue.id),
        "body_label": ops.body_label,
        "can_respond": can.can_respond(current_user, community) and issue.state in ops.RESPONDABLE,
        "response_form": ResponseForm(formdata=None, idempotency_key=uuid.uuid4().hex),
        "hours_left": clocks.hours_left,
    }


@bp.route("/manage/")
@login_required
def dashboard(slug: str):
    community = community_or_404(slug)
    check(can.can_manage, community)
    queue = _queue(community)
    now = clock.now()
    overdue_responses = db.session.execute(
        select(Issue, Triage).join(Triage, Triage.issue_id == Issue.id).where(
            Issue.community_id == community.id, Triage.outcome == Outcome.ACCEPTED,
            Triage.responded_at.is_(None), Triage.response_due_at < now)
        .order_by(Triage.response_due_at)).all()
    pending_claims = db.session.scalar(select(func.count(Claim.id)).where(
        Claim.community_id == community.id, Claim.status == ClaimStatus.PENDING)) or 0
    try:
        from civic.moderation.queries import pending_reports_count
        reports = pending_reports_count(community.id)
    except ImportError:  # the moderation area is optional for the dashboard
        reports = None
    return render("triage/dashboard.html", community=community, queue=queue,
                  overdue_responses=overdue_responses, pending_claims=pending_claims,
                  reports=reports, body_label=ops.body_label)


def _queue(community: Community) -> list[dict]:
    now = clock.now()
    rows = db.session.execute(
        select(Issue, Triage).outerjoin(Triage, Triage.issue_id == Issue.id).where(
            Issue.community_id == community.id, Issue.state == IssueState.AWAITING_TRIAGE)
        .order_by(Issue.threshold_at)).all()
    out = []
    for issue, t in rows:
        due = ops.triage_due(issue, community)
        out.append({"issue": issue, "triage": t, "due": due, "clock": clocks.state(due, now),
                    "hours": clocks.hours_left(due, now)})
    return out


@bp.route("/manage/triage/")
@login_required
def queue(slug: str):
    community = community_or_404(slug)
    check(can.can_triage, community)
    return render("triage/queue.html", community=community, queue=_queue(community))


def _forms(issue: Issue, suggested: Body | None, t: Triage | None):
    lead = (t.lead.value if t and t.lead else None) or (suggested.value if suggested else None)
    return {"accept": AcceptForm(formdata=None, lead=lead), "decline": DeclineForm(formdata=None),
            "merge": MergeForm(formdata=None), "refer": ReferForm(formdata=None),
            "ruling": RulingForm(formdata=None, lead=lead)}


def _triage_page(community: Community, issue: Issue, forms: dict | None = None, status=200):
    t = ops.triage_of(issue)
    suggested = ops.suggested_lead(community.id, issue.category)
    base = _forms(issue, suggested, t)
    base.update(forms or {})
    due = ops.triage_due(issue, community)
    now = clock.now()
    return render("triage/issue.html", community=community, issue=issue, triage=t,
                  suggested=suggested, precedents=ops.precedents_for(community.id, issue.category),
                  forms=base, due=due, clock=clocks.state(due, now) if due else None,
                  hours=clocks.hours_left(due, now) if due else None, body_label=ops.body_label,
                  status=status)


@bp.route("/manage/triage/<int:number>")
@login_required
def show(slug: str, number: int):
    community = community_or_404(slug)
    check(can.can_triage, community)
    return _triage_page(community, _issue(community, number))


def _act(slug: str, number: int, form_name: str, form_cls, operate, done_message):
    """The common shape of a triage action: validate, operate, commit, tell, redirect."""
    community = community_or_404(slug)
    check(can.can_triage, community)
    issue = _issue(community, number)
    form = form_cls()
    if form.validate_on_submit():
        try:
            operate(issue, form)
        except Invalid as e:
            db.session.rollback()
            getattr(form, e.field).errors.append(e.message)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(url_for("triage.show", slug=slug, number=number))
        else:
            db.session.commit()
            flash(done_message, "success")
            return see_other(url_for("triage.queue", slug=slug))
    return _triage_page(community, issue, {form_name: form}, status=400)


def _bodies(values) -> list[Body]:
    return [Body(v) for v in values or [] if v in {b.value for b in Body}]


@bp.route("/manage/triage/<int:number>/accept", methods=["POST"])
@login_required
def accept(slug: str, number: int):
    return _act(slug, number, "accept", AcceptForm,
                lambda issue, f: ops.accept(current_user, issue, Body(f.lead.data),
                                            _bodies(f.participants.data)),
                _("已受理，已通知提议人和联署住户。"))


@bp.route("/manage/triage/<int:number>/decline", methods=["POST"])
@login_required
def decline(slug: str, number: int):
    return _act(slug, number, "decline", DeclineForm,
                lambda issue, f: ops.decline(current_user, issue, f.reason.data),
                _("已不予受理，理由已公开。"))


@bp.route("/manage/triage/<int:number>/merge", methods=["POST"])
@login_required
def merge(slug: str, number: int):
    return _act(slug, number, "merge", MergeForm,
                lambda issue, f: ops.merge(current_user, issue, f.target.data),
                _("已合并，联署已按户转入目标议题。"))


@bp.route("/manage/triage/<int:number>/refer", methods=["POST"])
@login_required
def refer(slug: str, number: int):
    return _act(slug, number, "refer", ReferForm,
                lambda issue, f: ops.refer(current_user, issue, f.office.data,
                                           f.office_ref.data or "", f.note.data or ""),
                _("已转办。"))


@bp.route("/manage/triage/<int:number>/ruling-request", methods=["POST"])
@login_required
def request_ruling(slug: str, number: int):
    community = community_or_404(slug)
    check(can.can_triage, community)
    issue = _issue(community, number)
    return perform(lambda: ops.request_ruling(current_user, issue),
                   _("已提交联席会议认定主责方。"),
                   url_for("triage.show", slug=slug, number=number))


@bp.route("/manage/triage/<int:number>/ruling", methods=["POST"])
@login_required
def ruling(slug: str, number: int):
    community = community_or_404(slug)
    check(can.can_triage, community)
    issue = _issue(community, number)
    form = RulingForm()
    if form.validate_on_submit():
        try:
            ops.record_ruling(current_user, issue, Body(form.lead.data), form.ruling.data,
                              save_precedent=form.save_precedent.data,
                              precedent_title=form.precedent_title.data or "")
        except Invalid as e:
            db.session.rollback()
            getattr(form, e.field).errors.append(e.message)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(url_for("triage.show", slug=slug, number=number))
        else:
            db.session.commit()
            flash(_("已记录认定意见。现在可以按认定的主责方受理。"), "success")
            return see_other(url_for("triage.show", slug=slug, number=number))
    return _triage_page(community, issue, {"ruling": form}, status=400)


@bp.route("/manage/responsibility", methods=["GET", "POST"])
@login_required
def responsibility(slug: str):
    community = community_or_404(slug)
    check(can.can_triage, community)
    categories = issue_ops.categories(community)
    if request.method == "POST":
        valid = {b.value for b in Body}
        mapping = {c: (Body(request.form.get(f"lead-{i}")) if request.form.get(f"lead-{i}") in valid
                       else None) for i, c in enumerate(categories)}
        ops.set_responsibility(current_user, community, mapping)
        db.session.commit()
        flash(_("权责清单已保存。"), "success")
        return see_other(url_for("triage.responsibility", slug=slug))
    leads = ops.responsibility_of(community.id)
    current = {c: leads.get(c) for c in categories}
    precedents = db.session.scalars(select(Precedent).where(
        Precedent.community_id == community.id).order_by(Precedent.id.desc()).limit(50)).all()
    return render("triage/responsibility.html", community=community, categories=categories,
                  current=current, precedents=precedents, body_label=ops.body_label,
                  bodies=list(Body))


@bp.route("/precedents/")
def precedents(slug: str):
    community = community_or_404(slug)
    items = db.session.scalars(select(Precedent).where(
        Precedent.community_id == community.id).order_by(Precedent.id.desc()).limit(200)).all()
    return render("triage/precedents.html", community=community, items=items,
                  body_label=ops.body_label)


@bp.route("/issues/<int:number>/responses", methods=["POST"])
@login_required
def respond(slug: str, number: int):
    community = community_or_404(slug)
    issue = _issue(community, number)
    check(can.can_respond, community)
    form = ResponseForm()
    target = url_for("issues.show", slug=slug, number=number) + "#responses"
    if form.validate_on_submit():
        try:
            ops.post_response(current_user, issue, form.text.data,
                              idempotency_key=form.idempotency_key.data or None)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
        else:
            db.session.commit()
            flash(_("正式答复已发布。"), "success")
    else:
        flash(_("请填写答复内容。"), "error")
    return see_other(target)
