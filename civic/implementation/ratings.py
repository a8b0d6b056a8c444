"""Was it resolved? (是否解决) and the rating (满意度), then 回头看.

When the lead body marks the work completed, a rating window of :data:`RATING_DAYS` days
opens (the co-signing households are told). Every verified resident may answer for their
household — one answer per household per window, kept as given. When the window closes (the
job), the answers are tallied once: if more than half of them are 不满意, the issue is
reopened for review (回头看, state UNDER_REVIEW) and the moderators are told; the lead body
then carries on and marks it completed again, which opens a new window.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from civic import clock
from civic import permissions as can
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.communities.models import Community, Role
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.implementation.models import Rating, Score
from civic.issues.models import Issue, IssueState

RATING_DAYS = 14
MAX_COMMENT = 500


def closes_at(issue: Issue) -> datetime | None:
    """When the current window closes; None before the work is completed."""
    if issue.completed_at is None or issue.rating_window == 0:
        return None
    return issue.completed_at + timedelta(days=RATING_DAYS)


def window_open(issue: Issue) -> bool:
    end = closes_at(issue)
    return (issue.state is IssueState.COMPLETED and issue.rating_closed_at is None
            and end is not None and clock.now() < end)


def household_rating(user, issue: Issue) -> Rating | None:
    """The answer the user's household gave in the current window, if any."""
    m = can.residency(user, issue.community_id)
    if m is None or m.unit_id is None:
        return None
    return db.session.scalar(select(Rating).where(
        Rating.issue_id == issue.id, Rating.window_no == issue.rating_window,
        Rating.unit_id == m.unit_id))


def can_rate(user, issue: Issue) -> bool:
    return (window_open(issue) and can.is_verified_resident(user, issue.community_id)
            and household_rating(user, issue) is None)


@dataclass
class Summary:
    window: int
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    resolved: int = 0

    @property
    def total(self) -> int:
        return self.satisfied + self.basic + self.unsatisfied

    @property
    def reopens(self) -> bool:
        """More than half 不满意 — exactly half does not reopen."""
        return self.unsatisfied * 2 > self.total

    def count(self, score: Score) -> int:
        return {Score.SATISFIED: self.satisfied, Score.BASIC: self.basic,
                Score.UNSATISFIED: self.unsatisfied}[score]

    def add(self, score: Score, resolved: bool, n: int) -> None:
        if score is Score.SATISFIED:
            self.satisfied += n
        elif score is Score.BASIC:
            self.basic += n
        else:
            self.unsatisfied += n
        if resolved:
            self.resolved += n


def summary(issue: Issue, window: int | None = None) -> Summary:
    """The answers of a window (the current one by default). One query."""
    window = issue.rating_window if window is None else window
    s = Summary(window=window)
    for score, resolved, n in db.session.execute(
            select(Rating.score, Rating.resolved, func.count(Rating.id))
            .where(Rating.issue_id == issue.id, Rating.window_no == window)
            .group_by(Rating.score, Rating.resolved)):
        s.add(score, resolved, n)
    return s


def earlier_summaries(issue: Issue) -> list[Summary]:
    """The windows before the current one (each ended in a 回头看), oldest first. One
    query, and none for an issue completed once."""
    if issue.rating_window <= 1:
        return []
    out = {k: Summary(window=k) for k in range(1, issue.rating_window)}
    for k, score, resolved, n in db.session.execute(
            select(Rating.window_no, Rating.score, Rating.resolved, func.count(Rating.id))
            .where(Rating.issue_id == issue.id, Rating.window_no < issue.rating_window)
            .group_by(Rating.window_no, Rating.score, Rating.resolved)):
        out[k].add(score, resolved, n)
    return list(out.values())


def rate(user: User, issue: Issue, *, resolved, score, comment: str = "") -> Rating:
    """The household's answer. Raises NotAllowed, Invalid (field resolved, score, comment),
    DomainError."""
    m = can.residency(user, issue.community_id)
    if m is None or m.unit_id is None:
        raise NotAllowed(_("只有本小区已认证的居民可以评价。"))
    if not window_open(issue):
        raise DomainError(_("现在不在评价期内：办结后 %(days)d 天内可以评价。", days=RATING_DAYS))
    if resolved not in (True, False):
        raise Invalid(_("请选择问题是否已解决。"), field="resolved")
    try:
        score = Score(score)
    except ValueError:
        raise Invalid(_("请选择满意、基本满意或不满意。"), field="score") from None
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid(_("补充说明不能超过 500 字。"), field="comment")
    if household_rating(user, issue) is not None:
        raise DomainError(_("你家已经评价过了，每户只能评价一次。"))
    r = Rating(community_id=issue.community_id, issue_id=issue.id,
               window_no=issue.rating_window, unit_id=m.unit_id, user_id=user.id,
               resolved=resolved, score=score, comment=comment)
    try:
        with db.session.begin_nested():
            db.session.add(r)
    except IntegrityError:
        raise DomainError(_("你家已经评价过了，每户只能评价一次。")) from None
    # the household, never the person: ratings are anonymous in the audit log
    audit.record("issue.rate", r, actor="resident", issue=issue.number,
                 window=r.window_no, score=score.value, resolved=bool(resolved))
    return r


def close_due() -> tuple[int, int]:
    """The job: tally every window that has closed, once. Returns (closed, reopened)."""
    now = clock.now()
    ids = list(db.session.scalars(select(Issue.id).where(
        Issue.state == IssueState.COMPLETED, Issue.rating_closed_at.is_(None),
        Issue.completed_at <= now - timedelta(days=RATING_DAYS)).order_by(Issue.id)))
    closed = reopened = 0
    for issue_id in ids:
        res = db.session.execute(update(Issue).where(
            Issue.id == issue_id, Issue.state == IssueState.COMPLETED,
            Issue.rating_closed_at.is_(None)).values(rating_closed_at=now))
        if res.rowcount != 1:
            continue
        closed += 1
        issue = db.session.get(Issue, issue_id)
        db.session.refresh(issue)
        s = summary(issue)
        audit.record("issue.ratings_closed", issue, actor="system", number=issue.number,
                     window=s.window, satisfied=s.satisfied, basic=s.basic,
                     unsatisfied=s.unsatisfied, resolved=s.resolved)
        if s.reopens:
            db.session.execute(update(Issue).where(Issue.id == issue_id)
                               .values(state=IssueState.UNDER_REVIEW, review_opened_at=now))
            db.session.refresh(issue)
            audit.record("issue.review", issue, actor="system", number=issue.number,
                         window=s.window)
            _tell_moderators(issue, s)
            reopened += 1
    return closed, reopened


def _tell_moderators(issue: Issue, s: Summary) -> None:
    from civic.implementation.operations import ledger_link
    from civic.notifications.operations import notify, staff_ids
    community = db.session.get(Community, issue.community_id)
    notify(staff_ids(issue.community_id, Role.MODERATOR), "issue.review",
           community_id=issue.community_id, link=ledger_link(community, issue),
           number=issue.number, title=issue.title, unsatisfied=s.unsatisfied, total=s.total)
