"""Read-side queries for issue pages: a fixed number of SQL statements per page."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from civic import clock
from civic.communities.models import Building, Membership, Unit
from civic.extensions import db
from civic.issues.models import Comment, Cosign, Issue, IssueState

PER_PAGE = 20
SORTS = {
    "new": (Issue.id.desc(),),
    "cosigns": (Issue.cosign_count.desc(), Issue.id.desc()),
    "closing": (Issue.expires_at.asc(), Issue.id.desc()),
}
STATE_FILTERS = {s.value for s in IssueState} - {IssueState.DRAFT.value}


@dataclass
class IssueFilters:
    state: str = ""
    category: str = ""
    building: int | None = None
    mine: bool = False
    signed: bool = False
    q: str = ""
    sort: str = "new"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> IssueFilters:
        """Unknown or malformed values are ignored, never an error."""
        f = cls()
        state = args.get("state", "")
        f.state = state if state in STATE_FILTERS else ""
        f.category = args.get("category", "")[:20]
        b = args.get("building", "")
        f.building = int(b) if b.isdigit() and len(b) < 10 else None
        f.mine = args.get("mine") == "1"
        f.signed = args.get("signed") == "1"
        f.q = " ".join(args.get("q", "").split())[:40]
        sort = args.get("sort", "new")
        f.sort = sort if sort in SORTS else "new"
        p = args.get("page", "1")
        f.page = int(p) if p.isdigit() and 0 < int(p) < 100_000 else 1
        return f

    def args(self, **changes) -> dict:
        d = {"state": self.state, "category": self.category, "building": self.building,
             "mine": "1" if self.mine else "", "signed": "1" if self.signed else "",
             "q": self.q, "sort": self.sort if self.sort != "new" else ""}
        d.update(changes)
        return {k: v for k, v in d.items() if v not in ("", None)}


def _like(term: str) -> str:
    """A LIKE pattern matching `term` literally (Chinese text needs no tokeniser)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_query(community_id: int, f: IssueFilters, user_id: int | None,
               unit_id: int | None, include_hidden: bool = False) -> Select:
    """Hidden issues (civic.moderation) only when asked, i.e. for the community's moderators."""
    now = clock.now()
    q = select(Issue).where(Issue.community_id == community_id)
    if not include_hidden:
        q = q.where(Issue.hidden_at.is_(None))
    if f.mine and user_id:
        q = q.where(Issue.author_id == user_id)  # the author's own drafts included
    else:
        q = q.where(Issue.state != IssueState.DRAFT)
    if f.state == IssueState.COLLECTING.value:
        q = q.where(Issue.state == IssueState.COLLECTING, Issue.expires_at > now)
    elif f.state == IssueState.EXPIRED.value:
        q = q.where(or_(Issue.state == IssueState.EXPIRED,
                        (Issue.state == IssueState.COLLECTING) & (Issue.expires_at <= now)))
    elif f.state:
        q = q.where(Issue.state == IssueState(f.state))
    if f.category:
        q = q.where(Issue.category == f.category)
    if f.building:
        q = q.where(Issue.building_id == f.building)
    if f.signed and unit_id:
        q = q.where(Issue.id.in_(select(Cosign.issue_id).where(Cosign.unit_id == unit_id)))
    for term in f.q.split(" ")[:4]:
        if term:
            pattern = _like(term)
            q = q.where(or_(Issue.title.like(pattern, escape="\\"),
                            Issue.body.like(pattern, escape="\\")))
    return q


def page_of_issues(community_id: int, f: IssueFilters, user_id: int | None,
                   unit_id: int | None, per_page: int = PER_PAGE, include_hidden: bool = False
                   ) -> tuple[list[tuple[Issue, str | None]], int]:
    """(rows of (issue, building name), total) in two queries."""
    base = list_query(community_id, f, user_id, unit_id, include_hidden)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.execute(
        base.add_columns(Building.name).outerjoin(Building, Building.id == Issue.building_id)
        .order_by(*SORTS[f.sort]).limit(per_page).offset((f.page - 1) * per_page)).all()
    return [(r[0], r[1]) for r in rows], total


def cosigns_by_building(issue: Issue) -> list[tuple[str, int]]:
    """How many households of each building co-signed: public, and no one is named.

    Every co-signing unit is in the issue's community; saying so lets PostgreSQL join the
    community's units and buildings (by their community index) rather than all of them."""
    return [(name, n) for name, n in db.session.execute(
        select(Building.name, func.count(Cosign.id)).join(Unit, Unit.id == Cosign.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(Cosign.issue_id == issue.id, Unit.community_id == issue.community_id,
               Building.community_id == issue.community_id)
        .group_by(Building.name, Building.sort_key).order_by(Building.sort_key))]


def recent_cosigns(issue_id: int, limit: int = 10) -> list[Cosign]:
    """The latest co-signs that carry a few words from the household."""
    return list(db.session.scalars(
        select(Cosign).where(Cosign.issue_id == issue_id, Cosign.comment != "")
        .options(selectinload(Cosign.user), selectinload(Cosign.unit).selectinload(Unit.building))
        .order_by(Cosign.id.desc()).limit(limit)))


COMMENTS_PER_PAGE = 20


def comment_page(issue_id: int, page: int) -> tuple[list[tuple[Comment, list[Comment]]], int]:
    """Top-level comments of one page with all their replies: three queries in all."""
    total = db.session.scalar(select(func.count(Comment.id)).where(
        Comment.issue_id == issue_id, Comment.parent_id.is_(None))) or 0
    load = (selectinload(Comment.author),
            selectinload(Comment.membership).selectinload(Membership.unit)
            .selectinload(Unit.building))
    tops = list(db.session.scalars(
        select(Comment).where(Comment.issue_id == issue_id, Comment.parent_id.is_(None))
        .options(*load).order_by(Comment.id).limit(COMMENTS_PER_PAGE)
        .offset((page - 1) * COMMENTS_PER_PAGE)))
    replies: dict[int, list[Comment]] = {c.id: [] for c in tops}
    if tops:
        for r in db.session.scalars(select(Comment).where(Comment.parent_id.in_(list(replies)))
                                    .options(*load).order_by(Comment.id)):
            replies[r.parent_id].append(r)
    return [(c, replies[c.id]) for c in tops], total


