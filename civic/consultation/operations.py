"""Consultation rounds of the joint meeting (协商议事, DESIGN.md §4).

Operations flush, never commit; they raise DomainError subclasses with a user-facing
message. Every change to a round takes the round's row lock first (SELECT … FOR UPDATE on
PostgreSQL; SQLite write transactions hold the database lock from BEGIN IMMEDIATE), so a
change and the opening of the round cannot interleave: once a round is open its question,
options, seats, rule, quorum and deadline are frozen, and their hash is stored.
The decision arithmetic is :mod:`civic.consultation.rules`.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from civic import clock, permissions
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.audit.chain import canonical_json
from civic.communities.models import Community, Membership, Role
from civic.consultation import rules
from civic.consultation.models import (
    Consultation,
    ConsultationState,
    FundingSource,
    Minutes,
    MinutesConfirmation,
    MinutesState,
    Option,
    Round,
    RoundComment,
    RoundState,
    Seat,
    SeatVote,
    Statement,
)
from civic.consultation.rules import Body, Rule, Vote
from civic.database import for_update
from civic.domain import DomainError, Invalid, NotAllowed, Unprocessable
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from civic.text import render_markdown

#: the option every round has, stored in the record's language (views may translate it)
STATUS_QUO_TITLE = "维持现状"
STATUS_QUO_DESCRIPTION = "不采取任何行动，保持现状。"
#: the staff role a seat of each body is held through
SEAT_ROLES = {Body.COMMITTEE: Role.MODERATOR, Body.ASSOCIATION: Role.ASSOCIATION,
              Body.PROPERTY: Role.PROPERTY}
MAX_TEXT = 5000
MAX_REASON = 2000


class VoteRefused(NotAllowed):
    """The voter tried a seat that is not theirs, or one whose body they no longer belong
    to. The attempt is already in the audit log of the current transaction
    ("vote.refused"): the caller commits before answering 403, so the attempt is kept."""


def _frozen() -> DomainError:
    return DomainError(_("轮次已开始，规则、选项和席位不可更改；如需修改请开启新一轮"))


# --- reading -------------------------------------------------------------------------

def notice_days(community_id: int) -> int:
    """The community's notice period for rounds (会议通知提前天数, default 3)."""
    community = db.session.get(Community, community_id)
    return community.notice_days if community is not None else 3


def consultation_of(issue: Issue) -> Consultation | None:
    return db.session.scalar(select(Consultation).where(Consultation.issue_id == issue.id))


def seats_of(round_id: int) -> list[Seat]:
    return list(db.session.scalars(select(Seat).where(Seat.round_id == round_id)
                                   .order_by(Seat.id)))


def options_of(round_id: int) -> list[Option]:
    return list(db.session.scalars(select(Option).where(Option.round_id == round_id)
                                   .order_by(Option.position)))


def ballots_of(round_id: int) -> dict[int, dict[int, Vote]]:
    """option id → {seat id → vote} for every option of the round (empty when unvoted)."""
    ballots: dict[int, dict[int, Vote]] = {o.id: {} for o in options_of(round_id)}
    for seat_id, option_id, vote in db.session.execute(
            select(SeatVote.seat_id, SeatVote.option_id, SeatVote.vote)
            .where(SeatVote.round_id == round_id)):
        ballots[option_id][seat_id] = vote
    return ballots


def outcomes(rnd: Round) -> dict[int, rules.Outcome]:
    """Each option's outcome under the round's frozen rule, from the stored votes."""
    seats = [(s.id, s.body) for s in seats_of(rnd.id)]
    return {oid: rules.decide(rnd.rule, seats, votes, quorum=rnd.quorum)
            for oid, votes in ballots_of(rnd.id).items()}


def frozen_payload(rnd: Round) -> dict:
    """What opening a round freezes: question, options, seats, rule, quorum, deadline.
    Seat holders appear by pseudonym only, so the hash never depends on personal data."""
    holders = dict(db.session.execute(
        select(Seat.id, User.pseudonym).join(User, User.id == Seat.user_id)
        .where(Seat.round_id == rnd.id)).all())
    return {
        "round": rnd.id,
        "consultation": rnd.consultation_id,
        "number": rnd.number,
        "agenda": rnd.agenda,
        "options": [{
            "id": o.id, "position": o.position, "title": o.title,
            "description": o.description, "cost_fen": o.cost_fen,
            "funding_source": o.funding_source.value if o.funding_source else None,
            "executor": o.executor.value if o.executor else None,
            "status_quo": o.is_status_quo, "owners_item": o.owners_item,
        } for o in options_of(rnd.id)],
        "seats": [{"id": s.id, "body": s.body.value, "title": s.title, "holder": holders[s.id]}
                  for s in seats_of(rnd.id)],
        "rule": rnd.rule.value,
        "quorum": f"{rnd.quorum_num}/{rnd.quorum_den}",
        "closes_at": rnd.closes_at,
        "guests": rnd.guests.splitlines(),
    }


def compute_frozen_hash(rnd: Round) -> str:
    """SHA-256 (hex) of the canonical JSON of frozen_payload(); anyone can recompute it."""
    return hashlib.sha256(canonical_json(frozen_payload(rnd)).encode("utf-8")).hexdigest()


# --- helpers -------------------------------------------------------------------------

def _require_moderator(actor: User, community_id: int) -> None:
    if not permissions.is_moderator(actor, community_id):
        raise NotAllowed(_("只有居委会可以主持协商。"))


def _lock(round_id: int) -> Round | None:
    return db.session.execute(for_update(select(Round).where(Round.id == round_id))
                              ).scalar_one_or_none()


def _editable(actor: User, rnd: Round) -> Round:
    """The round locked for a change by a moderator; refuses once it has opened."""
    _require_moderator(actor, rnd.community_id)
    locked = _lock(rnd.id)
    if locked.state.is_frozen:
        raise _frozen()
    return locked


def _aware(value, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Invalid(_("请填写完整的日期和时间。"), field=field)
    return value


def _rule(value) -> Rule:
    try:
        return Rule(value)
    except ValueError:
        raise Invalid(_("请选择一种表决规则。"), field="rule") from None


def _guests(value: str) -> str:
    lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
    if len(lines) > 10 or any(len(line) > 60 for line in lines):
        raise Invalid(_("列席单位最多 10 个，每个不超过 60 字。"), field="guests")
    return "\n".join(lines)


def _quorum(value) -> Fraction:
    try:
        q = Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise Invalid(_("法定人数须是 0 到 1 之间的比例。"), field="quorum") from None
    if not 0 <= q <= 1:
        raise Invalid(_("法定人数须是 0 到 1 之间的比例。"), field="quorum")
    return q


def seat_membership(user: User, community_id: int, body: Body) -> Membership | None:
    """The active membership through which `user` may hold a seat of `body` here:
    the matching staff role, or (居民代表) a verified residency."""
    if body is Body.RESIDENT:
        return permissions.residency(user, community_id)
    role = SEAT_ROLES[body]
    for m in permissions.memberships_in(user, community_id):
        if m.role is role:
            return m
    return None


# --- consultation --------------------------------------------------------------------

def open_consultation(actor: User, issue: Issue) -> Consultation:
    """Take an accepted issue into consultation (accepted → in_consultation, once).

    Raises NotAllowed (not a moderator here), DomainError (the issue is not accepted)."""
    _require_moderator(actor, issue.community_id)
    res = db.session.execute(update(Issue).where(
        Issue.id == issue.id, Issue.state == IssueState.ACCEPTED)
        .values(state=IssueState.IN_CONSULTATION))
    if res.rowcount != 1:
        raise DomainError(_("只有已受理的议题可以进入协商。"))
    db.session.refresh(issue, ["state"])
    c = Consultation(issue_id=issue.id, community_id=issue.community_id, opened_by_id=actor.id)
    db.session.add(c)
    db.session.flush()
    audit.record("consultation.open", c, actor=actor, issue=issue.number)
    return c


def can_open_supplement(issue: Issue) -> bool:
    """Whether a supplementary consultation (补充协商) could start: the issue's plan is in
    effect, work goes on, the consultation is closed and no supplement waits to be
    published, balloted or to take effect."""
    from civic.decisions import operations as decisions
    if issue.state not in (IssueState.DECIDED, IssueState.IN_PROGRESS):
        return False
    c = consultation_of(issue)
    base = decisions.effective_plan(issue.id)
    return (c is not None and c.state is ConsultationState.CLOSED and base is not None
            and decisions.pending_supplement(base) is None
            and decisions.publish_preview(issue).problem is not None)


def open_supplement(actor: User, issue: Issue) -> Consultation:
    """Reopen the consultation of an issue whose plan is in effect, for rounds on raising
    its budget (补充协商). The issue stays where it is and the plan stays in effect; a plan
    the new round adopts is published as a supplementary decision.
    Raises NotAllowed, DomainError."""
    _require_moderator(actor, issue.community_id)
    c = db.session.execute(for_update(select(Consultation).where(
        Consultation.issue_id == issue.id))).scalar_one_or_none()
    if c is None or not can_open_supplement(issue):
        raise DomainError(_("只有决议已生效、正在实施的议题可以发起补充协商；"
                            "已有补充决议在办理中时不能再发起。"))
    res = db.session.execute(update(Consultation).where(
        Consultation.id == c.id, Consultation.state == ConsultationState.CLOSED)
        .values(state=ConsultationState.OPEN, closed_at=None))
    if res.rowcount != 1:
        raise DomainError(_("补充协商已经开始。"))
    db.session.refresh(c)
    audit.record("consultation.supplement", c, actor=actor, issue=issue.number)
    return c


def schedule_round(actor: User, consultation: Consultation, agenda: str, place: str,
                   online: bool, starts_at: datetime, closes_at: datetime,
                   rule: Rule | str = rules.DEFAULT_RULE,
                   quorum: Fraction | str = rules.DEFAULT_QUORUM, guests: str = "") -> Round:
    """Publish the notice of the next round, at least the community's notice period before
    it starts. `guests` names invited outside offices (one per line) that attend without
    a vote.
    The round gets its 维持现状 option at once.

    Raises NotAllowed, Invalid (fields, short notice), DomainError (consultation closed, or
    the previous round not closed yet)."""
    _require_moderator(actor, consultation.community_id)
    c = db.session.execute(for_update(select(Consultation).where(
        Consultation.id == consultation.id))).scalar_one()
    if c.state is not ConsultationState.OPEN:
        raise DomainError(_("本次协商已经结束，不能再开新一轮。"))
    pending = db.session.scalar(select(func.count(Round.id)).where(
        Round.consultation_id == c.id, Round.state != RoundState.CLOSED))
    if pending:
        raise DomainError(_("上一轮协商尚未结束，不能开启新一轮。"))
    agenda, place = (agenda or "").strip(), (place or "").strip()
    if not agenda:
        raise Invalid(_("请填写本轮议程。"), field="agenda")
    if len(agenda) > MAX_TEXT:
        raise Invalid(_("议程不能超过 5000 字。"), field="agenda")
    if not place and not online:
        raise Invalid(_("请填写会议地点，或选择线上会议。"), field="place")
    starts_at, closes_at = _aware(starts_at, "starts_at"), _aware(closes_at, "closes_at")
    now, days = clock.now(), notice_days(c.community_id)
    if starts_at < now + timedelta(days=days):
        raise Invalid(_("会议通知须至少提前 %(days)d 天发布。", days=days), field="starts_at")
    if closes_at <= starts_at:
        raise Invalid(_("表决截止时间须晚于会议开始时间。"), field="closes_at")
    rule, q = _rule(rule), _quorum(quorum)
    guests = _guests(guests)
    number = (db.session.scalar(select(func.max(Round.number)).where(
        Round.consultation_id == c.id)) or 0) + 1
    rnd = Round(consultation_id=c.id, community_id=c.community_id, number=number,
                state=RoundState.NOTICED, agenda=agenda, place=place[:80], online=bool(online),
                guests=guests,
                starts_at=starts_at, closes_at=closes_at, notice_at=now, rule=rule,
                quorum_num=q.numerator, quorum_den=q.denominator)
    db.session.add(rnd)
    db.session.flush()
    db.session.add(Option(round_id=rnd.id, position=0, title=STATUS_QUO_TITLE,
                          description=STATUS_QUO_DESCRIPTION, cost_fen=0, is_status_quo=True))
    db.session.flush()
    audit.record("round.schedule", rnd, actor=actor, consultation=c.id, number=number,
                 rule=rule.value, quorum=f"{q.numerator}/{q.denominator}", online=rnd.online,
                 starts_at=starts_at, closes_at=closes_at)
    return rnd


# --- preparing a round (refused once it is open) ---------------------------------------

def add_seat(actor: User, rnd: Round, user: User, body: Body | str, title: str = "") -> Seat:
    """Seat `user` for `body`: they must hold that body's staff role here (or, for a
    居民代表 seat, be a verified resident). One person holds one seat per round.

    Raises NotAllowed, Invalid, DomainError (the round is open or closed)."""
    locked = _editable(actor, rnd)
    try:
        body = Body(body)
    except ValueError:
        raise Invalid(_("请选择席位所属的一方。"), field="body") from None
    membership = seat_membership(user, locked.community_id, body)
    if membership is None:
        if body is Body.RESIDENT:
            raise Invalid(_("居民代表席位只能由本小区的认证居民担任。"), field="user")
        raise Invalid(_("这个人不是本小区%(body)s的工作人员，不能担任该方席位。",
                        body=body.label), field="user")
    duplicate = Invalid(_("同一个人在一轮协商中只能占一个席位。"), field="user")
    if db.session.scalar(select(Seat.id).where(Seat.round_id == locked.id,
                                               Seat.user_id == user.id)) is not None:
        raise duplicate
    title = (title or "").strip() or membership.title or body.label
    seat = Seat(round_id=locked.id, body=body, user_id=user.id, membership_id=membership.id,
                title=title[:40])
    try:
        with db.session.begin_nested():
            db.session.add(seat)
    except IntegrityError:
        raise duplicate from None
    audit.record("round.seat_add", locked, actor=actor, seat=seat.id, body=body.value,
                 holder=user.pseudonym)
    return seat


def remove_seat(actor: User, rnd: Round, seat_id: int) -> None:
    """Raises NotAllowed, Unprocessable (not a seat of this round), DomainError (frozen)."""
    locked = _editable(actor, rnd)
    seat = db.session.get(Seat, seat_id)
    if seat is None or seat.round_id != locked.id:
        raise Unprocessable(_("这个席位不属于这一轮。"), field="seat_id")
    db.session.delete(seat)
    db.session.flush()
    audit.record("round.seat_remove", locked, actor=actor, seat=seat_id, body=seat.body.value)


def add_option(actor: User, rnd: Round, title: str, description: str, cost_fen: int,
               funding_source: FundingSource | str, executor: Body | str,
               owners_item: int | None = None) -> Option:
    """A plan (方案) with its estimated cost in fen, funding source and executing body.
    `owners_item` marks a plan that is one of the matters Civil Code Art. 278 reserves to
    the owners (1–9): if adopted, it needs an owners' ballot before it becomes a decision.

    Raises NotAllowed, Invalid, DomainError (frozen)."""
    locked = _editable(actor, rnd)
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        raise Invalid(_("请填写方案名称。"), field="title")
    if len(title) > 80:
        raise Invalid(_("方案名称不能超过 80 字。"), field="title")
    if len(description) > MAX_TEXT:
        raise Invalid(_("方案说明不能超过 5000 字。"), field="description")
    if isinstance(cost_fen, bool) or not isinstance(cost_fen, int) or cost_fen < 0:
        raise Invalid(_("预计费用须是不小于 0 的金额。"), field="cost_fen")
    try:
        funding_source = FundingSource(funding_source)
    except ValueError:
        raise Invalid(_("请选择资金来源。"), field="funding_source") from None
    try:
        executor = Body(executor)
    except ValueError:
        executor = None
    if executor not in rules.REQUIRED_BODIES:
        raise Invalid(_("请选择负责实施的一方（居委会、业委会或物业）。"), field="executor")
    if owners_item in ("", None):
        owners_item = None
    elif isinstance(owners_item, bool) or not isinstance(owners_item, int) \
            or not 1 <= owners_item <= 9:
        raise Invalid(_("请选择《民法典》第二百七十八条所列的事项。"), field="owners_item")
    position = (db.session.scalar(select(func.max(Option.position)).where(
        Option.round_id == locked.id)) or 0) + 1
    option = Option(round_id=locked.id, position=position, title=title,
                    description=description, cost_fen=cost_fen, funding_source=funding_source,
                    executor=executor, owners_item=owners_item)
    db.session.add(option)
    db.session.flush()
    audit.record("round.option_add", locked, actor=actor, option=option.id, position=position,
                 cost_fen=cost_fen, funding_source=funding_source.value,
                 executor=executor.value, owners_item=owners_item)
    return option


def remove_option(actor: User, rnd: Round, option_id: int) -> None:
    """Raises NotAllowed, Unprocessable, Invalid (维持现状 stays), DomainError (frozen)."""
    locked = _editable(actor, rnd)
    option = db.session.get(Option, option_id)
    if option is None or option.round_id != locked.id:
        raise Unprocessable(_("所选方案不属于这一轮。"), field="option_id")
    if option.is_status_quo:
        raise Invalid(_("“维持现状”始终是一个选项，不能删除。"), field="option_id")
    db.session.delete(option)
    db.session.flush()
    audit.record("round.option_remove", locked, actor=actor, option=option_id)


def set_rule(actor: User, rnd: Round, rule: Rule | str,
             quorum: Fraction | str = rules.DEFAULT_QUORUM) -> Round:
    """Raises NotAllowed, Invalid, DomainError (frozen)."""
    locked = _editable(actor, rnd)
    rule, q = _rule(rule), _quorum(quorum)
    locked.rule, locked.quorum_num, locked.quorum_den = rule, q.numerator, q.denominator
    db.session.flush()
    audit.record("round.rule", locked, actor=actor, rule=rule.value,
                 quorum=f"{q.numerator}/{q.denominator}")
    return locked


def set_deadline(actor: User, rnd: Round, closes_at: datetime) -> Round:
    """Raises NotAllowed, Invalid, DomainError (frozen)."""
    locked = _editable(actor, rnd)
    closes_at = _aware(closes_at, "closes_at")
    if closes_at <= locked.starts_at:
        raise Invalid(_("表决截止时间须晚于会议开始时间。"), field="closes_at")
    locked.closes_at = closes_at
    db.session.flush()
    audit.record("round.deadline", locked, actor=actor, closes_at=closes_at)
    return locked


# --- opening and voting --------------------------------------------------------------

def open_round(actor: User, rnd: Round) -> Round:
    """Start voting (draft/noticed → open, once) and freeze the round under its hash.

    Not before the meeting starts nor after the deadline; every one of the three bodies
    must hold a seat and there must be an option besides 维持现状.
    Raises NotAllowed, DomainError."""
    _require_moderator(actor, rnd.community_id)
    locked = _lock(rnd.id)
    if locked.state.is_frozen:
        raise DomainError(_("这一轮已经开始或已经结束。"))
    now = clock.now()
    if now < locked.starts_at:
        raise DomainError(_("会议尚未开始，不能开始表决。"))
    if now >= locked.closes_at:
        raise DomainError(_("表决截止时间已过，请调整截止时间。"))
    seats = seats_of(locked.id)
    seated = {s.body for s in seats}
    missing = [b for b in rules.REQUIRED_BODIES if b not in seated]
    if missing:
        raise DomainError(_("居委会、业委会、物业每一方都至少要有一个席位，还缺：%(missing)s。",
                            missing="、".join(b.label for b in missing)))
    if not any(not o.is_status_quo for o in options_of(locked.id)):
        raise DomainError(_("请至少添加一个“维持现状”以外的方案。"))
    frozen_hash = compute_frozen_hash(locked)
    res = db.session.execute(update(Round).where(
        Round.id == locked.id, Round.state.in_([RoundState.DRAFT, RoundState.NOTICED]))
        .values(state=RoundState.OPEN, opened_at=now, frozen_hash=frozen_hash))
    if res.rowcount != 1:
        raise DomainError(_("这一轮已经开始或已经结束。"))
    db.session.refresh(locked)
    audit.record("round.open", locked, actor=actor, number=locked.number,
                 frozen_hash=frozen_hash, rule=locked.rule.value,
                 quorum=f"{locked.quorum_num}/{locked.quorum_den}",
                 seats=len(seats), options=len(options_of(locked.id)))
    _tell_seats(locked, "round.opened")
    return locked


def _refuse(user: User, rnd: Round, code: str, seat_id: int | None, message: str):
    audit.record("vote.refused", rnd, actor=user, code=code, seat=seat_id)
    raise VoteRefused(message)


def cast_vote(user: User, round_id: int, option_id: int, vote: Vote | str, reason: str = "",
              *, seat_id: int | None = None) -> SeatVote:
    """Cast or change the user's seat's vote on one option while the round is open.

    The seat is the user's own seat in the round; a `seat_id` from the form is only checked
    against it. Raises Unprocessable (no such round, or an option of another round),
    VoteRefused (another's seat, or a body the user no longer belongs to; logged),
    NotAllowed (no seat), DomainError (not open, or past the deadline), Invalid (the vote,
    or 反对 without a reason)."""
    if not getattr(user, "is_authenticated", False):
        raise NotAllowed(_("请先登录。"))
    rnd = _lock(round_id) if isinstance(round_id, int) else None
    if rnd is None:
        raise Unprocessable(_("没有这一轮协商。"), field="round_id")
    option = db.session.get(Option, option_id) if isinstance(option_id, int) else None
    if option is None or option.round_id != rnd.id:
        raise Unprocessable(_("所选方案不属于这一轮。"), field="option_id")
    seat = db.session.scalar(select(Seat).where(Seat.round_id == rnd.id,
                                                Seat.user_id == user.id))
    if seat_id is not None and (seat is None or seat.id != seat_id):
        _refuse(user, rnd, "other_seat", seat_id if isinstance(seat_id, int) else None,
                _("你只能以自己的席位投票，不能使用其他方的席位。"))
    if seat is None:
        raise NotAllowed(_("你在这一轮没有表决席位。"))
    if seat_membership(user, rnd.community_id, seat.body) is None:
        _refuse(user, rnd, "body_mismatch", seat.id,
                _("你已不再是该席位所代表一方的成员，不能以这个席位投票。"))
    if rnd.state is RoundState.CLOSED:
        raise DomainError(_("这一轮已经结束，表决结果为最终结果。"))
    if rnd.state is not RoundState.OPEN:
        raise DomainError(_("这一轮尚未开始表决。"))
    if clock.now() >= rnd.closes_at:
        raise DomainError(_("表决已截止。"))
    try:
        vote = Vote(vote)
    except ValueError:
        raise Invalid(_("请选择同意、反对或弃权。"), field="vote") from None
    reason = (reason or "").strip()
    if vote is Vote.OPPOSE and not reason:
        raise Invalid(_("投反对票须写明理由（会随表决结果公开）。"), field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid(_("理由不能超过 2000 字。"), field="reason")
    now = clock.now()
    sv = _seat_vote(seat.id, option.id)
    previous = sv.vote.value if sv is not None else None
    if sv is None:
        sv = SeatVote(round_id=rnd.id, seat_id=seat.id, option_id=option.id, vote=vote,
                      reason=reason, updated_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(sv)
        except IntegrityError:
            # the round lock makes this unreachable; the unique constraint is the backstop
            sv = _seat_vote(seat.id, option.id)
            previous = sv.vote.value
    if previous is not None:
        sv.vote, sv.reason, sv.updated_at = vote, reason, now
        db.session.flush()
    audit.record("vote.change" if previous else "vote.cast", rnd, actor=user, seat=seat.id,
                 body=seat.body.value, option=option.id, vote=vote.value, previous=previous)
    return sv


def _seat_vote(seat_id: int, option_id: int) -> SeatVote | None:
    return db.session.execute(select(SeatVote).where(
        SeatVote.seat_id == seat_id, SeatVote.option_id == option_id)
        .execution_options(populate_existing=True)).scalar_one_or_none()


# --- closing -------------------------------------------------------------------------

def close_round(actor: User | None, rnd: Round) -> Round:
    """End voting (open → closed, once), decide every option under the frozen rule and
    record the adopted one (or none). A moderator may close at any time while open;
    without an actor (the job) only once the deadline has passed. Adopting an option ends
    the consultation; otherwise the moderator may schedule another round.

    Raises NotAllowed, DomainError (not open; the job before the deadline)."""
    now = clock.now()
    if actor is not None:
        _require_moderator(actor, rnd.community_id)
    locked = _lock(rnd.id)
    if locked.state is not RoundState.OPEN:
        raise DomainError(_("这一轮不在表决中。"))
    if actor is None and now < locked.closes_at:
        raise DomainError(_("表决尚未截止。"))
    res = db.session.execute(update(Round).where(
        Round.id == locked.id, Round.state == RoundState.OPEN)
        .values(state=RoundState.CLOSED, closed_at=now))
    if res.rowcount != 1:
        raise DomainError(_("这一轮不在表决中。"))
    seats = [(s.id, s.body) for s in seats_of(locked.id)]
    ballots = ballots_of(locked.id)
    adopted = rules.choose(locked.rule, seats, ballots, quorum=locked.quorum)
    results = {oid: rules.decide(locked.rule, seats, votes, quorum=locked.quorum)
               for oid, votes in ballots.items()}
    db.session.execute(update(Round).where(Round.id == locked.id)
                       .values(adopted_option_id=adopted))
    db.session.refresh(locked)
    audit.record("round.close", locked, actor=actor, number=locked.number, adopted=adopted,
                 rule=locked.rule.value, tally={str(oid): {
                     "agree": o.totals.agree, "oppose": o.totals.oppose,
                     "abstain": o.totals.abstain, "absent": o.totals.absent,
                     "passed": o.passed} for oid, o in results.items()})
    if adopted is not None:
        res = db.session.execute(update(Consultation).where(
            Consultation.id == locked.consultation_id,
            Consultation.state == ConsultationState.OPEN)
            .values(state=ConsultationState.CLOSED, closed_at=now))
        if res.rowcount == 1:
            audit.record("consultation.close", object_type="consultation",
                         object_id=locked.consultation_id, community_id=locked.community_id,
                         actor=actor, round=locked.number, adopted=adopted)
    _tell_seats(locked, "round.closed")
    return locked


def close_due_rounds() -> int:
    """The job: close every open round whose deadline has passed. Returns how many."""
    due = list(db.session.scalars(select(Round.id).where(
        Round.state == RoundState.OPEN, Round.closes_at <= clock.now()).order_by(Round.id)))
    closed = 0
    for round_id in due:
        rnd = db.session.get(Round, round_id)
        try:
            close_round(None, rnd)
        except DomainError:
            continue   # closed meanwhile by a moderator
        closed += 1
    return closed


# --- notices to the seats ------------------------------------------------------------

def _issue_of(rnd: Round) -> Issue:
    return db.session.scalar(select(Issue).join(Consultation, Consultation.issue_id == Issue.id)
                             .where(Consultation.id == rnd.consultation_id))


def round_link(rnd: Round) -> str:
    """The round page's path (notifications store links, not URLs with a host)."""
    issue = _issue_of(rnd)
    community = db.session.get(Community, rnd.community_id)
    return f"/c/{community.slug}/issues/{issue.number}/rounds/{rnd.number}"


def _tell_seats(rnd: Round, kind: str) -> int:
    from civic.notifications.operations import notify
    issue = _issue_of(rnd)
    return notify([s.user_id for s in seats_of(rnd.id)], kind, community_id=rnd.community_id,
                  link=round_link(rnd), number=issue.number, title=issue.title,
                  round=rnd.number)


def remind_closing_rounds() -> int:
    """The job: once per round, tell the seats that voting closes within 24 hours.
    A guarded UPDATE makes the reminder go out once however many jobs run."""
    now = clock.now()
    due = list(db.session.scalars(select(Round.id).where(
        Round.state == RoundState.OPEN, Round.reminded_at.is_(None),
        Round.closes_at > now, Round.closes_at <= now + timedelta(hours=24))
        .order_by(Round.id)))
    sent = 0
    for round_id in due:
        res = db.session.execute(update(Round).where(
            Round.id == round_id, Round.reminded_at.is_(None)).values(reminded_at=now))
        if res.rowcount == 1:
            _tell_seats(db.session.get(Round, round_id), "round.closing")
            sent += 1
    return sent


def update_notice(actor: User, rnd: Round, agenda: str, place: str, online: bool,
                  guests: str = "") -> Round:
    """Correct the notice's agenda, place and invited offices before voting opens.
    Raises NotAllowed, Invalid, DomainError (frozen)."""
    locked = _editable(actor, rnd)
    agenda, place = (agenda or "").strip(), (place or "").strip()
    if not agenda:
        raise Invalid(_("请填写本轮议程。"), field="agenda")
    if len(agenda) > MAX_TEXT:
        raise Invalid(_("议程不能超过 5000 字。"), field="agenda")
    if not place and not online:
        raise Invalid(_("请填写会议地点，或选择线上会议。"), field="place")
    locked.agenda, locked.place, locked.online = agenda, place[:80], bool(online)
    locked.guests = _guests(guests)
    db.session.flush()
    audit.record("round.notice", locked, actor=actor, online=locked.online)
    return locked


def checklist(rnd: Round) -> list[dict]:
    """Per seat: how many of the round's options it has voted on (为表决清单)."""
    options = len(options_of(rnd.id))
    counts = dict(db.session.execute(
        select(SeatVote.seat_id, func.count(SeatVote.id)).where(SeatVote.round_id == rnd.id)
        .group_by(SeatVote.seat_id)).all())
    return [{"seat": s, "voted": counts.get(s.id, 0), "options": options,
             "done": counts.get(s.id, 0) >= options} for s in seats_of(rnd.id)]


def seat_of(user: User, rnd: Round) -> Seat | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Seat).where(Seat.round_id == rnd.id,
                                                Seat.user_id == user.id))


def votes_of_seat(seat: Seat) -> dict[int, SeatVote]:
    return {v.option_id: v for v in db.session.scalars(
        select(SeatVote).where(SeatVote.seat_id == seat.id))}


# --- statements (立场陈述) -------------------------------------------------------------

def statement_bodies(user: User, rnd: Round) -> list[Body]:
    """The bodies `user` may write the statement for in this round: the bodies of their
    staff roles here among the round's seated bodies (居民代表: a resident seat holder)."""
    seated = {s.body for s in seats_of(rnd.id)} | set(rules.REQUIRED_BODIES)
    out = []
    for body in (Body.COMMITTEE, Body.ASSOCIATION, Body.PROPERTY, Body.RESIDENT):
        if body not in seated:
            continue
        if body is Body.RESIDENT:
            seat = seat_of(user, rnd)
            if seat is not None and seat.body is Body.RESIDENT:
                out.append(body)
        elif seat_membership(user, rnd.community_id, body) is not None:
            out.append(body)
    return out


def statements_of(rnd: Round) -> list[Statement]:
    order = {b: i for i, b in enumerate(Body)}
    return sorted(db.session.scalars(select(Statement).where(Statement.round_id == rnd.id)),
                  key=lambda st: order[st.body])


def post_statement(user: User, rnd: Round, body: Body | str, text: str) -> Statement:
    """The body's one written statement for the round; posting again replaces it until the
    round closes (each version is audited). Raises NotAllowed, Invalid, DomainError."""
    try:
        body = Body(body)
    except ValueError:
        raise Invalid(_("请选择以哪一方的名义陈述。"), field="body") from None
    if body not in statement_bodies(user, rnd):
        raise NotAllowed(_("只有该方的工作人员可以发表这一方的立场陈述。"))
    locked = _lock(rnd.id)
    if locked.state is RoundState.CLOSED:
        raise DomainError(_("这一轮已经结束，立场陈述不能再修改。"))
    text = (text or "").strip()
    if not text:
        raise Invalid(_("请写下立场陈述。"), field="text")
    if len(text) > MAX_TEXT:
        raise Invalid(_("立场陈述不能超过 5000 字。"), field="text")
    now = clock.now()
    st = db.session.scalar(select(Statement).where(Statement.round_id == locked.id,
                                                   Statement.body == body))
    replaced = st is not None
    if st is None:
        st = Statement(round_id=locked.id, body=body, author_id=user.id, text=text,
                       text_html=render_markdown(text), updated_at=now)
        db.session.add(st)
    else:
        st.author_id, st.text, st.text_html, st.updated_at = (user.id, text,
                                                              render_markdown(text), now)
    db.session.flush()
    audit.record("round.statement", locked, actor=user, body=body.value, replaced=replaced,
                 sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    return st


# --- residents' opinions (意见征集) ---------------------------------------------------

def comments_of(rnd: Round) -> list[RoundComment]:
    return list(db.session.scalars(select(RoundComment).where(RoundComment.round_id == rnd.id)
                                   .order_by(RoundComment.id)))


def can_comment(user: User, rnd: Round) -> bool:
    return (rnd.state in (RoundState.NOTICED, RoundState.OPEN)
            and permissions.residency(user, rnd.community_id) is not None)


def add_round_comment(user: User, rnd: Round, text: str,
                      idempotency_key: str | None = None) -> RoundComment:
    """A verified resident's opinion while the round is noticed or open.
    Raises NotAllowed (not a verified resident here), DomainError (closed), Invalid."""
    m = permissions.residency(user, rnd.community_id)
    if m is None:
        raise NotAllowed(_("只有本小区的认证居民可以发表意见。"))
    # the round's lock: the state is current, and a double submit finds the first one
    rnd = _lock(rnd.id)
    if rnd.state not in (RoundState.NOTICED, RoundState.OPEN):
        raise DomainError(_("这一轮已经结束，意见征集已截止。"))
    text = (text or "").strip()
    if not text:
        raise Invalid(_("请写下你的意见。"), field="text")
    if len(text) > MAX_REASON:
        raise Invalid(_("意见不能超过 2000 字。"), field="text")
    if idempotency_key:
        existing = db.session.scalar(select(RoundComment).where(
            RoundComment.round_id == rnd.id, RoundComment.author_id == user.id,
            RoundComment.idempotency_key == idempotency_key))
        if existing is not None:
            return existing
    comment = RoundComment(round_id=rnd.id, author_id=user.id, membership_id=m.id, text=text,
                           idempotency_key=(idempotency_key or None) and idempotency_key[:40])
    db.session.add(comment)
    db.session.flush()
    audit.record("round.comment", comment, actor=user, community_id=rnd.community_id,
                 round=rnd.id)
    return comment


# --- minutes (会议纪要) -----------------------------------------------------------------

def minutes_of(rnd: Round) -> Minutes | None:
    return db.session.scalar(select(Minutes).where(Minutes.round_id == rnd.id))


def attending_bodies(rnd: Round) -> list[Body]:
    """The bodies that held seats in the round: each must confirm the minutes."""
    seated = {s.body for s in seats_of(rnd.id)}
    return [b for b in Body if b in seated]


def confirmations_of(minutes: Minutes) -> dict[Body, MinutesConfirmation]:
    """This revision's answers, by body."""
    return {c.body: c for c in db.session.scalars(select(MinutesConfirmation).where(
        MinutesConfirmation.minutes_id == minutes.id,
        MinutesConfirmation.revision == minutes.revision))}


def _lock_minutes(rnd: Round) -> Minutes | None:
    return db.session.execute(for_update(select(Minutes).where(Minutes.round_id == rnd.id))
                              ).scalar_one_or_none()


def write_minutes(actor: User, rnd: Round, text: str) -> Minutes:
    """The moderator writes or revises the minutes once voting has closed. Revising minutes
    that are out for confirmation starts a new revision: every body confirms again.
    Published minutes are never edited. Raises NotAllowed, Invalid, DomainError."""
    _require_moderator(actor, rnd.community_id)
    locked = _lock(rnd.id)
    if locked.state is not RoundState.CLOSED:
        raise DomainError(_("表决结束后才能撰写会议纪要。"))
    text = (text or "").strip()
    if not text:
        raise Invalid(_("请填写会议纪要。"), field="text")
    if len(text) > 20000:
        raise Invalid(_("会议纪要不能超过 20000 字。"), field="text")
    minutes = _lock_minutes(locked)
    if minutes is None:
        minutes = Minutes(round_id=locked.id, author_id=actor.id, text=text,
                          text_html=render_markdown(text), revision=1,
                          state=MinutesState.DRAFT)
        db.session.add(minutes)
    elif minutes.state is MinutesState.PUBLISHED:
        raise DomainError(_("会议纪要已经公布，不能再修改。"))
    else:
        if minutes.state is MinutesState.CONFIRMING:
            minutes.revision += 1
            minutes.state = MinutesState.DRAFT
            minutes.submitted_at = None
        minutes.text, minutes.text_html, minutes.author_id = text, render_markdown(text), actor.id
    db.session.flush()
    audit.record("minutes.write", minutes, actor=actor, community_id=locked.community_id,
                 round=locked.id, revision=minutes.revision,
                 sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    return minutes


def submit_minutes(actor: User, rnd: Round) -> Minutes:
    """Send the draft to the attending bodies for confirmation, and tell their seats."""
    _require_moderator(actor, rnd.community_id)
    _lock(rnd.id)
    minutes = _lock_minutes(rnd)
    if minutes is None:
        raise DomainError(_("请先撰写会议纪要。"))
    if minutes.state is not MinutesState.DRAFT:
        raise DomainError(_("会议纪要已提交确认或已公布。"))
    minutes.state, minutes.submitted_at = MinutesState.CONFIRMING, clock.now()
    db.session.flush()
    audit.record("minutes.submit", minutes, actor=actor, community_id=rnd.community_id,
                 round=rnd.id, revision=minutes.revision)
    _tell_seats(rnd, "minutes.confirm")
    return minutes


def confirming_seat(user: User, rnd: Round) -> Seat | None:
    """The seat through which `user` answers for their body on the round's minutes."""
    seat = seat_of(user, rnd)
    if seat is None or seat_membership(user, rnd.community_id, seat.body) is None:
        return None
    return seat


def confirm_minutes(user: User, rnd: Round, confirmed: bool, note: str = "") -> Minutes:
    """The user's body (through their seat in this round) confirms the current revision,
    or objects with a note. The last body's confirmation publishes the minutes.
    Raises NotAllowed (no seat), Invalid (objection without a note), DomainError."""
    seat = confirming_seat(user, rnd)
    if seat is None:
        raise NotAllowed(_("只有参加本轮会议的各方可以确认会议纪要。"))
    _lock(rnd.id)
    minutes = _lock_minutes(rnd)
    if minutes is None or minutes.state is not MinutesState.CONFIRMING:
        raise DomainError(_("会议纪要不在确认阶段。"))
    note = (note or "").strip()
    if not confirmed and not note:
        raise Invalid(_("提出异议须写明意见。"), field="note")
    if len(note) > MAX_REASON:
        raise Invalid(_("意见不能超过 2000 字。"), field="note")
    answers = confirmations_of(minutes)
    if seat.body in answers:
        raise DomainError(_("%(body)s已经答复过这一版会议纪要。", body=seat.body.label))
    db.session.add(MinutesConfirmation(minutes_id=minutes.id, revision=minutes.revision,
                                       body=seat.body, user_id=user.id,
                                       confirmed=bool(confirmed), note=note))
    db.session.flush()
    audit.record("minutes.confirm" if confirmed else "minutes.object", minutes, actor=user,
                 community_id=rnd.community_id, round=rnd.id, revision=minutes.revision,
                 body=seat.body.value)
    answers = confirmations_of(minutes)
    if all(b in answers and answers[b].confirmed for b in attending_bodies(rnd)):
        minutes.state, minutes.published_at = MinutesState.PUBLISHED, clock.now()
        db.session.flush()
        audit.record("minutes.publish", minutes, actor=user, community_id=rnd.community_id,
                     round=rnd.id, revision=minutes.revision)
    return minutes


# --- escalation ------------------------------------------------------------------------

def escalate(actor: User, consultation: Consultation, note: str) -> Consultation:
    """Refer a consultation whose last round reached no decision to the street office
    (街道): recorded on the issue and sent to the community's observers. Once.
    Raises NotAllowed, Invalid, DomainError."""
    _require_moderator(actor, consultation.community_id)
    c = db.session.execute(for_update(select(Consultation).where(
        Consultation.id == consultation.id))).scalar_one()
    last = db.session.scalar(select(Round).where(Round.consultation_id == c.id)
                             .order_by(Round.number.desc()).limit(1))
    if c.state is not ConsultationState.OPEN or last is None \
            or last.state is not RoundState.CLOSED or last.adopted_option_id is not None:
        raise DomainError(_("只有协商未能形成决定时才能提请街道协调。"))
    if c.escalated_at is not None:
        raise DomainError(_("本次协商已经提请街道协调。"))
    note = (note or "").strip()
    if not note:
        raise Invalid(_("请说明提请街道协调的原因。"), field="note")
    if len(note) > MAX_REASON:
        raise Invalid(_("说明不能超过 2000 字。"), field="note")
    c.escalated_at, c.escalated_by_id, c.escalation_note = clock.now(), actor.id, note
    db.session.flush()
    audit.record("consultation.escalate", c, actor=actor, round=last.number)
    from civic.notifications.operations import notify, staff_ids
    issue = db.session.get(Issue, c.issue_id)
    community = db.session.get(Community, c.community_id)
    notify(staff_ids(c.community_id, Role.OBSERVER), "consultation.escalated",
           community_id=c.community_id,
           link=f"/c/{community.slug}/issues/{issue.number}/consultation",
           number=issue.number, title=issue.title)
    return c
