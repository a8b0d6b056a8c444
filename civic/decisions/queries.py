"""Finding decisions in the public archive: search in Chinese (every word must appear in the
decision or its issue) and filters by state, category, year, funding source and building.
Shared by the decisions page and its CSV/JSON/Atom exports, so a shared link and a download
show the same list."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from civic import clock
from civic.communities.models import Building, Community
from civic.consultation.models import FundingSource
from civic.decisions.models import Decision, DecisionState
from civic.extensions import db
from civic.issues.models import Category, Issue

MAX_QUERY = 50
MAX_TERMS = 5


@dataclass
class DecisionFilter:
    q: str = ""
    state: str = ""
    category: str = ""
    year: str = ""
    funding: str = ""
    building: str = ""

    def params(self) -> dict:
        """The non-empty values, for links that keep the filter."""
        return {k: v for k, v in asdict(self).items() if v}

    @property
    def active(self) -> bool:
        return bool(self.params())


def categories_of(community: Community) -> list[str]:
    return list(db.session.scalars(select(Category.name).where(
        Category.community_id == community.id).order_by(Category.position, Category.id)))


def buildings_of(community: Community) -> list[Building]:
    return list(db.session.scalars(select(Building).where(
        Building.community_id == community.id).order_by(Building.sort_key, Building.id)))


def _when():
    return func.coalesce(Decision.published_at, Decision.created_at)


def years_of(community: Community) -> list[int]:
    """Years (Shanghai time) from the first decision to the last, newest first."""
    first, last = db.session.execute(select(func.min(_when()), func.max(_when())).where(
        Decision.community_id == community.id)).one()
    if first is None:
        return []
    first, last = clock.local(first).year, clock.local(last).year
    return list(range(last, first - 1, -1))


def parse(args, community: Community, buildings=None) -> DecisionFilter:
    """The filter from query arguments; anything unknown is dropped, never an error."""
    f = DecisionFilter()
    f.q = " ".join((args.get("q") or "").split())[:MAX_QUERY]
    state = args.get("state", "")
    f.state = state if state in {s.value for s in DecisionState} else ""
    # any name: an issue keeps the category it was filed under, even one since renamed
    f.category = (args.get("category") or "").strip()[:20]
    year = args.get("year", "")
    f.year = year if year.isdigit() and len(year) == 4 and 2000 <= int(year) <= 2200 else ""
    funding = args.get("funding", "")
    f.funding = funding if funding in {s.value for s in FundingSource} else ""
    building = args.get("building", "")
    ids = {str(b.id) for b in (buildings if buildings is not None else buildings_of(community))}
    f.building = building if building in ids else ""
    return f


def conditions(f: DecisionFilter, community: Community) -> list:
    """WHERE clauses over Decision joined with its Issue."""
    where = [Decision.community_id == community.id]
    for term in f.q.split()[:MAX_TERMS]:
        where.append(or_(
            Decision.title.icontains(term, autoescape=True),
            Decision.summary.icontains(term, autoescape=True),
            and_(Issue.hidden_at.is_(None),
                 or_(Issue.title.icontains(term, autoescape=True),
                     Issue.body.icontains(term, autoescape=True)))))
    if f.state:
        where.append(Decision.state == DecisionState(f.state))
    if f.category:
        where.append(Issue.category == f.category)
    if f.year:
        year = int(f.year)
        start = datetime(year, 1, 1, tzinfo=clock.LOCAL_TZ)
        end = datetime(year + 1, 1, 1, tzinfo=clock.LOCAL_TZ)
        where.append(and_(_when() >= start, _when() < end))
    if f.funding:
        where.append(Decision.funding_source == FundingSource(f.funding))
    if f.building:
        where.append(Issue.building_id == int(f.building))
    return where


def count(f: DecisionFilter, community: Community) -> int:
    return db.session.scalar(select(func.count(Decision.id))
                             .join(Issue, Issue.id == Decision.issue_id)
                             .where(*conditions(f, community))) or 0
