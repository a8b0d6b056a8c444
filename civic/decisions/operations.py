"""Decisions (决议, DESIGN.md §6): publishing, the publicity period, objections, taking
effect, withdrawal and corrections.

A decision is published from a consultation whose last round has closed and whose minutes
every attending body confirmed. Its content is written once and hashed; the database
refuses later changes (migration 0008). Operations flush, never commit.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update

from civic import clock, permissions
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.audit.chain import canonical_json
from civic.communities.models import Community, Membership, MembershipStatus, Role
from civic.consultation import operations as rounds
from civic.consultation import rules
from civic.consultation.models import (Consultation, ConsultationState, FundingSource,
                                       MinutesState, Option, Round, RoundState)
from civic.consultation.rules import Body
from civic.database import for_update
from civic.decisions.models import Decision, DecisionState, Objection, Outcome
from civic.domain import DomainError, Invalid, NotAllowed
from civic.extensions import db
from civic.issues.models import Cosign, Issue, IssueState

#: states in which a decision stands (one per issue at a time)
STANDING = (DecisionState.AWAITING_BALLOT, DecisionState.PUBLICITY, DecisionState.EFFECTIVE)
MAX_TEXT = 5000


def _require_moderator(actor: User, community_id: int) -> None:
    if not permissions.is_moderator(actor, community_id):
        raise NotAllowed(_("只有居委会可以发布和处理决议。"))


def _lock(decision_id: int) -> Decision:
    return db.session.execute(for_update(select(Decision).where(Decision.id == decision_id))
                              ).scalar_one()


# --- reading -------------------------------------------------------------------------

def decisions_of(issue: Issue) -> list[Decision]:
    return list(db.session.scalars(select(Decision).where(Decision.issue_id == issue.id)
                                   .order_by(Decision.version)))


def standing_decision(issue_id: int) -> Decision | None:
    """The newest standing decision: a supplementary one in its publicity period before the
    effective decision it would replace."""
    return db.session.scalar(select(Decision).where(Decision.issue_id == issue_id,
                                                    Decision.state.in_(STANDING))
                             .order_by(Decision.version.desc()).limit(1))


def effective_plan_query(issue_id: int) -> Select:
    """The issue's effective decision adopting a plan (one at most: a supplement replaces
    the decision it supplements in the transaction that makes it effective)."""
    return select(Decision).where(
        Decision.issue_id == issue_id, Decision.state == DecisionState.EFFECTIVE,
        Decision.outcome == Outcome.ADOPTED)


def effective_plan(issue_id: int) -> Decision | None:
    """The issue's effective decision adopting a plan: what is being carried out."""
    return db.session.scalar(effective_plan_query(issue_id))


def pending_supplement_query(base_id: int) -> Select:
    """Supplementary decisions of decision `base_id` awaiting their owners' ballot or in
    their publicity period (one at most: publishing refuses a second)."""
    return select(Decision).where(
        Decision.supplements_id == base_id,
        Decision.state.in_((DecisionState.AWAITING_BALLOT, DecisionState.PUBLICITY)))


def pending_supplement(base: Decision) -> Decision | None:
    return db.session.scalar(pending_supplement_query(base.id))


def supplemented_by(d: Decision) -> Decision | None:
    """The supplementary decision that replaced `d` (when it took effect)."""
    return db.session.scalar(select(Decision).where(
        Decision.supplements_id == d.id, Decision.state.in_(
            (DecisionState.EFFECTIVE, DecisionState.SUPERSEDED))))


def objections_of(decision: Decision) -> list[Objection]:
    return list(db.session.scalars(select(Objection).where(Objection.decision_id == decision.id)
                                   .order_by(Objection.id)))


def unanswered(decision: Decision) -> int:
    return db.session.scalar(select(func.count(Objection.id)).where(
        Objection.decision_id == decision.id, Objection.answer.is_(None))) or 0


def correction_of(decision: Decision) -> Decision | None:
    return db.session.scalar(select(Decision).where(Decision.corrects_id == decision.id))


def tally_of(decision: Decision) -> dict:
    return json.loads(decision.tally)


def tally_payload(consultation: Consultation) -> dict:
    """Every round of the consultation: its rule, quorum, frozen hash, adopted option, and
    for each option its outcome and every seat's named vote with its reason. Seat holders
    are identified by their seat (body and official title) and pseudonym only."""
    from civic.consultation.models import SeatVote
    from civic.consultation.models import Seat
    out = []
    for rnd in db.session.scalars(select(Round).where(Round.consultation_id == consultation.id)
                                  .order_by(Round.number)):
        if rnd.state is not RoundState.CLOSED:
            continue
        seats = rounds.seats_of(rnd.id)
        holders = dict(db.session.execute(
            select(Seat.id, User.pseudonym).join(User, User.id == Seat.user_id)
            .where(Seat.round_id == rnd.id)).all())
        votes = {(v.seat_id, v.option_id): v for v in db.session.scalars(
            select(SeatVote).where(SeatVote.round_id == rnd.id))}
        results = rounds.outcomes(rnd)
        options = []
        for o in rounds.options_of(rnd.id):
            res = results[o.id]
            options.append({
                "id": o.id, "position": o.position, "title": o.title,
                "cost_fen": o.cost_fen,
                "funding_source": o.funding_source.value if o.funding_source else None,
                "executor": o.executor.value if o.executor else None,
                "status_quo": o.is_status_quo, "owners_item": o.owners_item,
                "passed": res.passed,
                "totals": {"agree": res.totals.agree, "oppose": res.totals.oppose,
                           "abstain": res.totals.abstain, "absent": res.totals.absent},
                "votes": [{"seat": s.id, "body": s.body.value, "title": s.title,
                           "holder": holders[s.id],
                           "vote": votes[(s.id, o.id)].vote.value
                           if (s.id, o.id) in votes else None,
                           "reason": votes[(s.id, o.id)].reason
                           if (s.id, o.id) in votes else ""} for s in seats],
            })
        out.append({"round": rnd.number, "rule": rnd.rule.value,
                    "quorum": f"{rnd.quorum_num}/{rnd.quorum_den}",
                    "frozen_hash": rnd.frozen_hash, "adopted": rnd.adopted_option_id,
                    "closed_at": rnd.closed_at, "options": options})
    return {"consultation": consultation.id, "rounds": out}


def content_payload(d: Decision) -> dict:
    """What the content hash covers: everything the decision says, nothing about its
    lifecycle."""
    return {
        "community": d.community_id, "issue": d.issue_id, "consultation": d.consultation_id,
        "round": d.round_id, "version": d.version, "corrects": d.corrects_id,
        "outcome": d.outcome.value, "adopted_option": d.adopted_option_id, "title": d.title,
        "summary": d.summary, "rule": d.rule.value, "tally": json.loads(d.tally),
        "lead": d.lead.value if d.lead else None,
        "due_on": d.due_on.isoformat() if d.due_on else None, "budget_fen": d.budget_fen,
        "funding_source": d.funding_source.value if d.funding_source else None,
        "owners_item": d.owners_item, "correction_note": d.correction_note,
        # only supplementary decisions carry the key, so earlier hashes stay as they were
        **({"supplements": d.supplements_id} if d.supplements_id is not None else {}),
    }


def compute_content_hash(d: Decision) -> str:
    return hashlib.sha256(canonical_json(content_payload(d)).encode("utf-8")).hexdigest()


# --- what may happen next (read-only; the operations below enforce the same) -----------

#: states from which a correction may be issued
CORRECTABLE = (DecisionState.PUBLICITY, DecisionState.EFFECTIVE)
#: states from which a decision may be withdrawn into consultation
WITHDRAWABLE = (DecisionState.PUBLICITY, DecisionState.AWAITING_BALLOT)


@dataclass(frozen=True)
class Preview:
    """What publishing would decide now: the deciding round, its adopted plan (None when it
    adopted nothing), the outcome, and `problem` — why publishing is refused, or None."""

    consultation: Consultation | None = None
    round: Round | None = None
    option: Option | None = None
    outcome: Outcome | None = None
    problem: str | None = None
    #: for a supplementary decision (补充决议): the effective decision it would replace
    base: Decision | None = None

    @property
    def budget_fen(self) -> int | None:
        """A supplement's total budget: the base's and the adopted plan's added cost."""
        if self.base is None or self.option is None:
            return None
        return self.base.budget_fen + self.option.cost_fen


#: the issue states in which work on an effective decision goes on (a supplement is possible)
UNDER_WAY = (IssueState.DECIDED, IssueState.IN_PROGRESS)


def _supplement_preview(issue: Issue, c: Consultation, base: Decision) -> Preview:
    """Whether the latest round adopted a plan that a supplementary decision can publish:
    a round after `base`'s, not yet decided, adopting a plan with a cost from the same fund."""
    if pending_supplement(base) is not None:
        return Preview(consultation=c, base=base,
                       problem=_("补充决议已经发布，正在公示或等待业主表决。"))
    if issue.state not in UNDER_WAY:
        return Preview(consultation=c, base=base,
                       problem=_("只有已决议或实施中的议题可以发布补充决议。"))
    try:
        rnd = _deciding_round(c)
    except DomainError as e:
        return Preview(consultation=c, base=base, problem=e.message)
    if rnd.id <= base.round_id or db.session.scalar(
            select(func.count(Decision.id)).where(Decision.round_id == rnd.id)):
        return Preview(consultation=c, base=base, problem=_(
            "这个议题已有有效的决议。需要追加预算时，请先发起补充协商，由新一轮协商表决追加方案。"))
    option = db.session.get(Option, rnd.adopted_option_id) if rnd.adopted_option_id else None
    if option is None or option.is_status_quo:
        return Preview(consultation=c, round=rnd, base=base, problem=_(
            "补充协商没有通过追加方案，原决议和预算不变。"))
    if option.funding_source is not base.funding_source:
        return Preview(consultation=c, round=rnd, option=option, base=base, problem=_(
            "追加方案的资金来源与原决议不同，不能作为补充决议发布。"))
    if option.cost_fen <= 0:
        return Preview(consultation=c, round=rnd, option=option, base=base,
                       problem=_("追加方案须写明追加的费用。"))
    return Preview(consultation=c, round=rnd, option=option, outcome=Outcome.ADOPTED,
                   base=base)


def publish_preview(issue: Issue) -> Preview:
    """The publish page's and the issue page's view of :func:`publish`, without locks."""
    c = rounds.consultation_of(issue)
    if c is None:
        return Preview(problem=_("这个议题还没有进入协商。"))
    base = effective_plan(issue.id)
    if base is not None:
        return _supplement_preview(issue, c, base)
    if standing_decision(issue.id) is not None:
        return Preview(consultation=c, problem=_("这个议题已有有效的决议。"))
    if issue.state is not IssueState.IN_CONSULTATION:
        return Preview(consultation=c, problem=_("只有协商中的议题可以发布决议。"))
    try:
        rnd = _deciding_round(c)
    except DomainError as e:
        return Preview(consultation=c, problem=e.message)
    option = db.session.get(Option, rnd.adopted_option_id) if rnd.adopted_option_id else None
    outcome = Outcome.ADOPTED if option is not None and not option.is_status_quo \
        else Outcome.REJECTED
    return Preview(consultation=c, round=rnd, option=option, outcome=outcome)


def can_correct(d: Decision) -> bool:
    return d.state in CORRECTABLE


def can_withdraw(d: Decision) -> bool:
    return d.state in WITHDRAWABLE


def effect_refusal(d: Decision) -> str | None:
    """Why the decision cannot take effect now (what :func:`take_effect` would say), or
    None when it can."""
    if d.state is not DecisionState.PUBLICITY:
        return _("决议不在公示中。")
    if clock.now() < d.publicity_ends_at:
        return _("公示期尚未结束。")
    open_objections = unanswered(d)
    if open_objections:
        return _("还有 %(n)d 条异议未答复，答复后决议才能生效。", n=open_objections)
    return None


# --- publishing ----------------------------------------------------------------------

def _deciding_round(c: Consultation) -> Round:
    last = db.session.scalar(select(Round).where(Round.consultation_id == c.id)
                             .order_by(Round.number.desc()).limit(1))
    if last is None or last.state is not RoundState.CLOSED:
        raise DomainError(_("最近一轮协商结束后才能发布决议。"))
    minutes = rounds.minutes_of(last)
    if minutes is None or minutes.state is not MinutesState.PUBLISHED:
        raise DomainError(_("本轮会议纪要经各方确认并公布后，才能发布决议。"))
    return last


def _terms(outcome: Outcome, summary: str, lead, due_on, budget_fen, funding_source,
           option: Option | None) -> dict:
    summary = (summary or "").strip()
    if len(summary) > MAX_TEXT:
        raise Invalid(_("决议说明不能超过 5000 字。"), field="summary")
    if outcome is Outcome.REJECTED:
        if not summary:
            raise Invalid(_("请说明不予实施的理由。"), field="summary")
        return {"summary": summary, "lead": None, "due_on": None, "budget_fen": 0,
                "funding_source": None}
    try:
        lead = Body(lead)
    except ValueError:
        lead = None
    if lead not in rules.REQUIRED_BODIES:
        raise Invalid(_("请选择负责实施的一方（居委会、业委会或物业）。"), field="lead")
    if not isinstance(due_on, date) or due_on <= clock.now().date():
        raise Invalid(_("完成期限须是今天以后的日期。"), field="due_on")
    if isinstance(budget_fen, bool) or not isinstance(budget_fen, int) or budget_fen < 0:
        raise Invalid(_("批准预算须是不小于 0 的金额。"), field="budget_fen")
    try:
        funding_source = FundingSource(funding_source)
    except ValueError:
        raise Invalid(_("请选择资金来源。"), field="funding_source") from None
    return {"summary": summary, "lead": lead, "due_on": due_on, "budget_fen": budget_fen,
            "funding_source": funding_source}


def _insert(d: Decision, community: Community, actor: User, now) -> Decision:
    d.content_hash = compute_content_hash(d)
    if d.owners_item is not None and d.outcome is Outcome.ADOPTED:
        d.state = DecisionState.AWAITING_BALLOT
    else:
        d.state = DecisionState.PUBLICITY
        d.published_at = now
        d.publicity_ends_at = now + timedelta(days=community.publicity_days)
    db.session.add(d)
    db.session.flush()
    return d


def _next_version(issue_id: int) -> int:
    return (db.session.scalar(select(func.max(Decision.version)).where(
        Decision.issue_id == issue_id)) or 0) + 1


def publish(actor: User, issue: Issue, *, summary: str = "", lead=None, due_on=None,
            budget_fen=None, funding_source=None) -> Decision:
    """Publish the decision of the issue's consultation (in consultation → decided).

    The outcome follows the last round: its adopted plan, or "rejected" when it adopted
    维持现状 or nothing (the moderator then explains why in `summary`). Lead body, due date,
    budget and funding source default to the adopted plan's. A plan reserved to the owners
    (Art. 278) waits for the owners' ballot (AWAITING_BALLOT) before its publicity period.
    Raises NotAllowed, Invalid, DomainError."""
    _require_moderator(actor, issue.community_id)
    c = db.session.execute(for_update(select(Consultation).where(
        Consultation.issue_id == issue.id))).scalar_one_or_none()
    if c is None:
        raise DomainError(_("这个议题还没有进入协商。"))
    base = effective_plan(issue.id)
    if base is not None:
        return _publish_supplement(actor, issue, c, _lock(base.id), summary, due_on)
    if standing_decision(issue.id) is not None:
        raise DomainError(_("这个议题已有有效的决议。"))
    rnd = _deciding_round(c)
    option = db.session.get(Option, rnd.adopted_option_id) if rnd.adopted_option_id else None
    outcome = Outcome.ADOPTED if option is not None and not option.is_status_quo \
        else Outcome.REJECTED
    if option is not None and outcome is Outcome.ADOPTED:
        lead = lead or option.executor
        budget_fen = option.cost_fen if budget_fen is None else budget_fen
        funding_source = funding_source or option.funding_source
    terms = _terms(outcome, summary, lead, due_on, budget_fen, funding_source, option)
    res = db.session.execute(update(Issue).where(
        Issue.id == issue.id, Issue.state == IssueState.IN_CONSULTATION)
        .values(state=IssueState.DECIDED))
    if res.rowcount != 1:
        raise DomainError(_("只有协商中的议题可以发布决议。"))
    db.session.refresh(issue, ["state"])
    if c.state is ConsultationState.OPEN:
        c.state, c.closed_at = ConsultationState.CLOSED, clock.now()
    now = clock.now()
    community = db.session.get(Community, issue.community_id)
    title = option.title if outcome is Outcome.ADOPTED else _("不予实施：%(title)s",
                                                              title=issue.title)
    d = Decision(community_id=issue.community_id, issue_id=issue.id, consultation_id=c.id,
                 round_id=rnd.id, version=_next_version(issue.id), corrects_id=None,
                 outcome=outcome, adopted_option_id=option.id if outcome is Outcome.ADOPTED
                 else None, title=title[:120], rule=rnd.rule,
                 tally=canonical_json(tally_payload(c)),
                 owners_item=option.owners_item if outcome is Outcome.ADOPTED else None,
                 correction_note="", published_by_id=actor.id, **terms)
    _insert(d, community, actor, now)
    audit.record("decision.publish", d, actor=actor, issue=issue.number, version=d.version,
                 outcome=outcome.value, content_hash=d.content_hash, state=d.state.value,
                 budget_fen=d.budget_fen)
    if d.state is DecisionState.PUBLICITY:
        _tell_residents(d, issue, community, "decision.published")
    return d


def _publish_supplement(actor: User, issue: Issue, c: Consultation, base: Decision,
                        summary: str, due_on) -> Decision:
    """A supplementary decision (补充决议): the plan a later round adopted adds its cost to
    `base`'s budget. Lead body and fund are the base's; the due date may move. It goes
    through its own owners' ballot (if the plan needs one) and publicity period; `base`
    stays effective until it takes effect. Raises Invalid, DomainError."""
    p = _supplement_preview(issue, c, base)
    if p.problem:
        raise DomainError(p.problem)
    if not (summary or "").strip():
        raise Invalid(_("请说明为什么需要追加预算、追加的钱用在哪里。"), field="summary")
    terms = _terms(Outcome.ADOPTED, summary, base.lead, due_on or base.due_on, p.budget_fen,
                   base.funding_source, p.option)
    if c.state is ConsultationState.OPEN:
        c.state, c.closed_at = ConsultationState.CLOSED, clock.now()
    community = db.session.get(Community, issue.community_id)
    d = Decision(community_id=issue.community_id, issue_id=issue.id, consultation_id=c.id,
                 round_id=p.round.id, version=_next_version(issue.id), corrects_id=None,
                 supplements_id=base.id, outcome=Outcome.ADOPTED,
                 adopted_option_id=p.option.id, title=p.option.title[:120], rule=p.round.rule,
                 tally=canonical_json(tally_payload(c)), owners_item=p.option.owners_item,
                 correction_note="", published_by_id=actor.id, **terms)
    _insert(d, community, actor, clock.now())
    audit.record("decision.supplement", d, actor=actor, issue=issue.number, version=d.version,
                 supplements=base.version, content_hash=d.content_hash, state=d.state.value,
                 budget_fen=d.budget_fen)
    if d.state is DecisionState.PUBLICITY:
        _tell_residents(d, issue, community, "decision.published")
    return d


def correct(actor: User, decision: Decision, *, note: str, summary: str, lead=None,
            due_on=None, budget_fen=None, funding_source=None) -> Decision:
    """A correction (更正): a new version linked to the old one, which becomes SUPERSEDED;
    both stay public. Outcome, plan, rule and tally are the old one's; the correction starts
    its own publicity period. Raises NotAllowed, Invalid, DomainError."""
    _require_moderator(actor, decision.community_id)
    old = _lock(decision.id)
    if not can_correct(old):
        raise DomainError(_("只有公示中或已生效的决议可以更正。"))
    if pending_supplement(old) is not None:
        raise DomainError(_("这项决议的补充决议正在公示或等待业主表决，暂不能更正原决议。"))
    note = (note or "").strip()
    if not note:
        raise Invalid(_("请说明更正的内容和原因。"), field="note")
    if len(note) > 2000:
        raise Invalid(_("更正说明不能超过 2000 字。"), field="note")
    option = db.session.get(Option, old.adopted_option_id) if old.adopted_option_id else None
    terms = _terms(old.outcome, summary, lead, due_on, budget_fen, funding_source, option)
    was = old.state
    res = db.session.execute(update(Decision).where(
        Decision.id == old.id, Decision.state == old.state)
        .values(state=DecisionState.SUPERSEDED))
    if res.rowcount != 1:
        raise DomainError(_("只有公示中或已生效的决议可以更正。"))
    now = clock.now()
    community = db.session.get(Community, old.community_id)
    d = Decision(community_id=old.community_id, issue_id=old.issue_id,
                 consultation_id=old.consultation_id, round_id=old.round_id,
                 version=_next_version(old.issue_id), corrects_id=old.id, outcome=old.outcome,
                 # a pending supplement's correction still supplements; once in effect, the
                 # decision it replaced is history
                 supplements_id=old.supplements_id if was is not DecisionState.EFFECTIVE
                 else None,
                 adopted_option_id=old.adopted_option_id, title=old.title, rule=old.rule,
                 tally=old.tally, owners_item=None, correction_note=note,
                 published_by_id=actor.id, **terms)
    _insert(d, community, actor, now)
    db.session.refresh(old)
    audit.record("decision.correct", d, actor=actor, corrects=old.id, version=d.version,
                 content_hash=d.content_hash)
    issue = db.session.get(Issue, d.issue_id)
    _tell_residents(d, issue, community, "decision.published")
    return d


def after_owners_ballot(decision: Decision, approved: bool, ballot_ref: str = "") -> Decision:
    """The hook for owners' ballots (Art. 278): an approved plan starts its publicity
    period; a rejected one ends as BALLOT_FAILED and the issue returns to consultation.
    Raises DomainError when the decision is not waiting for a ballot."""
    d = _lock(decision.id)
    if d.state is not DecisionState.AWAITING_BALLOT:
        raise DomainError(_("这项决议不在等待业主表决。"))
    now = clock.now()
    community = db.session.get(Community, d.community_id)
    issue = db.session.get(Issue, d.issue_id)
    if approved:
        d.state, d.published_at = DecisionState.PUBLICITY, now
        d.publicity_ends_at = now + timedelta(days=community.publicity_days)
    else:
        d.state, d.withdrawn_at = DecisionState.BALLOT_FAILED, now
        _back_to_consultation(d)
    db.session.flush()
    audit.record("decision.ballot", d, approved=approved, ballot=ballot_ref)
    if approved:
        _tell_residents(d, issue, community, "decision.published")
    return d


def _back_to_consultation(d: Decision) -> None:
    """The consultation reopens for another round. A supplementary decision's issue stays
    where it is: the decision it would have supplemented is still in effect."""
    if d.supplements_id is None:
        db.session.execute(update(Issue).where(Issue.id == d.issue_id,
                                               Issue.state == IssueState.DECIDED)
                           .values(state=IssueState.IN_CONSULTATION))
    db.session.execute(update(Consultation).where(Consultation.id == d.consultation_id)
                       .values(state=ConsultationState.OPEN, closed_at=None))


# --- objections ------------------------------------------------------------------------

def can_object(user: User, d: Decision) -> bool:
    return (d.state is DecisionState.PUBLICITY and clock.now() < d.publicity_ends_at
            and permissions.residency(user, d.community_id) is not None)


def file_objection(user: User, decision: Decision, text: str,
                   idempotency_key: str | None = None) -> Objection:
    """A verified resident's objection during the publicity period.
    Raises NotAllowed, DomainError (outside the period), Invalid."""
    m = permissions.residency(user, decision.community_id)
    if m is None:
        raise NotAllowed(_("只有本小区的认证居民可以提出异议。"))
    d = _lock(decision.id)
    if d.state is not DecisionState.PUBLICITY or clock.now() >= d.publicity_ends_at:
        raise DomainError(_("公示期已结束或决议不在公示中，不能再提出异议。"))
    text = (text or "").strip()
    if not text:
        raise Invalid(_("请写明异议的内容和理由。"), field="text")
    if len(text) > 2000:
        raise Invalid(_("异议不能超过 2000 字。"), field="text")
    if idempotency_key:
        existing = db.session.scalar(select(Objection).where(
            Objection.decision_id == d.id, Objection.author_id == user.id,
            Objection.idempotency_key == idempotency_key[:40]))
        if existing is not None:
            return existing
    o = Objection(decision_id=d.id, author_id=user.id, membership_id=m.id, text=text,
                  idempotency_key=(idempotency_key or None) and idempotency_key[:40])
    db.session.add(o)
    db.session.flush()
    audit.record("objection.file", o, actor=user, community_id=d.community_id, decision=d.id)
    from civic.notifications.operations import notify, staff_ids
    issue = db.session.get(Issue, d.issue_id)
    community = db.session.get(Community, d.community_id)
    notify(staff_ids(d.community_id, Role.MODERATOR), "objection.filed",
           community_id=d.community_id, link=decision_link(community, issue, d),
           number=issue.number, title=issue.title)
    return o


def answer_objection(actor: User, objection: Objection, answer: str) -> Objection:
    """A moderator's public answer, once. Raises NotAllowed, Invalid, DomainError."""
    d = db.session.get(Decision, objection.decision_id)
    _require_moderator(actor, d.community_id)
    answer = (answer or "").strip()
    if not answer:
        raise Invalid(_("请填写答复。"), field="answer")
    if len(answer) > 2000:
        raise Invalid(_("答复不能超过 2000 字。"), field="answer")
    d = _lock(d.id)
    if d.state is not DecisionState.PUBLICITY:
        raise DomainError(_("决议已不在公示中。"))
    now = clock.now()
    res = db.session.execute(update(Objection).where(
        Objection.id == objection.id, Objection.answer.is_(None))
        .values(answer=answer, answered_by_id=actor.id, answered_at=now))
    if res.rowcount != 1:
        raise DomainError(_("这条异议已经答复过了。"))
    db.session.refresh(objection)
    audit.record("objection.answer", objection, actor=actor, community_id=d.community_id,
                 decision=d.id)
    from civic.notifications.operations import notify
    issue = db.session.get(Issue, d.issue_id)
    community = db.session.get(Community, d.community_id)
    notify([objection.author_id], "objection.answered", community_id=d.community_id,
           link=decision_link(community, issue, d), number=issue.number, title=issue.title)
    return objection


# --- taking effect, withdrawing -------------------------------------------------------

def take_effect(actor: User | None, decision: Decision) -> Decision:
    """After the publicity period, with every objection answered: PUBLICITY → EFFECTIVE.
    A moderator or the job (actor None). Raises NotAllowed, DomainError."""
    if actor is not None:
        _require_moderator(actor, decision.community_id)
    d = _lock(decision.id)
    refusal = effect_refusal(d)
    if refusal is not None:
        raise DomainError(refusal)
    now = clock.now()
    if d.supplements_id is not None:
        # the decision it supplements gives way in the same transaction: one effective plan
        replaced = db.session.execute(update(Decision).where(
            Decision.id == d.supplements_id, Decision.state == DecisionState.EFFECTIVE)
            .values(state=DecisionState.SUPERSEDED))
        if replaced.rowcount != 1:
            raise DomainError(_("原决议已不再生效，补充决议不能生效。"))
    res = db.session.execute(update(Decision).where(
        Decision.id == d.id, Decision.state == DecisionState.PUBLICITY)
        .values(state=DecisionState.EFFECTIVE, effective_at=now))
    if res.rowcount != 1:
        raise DomainError(_("决议不在公示中。"))
    db.session.refresh(d)
    if d.supplements_id is not None:
        db.session.expire(db.session.get(Decision, d.supplements_id), ["state"])
    audit.record("decision.effective", d, actor=actor, version=d.version,
                 **({"replaces": d.supplements_id} if d.supplements_id is not None else {}))
    issue = db.session.get(Issue, d.issue_id)
    community = db.session.get(Community, d.community_id)
    _tell_residents(d, issue, community, "decision.effective")
    return d


def take_effect_due() -> int:
    """The job: every decision whose period has ended with no unanswered objection."""
    ids = list(db.session.scalars(select(Decision.id).where(
        Decision.state == DecisionState.PUBLICITY, Decision.publicity_ends_at <= clock.now())
        .order_by(Decision.id)))
    done = 0
    for decision_id in ids:
        d = db.session.get(Decision, decision_id)
        if unanswered(d):
            continue
        try:
            take_effect(None, d)
        except DomainError:
            continue
        done += 1
    return done


def withdraw(actor: User, decision: Decision, reason: str) -> Decision:
    """Withdraw a decision still in its publicity period (or awaiting the owners' ballot)
    back into consultation: the issue returns to 协商中 and a new round can be convened.
    Raises NotAllowed, Invalid, DomainError."""
    _require_moderator(actor, decision.community_id)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("请说明撤回的理由。"), field="reason")
    if len(reason) > 2000:
        raise Invalid(_("理由不能超过 2000 字。"), field="reason")
    d = _lock(decision.id)
    now = clock.now()
    res = db.session.execute(update(Decision).where(
        Decision.id == d.id,
        Decision.state.in_(WITHDRAWABLE))
        .values(state=DecisionState.WITHDRAWN, withdrawn_at=now, withdraw_reason=reason))
    if res.rowcount != 1:
        raise DomainError(_("只有公示中或等待业主表决的决议可以撤回。"))
    db.session.refresh(d)
    _back_to_consultation(d)
    audit.record("decision.withdraw", d, actor=actor, version=d.version)
    return d


# --- notices ---------------------------------------------------------------------------

def decision_link(community: Community, issue: Issue, d: Decision) -> str:
    return f"/c/{community.slug}/issues/{issue.number}/decisions/{d.version}"


def households_of(issue: Issue) -> set[int]:
    """The proposer and the residents of every household that co-signed: who hears of
    the issue's decision and its completion."""
    units = select(Cosign.unit_id).where(Cosign.issue_id == issue.id)
    residents = set(db.session.scalars(select(Membership.user_id).where(
        Membership.community_id == issue.community_id, Membership.role == Role.RESIDENT,
        Membership.status == MembershipStatus.ACTIVE, Membership.unit_id.in_(units))))
    residents.add(issue.author_id)
    return residents


def _tell_residents(d: Decision, issue: Issue, community: Community, kind: str) -> int:
    from civic.notifications.operations import notify
    return notify(households_of(issue), kind, community_id=issue.community_id,
                  link=decision_link(community, issue, d), number=issue.number,
                  title=issue.title)
