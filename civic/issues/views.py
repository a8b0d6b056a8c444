"""Issue pages: thin views over issues.operations and issues.queries."""
from __future__ import annotations

import uuid

from flask import abort, flash, make_response, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from civic import permissions as can
from civic.communities.loaders import check, community_or_404
from civic.communities.models import Building, Community, Unit
from civic.domain import DomainError, Invalid
from civic.caching import per_change
from civic.database import built_once, commit_keeping_loaded, for_update
from civic.extensions import db, limiter
from civic.htmx import perform, render, see_other
from civic.issues import bp, queries
from civic.issues import operations as ops
from civic.issues.forms import CommentForm, CosignForm, IssueForm, RulesForm
from civic.issues.models import Cosign, Issue, IssuePhoto, IssueState
from civic.uploads import path_of


def _user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr


def issue_or_404(community: Community, number: int, *, hidden_ok: bool = False,
                 eager: bool = True) -> Issue:
    """The issue #number of this community, if the current user may see it.

    A hidden issue (civic.moderation) is 404 to all but moderators, except where
    `hidden_ok` — the issue page, which shows a notice instead. `eager` loads what the
    issue page shows with it (photos, author, place); the co-sign panel needs none of it."""
    q = (_issue_eager if eager else _issue)()
    issue = db.session.execute(q, {"community": community.id, "number": number}
                               ).scalar_one_or_none()
    if issue is None:
        abort(404)
    _visible_or_404(community, issue, hidden_ok)
    return issue


def _visible_or_404(community: Community, issue: Issue, hidden_ok: bool = False) -> None:
    if not issue.state.is_public and getattr(current_user, "id", None) != issue.author_id:
        abort(404)
    if issue.hidden_at is not None and not hidden_ok and not can.can_moderate(current_user,
                                                                             community):
        abort(404)


def _by_number():
    return select(Issue).where(Issue.community_id == bindparam("community"),
                               Issue.number == bindparam("number"))


@built_once
def _issue(dialect: str):
    return _by_number()


@built_once
def _issue_and_community_locked(dialect: str):
    """The co-sign's one read: the issue, locked, with its community."""
    return for_update(select(Issue, Community).join(Community, Community.id == Issue.community_id)
                      .where(Community.slug == bindparam("slug"),
                             Issue.number == bindparam("number")), dialect, of=Issue)


@built_once
def _issue_eager(dialect: str):
    """With what the issue page shows."""
    return _by_number().options(
        selectinload(Issue.photos), selectinload(Issue.author),
        selectinload(Issue.author_unit).selectinload(Unit.building),
        selectinload(Issue.building))


def _issue_form(community: Community, form: IssueForm) -> IssueForm:
    form.category.choices = [SelectChoice(c) for c in ops.categories(community)]
    buildings = db.session.scalars(select(Building).where(
        Building.community_id == community.id).order_by(Building.sort_key, Building.name))
    form.building_id.choices = [SelectChoice("", _("公共区域 / 不限楼栋"))] + [
        SelectChoice(str(b.id), b.name) for b in buildings]
    return form


def _photos_from(form: IssueForm) -> list[bytes]:
    return [f.read() for f in (form.photos.data or []) if f and getattr(f, "filename", "")]


def _building(form: IssueForm) -> int | None:
    return int(form.building_id.data) if (form.building_id.data or "").isdigit() else None


@bp.route("/issues/")
def index(slug: str):
    community = community_or_404(slug)
    f = queries.IssueFilters.from_args(request.args)
    membership = can.residency(current_user, community)
    rows, total = queries.page_of_issues(community.id, f, getattr(current_user, "id", None),
                                         membership.unit_id if membership else None,
                                         include_hidden=can.can_moderate(current_user, community))
    buildings = db.session.execute(select(Building.id, Building.name).where(
        Building.community_id == community.id).order_by(Building.sort_key, Building.name)).all()
    return render("issues/index.html", "issues/_list.html", community=community, rows=rows,
                  total=total, f=f, pages=max(1, -(-total // queries.PER_PAGE)),
                  categories=ops.categories(community), buildings=buildings,
                  membership=membership, effective_state=ops.effective_state,
                  progress=ops.progress)


@bp.route("/issues/new", methods=["GET", "POST"])
@login_required
@limiter.limit("20 per hour", methods=["POST"], key_func=_user_key)
def new(slug: str):
    community = community_or_404(slug)
    check(can.is_verified_resident, community)
    form = _issue_form(community, IssueForm())
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    if form.validate_on_submit():
        try:
            issue = ops.create_issue(
                current_user, community, title=form.title.data, body=form.body.data or "",
                category=form.category.data, building_id=_building(form),
                place_text=form.place_text.data or "", photos=_photos_from(form),
                idempotency_key=(form.idempotency_key.data or None))
            if request.form.get("action") == "publish" and issue.state is IssueState.DRAFT:
                ops.submit(current_user, issue)
        except Invalid as e:
            getattr(form, e.field).errors.append(e.message)
            db.session.rollback()
        else:
            db.session.commit()
            flash(_("议题已发布，开始征集联署。") if issue.state is IssueState.COLLECTING
                  else _("草稿已保存，只有你自己能看到。"), "success")
            return see_other(url_for("issues.show", slug=slug, number=issue.number))
    return render("issues/form.html", community=community, form=form, issue=None,
                  status=400 if form.is_submitted() else 200)


@bp.route("/issues/<int:number>/")
def show(slug: str, number: int):
    community = community_or_404(slug)
    issue = issue_or_404(community, number, hidden_ok=True)
    if issue.hidden_at is not None and not can.can_moderate(current_user, community):
        return render("moderation/hidden_issue.html", community=community, issue=issue)
    membership = can.residency(current_user, community)
    page = request.args.get("cpage", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    comments, comment_total = queries.comment_page(issue.id, page)
    return render("issues/show.html", community=community, issue=issue,
                  **_panel_context(community, issue, membership), **_cosigners(issue),
                  comments=comments,
                  comment_total=comment_total, cpage=page,
                  cpages=max(1, -(-comment_total // queries.COMMENTS_PER_PAGE)),
                  comment_form=CommentForm(formdata=None, idempotency_key=uuid.uuid4().hex),
                  can_comment=can.can_comment(current_user, community)
                  and issue.state is not IssueState.DRAFT,
                  can_edit=ops.can_edit(current_user, issue))


def _cosigners(issue: Issue) -> dict:
    return {"cosigns": queries.recent_cosigns(issue.id),
            "by_building": per_change("cosigns_by_building",
                                      lambda: queries.cosigns_by_building(issue), issue.id)}


@bp.route("/issues/<int:number>/cosigners")
def cosigners(slug: str, number: int):
    """The co-signing households' section of the issue page, alone: what the page asks for
    after a co-sign or withdrawal made on it, so its figures agree with the counter."""
    community = community_or_404(slug)
    issue = issue_or_404(community, number, eager=False)
    if issue.state is IssueState.DRAFT:
        abort(404)
    return render("issues/_cosigners.html", community=community, issue=issue,
                  **_cosigners(issue))


def _panel_context(community: Community, issue: Issue, membership,
                   signature: Cosign | None = None, form: CosignForm | None = None) -> dict:
    """`form`: the co-sign form as submitted, shown again with what was typed."""
    return {"state": ops.effective_state(issue), "progress": ops.progress(issue),
            "days_left": ops.days_left(issue), "membership": membership,
            "signature": signature or ops.household_signature(issue, membership),
            "cosign_form": form or CosignForm(formdata=None), "signable": ops.SIGNABLE}


def _panel(community: Community, issue: Issue, status: int = 200, error: str | None = None,
           signed: Cosign | None = None, form: CosignForm | None = None):
    """The co-sign panel: alone (with the counter out-of-band) for htmx, else the page.

    `signed`: the co-sign this request has just committed; the issue was then read under
    its lock, so it is current and the household's signature is known. `form`: the co-sign
    form as submitted, so that a refused one shows again what was typed.

    The htmx panel always shows the current count (a neighbour may have signed meanwhile),
    so the page then reloads its co-signers' section too: the "cosigned" event,
    templates/issues/_cosigners.html."""
    if signed is None:
        db.session.refresh(issue)
    if request.htmx:
        membership = can.residency(current_user, community)
        context = _panel_context(community, issue, membership, signed, form)
        resp = render("issues/_cosign_response.html", community=community, issue=issue,
                      error=error, **context)
        # a refusal the household can act on (the threshold was reached meanwhile, words
        # too long) is 200, as htmx swaps only 2xx answers and the panel says why
        # (civic.htmx.form_status); one of authorisation stays 403, as everywhere
        resp.status_code = 403 if status == 403 else 200
        resp.headers["HX-Trigger"] = "cosigned"
        return resp
    if error:
        flash(error, "error")
    if status == 403:   # refused: the issue page, saying why, with the refusal's status
        resp = make_response(show(community.slug, issue.number))
        resp.status_code = 403
        return resp
    return see_other(url_for("issues.show", slug=community.slug, number=issue.number)
                     + "#cosign-panel")


@bp.route("/issues/<int:number>/cosign", methods=["POST"])
@login_required
@limiter.limit("60 per minute", key_func=_user_key)
def cosign(slug: str, number: int):
    found = db.session.execute(_issue_and_community_locked(),
                               {"slug": slug, "number": number}).first()
    if found is None:
        abort(404)
    issue, community = found
    _visible_or_404(community, issue)
    form = CosignForm()
    if not form.validate():
        return _panel(community, issue, 400, _("附言不能超过 140 字。"), form=form)
    try:
        signed = ops.cosign(current_user, issue.id, form.comment.data or "", locked=issue)
    except ops.AlreadySigned as e:
        db.session.rollback()
        return _panel(community, issue, 200, e.message, form=form)   # a double tap
    except DomainError as e:
        db.session.rollback()
        return _panel(community, issue, e.status, e.message, form=form)
    commit_keeping_loaded()
    if not request.htmx:
        flash(_("联署成功，谢谢你的支持。"), "success")
    return _panel(community, issue, signed=signed, form=form)


@bp.route("/issues/<int:number>/cosign/withdraw", methods=["POST"])
@login_required
def withdraw_cosign(slug: str, number: int):
    community = community_or_404(slug)
    issue = issue_or_404(community, number, eager=False)
    try:
        ops.withdraw_cosign(current_user, issue.id)
    except DomainError as e:
        db.session.rollback()
        return _panel(community, issue, e.status, e.message)
    db.session.commit()
    if not request.htmx:
        flash(_("已撤回你家的联署。"), "info")
    return _panel(community, issue)


@bp.route("/issues/<int:number>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, number: int):
    community = community_or_404(slug)
    issue = issue_or_404(community, number)
    if not ops.can_edit(current_user, issue):
        abort(403)
    form = _issue_form(community, IssueForm(obj=issue) if request.method == "GET" else IssueForm())
    if request.method == "GET":
        form.building_id.data = str(issue.building_id or "")
    if form.validate_on_submit():
        remove = [int(x) for x in request.form.getlist("remove_photo") if x.isdigit()]
        try:
            ops.edit_issue(current_user, issue, title=form.title.data, body=form.body.data or "",
                           category=form.category.data, building_id=_building(form),
                           place_text=form.place_text.data or "", photos=_photos_from(form),
                           remove_photo_ids=remove)
        except Invalid as e:
            db.session.rollback()
            getattr(form, e.field).errors.append(e.message)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(url_for("issues.show", slug=slug, number=number))
        else:
            db.session.commit()
            flash(_("已保存修改。"), "success")
            return see_other(url_for("issues.show", slug=slug, number=number))
    return render("issues/form.html", community=community, form=form, issue=issue,
                  status=400 if form.is_submitted() else 200)


@bp.route("/issues/<int:number>/submit", methods=["POST"])
@login_required
def submit(slug: str, number: int):
    community = community_or_404(slug)
    issue = issue_or_404(community, number)
    if issue.author_id != current_user.id:
        abort(403)
    return perform(lambda: ops.submit(current_user, issue), _("议题已发布，开始征集联署。"),
                   url_for("issues.show", slug=slug, number=number))


@bp.route("/issues/<int:number>/withdraw", methods=["POST"])
@login_required
def withdraw(slug: str, number: int):
    community = community_or_404(slug)
    issue = issue_or_404(community, number)
    return perform(lambda: ops.withdraw(current_user, issue), _("议题已撤回。"),
                   url_for("issues.show", slug=slug, number=number), "info")


@bp.route("/issues/<int:number>/comments", methods=["POST"])
@login_required
@limiter.limit("30 per hour", key_func=_user_key)
def comment(slug: str, number: int):
    community = community_or_404(slug)
    issue = issue_or_404(community, number)
    if not can.can_comment(current_user, community):
        abort(403)
    form = CommentForm()
    target = url_for("issues.show", slug=slug, number=number) + "#comments"
    if form.validate():
        parent = form.parent_id.data
        try:
            ops.add_comment(current_user, issue, form.body.data,
                            parent_id=int(parent) if (parent or "").isdigit() else None,
                            idempotency_key=form.idempotency_key.data or None)
        except DomainError as e:
            db.session.rollback()
            if e.status == 403:
                abort(403)
            flash(e.message, "error")
        else:
            db.session.commit()
            flash(_("意见已发表。"), "success")
    else:
        flash(form.body.errors[0] if form.body.errors else _("提交的内容无法处理。"), "error")
    return see_other(target)


@bp.route("/photos/<stem>.jpg")
@bp.route("/photos/<stem>_t.jpg", endpoint="thumb", defaults={"thumb": True})
def photo(slug: str, stem: str, thumb: bool = False):
    community = community_or_404(slug)
    if not stem.isalnum() or len(stem) != 32:
        abort(404)
    row = db.session.execute(select(IssuePhoto, Issue).join(Issue, Issue.id == IssuePhoto.issue_id)
                             .where(IssuePhoto.stem == stem)).first()
    if row is None or row[1].community_id != community.id:
        abort(404)
    issue = row[1]
    if issue.hidden_at is not None and not can.can_moderate(current_user, community):
        abort(404)
    public = issue.state.is_public and issue.hidden_at is None
    if not issue.state.is_public and getattr(current_user, "id", None) != issue.author_id:
        abort(404)
    path = path_of("issues", f"{stem}_t.jpg" if thumb else f"{stem}.jpg")
    if not path.exists():
        abort(404)
    resp = make_response(send_file(path, mimetype="image/jpeg", max_age=86400 if public else 0))
    resp.headers["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.route("/manage/rules", methods=["GET", "POST"])
@login_required
def rules(slug: str):
    community = community_or_404(slug)
    check(can.can_manage, community)
    if request.method == "GET":
        form = RulesForm(formdata=None, threshold_kind=community.threshold_kind,
                         households=community.threshold_households,
                         share_num=community.threshold_share_num,
                         share_den=community.threshold_share_den,
                         collect_days=community.collect_days, triage_days=community.triage_days,
                         notice_days=community.notice_days,
                         publicity_days=community.publicity_days,
                         categories="\n".join(ops.categories(community)))
    else:
        form = RulesForm()
    if form.validate_on_submit():
        try:
            ops.update_rules(current_user, community, threshold_kind=form.threshold_kind.data,
                             households=form.households.data or community.threshold_households,
                             share_num=form.share_num.data or 1, share_den=form.share_den.data or 5,
                             collect_days=form.collect_days.data,
                             triage_days=form.triage_days.data,
                             notice_days=form.notice_days.data,
                             publicity_days=form.publicity_days.data,
                             category_names=(form.categories.data or "").splitlines())
        except Invalid as e:
            db.session.rollback()
            getattr(form, e.field).errors.append(e.message)
        else:
            db.session.commit()
            flash(_("议事规则已保存。正在征集的议题仍按发布时的门槛计算。"), "success")
            return see_other(url_for("issues.rules", slug=slug))
    return render("issues/rules.html", community=community, form=form,
                  status=400 if form.is_submitted() else 200)
