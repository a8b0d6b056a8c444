"""Verification pages. Thin: load → authorise → validate → operate → commit → respond."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload
from wtforms.fields.choices import SelectChoice

from civic import clock
from civic import permissions as can
from civic.communities import operations as communities
from civic.communities.loaders import check, community_or_404, owned_or_404
from civic.communities.models import (Building, Claim, ClaimStatus, Community, Membership,
                                      MembershipStatus, Role, Tenure, Unit)
from civic.domain import DomainError, Invalid
from civic.extensions import db, limiter
from civic.htmx import render, see_other
from civic.notices import links
from civic.notices.qr import qr_svg
from civic.urls import safe_next
from civic.verification import bp
from civic.verification import operations as ops
from civic.verification.forms import ClaimForm, CodesForm, ReasonForm, RedeemForm

#: wrong codes allowed per account and per address before /join answers 429
REDEEM_LIMIT_USER = "10 per hour"
REDEEM_LIMIT_IP = "20 per hour"
PER_PAGE = 50
_MAX_PAGE = 10_000


# --- helpers ---------------------------------------------------------------------------

def _refused(response) -> bool:
    """Only refused codes count against the limits (not the form, not a success)."""
    return response.status_code == 400


def _redeem_user_key() -> str:
    if current_user.is_authenticated:
        return f"join-user:{current_user.id}"
    return f"join-anon:{get_remote_address()}"


def _page() -> int:
    """?page= as a sane positive int; garbage means page 1."""
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), _MAX_PAGE)


#: ids are 32-bit integers; anything larger is garbage, not a reason for a database error
_MAX_ID = 2**31 - 1


def _arg_id(value) -> int | None:
    """A client-sent id as int, or None when it is missing or garbage."""
    text = str(value) if value is not None else ""
    if not (text.isascii() and text.isdigit()) or int(text) > _MAX_ID:
        return None
    return int(text)


def _owned(model, obj_id: int | None, community: Community):
    """owned_or_404, also 404 for ids beyond the integer column (PostgreSQL would raise)."""
    if obj_id is None or obj_id > _MAX_ID:
        abort(404)
    return owned_or_404(model, obj_id, community)


def _buildings(community: Community) -> list[Building]:
    return list(db.session.execute(
        select(Building).where(Building.community_id == community.id)
        .order_by(Building.sort_key, Building.name)).scalars())


def _building(community: Community, raw) -> Building | None:
    """A building of this community from a client-sent id (404 if it is someone else's)."""
    bid = _arg_id(raw)
    return _owned(Building, bid, community) if bid is not None else None


# --- redeeming a code ------------------------------------------------------------------

@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(REDEEM_LIMIT_USER, methods=["POST"], deduct_when=_refused,
               key_func=_redeem_user_key)
@limiter.limit(REDEEM_LIMIT_IP, methods=["POST"], deduct_when=_refused)
def redeem():
    """Enter the code printed for your household: binds your account to that unit."""
    if not current_user.is_authenticated:
        code = (request.values.get("code") or "").strip()[:40] or None
        flash(_("请先登录（没有账号请先注册），再输入邀请码。"), "info")
        return redirect(url_for("accounts.login",
                                next=url_for("verification.redeem", code=code)))
    form = RedeemForm(code=(request.args.get("code") or "")[:40])
    if form.validate_on_submit():
        try:
            membership = ops.redeem_code(current_user, form.code.data)
        except Invalid as e:
            db.session.rollback()
            form.code.errors.append(e.message)
        else:
            db.session.commit()
            flash(_("认证成功：你已认证为 %(unit)s 的%(tenure)s。", unit=membership.unit.label,
                    tenure=_("业主") if membership.tenure is Tenure.OWNER else _("租户")),
                  "success")
            return see_other(url_for("communities.home", slug=membership.community.slug))
    return render("verification/redeem.html", form=form,
                  status=400 if form.is_submitted() else 200)


# --- claims by residents ---------------------------------------------------------------

@bp.route("/c/<slug>/claim", methods=["GET", "POST"])
@login_required
def claim(slug: str):
    """Ask the committee to verify you to a unit (when you have no code)."""
    community = community_or_404(slug)
    form = ClaimForm()
    if form.is_submitted():
        unit_id = _arg_id(form.unit.data)
        unit = _owned(Unit, unit_id, community) if unit_id is not None else None
        building = unit.building if unit else _building(community, form.building.data)
    else:
        unit, building = None, _building(community, request.args.get("building"))
    if building is not None:
        form.building.data = str(building.id)
        form.unit.choices = [SelectChoice("", _("请选择房号"))] + [
            SelectChoice(str(u.id), u.number) for u in building.units]
    error = None
    if form.validate_on_submit():
        if unit is None:
            form.unit.errors.append(_("请选择房号。"))
            return _claim_page(community, form, building, error)
        try:
            ops.submit_claim(current_user, community, unit, Tenure(form.tenure.data),
                             form.note.data)
        except Invalid as e:
            db.session.rollback()
            getattr(form, e.field).errors.append(e.message)
        except DomainError as e:
            db.session.rollback()
            error = e.message
        else:
            db.session.commit()
            flash(_("申请已提交。居委会审核后，结果会显示在这个页面。"), "success")
            return see_other(url_for("verification.claim", slug=slug))
    return _claim_page(community, form, building, error)


def _claim_page(community: Community, form: ClaimForm, building: Building | None,
                error: str | None):
    """The claim page (or, for htmx, the unit part of it) with the user's claim status."""
    return render("verification/claim.html", "verification/_claim_unit.html",
                  community=community, form=form, building=building, error=error,
                  buildings=_buildings(community),
                  residency=can.residency(current_user, community),
                  pending=ops.pending_claim(current_user, community),
                  latest=ops.latest_claim(current_user, community),
                  status=400 if form.is_submitted() else 200)


# --- invitation codes (moderators) -----------------------------------------------------

def _slip_qr(code: str):
    """The slip's QR code: the public address of /join with the code filled in."""
    url = links.absolute(url_for("verification.redeem", code=code))
    return qr_svg(url, _("扫码认证本户"))


@bp.route("/c/<slug>/manage/codes", methods=["GET", "POST"])
@login_required
def codes(slug: str):
    """Generate codes for a building's units; the POST answers with the printable slips."""
    community = community_or_404(slug)
    check(can.can_issue_codes, community)
    buildings = _buildings(community)
    form = CodesForm()
    if form.is_submitted():
        building = _building(community, form.building.data)
        if building is None:
            abort(400)
    else:
        building = _building(community, request.args.get("building")) or (
            buildings[0] if buildings else None)
    units = list(building.units) if building else []
    form.building.data = str(building.id) if building else ""
    form.units.choices = [SelectChoice(u.id, u.number) for u in units]
    if form.validate_on_submit():
        chosen = set(form.units.data or [])
        selected = units if form.scope.data == "all" else [u for u in units if u.id in chosen]
        tenure = Tenure(form.tenure.data)
        try:
            issued = ops.issue_codes(current_user, community, selected, tenure)
        except Invalid as e:
            db.session.rollback()
            form.units.errors = [*form.units.errors, e.message]
        else:
            db.session.commit()
            resp = render("verification/slips.html", community=community, building=building,
                          issued=issued, tenure=tenure, join_url=links.absolute(
                              url_for("verification.redeem")), slip_qr=_slip_qr)
            # The plaintext codes exist only in this response: never cache it anywhere.
            resp.headers["Cache-Control"] = "no-store"
            resp.headers["Pragma"] = "no-cache"
            return resp
    latest = ops.latest_codes([u.id for u in units])
    now = clock.now()
    rows = [(u, ops.status_of(latest.get((u.id, Tenure.OWNER)), now),
             ops.status_of(latest.get((u.id, Tenure.TENANT)), now)) for u in units]
    return render("verification/codes.html", community=community, form=form,
                  buildings=buildings, building=building, rows=rows,
                  days=current_app.config["INVITATION_CODE_DAYS"],
                  status=400 if form.is_submitted() else 200)


# --- claims (moderators) ---------------------------------------------------------------

def _claims_page(community: Community):
    """Pending claims with what the roster says about each unit, and recent decisions."""
    pending = db.paginate(
        select(Claim).where(Claim.community_id == community.id,
                            Claim.status == ClaimStatus.PENDING)
        .options(selectinload(Claim.user),
                 selectinload(Claim.unit).selectinload(Unit.building),
                 selectinload(Claim.unit).selectinload(Unit.owner))
        .order_by(Claim.id),
        page=_page(), per_page=PER_PAGE, error_out=False)
    unit_ids = {c.unit_id for c in pending.items}
    residents = dict(db.session.execute(
        select(Membership.unit_id, func.count(Membership.id))
        .where(Membership.unit_id.in_(unit_ids), Membership.role == Role.RESIDENT,
               Membership.status == MembershipStatus.ACTIVE)
        .group_by(Membership.unit_id)).all()) if unit_ids else {}
    decided = db.session.execute(
        select(Claim).where(Claim.community_id == community.id,
                            Claim.status != ClaimStatus.PENDING)
        .options(selectinload(Claim.user), selectinload(Claim.unit).selectinload(Unit.building))
        .order_by(Claim.decided_at.desc(), Claim.id.desc()).limit(10)).scalars().all()
    return dict(community=community, pending=pending, residents=residents, decided=decided)


@bp.route("/c/<slug>/manage/claims")
@login_required
def claims(slug: str):
    """The moderators' queue of claims."""
    community = community_or_404(slug)
    check(can.can_review_claims, community)
    return render("verification/claims.html", **_claims_page(community))


@bp.route("/c/<slug>/manage/claims/<int:claim_id>/approve", methods=["POST"])
@login_required
def approve(slug: str, claim_id: int):
    """Approve a claim: the claimant becomes a verified resident of the unit."""
    community = community_or_404(slug)
    check(can.can_review_claims, community)
    claim = _owned(Claim, claim_id, community)
    try:
        membership = ops.approve_claim(current_user, claim)
    except DomainError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        db.session.commit()
        flash(_("已通过：%(unit)s 已认证一位居民。", unit=membership.unit.label), "success")
    return see_other(url_for("verification.claims", slug=slug))


@bp.route("/c/<slug>/manage/claims/<int:claim_id>/reject", methods=["POST"])
@login_required
def reject(slug: str, claim_id: int):
    """Reject a claim with a reason the claimant will read."""
    community = community_or_404(slug)
    check(can.can_review_claims, community)
    claim = _owned(Claim, claim_id, community)
    form = ReasonForm()
    if claim.status is not ClaimStatus.PENDING:
        flash(_("这个申请已经处理过了。"), "error")
        return see_other(url_for("verification.claims", slug=slug))
    if form.validate_on_submit():
        try:
            ops.reject_claim(current_user, claim, form.reason.data)
        except Invalid as e:
            db.session.rollback()
            form.reason.errors.append(e.message)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "error")
            return see_other(url_for("verification.claims", slug=slug))
        else:
            db.session.commit()
            flash(_("已驳回这个申请，申请人会看到驳回原因。"), "success")
            return see_other(url_for("verification.claims", slug=slug))
    return render("verification/reject.html", community=community, claim=claim, form=form,
                  status=400)


# --- members (moderators) --------------------------------------------------------------

@bp.route("/c/<slug>/manage/members")
@login_required
def members(slug: str):
    """Verified residents, by building and unit, with a way to revoke."""
    community = community_or_404(slug)
    check(can.can_view_members, community)
    revoked = request.args.get("show") == "revoked"
    buildings = _buildings(community)
    building = _building(community, request.args.get("building"))
    query = (
        select(Membership).join(Membership.unit).join(Unit.building)
        .where(Membership.community_id == community.id, Membership.role == Role.RESIDENT,
               Membership.status == (MembershipStatus.REVOKED if revoked
                                     else MembershipStatus.ACTIVE))
        .options(contains_eager(Membership.unit).contains_eager(Unit.building),
                 selectinload(Membership.user))
        .order_by(Building.sort_key, Building.name, Unit.sort_key, Unit.number, Membership.id))
    if building is not None:
        query = query.where(Unit.building_id == building.id)
    pager = db.paginate(query, page=_page(), per_page=PER_PAGE, error_out=False)
    return render("verification/members.html", community=community, pager=pager,
                  buildings=buildings, building=building, revoked=revoked)


@bp.route("/c/<slug>/manage/members/<int:membership_id>/revoke", methods=["POST"])
@login_required
def revoke(slug: str, membership_id: int):
    """Revoke a resident or staff membership with a reason (from the members or staff page)."""
    community = community_or_404(slug)
    membership = _owned(Membership, membership_id, community)
    if membership.role.is_staff:
        back = url_for("communities.staff", slug=slug)
    else:
        back = safe_next(request.form.get("next"), url_for("verification.members", slug=slug))
    if not membership.is_active:
        # A double submit: say so to whoever could have revoked it, refuse everyone else.
        check(can.can_appoint_moderator if membership.role.is_staff else can.can_view_members,
              community)
        flash(_("这个身份已经撤销。"), "info")
        return see_other(back)
    check(can.can_revoke, membership)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            communities.revoke(current_user, membership, form.reason.data)
        except DomainError as e:
            db.session.rollback()
            form.reason.errors.append(e.message)
        else:
            db.session.commit()
            flash(_("已撤销。对方在本小区的相应权限立即失效。"), "success")
            return see_other(back)
    return render("verification/revoke.html", community=community, membership=membership,
                  form=form, back=back, status=400)
