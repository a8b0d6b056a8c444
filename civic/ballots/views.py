"""Owners' ballot pages: notice, voting, paper and proxy entry, turnout, results.

Thin views over :mod:`civic.ballots.operations`: load (404) → authorise (403) → validate →
operate → commit once → redirect (303, or HX-Location for htmx). An invalid form is shown
again with the user's values and the message at its field: 400 (422 for a value naming
something foreign) to browsers, 200 to htmx, which swaps only 2xx answers.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from flask import abort, flash, make_response, request, send_file, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from civic import clock, uploads
from civic import permissions as can
from civic.accounts.models import User
from civic.ballots import art278, bp
from civic.ballots import operations as ops
from civic.ballots.forms import (AnswerForm, ExtendForm, ObjectionForm, PaperForm, ProxyForm,
                                ScheduleForm, VoteForm, item_numeral)
from civic.ballots.models import (Ballot, BallotObjection, BallotState, BallotUnit, BallotVote,
                                  Channel)
from civic.communities.loaders import check, community_or_404
from civic.communities.models import Building, Community, Membership, Owner
from civic.decisions.models import Decision, DecisionState
from civic.domain import DomainError, Invalid
from civic.extensions import db
from civic.htmx import attach as _attach
from civic.htmx import form_status as _status
from civic.htmx import refuse as _fail
from civic.htmx import render, see_other
from civic.i18n import N_
from civic.issues.models import Issue

STATE_BADGES = {BallotState.NOTICED: "", BallotState.OPEN: "badge-warn",
                BallotState.PROVISIONAL: "badge-warn", BallotState.FINAL: "badge-ok"}
SILENT_LABELS = {"agree": N_("计为同意"), "majority": N_("计入多数意见")}


# --- loading and helpers ---------------------------------------------------------------------

def _ballot(community: Community, number: int) -> Ballot:
    b = db.session.scalar(select(Ballot).where(Ballot.community_id == community.id,
                                               Ballot.number == number))
    if b is None:
        abort(404)
    return b


def _page(community: Community, b: Ballot, anchor: str = "") -> str:
    return url_for("ballots.show", slug=community.slug, number=b.number) + anchor


def _manage_url(community: Community, b: Ballot, anchor: str = "") -> str:
    return url_for("ballots.manage", slug=community.slug, number=b.number) + anchor


def _local(dt) -> str:
    return format_datetime(dt, "yyyy-MM-dd HH:mm") if dt else ""


def _percent(ratio: Fraction) -> str:
    return art278.format_percent(ratio)


def _bar(ratio: Fraction) -> str:
    """The value of a <progress max="100"> from an exact ratio (capped at 100)."""
    return art278.format_percent(min(ratio, Fraction(1)))[:-1]


def decision_url(community: Community, decision: Decision) -> str | None:
    """The public page of a decision (the decisions area serves it)."""
    issue = db.session.get(Issue, decision.issue_id)
    if issue is None:
        return None
    return f"/c/{community.slug}/issues/{issue.number}/decisions/{decision.version}"


def rule_lines(item: art278.Item) -> dict:
    """The exact counting rule of this item in words."""
    if item.needs_three_quarters:
        approval = _("同意的业主所持专有部分面积达到参与表决面积的四分之三以上（≥ 75%，恰好四分之三即通过），"
                     "且同意的人数达到参与表决人数的四分之三以上（≥ 75%）。")
    else:
        approval = _("同意的业主所持专有部分面积超过参与表决面积的一半（> 50%，恰好一半不通过），"
                     "且同意的人数超过参与表决人数的一半（> 50%）。")
    return {
        "participation": _("参与表决的业主所持专有部分面积达到总面积的三分之二以上（≥ 66.67%，"
                           "恰好三分之二即达到），且参与表决的人数达到总人数的三分之二以上。"
                           "投弃权票也算参与表决。"),
        "approval": approval,
        "bounds": _("“以上”包括本数（≥），“过半数”不包括本数（>）。两个条件（面积和人数）必须同时满足。"),
        "heads": _("人数按《最高人民法院关于审理建筑物区分所有权纠纷案件适用法律若干问题的解释》第九条计算："
                   "一套房屋（专有部分）计为一人；同一业主拥有多套房屋的，计为一人；"
                   "开发建设单位尚未出售或虽已出售但尚未交付的房屋，合计为一人。"
                   "面积按房屋登记的专有部分面积计算，同一业主的多套房屋面积合并计算。"),
    }


LAW_PARA2 = ("业主共同决定事项，应当由专有部分面积占比三分之二以上的业主且人数占比三分之二以上的业主参与表决。"
             "决定前款第六项至第八项规定的事项，应当经参与表决专有部分面积四分之三以上的业主且参与表决人数"
             "四分之三以上的业主同意。决定前款其他事项，应当经参与表决专有部分面积过半数的业主且参与表决"
             "人数过半数的业主同意。")


def _numbers(result: art278.Result) -> dict:
    """Turnout and approval figures of a count, as text and <progress> values."""
    return {
        "turnout_area": _percent(result.turnout_area_ratio),
        "turnout_heads": _percent(result.turnout_heads_ratio),
        "turnout_area_bar": _bar(result.turnout_area_ratio),
        "turnout_heads_bar": _bar(result.turnout_heads_ratio),
        "turnout_area_ok": result.turnout_area_ratio >= art278.TURNOUT_THRESHOLD,
        "turnout_heads_ok": result.turnout_heads_ratio >= art278.TURNOUT_THRESHOLD,
        "threshold": _percent(art278.TURNOUT_THRESHOLD),
        "agree_area": _percent(result.agree_area_ratio),
        "agree_heads": _percent(result.agree_heads_ratio),
        "agree_area_bar": _bar(result.agree_area_ratio),
        "agree_heads_bar": _bar(result.agree_heads_ratio),
        "approval": _percent(result.approval_threshold),
    }


def _channel_text(vote: BallotVote) -> str:
    if vote.channel is Channel.ONLINE:
        return _("线上表决")
    if vote.channel is Channel.PAPER:
        return _("书面表决票（由居委会录入）")
    return _("书面委托（由居委会录入）")


def _author(o: BallotObjection) -> str:
    from civic.templating import public_name
    return public_name(o.author, db.session.get(Membership, o.membership_id))


def _scope_text(b: Ballot) -> str:
    if b.whole_community:
        return _("全小区")
    return _("、").join(bld.name for bld in ops.scope_buildings(b))


# --- the public list ----------------------------------------------------------------------------

@bp.route("/ballots/")
def index(slug: str):
    community = community_or_404(slug)
    ballots = ops.ballots_of(community.id)
    return render("ballots/index.html", community=community, ballots=ballots,
                  item_of=art278.Item, state_badges=STATE_BADGES,
                  is_mod=can.is_moderator(current_user, community))


# --- scheduling ---------------------------------------------------------------------------------

def _buildings(community: Community) -> list[Building]:
    return list(db.session.scalars(select(Building).where(Building.community_id == community.id)
                                   .order_by(Building.sort_key)))


def _awaiting(community: Community, raw) -> Decision | None:
    """The decision named by ?decision= / the hidden field; 404 when foreign or unknown."""
    if raw in (None, ""):
        return None
    if not str(raw).isdigit():
        abort(404)
    d = db.session.get(Decision, int(raw))
    if d is None or d.community_id != community.id:
        abort(404)
    return d


def _default_question(d: Decision) -> str:
    lines = [_("是否同意实施以下方案：%(title)s", title=d.title)]
    if d.summary:
        lines.append(d.summary)
    if d.budget_fen:
        from civic.money import format_fen
        lines.append(_("批准预算：%(yuan)s 元", yuan=format_fen(d.budget_fen)))
    return "\n".join(lines)


def _schedule_page(community: Community, form: ScheduleForm, decision: Decision | None,
                   status: int = 200):
    form.buildings.choices = [(str(bld.id), bld.name) for bld in _buildings(community)]
    return render("ballots/new.html", "ballots/_schedule_form.html" if request.method == "POST"
                  else None, status=status, community=community, form=form, decision=decision,
                  decision_link=decision_url(community, decision) if decision else None)


@bp.route("/ballots/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    community = community_or_404(slug)
    check(can.is_moderator, community)
    if request.method == "GET":
        decision = _awaiting(community, request.args.get("decision"))
        now = clock.local(clock.now())
        opens = (now + timedelta(days=community.notice_days + 1)).replace(
            hour=9, minute=0, second=0, microsecond=0)
        form = ScheduleForm(formdata=None, opens_at=opens, closes_at=opens + timedelta(days=14))
        if decision is not None:
            if decision.state is not DecisionState.AWAITING_BALLOT:
                flash(_("这项决议不在等待业主表决。"), "error")
                return see_other(url_for("ballots.index", slug=slug))
            form.decision.data = str(decision.id)
            form.title.data = decision.title[:120]
            form.question.data = _default_question(decision)
            form.item.data = str(decision.owners_item) if decision.owners_item else ""
        return _schedule_page(community, form, decision)

    form = ScheduleForm()
    decision = _awaiting(community, form.decision.data)
    status = 400
    if form.validate_on_submit():
        building_ids = None
        if form.scope.data == "buildings":
            building_ids = [int(v) for v in form.buildings.data or [] if str(v).isdigit()]
            if not building_ids:
                form.buildings.errors = [_("请至少选择一栋楼，或选择全小区。")]
                return _schedule_page(community, form, decision, _status(400))
        raw_item = form.item.data or ""
        try:
            b = ops.schedule(current_user, community, title=form.title.data,
                             question=form.question.data,
                             item=int(raw_item) if raw_item.isdigit() else None,
                             opens_at=form.opens_at.data, closes_at=form.closes_at.data,
                             building_ids=building_ids, decision=decision)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, url_for("ballots.index", slug=slug))
        else:
            db.session.commit()
            flash(_("表决通知已发布。表决将于 %(at)s 开始。", at=_local(b.opens_at)), "success")
            return see_other(_page(community, b))
    return _schedule_page(community, form, decision, _status(status))


# --- the public page ----------------------------------------------------------------------------

def _show_page(community: Community, b: Ballot, forms: dict | None = None, status: int = 200,
               fragment: str | None = None, **extra):
    now = clock.now()
    item = art278.Item(b.item)
    result = ops.tally(b)
    receipts = ops.receipts_of(current_user, b) if b.state is not BallotState.NOTICED else []
    voting = b.state is BallotState.OPEN and now < b.closes_at
    pending = [r for r in receipts if r["vote"] is None] if voting else []
    base = {
        "votes": {r["person"]: VoteForm(formdata=None, person=r["person"]) for r in pending},
        "objection": ObjectionForm(formdata=None),
        "answers": {},
    }
    for key, value in (forms or {}).items():
        if isinstance(base.get(key), dict) and isinstance(value, dict):
            base[key].update(value)
        else:
            base[key] = value
    in_scope = (b.state is BallotState.NOTICED and current_user.is_authenticated
                and current_user.id in ops.owner_user_ids(b))
    decision = db.session.get(Decision, b.decision_id) if b.decision_id else None
    silent = b.silent_counts_as if b.state is not BallotState.NOTICED \
        else db.session.get(Community, b.community_id).silent_counts_as
    is_mod = can.is_moderator(current_user, community)
    objections = [(o, _author(o)) for o in ops.objections_of(b)] \
        if b.state in (BallotState.PROVISIONAL, BallotState.FINAL) else []
    return render(
        "ballots/show.html", fragment, status=status, community=community, b=b, item=item,
        item_cn=item_numeral(item.value),
        law_para2=LAW_PARA2, rules=rule_lines(item), scope=_scope_text(b),
        extensions=ops.extensions_of(b), result=result,
        numbers=_numbers(result) if result else None, receipts=receipts, voting=voting,
        in_scope=in_scope, forms=base, channel_text=_channel_text,
        summary=ops.json_summary(b) if b.file_json else None,
        file_name=f"ballot-{community.slug}-{b.number}.json",
        objections=objections, can_object=ops.can_object(current_user, b), is_mod=is_mod,
        decision=decision, decision_link=decision_url(community, decision) if decision else None,
        silent=_(SILENT_LABELS[silent]) if silent in SILENT_LABELS else None,
        state_label=b.state.label,
        badge_cls=STATE_BADGES[b.state], now=now, **extra)


@bp.route("/ballots/<int:number>")
def show(slug: str, number: int):
    community = community_or_404(slug)
    return _show_page(community, _ballot(community, number))


@bp.route("/ballots/<int:number>/ballot.json")
def ballot_json(slug: str, number: int):
    community = community_or_404(slug)
    b = _ballot(community, number)
    if not b.file_json:
        abort(404)
    resp = make_response(b.file_json.encode("utf-8"))
    resp.headers["Content-Type"] = "application/json; charset=utf-8"
    resp.headers["Content-Disposition"] = \
        f"attachment; filename=ballot-{community.slug}-{b.number}.json"
    resp.headers["X-Content-SHA256"] = b.file_sha256 or ""
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.route("/ballots/<int:number>/vote", methods=["POST"])
@login_required
def vote(slug: str, number: int):
    community = community_or_404(slug)
    b = _ballot(community, number)
    form = VoteForm()
    target = _page(community, b, "#vote")
    person = form.person.data or None
    status = 400
    if form.validate_on_submit():
        try:
            v = ops.vote_online(current_user, b, form.choice.data, person)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, target)
        else:
            receipt = v.receipt
            db.session.commit()
            flash(_("你的表决已计入，回执编号 %(code)s。表决一经提交不能更改。", code=receipt),
                  "success")
            return see_other(target)
    key = person or next(iter(ops.persons_of(current_user, b)), "")
    return _show_page(community, b, {"votes": {key: form}}, status=_status(status),
                      fragment="ballots/_vote_form.html", vform=form, person=key)


# --- objections ---------------------------------------------------------------------------------

@bp.route("/ballots/<int:number>/objections", methods=["POST"])
@login_required
def object_(slug: str, number: int):
    community = community_or_404(slug)
    b = _ballot(community, number)
    form = ObjectionForm()
    target = _page(community, b, "#objections")
    status = 400
    if form.validate_on_submit():
        try:
            ops.file_objection(current_user, b, form.text.data)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, target)
        else:
            db.session.commit()
            flash(_("异议已提交并公开。居委会答复所有异议后，结果才能确定。"), "success")
            return see_other(target)
    elif not ops.persons_of(current_user, b):
        abort(403)
    return _show_page(community, b, {"objection": form}, status=_status(status),
                      fragment="ballots/_objection_form.html")


@bp.route("/ballots/<int:number>/objections/<int:objection_id>/answer", methods=["POST"])
@login_required
def answer(slug: str, number: int, objection_id: int):
    community = community_or_404(slug)
    b = _ballot(community, number)
    o = db.session.get(BallotObjection, objection_id)
    if o is None or o.ballot_id != b.id:
        abort(404)
    check(can.is_moderator, community)
    form = AnswerForm()
    target = _page(community, b, f"#objection-{o.id}")
    status = 400
    if form.validate_on_submit():
        try:
            ops.answer_objection(current_user, o, form.answer.data)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, target)
        else:
            db.session.commit()
            flash(_("答复已公开，已通知提出异议的业主。"), "success")
            return see_other(target)
    return _show_page(community, b, {"answers": {o.id: form}}, status=_status(status),
                      fragment="ballots/_answer_form.html", o=o, aform=form)


# --- the committee's page -----------------------------------------------------------------------

def _roll_rows(b: Ballot) -> list[dict]:
    """One row per person of the frozen electorate: units, owner, vote (moderators only)."""
    rows: dict[str, dict] = {}
    for u, owner in db.session.execute(
            select(BallotUnit, Owner).join(Owner, Owner.id == BallotUnit.owner_id)
            .where(BallotUnit.ballot_id == b.id).order_by(BallotUnit.id)):
        row = rows.setdefault(u.person, {"person": u.person, "units": [], "area": Decimal(0),
                                         "owner": owner.name, "developer": u.developer,
                                         "vote": None})
        row["units"].append(u.label)
        row["area"] += Decimal(u.area)
    for v in ops.votes_of(b):
        if v.person in rows:
            rows[v.person]["vote"] = v
    return list(rows.values())


def _staff_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.display_name or user.pseudonym


def _unit_choices(rows: list[dict]) -> list[tuple[str, str]]:
    """Units of persons who have not voted yet, for paper and proxy entry."""
    out = [("", _("请选择房号"))]
    for row in rows:
        if row["vote"] is None:
            for label in row["units"]:
                out.append((label, f"{label} · {row['owner']}"))
    return out


def _manage_page(community: Community, b: Ballot, forms: dict | None = None, status: int = 200,
                 fragment: str | None = None):
    rows = _roll_rows(b) if b.state is not BallotState.NOTICED else []
    choices = _unit_choices(rows)
    base = {"paper": PaperForm(formdata=None), "proxy": ProxyForm(formdata=None),
            "extend": ExtendForm(formdata=None, closes_at=b.closes_at + timedelta(days=7))}
    base.update(forms or {})
    base["paper"].unit.choices = choices
    base["proxy"].unit.choices = choices
    result = ops.tally(b)
    return render("ballots/manage.html", fragment, status=status, community=community, b=b,
                  item=art278.Item(b.item), rows=rows, forms=base, result=result,
                  numbers=_numbers(result) if result else None, now=clock.now(),
                  channel_labels=ops.CHANNEL_LABELS, staff_name=_staff_name,
                  state_label=b.state.label, badge_cls=STATE_BADGES[b.state],
                  scope=_scope_text(b), unanswered=ops.unanswered(b)
                  if b.state is BallotState.PROVISIONAL else 0)


def _moderated(slug: str, number: int) -> tuple[Community, Ballot]:
    community = community_or_404(slug)
    b = _ballot(community, number)
    check(can.is_moderator, community)
    return community, b


@bp.route("/ballots/<int:number>/manage")
@login_required
def manage(slug: str, number: int):
    community, b = _moderated(slug, number)
    return _manage_page(community, b)


def _step(community: Community, b: Ballot, operation, done: str, hint: str):
    """开始表决 / 计票 / 确定结果: commit once, or flash the refusal with the relevant time."""
    try:
        operation()
    except DomainError as e:
        return _fail(e, _manage_url(community, b), hint)
    db.session.commit()
    flash(done, "success")
    return see_other(_manage_url(community, b))


@bp.route("/ballots/<int:number>/open", methods=["POST"])
@login_required
def open_(slug: str, number: int):
    community, b = _moderated(slug, number)
    return _step(community, b, lambda: ops.open_ballot(current_user, b),
                 _("表决已开始，业主名册已冻结，已通知范围内的业主。"),
                 _("（通知中的开始时间：%(at)s）", at=_local(b.opens_at))
                 if b.state is BallotState.NOTICED else "")


@bp.route("/ballots/<int:number>/count", methods=["POST"])
@login_required
def count(slug: str, number: int):
    community, b = _moderated(slug, number)
    return _step(community, b, lambda: ops.count(current_user, b),
                 _("已计票，暂定结果和表决文件已公布，异议期开始。"),
                 _("（截止时间：%(at)s）", at=_local(b.closes_at))
                 if b.state is BallotState.OPEN else "")


@bp.route("/ballots/<int:number>/finalize", methods=["POST"])
@login_required
def finalize(slug: str, number: int):
    community, b = _moderated(slug, number)
    return _step(community, b, lambda: ops.finalize(current_user, b),
                 _("表决结果已确定并公布。"),
                 _("（异议期至：%(at)s）", at=_local(b.objection_ends_at))
                 if b.state is BallotState.PROVISIONAL else "")


@bp.route("/ballots/<int:number>/paper", methods=["POST"])
@login_required
def paper(slug: str, number: int):
    community, b = _moderated(slug, number)
    form = PaperForm()
    status = 400
    if form.validate_on_submit():
        try:
            v = ops.enter_paper(current_user, b, form.unit.data, form.choice.data)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, _manage_url(community, b, "#paper"))
        else:
            receipt = v.receipt
            db.session.commit()
            flash(_("书面表决票已录入（%(unit)s），回执编号 %(code)s。", unit=form.unit.data,
                    code=receipt), "success")
            return see_other(_manage_url(community, b, "#paper"))
    return _manage_page(community, b, {"paper": form}, status=_status(status),
                        fragment="ballots/_paper_form.html")


@bp.route("/ballots/<int:number>/proxy", methods=["POST"])
@login_required
def proxy(slug: str, number: int):
    community, b = _moderated(slug, number)
    form = ProxyForm()
    status = 400
    if form.validate_on_submit():
        upload = form.document.data
        data = upload.read() if upload else None
        try:
            v = ops.record_proxy(current_user, b, form.unit.data, form.choice.data,
                                 form.proxy_name.data, data)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, _manage_url(community, b, "#proxy"))
        else:
            receipt = v.receipt
            db.session.commit()
            flash(_("委托表决已录入（%(unit)s），回执编号 %(code)s。", unit=form.unit.data,
                    code=receipt), "success")
            return see_other(_manage_url(community, b, "#proxy"))
    return _manage_page(community, b, {"proxy": form}, status=_status(status),
                        fragment="ballots/_proxy_form.html")


@bp.route("/ballots/<int:number>/extend", methods=["POST"])
@login_required
def extend(slug: str, number: int):
    community, b = _moderated(slug, number)
    form = ExtendForm()
    status = 400
    if form.validate_on_submit():
        try:
            ops.extend(current_user, b, form.closes_at.data, form.reason.data)
        except Invalid as e:
            db.session.rollback()
            _attach(form, e)
            status = e.status
        except DomainError as e:
            return _fail(e, _manage_url(community, b, "#extend"))
        else:
            at = _local(b.closes_at)
            db.session.commit()
            flash(_("表决期已延长至 %(at)s，理由已公开，已通知范围内的业主。", at=at), "success")
            return see_other(_manage_url(community, b))
    return _manage_page(community, b, {"extend": form}, status=_status(status),
                        fragment="ballots/_extend_form.html")


@bp.route("/ballots/<int:number>/votes/<int:vote_id>/authorisation")
def authorisation(slug: str, number: int, vote_id: int):
    """The photo of a signed proxy authorisation: moderators of the community only."""
    community = community_or_404(slug)
    b = _ballot(community, number)
    if not can.is_moderator(current_user, community):
        abort(404)
    v = db.session.get(BallotVote, vote_id)
    if v is None or v.ballot_id != b.id or not v.proxy_document:
        abort(404)
    name = v.proxy_document
    if not (name.endswith(".jpg") and name[:-4].isalnum()):
        abort(404)
    path = uploads.path_of("proxies", name)
    if not path.exists():
        abort(404)
    resp = make_response(send_file(path, mimetype="image/jpeg", max_age=0))
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


# --- the decision page's ballot panel -----------------------------------------------------------

@bp.app_template_global()
def ballot_for_decision(decision: Decision) -> dict:
    """What a decision's page shows about its owners' ballot: the ballot, its state and
    result, and for moderators whether one can be started."""
    b = ops.ballot_for(decision)
    community = db.session.get(Community, decision.community_id)
    is_mod = can.is_moderator(current_user, community)
    return {
        "ballot": b, "community": community,
        "state_label": b.state.label if b else None,
        "state_badge": STATE_BADGES[b.state] if b else None,
        "url": _page(community, b) if b else None,
        "item": art278.Item(b.item) if b else None,
        "can_start": is_mod and decision.state is DecisionState.AWAITING_BALLOT and (
            b is None or b.state is BallotState.FINAL),
        "start_url": url_for("ballots.new", slug=community.slug, decision=decision.id),
    }
