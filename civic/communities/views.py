"""Community home and site administration."""
from __future__ import annotations

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms import SelectChoice
from sqlalchemy.orm import selectinload

from civic import permissions as can
from civic.accounts.models import User
from civic.accounts.operations import normalise_phone
from civic.communities import bp
from civic.communities import operations as ops
from civic.communities.forms import CommunityForm, GrantForm
from civic.communities.loaders import check, community_or_404
from civic.communities.models import Building, Community, Membership, Role, Unit
from civic.domain import Invalid
from civic.extensions import db
from civic.htmx import render, see_other


@bp.route("/c/<slug>/")
def home(slug: str):
    community = community_or_404(slug)
    stats = {
        "buildings": db.session.scalar(
            select(func.count(Building.id)).where(Building.community_id == community.id)),
        "units": db.session.scalar(
            select(func.count(Unit.id)).where(Unit.community_id == community.id)),
        "households": db.session.scalar(
            select(func.count(func.distinct(Membership.unit_id))).where(
                Membership.community_id == community.id, Membership.role == Role.RESIDENT,
                Membership.status == "active")),
    }
    from civic.issues import queries as issue_queries
    from civic.issues.operations import effective_state, progress
    latest, _total = issue_queries.page_of_issues(
        community.id, issue_queries.IssueFilters(), None, None, per_page=5)
    residency = can.residency(current_user, community)
    claim = None
    if current_user.is_authenticated and residency is None:
        from civic.verification.operations import latest_claim
        claim = latest_claim(current_user, community)
    return render("communities/home.html", community=community, stats=stats, latest=latest,
                  claim=claim,
                  effective_state=effective_state, progress=progress,
                  residency=residency,
                  roles=can.roles_in(current_user, community))


@bp.route("/admin/communities", methods=["GET", "POST"])
@login_required
def admin_communities():
    check(can.can_create_community)
    form = CommunityForm()
    if form.validate_on_submit():
        try:
            c = ops.create_community(current_user, form.slug.data, form.name.data,
                                     form.district.data or "")
        except Invalid as e:
            getattr(form, e.field).errors.append(e.message)
        else:
            db.session.commit()
            flash(_("已创建小区“%(name)s”。下一步：任命居委会管理员。", name=c.name), "success")
            return see_other(url_for("communities.staff", slug=c.slug))
    communities = db.session.execute(select(Community).order_by(Community.name)).scalars().all()
    return render("communities/admin.html", form=form, communities=communities,
                  status=400 if form.is_submitted() else 200)


def _grantable(community: Community) -> list[tuple[str, str]]:
    from civic.templating import role_label
    return [SelectChoice(r.value, role_label(r)) for r in (Role.MODERATOR, Role.ASSOCIATION, Role.PROPERTY,
                                                Role.OBSERVER)
            if can.can_grant_role(current_user, community, r)]


@bp.route("/c/<slug>/manage/staff", methods=["GET", "POST"])
@login_required
def staff(slug: str):
    """Staff of the community and the form granting a staff role (moderators and admin)."""
    community = community_or_404(slug)
    check(can.can_appoint_moderator, community)
    form = GrantForm()
    form.role.choices = _grantable(community)
    if form.validate_on_submit():
        number = normalise_phone(form.phone.data)
        user = db.session.execute(
            select(User).where(User.phone == number, User.deleted_at.is_(None))
        ).scalar_one_or_none() if number else None
        role = Role(form.role.data)
        if user is None:
            form.phone.errors.append(_("没有找到用这个手机号注册的账号。"))
        elif not can.can_grant_role(current_user, community, role):
            form.role.errors.append(_("你不能授予这个角色。"))
        else:
            try:
                ops.grant_staff_role(current_user, community, user, role, form.title.data or "")
            except Invalid as e:
                getattr(form, e.field).errors.append(e.message)
            else:
                db.session.commit()
                flash(_("已授予角色。对方需要重新登录后生效。"), "success")
                return see_other(url_for("communities.staff", slug=slug))
    staff = db.session.execute(
        select(Membership).where(Membership.community_id == community.id,
                                 Membership.role != Role.RESIDENT)
        .options(selectinload(Membership.user))
        .order_by(Membership.status, Membership.role, Membership.id)
    ).scalars().all()
    return render("communities/staff.html", community=community, form=form, staff=staff,
                  status=400 if form.is_submitted() else 200)
