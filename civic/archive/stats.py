"""The statistics (统计) of one community, or of all communities of a street office.

Pure computations over a fixed number of queries, whatever the number of issues: the
issues with their triage and first decision (one query), the ratings grouped by issue and
score (one), the ledger entries (one) and the owners' committee's reviews of them (one, as
in :func:`civic.implementation.operations.totals`). No Flask request code.

The definitions (the page states them in its 口径说明):

- scope: the issues of the communities that are public (not drafts) and not hidden; with a
  year, those whose threshold was reached in that year (Asia/Shanghai time);
- 响应率: among reached issues whose triage was decided or whose triage deadline
  (:func:`civic.triage.operations.triage_due`) has passed, the share decided by the
  deadline; issues neither decided nor due yet are left out;
- 解决率: among accepted issues, the share with a completion (``completed_at``);
- 满意率: (满意 + 基本满意) / all ratings, over every rating window;
- median days from the threshold to the triage decision, to the first published decision
  and to the completion, over the issues where both times are known;
- spending: counted ledger entries (the ledger's own rule: maintenance-fund entries count
  once approved, a reversing entry follows the entry it reverses) of the issues in scope,
  by the year of the payment date, per funding source and per issue category.

Rates are exact: a :class:`Rate` is a numerator and a denominator.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from sqlalchemy import func, select

from civic import clock
from civic.communities.models import Community
from civic.consultation.models import FundingSource
from civic.decisions.models import Decision
from civic.extensions import db
from civic.implementation import operations as ledger
from civic.implementation.models import Expense, ExpenseStatus, Rating, Score
from civic.issues.models import Issue, IssueState
from civic.triage.models import Outcome, Triage
from civic.triage.operations import triage_due

#: issue states of an accepted issue (its triage outcome is ACCEPTED)
ACCEPTED_STATES = frozenset({IssueState.ACCEPTED, IssueState.IN_CONSULTATION,
                             IssueState.DECIDED, IssueState.IN_PROGRESS,
                             IssueState.COMPLETED, IssueState.UNDER_REVIEW})
SATISFIED_SCORES = (Score.SATISFIED, Score.BASIC)
#: the years a ?year= may name (anything else means all years)
MIN_YEAR, MAX_YEAR = 2000, 2999
_DAY_US = 86_400 * 1_000_000
DASH = "—"


# --- exact figures and how they read ---------------------------------------------------

def _round1(value: Fraction) -> str:
    """One decimal, halves rounded away from zero, exactly: 1.25 → "1.3", 5/6·100 → "83.3"."""
    tenths = math.floor(abs(value) * 10 + Fraction(1, 2))
    sign = "-" if value < 0 and tenths else ""
    return f"{sign}{tenths // 10}.{tenths % 10}"


@dataclass(frozen=True)
class Rate:
    """An exact share: ``num`` of ``den``; no value when the denominator is 0."""

    num: int = 0
    den: int = 0

    @property
    def value(self) -> Fraction | None:
        return Fraction(self.num, self.den) if self.den else None

    @property
    def percent(self) -> str:
        """"83.3%", or "—" when there is nothing to count."""
        return DASH if self.value is None else _round1(self.value * 100) + "%"

    @property
    def counts(self) -> str:
        return f"{self.num}/{self.den}"

    def __str__(self) -> str:
        """"83.3%（5/6）", or "—"."""
        return DASH if self.value is None else f"{self.percent}（{self.counts}）"


@dataclass(frozen=True)
class Median:
    """The median of some durations in days (exact), and how many there were."""

    value: Fraction | None = None
    n: int = 0

    @classmethod
    def of(cls, days: Sequence[Fraction]) -> Median:
        return cls(Fraction(statistics.median(days)), len(days)) if days else cls()

    @property
    def days(self) -> str:
        """"1.3", or "—" when there is no duration."""
        return DASH if self.value is None else _round1(self.value)

    def __str__(self) -> str:
        return self.days


def days_between(start: datetime, end: datetime) -> Fraction:
    """`end - start` in days, exactly (to the microsecond)."""
    d = end - start
    return Fraction((d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds, _DAY_US)


@dataclass
class Figures:
    """The rates and medians over one set of issues."""

    #: public, visible issues in scope (with a year: reached in that year)
    issues: int = 0
    #: of which reached their threshold
    reached: int = 0
    response: Rate = field(default_factory=Rate)
    resolution: Rate = field(default_factory=Rate)
    satisfaction: Rate = field(default_factory=Rate)
    #: ratings per score (every window)
    scores: dict[Score, int] = field(default_factory=dict)
    to_triage: Median = field(default_factory=Median)
    to_decision: Median = field(default_factory=Median)
    to_completion: Median = field(default_factory=Median)


@dataclass
class Spending:
    """Counted spending in fen: {year: {funding source: fen}} and {year: {category: fen}}."""

    by_source: dict[int, dict[FundingSource, int]] = field(default_factory=dict)
    by_category: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def years(self) -> list[int]:
        """Newest first."""
        return sorted(self.by_source, reverse=True)

    @property
    def sources(self) -> list[FundingSource]:
        """The funding sources with spending, in the usual order."""
        used = {s for year in self.by_source.values() for s in year}
        return [s for s in FundingSource if s in used]

    @property
    def categories(self) -> list[str]:
        """The categories with spending, the largest total first."""
        return sorted({c for year in self.by_category.values() for c in year},
                      key=lambda c: (-self.category_total(c), c))

    def year_total(self, year: int) -> int:
        return sum(self.by_source.get(year, {}).values())

    def source_total(self, source: FundingSource) -> int:
        return sum(y.get(source, 0) for y in self.by_source.values())

    def category_total(self, category: str) -> int:
        return sum(y.get(category, 0) for y in self.by_category.values())

    @property
    def total(self) -> int:
        return sum(self.year_total(y) for y in self.by_source)


@dataclass
class Report:
    #: the year chosen, or None for all years
    year: int | None
    #: the years with issues reaching their threshold or counted spending, newest first
    years: list[int]
    #: all communities together
    total: Figures
    #: each community's own figures, by community id
    by_community: dict[int, Figures]
    spending: Spending


# --- the year ------------------------------------------------------------------------------

def parse_year(value: str | None) -> int | None:
    """A ?year= value: a year as digits, else None (all years)."""
    value = (value or "").strip()
    if len(value) == 4 and value.isascii() and value.isdigit():
        year = int(value)
        if MIN_YEAR <= year <= MAX_YEAR:
            return year
    return None


def local_year(dt: datetime) -> int:
    return clock.local(dt).year


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[start, end) of a local (Asia/Shanghai) year, as aware datetimes."""
    return (datetime(year, 1, 1, tzinfo=clock.LOCAL_TZ),
            datetime(year + 1, 1, 1, tzinfo=clock.LOCAL_TZ))


# --- the queries -----------------------------------------------------------------------------

def _visible(community_ids: list[int]):
    return (Issue.community_id.in_(community_ids), Issue.state != IssueState.DRAFT,
            Issue.hidden_at.is_(None))


def _issue_rows(community_ids: list[int]):
    """Every visible issue with its triage and the first time one of its decisions was
    published. One query."""
    first = (select(Decision.issue_id, func.min(Decision.published_at).label("published_at"))
             .where(Decision.community_id.in_(community_ids),
                    Decision.published_at.is_not(None))
             .group_by(Decision.issue_id).subquery())
    return db.session.execute(
        select(Issue.id, Issue.community_id, Issue.state, Issue.threshold_at,
               Issue.completed_at, Triage.outcome, Triage.decided_at,
               first.c.published_at.label("decision_at"))
        .outerjoin(Triage, Triage.issue_id == Issue.id)
        .outerjoin(first, first.c.issue_id == Issue.id)
        .where(*_visible(community_ids))).all()


def _rating_rows(community_ids: list[int]):
    """(issue id, score, count) of every rating in the communities. One query."""
    return db.session.execute(
        select(Rating.issue_id, Rating.score, func.count(Rating.id))
        .where(Rating.community_id.in_(community_ids))
        .group_by(Rating.issue_id, Rating.score)).all()


def _expense_rows(community_ids: list[int]):
    """The ledger entries of the visible issues, with the issue's category. One query,
    and one more for the reviews of maintenance-fund entries (none without any)."""
    rows = db.session.execute(
        select(Expense.id, Expense.reverses_id, Expense.spent_on, Expense.amount_fen,
               Expense.funding_source, Issue.category)
        .join(Issue, Issue.id == Expense.issue_id)
        .where(Expense.community_id.in_(community_ids), *_visible(community_ids))).all()
    reviews = ledger.reviews_for(r.id for r in rows
                                 if r.funding_source is FundingSource.MAINTENANCE_FUND
                                 and r.reverses_id is None)
    return [r for r in rows if ledger.status_of(r, reviews) is ExpenseStatus.COUNTED]


# --- the arithmetic --------------------------------------------------------------------------

def _is_accepted(row) -> bool:
    return row.outcome is Outcome.ACCEPTED or row.state in ACCEPTED_STATES


def figures(rows, scores_of: dict[int, dict[Score, int]], communities: dict[int, Community],
            now: datetime) -> Figures:
    """The figures over `rows` (issues in scope; see :func:`_issue_rows`)."""
    f = Figures()
    responded = answered = accepted = completed = 0
    to_triage: list[Fraction] = []
    to_decision: list[Fraction] = []
    to_completion: list[Fraction] = []
    scores: dict[Score, int] = defaultdict(int)
    for r in rows:
        f.issues += 1
        for score, n in scores_of.get(r.id, {}).items():
            scores[score] += n
        if r.threshold_at is None:
            continue
        f.reached += 1
        due = triage_due(r, communities[r.community_id])
        if r.decided_at is not None or now > due:
            answered += 1
            if r.decided_at is not None and r.decided_at <= due:
                responded += 1
        if _is_accepted(r):
            accepted += 1
            if r.completed_at is not None:
                completed += 1
        if r.decided_at is not None:
            to_triage.append(days_between(r.threshold_at, r.decided_at))
        if r.decision_at is not None:
            to_decision.append(days_between(r.threshold_at, r.decision_at))
        if r.completed_at is not None:
            to_completion.append(days_between(r.threshold_at, r.completed_at))
    f.response = Rate(responded, answered)
    f.resolution = Rate(completed, accepted)
    f.scores = {s: scores.get(s, 0) for s in Score}
    f.satisfaction = Rate(sum(scores.get(s, 0) for s in SATISFIED_SCORES), sum(scores.values()))
    f.to_triage = Median.of(to_triage)
    f.to_decision = Median.of(to_decision)
    f.to_completion = Median.of(to_completion)
    return f


def spending(rows: Iterable, year: int | None = None) -> Spending:
    """Counted entries (see :func:`_expense_rows`) per year of the payment date."""
    by_source: dict[int, dict[FundingSource, int]] = defaultdict(lambda: defaultdict(int))
    by_category: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        y = r.spent_on.year
        if year is not None and y != year:
            continue
        by_source[y][r.funding_source] += r.amount_fen
        by_category[y][r.category] += r.amount_fen
    return Spending({y: dict(v) for y, v in by_source.items()},
                    {y: dict(v) for y, v in by_category.items()})


def report(communities: Sequence[Community], year: int | None = None,
           now: datetime | None = None) -> Report:
    """The statistics of `communities` together and of each one, optionally for one year
    (of reaching the threshold; of the payment date for spending). Four queries."""
    now = now or clock.now()
    by_id = {c.id: c for c in communities}
    ids = list(by_id)
    if not ids:
        return Report(year, [], Figures(), {}, Spending())
    rows = _issue_rows(ids)
    scores_of: dict[int, dict[Score, int]] = defaultdict(dict)
    for issue_id, score, n in _rating_rows(ids):
        scores_of[issue_id][score] = n
    counted = _expense_rows(ids)
    years = ({local_year(r.threshold_at) for r in rows if r.threshold_at is not None}
             | {r.spent_on.year for r in counted})
    if year is not None:
        start, end = year_bounds(year)
        rows = [r for r in rows if r.threshold_at is not None and start <= r.threshold_at < end]
    per: dict[int, list] = defaultdict(list)
    for r in rows:
        per[r.community_id].append(r)
    return Report(
        year=year, years=sorted(years, reverse=True),
        total=figures(rows, scores_of, by_id, now),
        by_community={cid: figures(per.get(cid, []), scores_of, by_id, now) for cid in ids},
        spending=spending(counted, year))

