"""Read-side queries for the moderation queue: a fixed number of SQL statements per page."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, case, exists, false, func, literal_column, or_, select, union_all
from sqlalchemy.orm import selectinload

from civic.communities.models import Membership, MembershipStatus, Role, Unit
from civic.extensions import db
from civic.issues.models import Comment, Issue
from civic.moderation.models import ModerationAction, Report, TargetType

PER_PAGE = 30
#: distinct reasons shown per item in the queue (the item page shows them all)
REASONS_SHOWN = 8


@dataclass
class Item:
    """One reported or hidden issue or comment, as the queue shows it."""

    type: TargetType
    obj: Issue | Comment
    #: the issue's number (the issue itself, or the one the comment is on)
    number: int
    open_reports: int = 0
    total_reports: int = 0
    #: (reason, how many households gave it), most frequent first
    reasons: list[tuple[str, int]] = field(default_factory=list)
    #: the author's resident membership here (active or suspended), for suspend/unsuspend
    author_membership: Membership | None = None

    @property
    def id(self) -> int:
        return self.obj.id


def pending_reports_count(community_id: int) -> int:
    """How many items (issues and comments) have reports awaiting a moderator's review."""
    pending = (select(Report.target_type, Report.target_id)
               .where(Report.community_id == community_id, Report.resolved_at.is_(None))
               .group_by(Report.target_type, Report.target_id).subquery())
    return db.session.scalar(select(func.count()).select_from(pending)) or 0


def _open_exists(tt: TargetType, id_col):
    return exists().where(Report.target_type == tt, Report.target_id == id_col,
                          Report.resolved_at.is_(None))


def _queue(community_id: int):
    """(tt, tid, open_n, at): items with open reports, then hidden items without any."""
    open_items = (select(Report.target_type.label("tt"), Report.target_id.label("tid"),
                         func.count(Report.id).label("open_n"),
                         func.max(Report.created_at).label("at"))
                  .where(Report.community_id == community_id, Report.resolved_at.is_(None))
                  .group_by(Report.target_type, Report.target_id))
    hidden_issues = (select(literal_column("'issue'"), Issue.id, literal_column("0"),
                            Issue.hidden_at)
                     .where(Issue.community_id == community_id, Issue.hidden_at.is_not(None),
                            ~_open_exists(TargetType.ISSUE, Issue.id)))
    hidden_comments = (select(literal_column("'comment'"), Comment.id, literal_column("0"),
                              Comment.hidden_at)
                       .join(Issue, Issue.id == Comment.issue_id)
                       .where(Issue.community_id == community_id,
                              Comment.hidden_at.is_not(None),
                              ~_open_exists(TargetType.COMMENT, Comment.id)))
    return union_all(open_items, hidden_issues, hidden_comments).subquery()


def queue_page(community_id: int, page: int) -> tuple[list[Item], int]:
    """One page of the queue, open reports first (latest first), then hidden items."""
    u = _queue(community_id)
    total = db.session.scalar(select(func.count()).select_from(u)) or 0
    rows = db.session.execute(
        select(u.c.tt, u.c.tid, u.c.open_n)
        .order_by(case((u.c.open_n > 0, 0), else_=1), u.c.at.desc(), u.c.tid.desc())
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    keys = [(TargetType(tt), tid, open_n) for tt, tid, open_n in rows]
    return _items(community_id, keys), total


def item(community_id: int, tt: TargetType, obj: Issue | Comment) -> Item:
    """One item with all its reasons (the item page)."""
    open_n = db.session.scalar(select(func.count(Report.id)).where(
        Report.target_type == tt, Report.target_id == obj.id,
        Report.resolved_at.is_(None))) or 0
    return _items(community_id, [(tt, obj.id, open_n)], reasons_shown=None)[0]


def _items(community_id: int, keys: list[tuple[TargetType, int, int]],
           reasons_shown: int | None = REASONS_SHOWN) -> list[Item]:
    issue_ids = [tid for tt, tid, _ in keys if tt is TargetType.ISSUE]
    comment_ids = [tid for tt, tid, _ in keys if tt is TargetType.COMMENT]
    issues = {i.id: i for i in db.session.scalars(
        select(Issue).where(Issue.id.in_(issue_ids), Issue.community_id == community_id)
        .options(selectinload(Issue.author)))
    } if issue_ids else {}
    comments = {c.id: (c, n) for c, n in db.session.execute(
        select(Comment, Issue.number).join(Issue, Issue.id == Comment.issue_id)
        .where(Comment.id.in_(comment_ids), Issue.community_id == community_id)
        .options(selectinload(Comment.author), selectinload(Comment.membership)))
    } if comment_ids else {}

    reasons: dict[tuple[TargetType, int], list[tuple[str, int]]] = {}
    if keys:
        for tt, tid, reason, n in db.session.execute(
                select(Report.target_type, Report.target_id, Report.reason, func.count(Report.id))
                .where(Report.community_id == community_id, or_(
                    and_(Report.target_type == TargetType.ISSUE, Report.target_id.in_(issue_ids))
                    if issue_ids else false(),
                    and_(Report.target_type == TargetType.COMMENT,
                         Report.target_id.in_(comment_ids)) if comment_ids else false()))
                .group_by(Report.target_type, Report.target_id, Report.reason)
                .order_by(func.count(Report.id).desc(), Report.reason)):
            reasons.setdefault((tt, tid), []).append((reason, n))

    authors = {i.author_id for i in issues.values()} | {c.author_id for c, _n in comments.values()}
    memberships = {m.user_id: m for m in db.session.scalars(
        select(Membership).where(Membership.community_id == community_id,
                                 Membership.role == Role.RESIDENT,
                                 Membership.user_id.in_(authors))
        .options(selectinload(Membership.user),
                 selectinload(Membership.unit).selectinload(Unit.building)))
    } if authors else {}

    items = []
    for tt, tid, open_n in keys:
        if tt is TargetType.ISSUE and tid in issues:
            obj, number = issues[tid], issues[tid].number
        elif tt is TargetType.COMMENT and tid in comments:
            obj, number = comments[tid]
        else:
            continue
        all_reasons = reasons.get((tt, tid), [])
        items.append(Item(type=tt, obj=obj, number=number, open_reports=open_n,
                          total_reports=sum(n for _r, n in all_reasons),
                          reasons=all_reasons[:reasons_shown] if reasons_shown else all_reasons,
                          author_membership=memberships.get(obj.author_id)))
    return items


def history(tt: TargetType, target_id: int, membership_id: int | None,
            limit: int = 20) -> list[ModerationAction]:
    """The latest decisions on the item and on its author's membership, newest first."""
    about = and_(ModerationAction.target_type == tt, ModerationAction.target_id == target_id)
    if membership_id is not None:
        about = or_(about, and_(ModerationAction.target_type == TargetType.MEMBERSHIP,
                                ModerationAction.target_id == membership_id))
    return list(db.session.scalars(select(ModerationAction).where(about)
                                   .order_by(ModerationAction.id.desc()).limit(limit)))


def suspended_members(community_id: int, limit: int = 200) -> list[Membership]:
    """Residents whose rights are suspended here (the members pages list only active and
    revoked ones), latest first."""
    return list(db.session.scalars(
        select(Membership).where(Membership.community_id == community_id,
                                 Membership.role == Role.RESIDENT,
                                 Membership.status == MembershipStatus.SUSPENDED)
        .options(selectinload(Membership.user),
                 selectinload(Membership.unit).selectinload(Unit.building))
        .order_by(Membership.id.desc()).limit(limit)))
