"""Decision pages: publishing, the publicity period, objections, corrections.

Thin views over :mod:`civic.decisions.operations`: load (404) → authorise (403) →
validate → operate → commit once → redirect (303, or HX-Location for htmx). An invalid
form is shown again with the user's values and the error at its field: 400 (422 for a value
that names something foreign) to browsers, 200 to htmx, which swaps only 2xx answers.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from fractions import Fraction

from flask import abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from civic import clock
from civic import permissions as can
from civic.audit.chain import canonical_json
from civic.audit.operations import record_hashes
from civic.ballots.art278 import Item
from civic.communities.loaders import check, community_or_404
from civic.communities.models import Community, Membership, Role, Unit
from civic.consultation import operations as rounds
from civic.consultation.models import FundingSource, MinutesState, Round
from civic.consultation.rules import Body, Rule, Vote, describe
from civic.decisions import bp
from civic.decisions import operations as ops
from civic.decisions.forms import (FIELD_OF, AnswerForm, CorrectForm, ObjectionForm, PublishForm,
                                   TermsForm, WithdrawForm)
from civic.decisions.models import Decision, DecisionState, Objection, Outcome
from civic.domain import DomainError, Invalid
from civic.extensions import db
from civic.htmx import attach, perform, render, see_other
from civic.htmx import form_status as _status
from civic.htmx import refuse as _fail
from civic.issues.models import Issue, IssueState
from civic.money import format_fen
from civic.templating import official_name, public_name

PER_PAGE = 20
_MAX_PAGE = 100_000


# --- loading -----------------------------------------------------------------------------

def _issue(community: Community, number: int) -> Issue:
    issue = db.session.scalar(select(Issue).where(Issue.community_id == community.id,
                                                  Issue.number == number))
    if issue is None or not issue.state.is_public:
        abort(404)
    return issue


def _decision(issue: Issue, version: int) -> Decision:
    d = db.session.scalar(select(Decision).where(Decision.issue_id == issue.id,
                                                 Decision.version == version))
    if d is None:
        abort(404)
    return d


def _load(slug: str, number: int, version: int) -> tuple[Community, Issue, Decision]:
    community = community_or_404(slug)
    issue = _issue(community, number)
    return community, issue, _decision(issue, version)


def _url(community: Community, issue: Issue, d: Decision, anchor: str = "") -> str:
    return url_for("decisions.show", slug=community.slug, number=issue.number,
                   version=d.version) + anchor


def round_path(community: Community, issue: Issue, number: int) -> str:
    """The public page of round `number` (the consultation area serves it)."""
    return f"/c/{community.slug}/issues/{issue.number}/rounds/{number}"


# --- form helpers ---------------------------------------------------------------------------


def _valid(form, names: tuple[str, ...] | None = None) -> bool:
    """validate_on_submit(), counting only the fields in `names` (and the CSRF token)."""
    if form.validate_on_submit():
        return True
    if names is None or not form.is_submitted():
        return False
    fields = [*names, "csrf_token"]
    return not any(getattr(form, n).errors for n in fields if hasattr(form, n))


def _terms(form: TermsForm) -> dict:
    return {"lead": form.lead.data or None, "due_on": form.due_on.data,
            "budget_fen": form.budget.fen, "funding_source": form.funding_source.data or None}


def _prefill(lead: Body | None, budget_fen: int | None, funding: FundingSource | None,
             **more) -> dict:
    return {"lead": lead.value if lead else None,
            "budget": format_fen(budget_fen) if budget_fen is not None else "",
            "funding_source": funding.value if funding else "", **more}


# --- the issue page's decision panel --------------------------------------------------------

@bp.app_template_global()
def decision_status(issue: Issue) -> dict:
    """What the issue page shows: the standing decision (else the latest version), and for
    moderators whether a decision can be published now."""
    d = ops.standing_decision(issue.id) or db.session.scalar(
        select(Decision).where(Decision.issue_id == issue.id)
        .order_by(Decision.version.desc()).limit(1))
    preview = None
    if issue.state in (IssueState.IN_CONSULTATION, *ops.UNDER_WAY) and can.is_moderator(
            current_user, issue.community_id):
        preview = ops.publish_preview(issue)
    return {"decision": d, "can_publish": preview is not None and preview.problem is None,
            "preview": preview}


# --- publishing -----------------------------------------------------------------------------

def _publish_page(community: Community, issue: Issue, preview: ops.Preview, form: PublishForm,
                  status: int = 200):
    option = preview.option
    adopted = preview.outcome is Outcome.ADOPTED
    if preview.base is not None:
        form.summary.label.text = _("补充说明（公开）")
        form.summary.description = _("写明为什么需要追加预算、追加的钱用在哪里。")
    elif not adopted:
        form.summary.label.text = _("不予实施的理由（公开）")
        form.summary.description = _("本轮没有通过可实施的方案，请说明为什么不予实施、下一步怎么办。")
    return render("decisions/new.html",
                  "decisions/_publish_form.html" if request.method == "POST" else None,
                  status=status, community=community, issue=issue, preview=preview,
                  option=option, adopted=adopted, form=form,
                  owners_item=Item(option.owners_item) if adopted and option.owners_item
                  else None,
                  minutes=rounds.minutes_of(preview.round) if preview.round else None,
                  round_url=round_path(community, issue, preview.round.number)
                  if preview.round else None)


@bp.route("/issues/<int:number>/decisions/new", methods=["GET", "POST"])
@login_required
def new(slug: str, number: int):
    community = community_or_404(slug)
    check(can.is_moderator, community)
    issue = _issue(community, number)
    preview = ops.publish_preview(issue)
    back = url_for("issues.show", slug=slug, number=number)
    if request.method == "GET":
        option = preview.option if preview.outcome is Outcome.ADOPTED else None
        if preview.base is not None:
            form = PublishForm(formdata=None, data={"due_on": preview.base.due_on})
        else:
            form = PublishForm(formdata=None, data=_prefill(
                option.executor if option else None, option.cost_fen if option else None,
                option.funding_source if option else None))
        return _publish_page(community, issue, preview, form)
    form = PublishForm()
    if preview.problem:
        flash(preview.problem, "error")
        return see_other(back)
    adopted = preview.outcome is Outcome.ADOPTED
    supplement = preview.base is not None
    status = 400
    if supplement:
        # the lead body, budget and fund follow from the decision and the plan
        valid = _valid(form, ("summary", "due_on"))
        terms = {"due_on": form.due_on.data}
    else:
        valid = (_valid(form, None if adopted else ("summary",))
                 and (not adopted or form.require_terms()))
        terms = _terms(form) if adopted else {}
    if valid:
        try:
            d = ops.publish(current_user, issue, summary=form.summary.data or "", **terms)
        except Invalid as e:
            db.session.rollback()
            attach(form, e, FIELD_OF)
            status = e.status
        except DomainError as e:
            return _fail(e, back)
        else:
            db.session.commit()
            if d.state is DecisionState.AWAITING_BALLOT:
                flash(_("决议已记录。本方案须先经业主表决，表决通过后开始公示。"), "success")
            else:
                flash(_("决议已发布，公示期 %(days)s 天，已通知提议人和联署住户。",
                        days=community.publicity_days), "success")
            return see_other(_url(community, issue, d))
    return _publish_page(community, issue, preview, form, status=_status(status))


# --- the public decision page -------------------------------------------------------------

def _when(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _tally_view(d: Decision, deciding: int) -> list[dict]:
    """The stored tally, ready to show: seats in their official capacity only."""
    out = []
    for r in ops.tally_of(d).get("rounds", []):
        options = []
        for o in r["options"]:
            options.append({
                **o,
                "funding_label": FundingSource(o["funding_source"]).label
                if o.get("funding_source") else None,
                "executor_label": Body(o["executor"]).label if o.get("executor") else None,
                "votes": [{"seat": official_name(Body(v["body"]).label, v.get("title") or ""),
                           "vote": Vote(v["vote"]).label if v.get("vote") else None,
                           "reason": v.get("reason") or ""} for v in o["votes"]],
            })
        adopted = next((o for o in options if o["id"] == r.get("adopted")), None)
        options.sort(key=lambda o: o["position"])
        quorum = Fraction(r.get("quorum") or "1/2")
        out.append({"number": r["round"], "rule": Rule(r["rule"]).label,
                    "rule_text": describe(r["rule"], quorum=quorum), "quorum": r.get("quorum"),
                    "frozen_hash": r.get("frozen_hash"), "closed_at": _when(r.get("closed_at")),
                    "adopted": adopted, "options": options,
                    "deciding": r["round"] == deciding})
    return out


def _objections(d: Decision, community: Community) -> list[dict]:
    """Each objection with its author as shown publicly and the answering body's name."""
    items = list(db.session.scalars(select(Objection).where(Objection.decision_id == d.id)
                                    .options(selectinload(Objection.author))
                                    .order_by(Objection.id)))
    memberships = {m.id: m for m in db.session.scalars(
        select(Membership).where(Membership.id.in_({o.membership_id for o in items}))
        .options(selectinload(Membership.unit).selectinload(Unit.building)))} if items else {}
    answerers = {o.answered_by_id for o in items if o.answered_by_id}
    titles = dict(db.session.execute(select(Membership.user_id, Membership.title).where(
        Membership.community_id == community.id, Membership.role == Role.MODERATOR,
        Membership.user_id.in_(answerers))).all()) if answerers else {}
    committee = _("居委会")
    return [{"o": o, "author": public_name(o.author, memberships.get(o.membership_id)),
             "answered_by": official_name(committee, titles.get(o.answered_by_id) or "")}
            for o in items]


def _left(ends: datetime | None, now: datetime) -> str | None:
    """"还剩 3 天 5 小时" until `ends`, or None once it has passed."""
    if ends is None or ends <= now:
        return None
    delta: timedelta = ends - now
    hours = delta.seconds // 3600
    if delta.days:
        return _("还剩 %(d)s 天 %(h)s 小时", d=delta.days, h=hours)
    if hours:
        return _("还剩 %(h)s 小时", h=hours)
    return _("还剩不到 1 小时")


def _show_page(community: Community, issue: Issue, d: Decision, forms: dict | None = None,
               status: int = 200, fragment: str | None = None, **extra):
    rnd = db.session.get(Round, d.round_id)
    minutes = rounds.minutes_of(rnd)
    if minutes is not None and minutes.state is not MinutesState.PUBLISHED:
        minutes = None
    confirmations = rounds.confirmations_of(minutes) if minutes else {}
    is_mod = can.is_moderator(current_user, community)
    now = clock.now()
    base = {"objection": ObjectionForm(formdata=None, idempotency_key=uuid.uuid4().hex),
            "answer": (None, AnswerForm(formdata=None)),
            "withdraw": WithdrawForm(formdata=None)}
    base.update(forms or {})
    return render(
        "decisions/show.html", fragment, status=status, community=community, issue=issue,
        d=d, now=now, left=_left(d.publicity_ends_at, now), deciding_round=rnd,
        rule_text=describe(d.rule, quorum=rnd.quorum), tally=_tally_view(d, rnd.number),
        round_path=round_path, minutes=minutes,
        confirmed=[(b, c) for b, c in sorted(confirmations.items(),
                                            key=lambda bc: list(Body).index(bc[0]))
                   if c.confirmed],
        corrects=db.session.get(Decision, d.corrects_id) if d.corrects_id else None,
        corrected_by=ops.correction_of(d), versions=ops.decisions_of(issue),
        supplements=db.session.get(Decision, d.supplements_id) if d.supplements_id else None,
        supplemented_by=ops.supplemented_by(d),
        objections=_objections(d, community), can_object=ops.can_object(current_user, d),
        is_mod=is_mod, refusal=ops.effect_refusal(d) if is_mod else None,
        can_withdraw=is_mod and ops.can_withdraw(d), can_correct=is_mod and ops.can_correct(d),
        owners_item=Item(d.owners_item) if d.owners_item else None,
        funding_label=d.funding_source.label if d.funding_source else None,
        lead_label=d.lead.label if d.lead else None, forms=base,
        record_hash=record_hashes("decision", [d.id]).get(str(d.id)), **extra)


@bp.route("/issues/<int:number>/decisions/<int:version>")
def show(slug: str, number: int, version: int):
    community, issue, d = _load(slug, number, version)
    return _show_page(community, issue, d)


@bp.route("/issues/<int:number>/decisions/<int:version>/content.json")
def content(slug: str, number: int, version: int):
    """The exact canonical JSON the content hash is computed over: sha256 of these bytes
    is the decision's `content_hash`."""
    _community, _issue_, d = _load(slug, number, version)
    resp = make_response(canonical_json(ops.content_payload(d)).encode("utf-8"))
    resp.mimetype = "application/json"
    resp.headers["X-Content-SHA256"] = d.content_hash
    return resp


# --- objections -------------------------------------------------------------------------------

@bp.route("/issues/<int:number>/decisions/<int:version>/objections", methods=["POST"])
@login_required
def object_(slug: str, number: int, version: int):
    community, issue, d = _load(slug, number, version)
    check(can.is_verified_resident, community)
    form = ObjectionForm()
    target = _url(community, issue, d, "#objections")
    status = 400
    if form.validate_on_submit():
        try:
            ops.file_objection(current_user, d, form.text.data,
                               idempotency_key=form.idempotency_key.data or None)
        except Invalid as e:
            db.session.rollback()
            attach(form, e, FIELD_OF)
            status = e.status
        except DomainError as e:
            return _fail(e, target)
        else:
            db.session.commit()
            flash(_("异议已提交并公开，居委会须在决议生效前公开答复。"), "success")
            return see_other(target)
    return _show_page(community, issue, d, {"objection": form}, status=_status(status),
                      fragment="decisions/_objection_form.html")


@bp.route("/issues/<int:number>/decisions/<int:version>/objections/<int:objection_id>/answer",
          methods=["POST"])
@login_required
def answer(slug: str, number: int, version: int, objection_id: int):
    community, issue, d = _load(slug, number, version)
    check(can.is_moderator, community)
    o = db.session.get(Objection, objection_id)
    if o is None or o.decision_id != d.id:
        abort(404)
    form = AnswerForm()
    target = _url(community, issue, d, f"#objection-{o.id}")
    status = 400
    if form.validate_on_submit():
        try:
            ops.answer_objection(current_user, o, form.answer.data)
        except Invalid as e:
            db.session.rollback()
            attach(form, e, FIELD_OF)
            status = e.status
        except DomainError as e:
            return _fail(e, target)
        else:
            db.session.commit()
            flash(_("答复已公开，已通知提出异议的居民。"), "success")
            return see_other(target)
    return _show_page(community, issue, d, {"answer": (o.id, form)}, status=_status(status),
                      fragment="decisions/_answer_form.html", o=o, aform=form)


# --- taking effect, withdrawing --------------------------------------------------------------

@bp.route("/issues/<int:number>/decisions/<int:version>/effective", methods=["POST"])
@login_required
def take_effect(slug: str, number: int, version: int):
    community, issue, d = _load(slug, number, version)
    check(can.is_moderator, community)
    return perform(lambda: ops.take_effect(current_user, d),
                   _("决议已生效，已通知提议人和联署住户。"), _url(community, issue, d))


@bp.route("/issues/<int:number>/decisions/<int:version>/withdraw", methods=["POST"])
@login_required
def withdraw(slug: str, number: int, version: int):
    community, issue, d = _load(slug, number, version)
    check(can.is_moderator, community)
    form = WithdrawForm()
    target = _url(community, issue, d)
    status = 400
    if form.validate_on_submit():
        try:
            ops.withdraw(current_user, d, form.reason.data)
        except Invalid as e:
            db.session.rollback()
            attach(form, e, FIELD_OF)
            status = e.status
        except DomainError as e:
            return _fail(e, target)
        else:
            db.session.commit()
            flash(_("决议已撤回，议题回到协商中，可以另开一轮协商。"), "success")
            return see_other(target)
    return _show_page(community, issue, d, {"withdraw": form}, status=_status(status),
                      fragment="decisions/_withdraw_form.html")


# --- corrections -------------------------------------------------------------------------------

@bp.route("/issues/<int:number>/decisions/<int:version>/correct", methods=["GET", "POST"])
@login_required
def correct(slug: str, number: int, version: int):
    community, issue, d = _load(slug, number, version)
    check(can.is_moderator, community)
    page = _url(community, issue, d)
    if not ops.can_correct(d):
        flash(_("只有公示中或已生效的决议可以更正。"), "error")
        return see_other(page)
    adopted = d.outcome is Outcome.ADOPTED
    if request.method == "GET":
        form = CorrectForm(formdata=None, data=_prefill(
            d.lead, d.budget_fen if adopted else None, d.funding_source,
            summary=d.summary, due_on=d.due_on))
        return _correct_page(community, issue, d, form)
    form = CorrectForm()
    status = 400
    if _valid(form, None if adopted else ("summary", "note")) and (
            not adopted or form.require_terms()):
        try:
            new = ops.correct(current_user, d, note=form.note.data or "",
                              summary=form.summary.data or "",
                              **(_terms(form) if adopted else {}))
        except Invalid as e:
            db.session.rollback()
            attach(form, e, FIELD_OF)
            status = e.status
        except DomainError as e:
            return _fail(e, page)
        else:
            db.session.commit()
            flash(_("更正已发布为第 %(v)s 版，原决议保持公开并标注“已更正”。", v=new.version),
                  "success")
            return see_other(_url(community, issue, new))
    return _correct_page(community, issue, d, form, status=_status(status))


def _correct_page(community: Community, issue: Issue, d: Decision, form: CorrectForm,
                  status: int = 200):
    return render("decisions/correct.html",
                  "decisions/_correct_form.html" if request.method == "POST" else None,
                  status=status, community=community, issue=issue, d=d, form=form,
                  adopted=d.outcome is Outcome.ADOPTED)


# --- the community's decisions ---------------------------------------------------------------

def _page() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < _MAX_PAGE else 1


@bp.route("/decisions/")
def index(slug: str):
    from civic.decisions import queries
    community = community_or_404(slug)
    categories, buildings = queries.categories_of(community), queries.buildings_of(community)
    f = queries.parse(request.args, community, buildings)
    page = _page()
    where = queries.conditions(f, community)
    total = queries.count(f, community)
    rows = db.session.execute(
        select(Decision, Issue.number, Issue.title, Issue.hidden_at)
        .join(Issue, Issue.id == Decision.issue_id).where(*where)
        .order_by(Decision.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render("decisions/index.html", "decisions/_list.html", community=community,
                  rows=rows, total=total, f=f, state=f.state, page=page,
                  pages=max(1, -(-total // PER_PAGE)), states=list(DecisionState),
                  categories=categories, buildings=buildings,
                  years=queries.years_of(community), fundings=list(FundingSource))
