"""Consultation pages: rounds, seats, options, statements, opinions, votes, minutes.

Thin: load → authorise → validate → operate → commit once → respond. The operations in
:mod:`civic.consultation.operations` check every rule again (and lock the round), so a
page that is out of date can never change a frozen round.

Refusals: ``Invalid`` re-renders the page with the message at the field (400/422; a
fragment for htmx comes back as 200, because htmx swaps only 2xx answers); ``NotAllowed``
is 403 (a refused vote is committed first, so the attempt stays in the audit log); any
other ``DomainError`` is flashed and the browser is sent back to the page.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from civic import clock
from civic import permissions as can
from civic.accounts.models import User
from civic.accounts.operations import normalise_phone
from civic.audit.chain import canonical_json
from civic.communities.loaders import check, community_or_404
from civic.communities.models import Community, Membership, MembershipStatus
from civic.consultation import bp, rules
from civic.consultation import operations as ops
from civic.consultation.forms import (CN_NUMERALS, ConfirmForm, DeadlineForm, EscalateForm,
                                     MinutesForm, NoticeForm, OpinionForm, OptionForm,
                                     ResidentSeatForm, RuleForm, ScheduleForm, StaffSeatForm,
                                     StatementForm, VoteForm, item_numeral, utc)
from civic.consultation.models import (Consultation, ConsultationState, FundingSource,
                                       MinutesState, Option, Round, RoundState, Seat, SeatVote)
from civic.consultation.rules import Body, Rule, Vote
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db, limiter
from civic.htmx import attach as _attach
from civic.htmx import form_status as _status
from civic.htmx import perform, render, see_other
from civic.issues.models import Issue, IssueState
from civic.issues.views import issue_or_404
from civic.templating import official_name

# --- labels (translated where shown) ---------------------------------------------------

BODY_LABELS = {Body.COMMITTEE: _l("居委会"), Body.ASSOCIATION: _l("业委会"),
               Body.PROPERTY: _l("物业"), Body.RESIDENT: _l("居民代表")}
ROUND_STATES = {RoundState.DRAFT: _l("筹备中"), RoundState.NOTICED: _l("已发布通知"),
                RoundState.OPEN: _l("表决中"), RoundState.CLOSED: _l("已结束")}
VOTE_LABELS = {Vote.AGREE: _l("同意"), Vote.OPPOSE: _l("反对"), Vote.ABSTAIN: _l("弃权")}
FUNDING_LABELS = {FundingSource.MAINTENANCE_FUND: _l("专项维修资金"),
                  FundingSource.PUBLIC_INCOME: _l("公共收益"),
                  FundingSource.AUTONOMY_FUND: _l("自治金"),
                  FundingSource.SERVICE_FEE: _l("物业服务费"),
                  FundingSource.GOVERNMENT: _l("政府拨款"), FundingSource.OTHER: _l("其他")}
RULE_LABELS = {Rule.CONSENSUS: _l("三方一致"), Rule.MAJORITY_EACH: _l("各方分别过半数"),
               Rule.MAJORITY_ALL: _l("全体席位过半数"),
               Rule.TWO_THIRDS_ALL: _l("全体席位三分之二")}
MINUTES_STATES = {MinutesState.DRAFT: _l("草稿"), MinutesState.CONFIRMING: _l("待各方确认"),
                  MinutesState.PUBLISHED: _l("已公布")}
#: issue states in which the issue may have a consultation
_CONSULTED = {IssueState.ACCEPTED, IssueState.IN_CONSULTATION, IssueState.DECIDED,
              IssueState.IN_PROGRESS, IssueState.COMPLETED, IssueState.UNDER_REVIEW}


def body_label(body) -> str:
    return str(BODY_LABELS[Body(body)])


def seat_name(seat: Seat) -> str:
    """How a seat appears publicly: its body and official title, never a personal name."""
    return official_name(body_label(seat.body), seat.title)


def rule_texts(quorum, fallback=rules.DEFAULT_QUORUM) -> tuple[dict[str, str], str]:
    """Each rule's own sentences, and the sentences every rule shares for this quorum
    (the quorum and how a choice between passing options is made), from rules.describe.
    A quorum that is not a fraction between 0 and 1 (a bad form value) uses `fallback`."""
    try:
        full = {r.value: rules.describe(r, quorum=quorum) for r in Rule}
    except (TypeError, ValueError, ZeroDivisionError):
        full = {r.value: rules.describe(r, quorum=fallback) for r in Rule}
    first = full[Rule.CONSENSUS.value]
    for i, ch in enumerate(first):
        if ch == "。":
            tail = first[i + 1:]
            if tail and all(t.endswith(tail) for t in full.values()):
                return {r: t[:len(t) - len(tail)] for r, t in full.items()}, tail
    return full, ""


@bp.context_processor
def _labels() -> dict:
    return {"body_label": body_label, "seat_name": seat_name, "round_states": ROUND_STATES,
            "vote_labels": VOTE_LABELS, "funding_labels": FUNDING_LABELS,
            "rule_labels": RULE_LABELS, "minutes_states": MINUTES_STATES,
            "cn_numerals": {n: item_numeral(n) for n in CN_NUMERALS}, "RoundState": RoundState,
            "MinutesState": MinutesState}


# --- loading -------------------------------------------------------------------------

def _issue(slug: str, number: int) -> tuple[Community, Issue]:
    community = community_or_404(slug)
    return community, issue_or_404(community, number)


def _consultation(issue: Issue) -> Consultation:
    c = ops.consultation_of(issue)
    if c is None:
        abort(404)
    return c


def _load(slug: str, number: int, k: int):
    """(community, issue, consultation, round k) or 404."""
    community, issue = _issue(slug, number)
    c = _consultation(issue)
    rnd = db.session.scalar(select(Round).where(Round.consultation_id == c.id,
                                                Round.number == k))
    if rnd is None:
        abort(404)
    return community, issue, c, rnd


def _round_url(community: Community, issue: Issue, rnd: Round, anchor: str = "") -> str:
    return url_for("consultation.round_page", slug=community.slug, number=issue.number,
                   k=rnd.number) + (f"#{anchor}" if anchor else "")


def _manage_url(community: Community, issue: Issue, rnd: Round, anchor: str = "") -> str:
    return url_for("consultation.manage", slug=community.slug, number=issue.number,
                   k=rnd.number) + (f"#{anchor}" if anchor else "")


def _consultation_url(community: Community, issue: Issue, anchor: str = "") -> str:
    return url_for("consultation.show", slug=community.slug, number=issue.number) + (
        f"#{anchor}" if anchor else "")


# --- the issue page's consultation card ----------------------------------------------

@bp.app_template_global()
def consultation_status(issue: Issue) -> dict:
    """What the issue page shows about consultation: the way in for a moderator, or the
    consultation and its current round."""
    out = {"consultation": None, "current": None, "rounds": 0, "adopted": None,
           "can_open": False, "round_states": ROUND_STATES}
    if issue.state not in _CONSULTED:
        return out
    c = ops.consultation_of(issue)
    if c is None:
        out["can_open"] = (issue.state is IssueState.ACCEPTED
                           and can.is_moderator(current_user, issue.community_id))
        return out
    rounds = list(db.session.scalars(select(Round).where(Round.consultation_id == c.id)
                                     .order_by(Round.number)))
    current = rounds[-1] if rounds else None
    out.update(consultation=c, current=current, rounds=len(rounds),
               adopted=db.session.get(Option, current.adopted_option_id)
               if current is not None and current.adopted_option_id else None)
    return out


# --- consultation --------------------------------------------------------------------

@bp.route("/issues/<int:number>/consultation/open", methods=["POST"])
@login_required
def open_consultation(slug: str, number: int):
    community, issue = _issue(slug, number)
    check(can.is_moderator, community)
    try:
        ops.open_consultation(current_user, issue)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except DomainError as e:
        db.session.rollback()
        flash(e.message, "error")
        return see_other(url_for("issues.show", slug=slug, number=number))
    db.session.commit()
    flash(_("议题已进入协商。请安排第一轮协商并发布会议通知。"), "success")
    return see_other(_consultation_url(community, issue, "schedule"))


@bp.route("/issues/<int:number>/consultation/supplement", methods=["POST"])
@login_required
def open_supplement(slug: str, number: int):
    """补充协商: the way to more money for a plan in effect, through a new round."""
    community, issue = _issue(slug, number)
    check(can.is_moderator, community)
    try:
        ops.open_supplement(current_user, issue)
    except DomainError as e:
        db.session.rollback()
        flash(e.message, "error")
        return see_other(url_for("implementation.show", slug=slug, number=number))
    db.session.commit()
    flash(_("补充协商已开始。请安排新一轮协商，把追加预算的方案（费用、资金来源）提交表决。"),
          "success")
    return see_other(_consultation_url(community, issue, "schedule"))


def _local_default(days: int, hour: int):
    """A default meeting time: `days` days from today at `hour`:00 Asia/Shanghai."""
    day = clock.local(clock.now()) + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def _consultation_page(community: Community, issue: Issue, c: Consultation,
                       forms: dict | None = None, status: int = 200):
    rounds = list(db.session.scalars(select(Round).where(Round.consultation_id == c.id)
                                     .order_by(Round.number)))
    adopted = {r.id: db.session.get(Option, r.adopted_option_id)
               for r in rounds if r.adopted_option_id}
    is_mod = can.is_moderator(current_user, community)
    last = rounds[-1] if rounds else None
    pending = any(r.state is not RoundState.CLOSED for r in rounds)
    open_ = c.state is ConsultationState.OPEN
    can_escalate = bool(is_mod and open_ and last is not None
                        and last.state is RoundState.CLOSED and last.adopted_option_id is None
                        and c.escalated_at is None)
    base = {}
    if is_mod and open_ and not pending:
        starts = _local_default(ops.notice_days(community.id) + 1, 19)
        base["schedule"] = ScheduleForm(
            formdata=None, agenda=last.agenda if last else issue.title,
            place=last.place if last else "", online=last.online if last else False,
            guests=last.guests if last else "", starts_at=starts,
            closes_at=starts + timedelta(hours=2),
            rule=last.rule.value if last else rules.DEFAULT_RULE.value,
            quorum=f"{last.quorum_num}/{last.quorum_den}" if last else "1/2")
    if can_escalate:
        base["escalate"] = EscalateForm(formdata=None)
    base.update(forms or {})
    schedule = base.get("schedule")
    texts, shared = rule_texts(schedule.quorum.data if schedule is not None else None)
    from civic.decisions.operations import effective_plan
    return render("consultation/show.html", community=community, issue=issue,
                  supplement_base=effective_plan(issue.id) if open_ else None,
                  consultation=c, rounds=rounds, adopted=adopted, is_mod=is_mod,
                  pending=pending, forms=base, rule_texts=texts, rule_shared=shared,
                  notice_days=ops.notice_days(community.id), status=status)


@bp.route("/issues/<int:number>/consultation")
def show(slug: str, number: int):
    community, issue = _issue(slug, number)
    return _consultation_page(community, issue, _consultation(issue))


@bp.route("/issues/<int:number>/consultation/rounds", methods=["POST"])
@login_required
def schedule(slug: str, number: int):
    community, issue = _issue(slug, number)
    c = _consultation(issue)
    check(can.is_moderator, community)
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            rnd = ops.schedule_round(
                current_user, c, agenda=form.agenda.data, place=form.place.data or "",
                online=form.online.data, starts_at=utc(form.starts_at.data),
                closes_at=utc(form.closes_at.data), rule=form.rule.data or "",
                quorum=form.quorum.data or "", guests=form.guests.data or "")
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            return _consultation_page(community, issue, c, {"schedule": form}, e.status)
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(_consultation_url(community, issue))
        db.session.commit()
        flash(_("第 %(n)s 轮协商的会议通知已发布。请安排席位和方案。", n=rnd.number), "success")
        return see_other(_manage_url(community, issue, rnd))
    return _consultation_page(community, issue, c, {"schedule": form}, 400)


@bp.route("/issues/<int:number>/consultation/escalate", methods=["POST"])
@login_required
def escalate(slug: str, number: int):
    community, issue = _issue(slug, number)
    c = _consultation(issue)
    check(can.is_moderator, community)
    form = EscalateForm()
    if form.validate_on_submit():
        try:
            ops.escalate(current_user, c, form.note.data)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            return _consultation_page(community, issue, c, {"escalate": form}, e.status)
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(_consultation_url(community, issue))
        db.session.commit()
        flash(_("已提请街道协调，并通知了街道。"), "success")
        return see_other(_consultation_url(community, issue, "escalation"))
    return _consultation_page(community, issue, c, {"escalate": form}, 400)


# --- the round page --------------------------------------------------------------------

def _vote_form(option: Option, seat: Seat, mine: SeatVote | None) -> VoteForm:
    return VoteForm(formdata=None, prefix=f"o{option.id}",
                    vote=mine.vote.value if mine else None,
                    reason=mine.reason if mine else "", seat_id=str(seat.id))


def _statement_form(bodies: list[Body], statements: list, form: StatementForm | None = None
                    ) -> StatementForm:
    """The statement form; for a fresh form, the first body's current statement to edit."""
    if form is None:
        current = next((st for st in statements if st.body is bodies[0]), None)
        form = StatementForm(formdata=None, prefix="statement", body=bodies[0].value,
                             text=current.text if current is not None else "")
    form.body.choices = [SelectChoice(b.value, body_label(b)) for b in bodies]
    return form


def _round_context(community: Community, issue: Issue, c: Consultation, rnd: Round,
                   forms: dict | None = None) -> dict:
    user = current_user
    signed_in = user.is_authenticated
    is_mod = can.is_moderator(user, community)
    seats = ops.seats_of(rnd.id)
    options = ops.options_of(rnd.id)
    seat = ops.seat_of(user, rnd)
    mine = ops.votes_of_seat(seat) if seat is not None else {}
    state = rnd.state
    closed = state is RoundState.CLOSED
    forms = dict(forms or {})

    voting = state is RoundState.OPEN and seat is not None and clock.now() < rnd.closes_at
    vote_forms = {}
    if voting:
        for o in options:
            vote_forms[o.id] = (forms.pop(("vote", o.id), None)
                                or _vote_form(o, seat, mine.get(o.id)))

    outcomes = ops.outcomes(rnd) if closed else {}
    named: dict[int, list[tuple[Seat, SeatVote]]] = {o.id: [] for o in options}
    if closed:
        by_id = {s.id: s for s in seats}
        for sv in db.session.scalars(select(SeatVote).where(SeatVote.round_id == rnd.id)
                                     .order_by(SeatVote.seat_id)):
            named.setdefault(sv.option_id, []).append((by_id[sv.seat_id], sv))
    checklist = (ops.checklist(rnd) if state is RoundState.OPEN and (seat or is_mod)
                 else None)

    stmt_bodies = ops.statement_bodies(user, rnd) if signed_in and not closed else []
    comments = ops.comments_of(rnd)
    memberships = {m.id: m for m in db.session.scalars(select(Membership).where(
        Membership.id.in_({cm.membership_id for cm in comments})))} if comments else {}

    minutes = ops.minutes_of(rnd)
    attending = ops.attending_bodies(rnd)
    answers = ops.confirmations_of(minutes) if minutes is not None else {}
    confirming = minutes is not None and minutes.state is MinutesState.CONFIRMING
    can_confirm = bool(confirming and seat is not None and seat.body not in answers)
    minutes_visible = minutes is not None and (
        minutes.state is MinutesState.PUBLISHED or is_mod or (confirming and seat is not None))

    statements = ops.statements_of(rnd)
    # a statement form only while the user may still write one (not once the round closed)
    statement = forms.pop("statement", None)
    base = {
        "statement": _statement_form(stmt_bodies, statements, statement) if stmt_bodies else None,
        "opinion": OpinionForm(formdata=None, prefix="opinion",
                               idempotency_key=uuid.uuid4().hex)
        if ops.can_comment(user, rnd) else None,
        "minutes": MinutesForm(formdata=None, prefix="minutes",
                               text=minutes.text if minutes else "")
        if is_mod and closed and (minutes is None or minutes.state is not MinutesState.PUBLISHED)
        else None,
        "confirm": ConfirmForm(formdata=None, prefix="confirm") if can_confirm else None,
    }
    base.update(forms)
    return {
        "community": community, "issue": issue, "consultation": c, "rnd": rnd,
        "seats": seats, "options": options, "seat": seat, "mine": mine, "is_mod": is_mod,
        "voting": voting, "vote_forms": vote_forms, "outcomes": outcomes, "named": named,
        "adopted": next((o for o in options if o.id == rnd.adopted_option_id), None),
        "checklist": checklist, "statements": statements,
        "stmt_bodies": stmt_bodies, "comments": comments, "memberships": memberships,
        "minutes": minutes, "attending": attending, "answers": answers,
        "minutes_visible": minutes_visible, "forms": base,
        "rule_text": rules.describe(rnd.rule, quorum=rnd.quorum),
        "guests": rnd.guests.splitlines(),
    }


def _round_page(community, issue, c, rnd, forms: dict | None = None, status: int = 200):
    return render("consultation/round.html", status=status,
                  **_round_context(community, issue, c, rnd, forms))


@bp.route("/issues/<int:number>/rounds/<int:k>")
def round_page(slug: str, number: int, k: int):
    return _round_page(*_load(slug, number, k))


@bp.route("/issues/<int:number>/rounds/<int:k>/frozen.json")
def frozen_json(slug: str, number: int, k: int):
    """The canonical JSON whose SHA-256 is the round's frozen hash, for anyone to check."""
    *_, rnd = _load(slug, number, k)
    if not rnd.state.is_frozen:
        abort(404)
    resp = make_response(canonical_json(ops.frozen_payload(rnd)).encode("utf-8"))
    resp.mimetype = "application/json"
    resp.headers["Content-Disposition"] = f'inline; filename="round-{rnd.id}-frozen.json"'
    return resp


@bp.route("/issues/<int:number>/rounds/<int:k>/open", methods=["POST"])
@login_required
def open_round(slug: str, number: int, k: int):
    community, issue, c, rnd = _load(slug, number, k)
    check(can.is_moderator, community)
    return perform(lambda: ops.open_round(current_user, rnd),
                   _("表决已开始。本轮的议程、方案、席位、规则和截止时间已冻结。"),
                   _round_url(community, issue, rnd))


@bp.route("/issues/<int:number>/rounds/<int:k>/close", methods=["POST"])
@login_required
def close_round(slug: str, number: int, k: int):
    community, issue, c, rnd = _load(slug, number, k)
    check(can.is_moderator, community)
    return perform(lambda: ops.close_round(current_user, rnd),
                   _("表决已结束，结果已公布。"), _round_url(community, issue, rnd, "result"))


def _vote_panel(community, issue, c, rnd, option: Option, form: VoteForm | None = None,
                saved: bool = False, status: int = 200):
    ctx = _round_context(community, issue, c, rnd,
                         {("vote", option.id): form} if form is not None else None)
    return render("consultation/round.html", "consultation/_vote_panel.html", status=status,
                  o=option, vform=ctx["vote_forms"].get(option.id), saved=saved, **ctx)


@bp.route("/issues/<int:number>/rounds/<int:k>/options/<int:option_id>/vote",
          methods=["POST"])
@login_required
def vote(slug: str, number: int, k: int, option_id: int):
    community, issue, c, rnd = _load(slug, number, k)
    option = db.session.get(Option, option_id) if option_id < 2**31 else None
    if option is None:
        abort(404)
    if option.round_id != rnd.id:
        abort(422)   # an option of another round (QUALITY.md §4)
    form = VoteForm(prefix=f"o{option.id}")
    raw_seat = (form.seat_id.data or "").strip()
    seat_id = int(raw_seat) if raw_seat.isdigit() else (raw_seat or None)
    if not form.validate_on_submit():
        return _vote_panel(community, issue, c, rnd, option, form,
                           status=_status(400))
    try:
        ops.cast_vote(current_user, rnd.id, option.id, form.vote.data or "",
                      form.reason.data or "", seat_id=seat_id)
    except ops.VoteRefused:
        db.session.commit()          # keep the "vote.refused" record of the attempt
        abort(403)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except Invalid as e:
        db.session.rollback()
        _attach(form, e)
        return _vote_panel(community, issue, c, rnd, option, form,
                           status=_status(e.status))
    except DomainError as e:
        db.session.rollback()
        flash(e.message, "error")
        return see_other(_round_url(community, issue, rnd, f"option-{option.id}"))
    db.session.commit()
    if request.htmx:
        return _vote_panel(community, issue, c, rnd, option, saved=True)
    flash(_("你对“%(title)s”的表决已记录，截止前可以修改。", title=option.title), "success")
    return see_other(_round_url(community, issue, rnd, f"option-{option.id}"))


@bp.route("/issues/<int:number>/rounds/<int:k>/statements", methods=["POST"])
@login_required
def statement(slug: str, number: int, k: int):
    community, issue, c, rnd = _load(slug, number, k)
    form = StatementForm(prefix="statement")
    if form.validate_on_submit():
        try:
            ops.post_statement(current_user, rnd, form.body.data or "", form.text.data)
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            return _round_page(community, issue, c, rnd, {"statement": form}, e.status)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(_round_url(community, issue, rnd, "statements"))
        db.session.commit()
        flash(_("立场陈述已发布。"), "success")
        return see_other(_round_url(community, issue, rnd, "statements"))
    if not ops.statement_bodies(current_user, rnd):
        abort(403)
    return _round_page(community, issue, c, rnd, {"statement": form}, 400)


def _opinions(community, issue, c, rnd, form: OpinionForm | None = None, status: int = 200):
    ctx = _round_context(community, issue, c, rnd, {"opinion": form} if form else None)
    return render("consultation/round.html", "consultation/_opinions.html", status=status,
                  **ctx)


def _user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr


@bp.route("/issues/<int:number>/rounds/<int:k>/comments", methods=["POST"])
@login_required
@limiter.limit("30 per hour", key_func=_user_key)
def comment(slug: str, number: int, k: int):
    community, issue, c, rnd = _load(slug, number, k)
    form = OpinionForm(prefix="opinion")
    if form.validate_on_submit():
        try:
            ops.add_round_comment(current_user, rnd, form.text.data,
                                  idempotency_key=form.idempotency_key.data or None)
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            return _opinions(community, issue, c, rnd, form, _status(e.status))
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(_round_url(community, issue, rnd, "opinions"))
        db.session.commit()
        if request.htmx:
            return _opinions(community, issue, c, rnd)
        flash(_("意见已发表。"), "success")
        return see_other(_round_url(community, issue, rnd, "opinions"))
    if not can.is_verified_resident(current_user, community):
        abort(403)
    return _opinions(community, issue, c, rnd, form, _status(400))


@bp.route("/issues/<int:number>/rounds/<int:k>/minutes", methods=["POST"])
@login_required
def write_minutes(slug: str, number: int, k: int):
    community, issue, c, rnd = _load(slug, number, k)
    check(can.is_moderator, community)
    form = MinutesForm(prefix="minutes")
    if form.validate_on_submit():
        try:
            m = ops.write_minutes(current_user, rnd, form.text.data)
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            return _round_page(community, issue, c, rnd, {"minutes": form}, e.status)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(_round_url(community, issue, rnd, "minutes"))
        db.session.commit()
        flash(_("会议纪要已保存（第 %(n)s 版）。确认无误后请提交各方确认。", n=m.revision),
              "success")
        return see_other(_round_url(community, issue, rnd, "minutes"))
    return _round_page(community, issue, c, rnd, {"minutes": form}, 400)


@bp.route("/issues/<int:number>/rounds/<int:k>/minutes/submit", methods=["POST"])
@login_required
def submit_minutes(slug: str, number: int, k: int):
    community, issue, c, rnd = _load(slug, number, k)
    check(can.is_moderator, community)
    return perform(lambda: ops.submit_minutes(current_user, rnd),
                   _("会议纪要已提交参会各方确认。"), _round_url(community, issue, rnd, "minutes"))


@bp.route("/issues/<int:number>/rounds/<int:k>/minutes/confirm", methods=["POST"])
@login_required
def confirm_minutes(slug: str, number: int, k: int):
    community, issue, c, rnd = _load(slug, number, k)
    if ops.confirming_seat(current_user, rnd) is None:
        abort(403)
    form = ConfirmForm(prefix="confirm")
    if form.validate_on_submit():
        try:
            if form.answer.data not in ("confirm", "object"):
                raise Invalid(_("请选择确认或提出异议。"), field="answer")
            m = ops.confirm_minutes(current_user, rnd, form.answer.data == "confirm",
                                    form.note.data or "")
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            return _round_page(community, issue, c, rnd, {"confirm": form}, e.status)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(_round_url(community, issue, rnd, "minutes"))
        db.session.commit()
        if m.state is MinutesState.PUBLISHED:
            flash(_("参会各方均已确认，会议纪要已公布。"), "success")
        elif form.answer.data == "confirm":
            flash(_("你方已确认会议纪要。"), "success")
        else:
            flash(_("你方的异议已记录，主持人修改后会请各方重新确认。"), "info")
        return see_other(_round_url(community, issue, rnd, "minutes"))
    return _round_page(community, issue, c, rnd, {"confirm": form}, 400)


# --- preparing a round (moderators, before it opens) ---------------------------------

def _candidates(community_id: int, body: Body, taken: set[int]) -> list[SelectChoice]:
    """The community's active staff of `body` who hold no seat in the round yet."""
    rows = db.session.execute(
        select(Membership, User).join(User, User.id == Membership.user_id).where(
            Membership.community_id == community_id, Membership.role == ops.SEAT_ROLES[body],
            Membership.status == MembershipStatus.ACTIVE, User.deleted_at.is_(None))
        .order_by(Membership.id)).all()
    out = [SelectChoice("", _("请选择"))]
    for m, u in rows:
        if u.id in taken:
            continue
        who = u.display_name or (f"{u.phone[:3]}****{u.phone[-4:]}" if u.phone else u.pseudonym)
        out.append(SelectChoice(str(u.id), f"{official_name(body_label(body), m.title)} · {who}"))
    return out


def _manage_page(community: Community, issue: Issue, c: Consultation, rnd: Round,
                 forms: dict | None = None, status: int = 200):
    seats = ops.seats_of(rnd.id)
    options = ops.options_of(rnd.id)
    base: dict = {}
    if not rnd.state.is_frozen:
        taken = {s.user_id for s in seats}
        for body in rules.REQUIRED_BODIES:
            f = StaffSeatForm(formdata=None, prefix=body.value)
            base[("seat", body.value)] = f
        base[("seat", Body.RESIDENT.value)] = ResidentSeatForm(formdata=None,
                                                               prefix=Body.RESIDENT.value)
        base["notice"] = NoticeForm(formdata=None, agenda=rnd.agenda, place=rnd.place,
                                    online=rnd.online, guests=rnd.guests)
        base["option"] = OptionForm(formdata=None)
        base["rule"] = RuleForm(formdata=None, rule=rnd.rule.value,
                                quorum=f"{rnd.quorum_num}/{rnd.quorum_den}")
        base["deadline"] = DeadlineForm(formdata=None, closes_at=rnd.closes_at)
        base.update(forms or {})
        for body in rules.REQUIRED_BODIES:
            base[("seat", body.value)].user_id.choices = _candidates(community.id, body, taken)
    texts, shared = rule_texts(base["rule"].quorum.data if "rule" in base else None,
                               rnd.quorum)
    holders = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({s.user_id for s in seats})))} if seats else {}
    return render("consultation/manage.html", community=community, issue=issue,
                  consultation=c, rnd=rnd, seats=seats, options=options, holders=holders,
                  forms=base, rule_texts=texts, rule_shared=shared,
                  seat_bodies=[*rules.REQUIRED_BODIES, Body.RESIDENT],
                  missing=[b for b in rules.REQUIRED_BODIES if b not in {s.body for s in seats}],
                  rule_text=rules.describe(rnd.rule, quorum=rnd.quorum), status=status)


@bp.route("/issues/<int:number>/rounds/<int:k>/manage")
@login_required
def manage(slug: str, number: int, k: int):
    community, issue, c, rnd = _load(slug, number, k)
    check(can.is_moderator, community)
    return _manage_page(community, issue, c, rnd)


def _change(slug: str, number: int, k: int, key, make_form, operate, done: str,
            anchor: str, aliases: dict | None = None):
    """The common shape of a change to a round being prepared: only moderators, never
    once the round is frozen (checked here first, and again under the round's lock)."""
    community, issue, c, rnd = _load(slug, number, k)
    check(can.is_moderator, community)
    if rnd.state.is_frozen:
        flash(ops._frozen().message, "error")
        return see_other(_manage_url(community, issue, rnd))
    form = make_form()
    if form.validate_on_submit():
        try:
            operate(rnd, form)
        except NotAllowed:
            db.session.rollback()
            abort(403)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e, aliases)
            return _manage_page(community, issue, c, rnd, {key: form}, e.status)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(_manage_url(community, issue, rnd))
        db.session.commit()
        flash(done, "success")
        return see_other(_manage_url(community, issue, rnd, anchor))
    return _manage_page(community, issue, c, rnd, {key: form}, 400)


@bp.route("/issues/<int:number>/rounds/<int:k>/notice", methods=["POST"])
@login_required
def update_notice(slug: str, number: int, k: int):
    return _change(slug, number, k, "notice", NoticeForm,
                   lambda rnd, f: ops.update_notice(current_user, rnd, f.agenda.data,
                                                    f.place.data or "", f.online.data,
                                                    f.guests.data or ""),
                   _("会议通知已更新。"), "notice")


def _seat_user(form, body: Body) -> User:
    if body is Body.RESIDENT:
        number = normalise_phone(form.phone.data or "")
        if number is None:
            raise Invalid(_("请输入有效的中国大陆手机号。"), field="phone")
        user = db.session.scalar(select(User).where(User.phone == number,
                                                    User.deleted_at.is_(None)))
        if user is None:
            raise Invalid(_("居民代表席位只能由本小区的认证居民担任。"), field="phone")
        return user
    raw = form.user_id.data or ""
    user = db.session.get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if user is None or user.deleted_at is not None:
        raise Invalid(_("请选择一位工作人员。"), field="user_id")
    return user


@bp.route("/issues/<int:number>/rounds/<int:k>/seats/"
          "<any(committee, association, property, resident):body>", methods=["POST"])
@login_required
def add_seat(slug: str, number: int, k: int, body: str):
    body = Body(body)
    form_cls = ResidentSeatForm if body is Body.RESIDENT else StaffSeatForm
    return _change(slug, number, k, ("seat", body.value),
                   lambda: form_cls(prefix=body.value),
                   lambda rnd, f: ops.add_seat(current_user, rnd, _seat_user(f, body), body,
                                               f.title.data or ""),
                   _("已添加%(body)s席位。", body=body_label(body)), "seats",
                   {"user": "phone" if body is Body.RESIDENT else "user_id"})


@bp.route("/issues/<int:number>/rounds/<int:k>/seats/<int:seat_id>/remove",
          methods=["POST"])
@login_required
def remove_seat(slug: str, number: int, k: int, seat_id: int):
    community, issue, c, rnd = _load(slug, number, k)
    check(can.is_moderator, community)
    return perform(lambda: ops.remove_seat(current_user, rnd, seat_id), _("已移除席位。"),
                   _manage_url(community, issue, rnd, "seats"), "info")


def _owners_item(raw: str | None):
    raw = (raw or "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 4 else raw


@bp.route("/issues/<int:number>/rounds/<int:k>/options", methods=["POST"])
@login_required
def add_option(slug: str, number: int, k: int):
    return _change(slug, number, k, "option", OptionForm,
                   lambda rnd, f: ops.add_option(
                       current_user, rnd, f.title.data, f.description.data or "",
                       f.cost.fen, f.funding_source.data or "", f.executor.data or "",
                       _owners_item(f.owners_item.data)),
                   _("已添加方案。"), "options", {"cost_fen": "cost"})


@bp.route("/issues/<int:number>/rounds/<int:k>/options/<int:option_id>/remove",
          methods=["POST"])
@login_required
def remove_option(slug: str, number: int, k: int, option_id: int):
    community, issue, c, rnd = _load(slug, number, k)
    check(can.is_moderator, community)
    return perform(lambda: ops.remove_option(current_user, rnd, option_id), _("已删除方案。"),
                   _manage_url(community, issue, rnd, "options"), "info")


@bp.route("/issues/<int:number>/rounds/<int:k>/rule", methods=["POST"])
@login_required
def set_rule(slug: str, number: int, k: int):
    return _change(slug, number, k, "rule", RuleForm,
                   lambda rnd, f: ops.set_rule(current_user, rnd, f.rule.data or "",
                                               f.quorum.data or ""),
                   _("表决规则已保存。"), "rule")


@bp.route("/issues/<int:number>/rounds/<int:k>/deadline", methods=["POST"])
@login_required
def set_deadline(slug: str, number: int, k: int):
    return _change(slug, number, k, "deadline", DeadlineForm,
                   lambda rnd, f: ops.set_deadline(current_user, rnd, utc(f.closes_at.data)),
                   _("表决截止时间已保存。"), "deadline")
