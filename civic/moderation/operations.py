"""The rules of moderation. Operations flush, never commit; they raise DomainError
subclasses with a user-facing message.

Reports count one per household (a unique constraint). The third household's report
hides the item pending review — once, under the item's row lock and a guarded UPDATE.
Moderators hide, restore or dismiss with a reason, and suspend residents. Hidden text is
kept as written; only `hidden_at` decides whether it is shown.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from civic import clock, permissions
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.communities.models import Community, Membership, MembershipStatus, Role
from civic.database import for_update
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.issues.models import Comment, Issue, IssueState
from civic.moderation.models import ActionKind, ModerationAction, Report, TargetType
from civic.notifications.operations import notify, staff_ids

#: reports from this many distinct households hide an item until a moderator reviews it
AUTO_HIDE_REPORTS = 3
MAX_REASON = 200


class NotFound(DomainError):
    status = 404


class AlreadyReported(DomainError):
    """The household has already reported this item."""


@dataclass
class Target:
    """An issue or a comment, with the issue it belongs to."""

    type: TargetType
    obj: Issue | Comment
    issue: Issue

    @property
    def id(self) -> int:
        return self.obj.id

    @property
    def author_id(self) -> int:
        return self.obj.author_id

    @property
    def community_id(self) -> int:
        return self.issue.community_id

    @property
    def model(self):
        return Issue if self.type is TargetType.ISSUE else Comment

    @property
    def link(self) -> str:
        """The issue page (a path), where the item is shown."""
        slug = db.session.scalar(select(Community.slug).where(
            Community.id == self.issue.community_id))
        return f"/c/{slug}/issues/{self.issue.number}/"


def target_of(community_id: int, kind: str | TargetType, target_id: int, *,
              lock: bool = False) -> Target | None:
    """The public issue or comment `target_id` of this community, else None (no IDOR)."""
    try:
        tt = TargetType(kind)
    except ValueError:
        return None
    if tt is TargetType.ISSUE:
        q = select(Issue).where(Issue.id == target_id)
        obj = db.session.execute(for_update(q) if lock else q).scalar_one_or_none()
        issue = obj
    elif tt is TargetType.COMMENT:
        q = select(Comment).where(Comment.id == target_id)
        obj = db.session.execute(for_update(q) if lock else q).scalar_one_or_none()
        issue = db.session.get(Issue, obj.issue_id) if obj is not None else None
    else:
        return None
    if obj is None or issue.community_id != community_id or issue.state is IssueState.DRAFT:
        return None
    return Target(tt, obj, issue)


def _reason(text: str, field: str = "reason") -> str:
    text = " ".join((text or "").split())
    if not text:
        raise Invalid(_("请写明原因。"), field=field)
    if len(text) > MAX_REASON:
        raise Invalid(_("原因不能超过 200 字。"), field=field)
    return text


def _require_moderator(user: User, community: Community) -> None:
    if not permissions.can_moderate(user, community):
        raise NotAllowed(_("只有本小区居委会可以处理举报。"))


def _what(target: Target, locale: str | None) -> str:
    """议题 / 意见, in the recipient's language (notification params are plain text)."""
    with force_locale(locale or "zh_CN"):
        return _("议题") if target.type is TargetType.ISSUE else _("意见")


def _author(target: Target) -> User | None:
    return db.session.get(User, target.author_id)


def _resolve_reports(target: Target) -> int:
    """Mark the item's open reports reviewed. Returns how many."""
    res = db.session.execute(update(Report).where(
        Report.target_type == target.type, Report.target_id == target.id,
        Report.resolved_at.is_(None)).values(resolved_at=clock.now()))
    return res.rowcount


def open_report_count(target: Target) -> int:
    return db.session.scalar(select(func.count(Report.id)).where(
        Report.target_type == target.type, Report.target_id == target.id,
        Report.resolved_at.is_(None))) or 0


def _log(actor: User, community: Community, action: ActionKind, target_type: TargetType,
         target_id: int, reason: str) -> None:
    db.session.add(ModerationAction(community_id=community.id, actor_id=actor.id, action=action,
                                    target_type=target_type, target_id=target_id,
                                    reason=reason))


# --- reports -----------------------------------------------------------------------

def report(user: User, community: Community, kind: str | TargetType, target_id: int,
           reason: str) -> Report:
    """One household reports an issue or a comment; the third household's report hides it.

    Raises NotAllowed (not a verified resident here; one's own content), NotFound,
    Invalid (reason empty or too long), AlreadyReported (this household already did).
    """
    membership = permissions.residency(user, community)
    if membership is None:
        raise NotAllowed(_("只有本小区的认证居民可以举报。"))
    reason = _reason(reason)
    # The item's row lock serialises reports of it, so the count below is exact.
    target = target_of(community.id, kind, target_id, lock=True)
    if target is None:
        raise NotFound(_("找不到这条内容。"))
    if target.author_id == user.id:
        raise NotAllowed(_("不能举报自己发表的内容。"))
    existing = db.session.execute(select(Report.reporter_id).where(
        Report.target_type == target.type, Report.target_id == target.id,
        Report.reporter_unit_id == membership.unit_id)).first()
    if existing is not None:
        raise AlreadyReported(_("你已经举报过这条内容。") if existing[0] == user.id
                              else _("你家已有人举报过这条内容（每户一次）。"))
    r = Report(community_id=community.id, target_type=target.type, target_id=target.id,
               reporter_id=user.id, reporter_unit_id=membership.unit_id, reason=reason)
    try:
        with db.session.begin_nested():
            db.session.add(r)
    except IntegrityError:
        raise AlreadyReported(_("你家已有人举报过这条内容（每户一次）。")) from None
    audit.record("content.report", r, actor=user, target=target.type.value,
                 target_id=target.id, unit=membership.unit_id)
    if open_report_count(target) >= AUTO_HIDE_REPORTS:
        _auto_hide(target)
    return r


def _auto_hide(target: Target) -> None:
    """Hide pending review, exactly once however many reports race in."""
    model = target.model
    res = db.session.execute(update(model).where(
        model.id == target.id, model.hidden_at.is_(None))
        .values(hidden_at=clock.now(), hidden_reason="", hidden_by_id=None))
    if res.rowcount != 1:
        return
    db.session.refresh(target.obj, ["hidden_at", "hidden_reason", "hidden_by_id"])
    audit.record("content.auto_hide", target.obj, actor="system",
                 community_id=target.community_id, target=target.type.value,
                 reports=open_report_count(target))
    author = _author(target)
    if author is not None:
        with force_locale(author.locale or "zh_CN"):
            reason = _("多户居民举报，等待居委会复核")
        notify([author.id], "content.hidden", community_id=target.community_id,
               link=target.link, what=_what(target, author.locale), reason=reason)
    notify(staff_ids(target.community_id, Role.MODERATOR), "content.auto_hidden",
           community_id=target.community_id, link=target.link, what=target.type.value)


# --- moderators --------------------------------------------------------------------

def hide(actor: User, community: Community, target: Target, reason: str) -> None:
    """Hide an item with a reason; its open reports are resolved and its author told.

    Raises NotAllowed, Invalid, DomainError (already hidden)."""
    _require_moderator(actor, community)
    reason = _reason(reason)
    model = target.model
    res = db.session.execute(update(model).where(
        model.id == target.id, model.hidden_at.is_(None))
        .values(hidden_at=clock.now(), hidden_reason=reason, hidden_by_id=actor.id))
    if res.rowcount != 1:
        raise DomainError(_("这条内容已经隐藏。"))
    db.session.refresh(target.obj, ["hidden_at", "hidden_reason", "hidden_by_id"])
    resolved = _resolve_reports(target)
    _log(actor, community, ActionKind.HIDE, target.type, target.id, reason)
    audit.record("content.hide", target.obj, actor=actor, community_id=community.id,
                 target=target.type.value, reports=resolved)
    author = _author(target)
    if author is not None:
        notify([author.id], "content.hidden", community_id=community.id, link=target.link,
               what=_what(target, author.locale), reason=reason)


def restore(actor: User, community: Community, target: Target, reason: str) -> None:
    """Show a hidden item again; its open reports are resolved and its author told.

    Raises NotAllowed, Invalid, DomainError (not hidden)."""
    _require_moderator(actor, community)
    reason = _reason(reason)
    model = target.model
    res = db.session.execute(update(model).where(
        model.id == target.id, model.hidden_at.is_not(None))
        .values(hidden_at=None, hidden_reason="", hidden_by_id=None))
    if res.rowcount != 1:
        raise DomainError(_("这条内容没有被隐藏。"))
    db.session.refresh(target.obj, ["hidden_at", "hidden_reason", "hidden_by_id"])
    resolved = _resolve_reports(target)
    _log(actor, community, ActionKind.RESTORE, target.type, target.id, reason)
    audit.record("content.restore", target.obj, actor=actor, community_id=community.id,
                 target=target.type.value, reports=resolved)
    author = _author(target)
    if author is not None:
        notify([author.id], "content.restored", community_id=community.id, link=target.link,
               what=_what(target, author.locale))


def dismiss(actor: User, community: Community, target: Target, reason: str) -> None:
    """Reports reviewed and found unfounded: the item stays visible, the reports close.

    Raises NotAllowed, Invalid, DomainError (hidden — restore it instead; nothing open)."""
    _require_moderator(actor, community)
    reason = _reason(reason)
    if target.obj.hidden_at is not None:
        raise DomainError(_("这条内容已隐藏；如需恢复显示，请选择“恢复”。"))
    resolved = _resolve_reports(target)
    if resolved == 0:
        raise DomainError(_("没有待处理的举报。"))
    _log(actor, community, ActionKind.DISMISS, target.type, target.id, reason)
    audit.record("content.dismiss", target.obj, actor=actor, community_id=community.id,
                 target=target.type.value, reports=resolved)


def resident_membership(community_id: int, user_id: int) -> Membership | None:
    """The user's resident membership here, whatever its status."""
    return db.session.execute(select(Membership).where(
        Membership.community_id == community_id, Membership.user_id == user_id,
        Membership.role == Role.RESIDENT)).scalar_one_or_none()


def _check_member(actor: User, community: Community, membership: Membership) -> None:
    _require_moderator(actor, community)
    if membership.community_id != community.id or membership.role is not Role.RESIDENT:
        raise NotFound(_("找不到这位居民。"))
    if membership.user_id == actor.id:
        raise NotAllowed(_("不能暂停自己的居民资格。"))


def suspend(actor: User, community: Community, membership: Membership, reason: str) -> None:
    """Suspend a resident: every resident right here ends at once (permissions count only
    active memberships) and their sessions end. Raises NotAllowed, NotFound, Invalid,
    DomainError (not active)."""
    _check_member(actor, community, membership)
    reason = _reason(reason)
    res = db.session.execute(update(Membership).where(
        Membership.id == membership.id, Membership.status == MembershipStatus.ACTIVE)
        .values(status=MembershipStatus.SUSPENDED))
    if res.rowcount != 1:
        raise DomainError(_("这位居民的资格已经暂停或已撤销。"))
    db.session.refresh(membership, ["status"])
    user = db.session.get(User, membership.user_id)
    user.rotate_session()
    _log(actor, community, ActionKind.SUSPEND, TargetType.MEMBERSHIP, membership.id, reason)
    audit.record("membership.suspend", membership, actor=actor, member=user.pseudonym,
                 unit=membership.unit_id)
    notify([user.id], "membership.suspended", community_id=community.id,
           link=f"/c/{community.slug}/", community=community.name)


def unsuspend(actor: User, community: Community, membership: Membership, reason: str) -> None:
    """Give a suspended resident their rights back. Raises NotAllowed, NotFound, Invalid,
    DomainError (not suspended)."""
    _check_member(actor, community, membership)
    reason = _reason(reason)
    res = db.session.execute(update(Membership).where(
        Membership.id == membership.id, Membership.status == MembershipStatus.SUSPENDED)
        .values(status=MembershipStatus.ACTIVE))
    if res.rowcount != 1:
        raise DomainError(_("这位居民的资格没有被暂停。"))
    db.session.refresh(membership, ["status"])
    user = db.session.get(User, membership.user_id)
    _log(actor, community, ActionKind.UNSUSPEND, TargetType.MEMBERSHIP, membership.id, reason)
    audit.record("membership.unsuspend", membership, actor=actor, member=user.pseudonym,
                 unit=membership.unit_id)
