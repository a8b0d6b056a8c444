"""Moderation pages. Thin: load → authorise → validate → operate → commit → respond."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from civic import permissions as can
from civic.communities.loaders import check, community_or_404, owned_or_404
from civic.communities.models import Community, Membership, Role
from civic.domain import DomainError, Invalid
from civic.extensions import db, limiter
from civic.htmx import render, see_other
from civic.moderation import bp, queries
from civic.moderation import operations as ops
from civic.moderation.forms import ReasonForm, ReportForm
from civic.moderation.models import TargetType
from civic.urls import safe_next

_MAX_PAGE = 10_000


def _user_key() -> str:
    return f"report:{current_user.id}" if current_user.is_authenticated else request.remote_addr


def _target_or_404(community: Community, kind: str, target_id: int) -> ops.Target:
    target = ops.target_of(community.id, kind, target_id)
    if target is None:
        abort(404)
    return target


def _shown_at(community: Community, target: ops.Target) -> str:
    """Where the item is on the issue page."""
    url = url_for("issues.show", slug=community.slug, number=target.issue.number)
    return url + (f"#comment-{target.id}" if target.type is TargetType.COMMENT else "")


# --- residents: report -----------------------------------------------------------------

def _report_done(community: Community, target: ops.Target, message: str, category: str):
    """htmx: the form's place shows the outcome; browsers go back to the item."""
    if request.htmx:
        return render("moderation/_report_done.html", community=community, target=target,
                      message=message, category=category)
    flash(message, category)
    return see_other(_shown_at(community, target))


@bp.route("/report/<kind>/<int:target_id>", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"], key_func=_user_key)
def report(slug: str, kind: str, target_id: int):
    """The report form (alone for htmx, swapped in place of the 举报 link) and its POST."""
    community = community_or_404(slug)
    target = _target_or_404(community, kind, target_id)
    check(can.can_report, community)
    form = ReportForm().unique_ids(f"{target.type.value}-{target.id}")
    if form.validate_on_submit():
        try:
            ops.report(current_user, community, target.type, target.id, form.composed())
        except ops.AlreadyReported as e:
            db.session.rollback()
            return _report_done(community, target, e.message, "info")  # a double tap
        except Invalid as e:
            db.session.rollback()
            form.detail.errors.append(e.message)
        except DomainError as e:
            db.session.rollback()
            if e.status in (403, 404):
                abort(e.status)
            return _report_done(community, target, e.message, "error")
        else:
            db.session.commit()
            return _report_done(community, target,
                                _("已收到你的举报，居委会会尽快复核。谢谢。"), "success")
    # htmx swaps only 2xx answers: an invalid form comes back as 200 so its errors show.
    status = 400 if form.is_submitted() and not request.htmx else 200
    return render("moderation/report.html", "moderation/_report_form.html", status=status,
                  community=community, target=target, form=form,
                  back=_shown_at(community, target))


# --- moderators: the queue and one item ------------------------------------------------

def _page() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < _MAX_PAGE else 1


@bp.route("/manage/reports")
@login_required
def queue(slug: str):
    community = community_or_404(slug)
    check(can.can_moderate, community)
    page = _page()
    items, total = queries.queue_page(community.id, page)
    return render("moderation/queue.html", community=community, items=items, total=total,
                  page=page, pages=max(1, -(-total // queries.PER_PAGE)),
                  suspended=queries.suspended_members(community.id),
                  back=request.full_path if request.query_string else request.path)


def _item_page(community: Community, target: ops.Target, status: int = 200,
               failed: str | None = None, form: ReasonForm | None = None):
    it = queries.item(community.id, target.type, target.obj)
    membership_id = it.author_membership.id if it.author_membership else None
    return render("moderation/item.html", status=status, community=community, it=it,
                  history=queries.history(target.type, target.id, membership_id),
                  failed=failed, form=form,
                  back=url_for("moderation.item", slug=community.slug, kind=target.type.value,
                               target_id=target.id))


@bp.route("/manage/moderate/<kind>/<int:target_id>/")
@login_required
def item(slug: str, kind: str, target_id: int):
    community = community_or_404(slug)
    check(can.can_moderate, community)
    return _item_page(community, _target_or_404(community, kind, target_id))


def _done(action: str) -> str:
    return {"hide": _("已隐藏。居民和公众现在看不到这条内容，原文保留。"),
            "restore": _("已恢复显示。"),
            "dismiss": _("已驳回举报，内容保持显示。"),
            "suspend": _("已暂停这位居民的资格，对方已被退出登录。"),
            "unsuspend": _("已恢复这位居民的资格。")}[action]


@bp.route("/manage/moderate/<kind>/<int:target_id>/<any(hide, restore, dismiss):action>",
          methods=["POST"])
@login_required
def moderate(slug: str, kind: str, target_id: int, action: str):
    community = community_or_404(slug)
    check(can.can_moderate, community)
    target = _target_or_404(community, kind, target_id)
    back = safe_next(request.form.get("next"),
                     url_for("moderation.item", slug=slug, kind=target.type.value,
                             target_id=target.id))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            getattr(ops, action)(current_user, community, target, form.reason.data)
        except Invalid as e:
            db.session.rollback()
            form.reason.errors.append(e.message)
        except DomainError as e:
            db.session.rollback()
            flash(e.message, "info")    # e.g. a double submit: it is already hidden
            return see_other(back)
        else:
            db.session.commit()
            flash(_done(action), "success")
            return see_other(back)
    return _item_page(community, target, status=400, failed=action, form=form)


@bp.route("/manage/members/<int:membership_id>/<any(suspend, unsuspend):action>",
          methods=["GET", "POST"])
@login_required
def member(slug: str, membership_id: int, action: str):
    """Suspend or unsuspend a resident (reached from the queue, for an item's author)."""
    community = community_or_404(slug)
    check(can.can_moderate, community)
    membership = owned_or_404(Membership, membership_id, community)
    if membership.role is not Role.RESIDENT:
        abort(404)
    back = safe_next(request.values.get("next"), url_for("moderation.queue", slug=slug))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            getattr(ops, action)(current_user, community, membership, form.reason.data)
        except Invalid as e:
            db.session.rollback()
            form.reason.errors.append(e.message)
        except DomainError as e:
            db.session.rollback()
            if e.status in (403, 404):
                abort(e.status)
            flash(e.message, "info")    # e.g. a double submit: already suspended
            return see_other(back)
        else:
            db.session.commit()
            flash(_done(action), "success")
            return see_other(back)
    return render("moderation/member.html", status=400 if form.is_submitted() else 200,
                  community=community, membership=membership, action=action, form=form,
                  back=back)
