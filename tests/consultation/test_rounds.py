"""Consultation rounds on the database: the full path, the frozen round, seat and vote
rules, hostile input (QUALITY.md §4) and races (§3) — on SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from civic import clock
from civic.accounts.models import User
from civic.audit.chain import canonical_json
from civic.audit.models import AuditEvent
from civic.audit.operations import verify_chain
from civic.communities.models import Membership, MembershipStatus, Role
from civic.consultation import operations as ops
from civic.consultation.models import (
    Consultation,
    ConsultationState,
    FundingSource,
    Option,
    Round,
    RoundState,
    Seat,
    SeatVote,
)
from civic.consultation.rules import Body, Rule, Vote
from civic.domain import DomainError, Invalid, NotAllowed, Unprocessable
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.consultation.conftest import T0, later

FROZEN = "轮次已开始，规则、选项和席位不可更改；如需修改请开启新一轮"
THREE = (("mod", Body.COMMITTEE), ("assoc", Body.ASSOCIATION), ("prop", Body.PROPERTY))


def set_notice_days(app, h, days: int) -> None:
    from civic.communities.models import Community
    db.session.get(Community, h.community.id).notice_days = days
    db.session.flush()


def U(person) -> User:
    return db.session.get(User, person.id)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.seq)))


def consultation(h) -> Consultation:
    issue = db.session.get(Issue, h.issue_id)
    return ops.consultation_of(issue) or ops.open_consultation(U(h.mod), issue)


def prepare(h, *, seats=THREE, rule=Rule.CONSENSUS, quorum=Fraction(1, 2),
            options=(("更换排水泵", 1_250_000),)) -> tuple[Round, list[Option]]:
    """A noticed round starting in 3 days and 1 hour, with seats and options; committed."""
    mod = U(h.mod)
    starts = later(days=3, hours=1)
    rnd = ops.schedule_round(mod, consultation(h), agenda="地下车库积水如何处理", place="居委会二楼",
                             online=False, starts_at=starts, closes_at=starts + timedelta(hours=2),
                             rule=rule, quorum=quorum)
    for name, body in seats:
        ops.add_seat(mod, rnd, U(getattr(h, name)), body)
    made = [ops.add_option(mod, rnd, title, "由物业组织施工", cost, FundingSource.MAINTENANCE_FUND,
                           Body.PROPERTY) for title, cost in options]
    db.session.commit()
    return rnd, made


def start(h, rnd: Round) -> Round:
    clock.freeze(rnd.starts_at)
    rnd = ops.open_round(U(h.mod), rnd)
    db.session.commit()
    return rnd


def seat_of(rnd: Round, person) -> Seat:
    return db.session.scalar(select(Seat).where(Seat.round_id == rnd.id,
                                                Seat.user_id == person.id))


def vote(h, rnd, who, option, v, reason=""):
    sv = ops.cast_vote(U(getattr(h, who)), rnd.id, option.id, v, reason)
    db.session.commit()
    return sv


def vote_count(**where) -> int:
    q = select(func.count(SeatVote.id))
    for k, v in where.items():
        q = q.where(getattr(SeatVote, k) == v)
    return db.session.scalar(q)


# --- the full path -------------------------------------------------------------------

def test_full_path_from_accepted_issue_to_adopted_option(app, hall, ctx):
    h = hall
    c = consultation(h)
    db.session.commit()
    issue = db.session.get(Issue, h.issue_id)
    assert issue.state is IssueState.IN_CONSULTATION and c.state is ConsultationState.OPEN
    assert [e.object_id for e in events("consultation.open")] == [str(c.id)]

    rnd, (pump,) = prepare(h)
    assert rnd.number == 1 and rnd.state is RoundState.NOTICED and rnd.notice_at == T0
    assert rnd.rule is Rule.CONSENSUS and rnd.quorum == Fraction(1, 2)
    options = ops.options_of(rnd.id)
    assert [o.title for o in options] == ["维持现状", "更换排水泵"]
    status_quo = options[0]
    assert status_quo.is_status_quo and status_quo.cost_fen == 0 and status_quo.executor is None
    assert pump.cost_fen == 1_250_000 and pump.funding_source is FundingSource.MAINTENANCE_FUND
    assert {s.body for s in ops.seats_of(rnd.id)} == {Body.COMMITTEE, Body.ASSOCIATION,
                                                      Body.PROPERTY}
    assert seat_of(rnd, h.assoc).title == "业委会主任"       # the membership's title by default

    rnd = start(h, rnd)
    assert rnd.state is RoundState.OPEN and len(rnd.frozen_hash) == 64
    assert events("round.open")[-1].payload.count(rnd.frozen_hash) == 1
    frozen_hash, rid, pump_id, sq_id = rnd.frozen_hash, rnd.id, pump.id, status_quo.id

    # anyone can recompute the hash from the stored round, in a fresh session
    db.session.remove()
    stored = db.session.get(Round, rid)
    payload = ops.frozen_payload(stored)
    assert hashlib.sha256(canonical_json(payload).encode()).hexdigest() == frozen_hash
    assert ops.compute_frozen_hash(stored) == frozen_hash
    assert payload["agenda"] == "地下车库积水如何处理" and payload["rule"] == "consensus"
    assert payload["quorum"] == "1/2" and len(payload["options"]) == 2
    assert [s["holder"] for s in payload["seats"]] == [U(h.mod).pseudonym, U(h.assoc).pseudonym,
                                                       U(h.prop).pseudonym]
    assert "phone" not in canonical_json(payload) and U(h.mod).phone not in canonical_json(payload)

    rnd = stored
    pump = db.session.get(Option, pump_id)
    status_quo = db.session.get(Option, sq_id)
    for who in ("mod", "assoc", "prop"):
        vote(h, rnd, who, pump, Vote.AGREE)
        vote(h, rnd, who, status_quo, Vote.OPPOSE, "积水影响出行")
    assert vote_count(round_id=rnd.id) == 6 and len(events("vote.cast")) == 6

    clock.freeze(rnd.closes_at - timedelta(minutes=1))
    rnd = ops.close_round(U(h.mod), rnd)
    db.session.commit()
    assert rnd.state is RoundState.CLOSED and rnd.adopted_option_id == pump.id
    assert rnd.closed_at == clock.now()
    c = consultation(h)
    assert c.state is ConsultationState.CLOSED
    close = events("round.close")[-1]
    assert f'"adopted":{pump.id}' in close.payload
    assert (f'"{pump.id}":{{"absent":0,"abstain":0,"agree":3,"oppose":0,"passed":true}}'
            in close.payload)
    assert f'"{status_quo.id}":{{"absent":0,"abstain":0,"agree":0,"oppose":3,"passed":false}}' \
        in close.payload
    assert "积水影响出行" not in close.payload          # reasons are free text: not in the chain
    assert len(events("consultation.close")) == 1
    outcomes = ops.outcomes(rnd)
    assert outcomes[pump.id].passed and not outcomes[status_quo.id].passed
    # the decision layer (DESIGN §6) moves the issue on; closing a round does not
    assert db.session.get(Issue, h.issue_id).state is IssueState.IN_CONSULTATION
    with pytest.raises(DomainError):
        ops.schedule_round(U(h.mod), c, "再议", "居委会", False, later(days=4), later(days=5))
    assert verify_chain().ok


def test_first_round_without_agreement_then_second_round_adopts(app, hall, ctx):
    h = hall
    rnd1, (pump,) = prepare(h)
    rnd1 = start(h, rnd1)
    vote(h, rnd1, "mod", pump, Vote.AGREE)
    vote(h, rnd1, "assoc", pump, Vote.AGREE)
    vote(h, rnd1, "prop", pump, Vote.OPPOSE, "费用超出维修资金预算")
    with pytest.raises(DomainError):     # another round only once this one is closed
        ops.schedule_round(U(h.mod), consultation(h), "再议", "", True, later(days=4),
                           later(days=5))
    clock.freeze(rnd1.closes_at)
    rnd1 = ops.close_round(U(h.mod), rnd1)
    db.session.commit()
    assert rnd1.adopted_option_id is None
    assert not ops.outcomes(rnd1)[pump.id].passed
    assert consultation(h).state is ConsultationState.OPEN

    rnd2, (cheaper,) = prepare(h, options=(("加装截水沟", 380_000),))
    assert rnd2.number == 2 and rnd2.id != rnd1.id
    rnd2 = start(h, rnd2)
    assert rnd2.frozen_hash != rnd1.frozen_hash
    for who in ("mod", "assoc", "prop"):
        vote(h, rnd2, who, cheaper, Vote.AGREE)
    clock.freeze(rnd2.closes_at)
    assert ops.close_due_rounds() == 1
    db.session.commit()
    rnd2 = db.session.get(Round, rnd2.id)
    assert rnd2.state is RoundState.CLOSED and rnd2.adopted_option_id == cheaper.id
    assert consultation(h).state is ConsultationState.CLOSED
    assert [e.actor for e in events("round.close")] == [U(h.mod).pseudonym, "system"]
    assert ops.close_due_rounds() == 0
    assert verify_chain().ok


# --- the frozen round ----------------------------------------------------------------

def _changes(h, rnd):
    mod = U(h.mod)
    seat = ops.seats_of(rnd.id)[0]
    option = ops.options_of(rnd.id)[-1]
    return {
        "add_seat": lambda: ops.add_seat(mod, rnd, U(h.rep), Body.RESIDENT),
        "remove_seat": lambda: ops.remove_seat(mod, rnd, seat.id),
        "add_option": lambda: ops.add_option(mod, rnd, "新方案", "", 100, "public_income",
                                             "committee"),
        "remove_option": lambda: ops.remove_option(mod, rnd, option.id),
        "set_rule": lambda: ops.set_rule(mod, rnd, Rule.MAJORITY_ALL, Fraction(2, 3)),
        "set_deadline": lambda: ops.set_deadline(mod, rnd, rnd.closes_at + timedelta(days=1)),
    }


CHANGES = ["add_seat", "remove_seat", "add_option", "remove_option", "set_rule",
           "set_deadline"]


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_is_allowed_before_opening(app, hall, ctx, change):
    rnd, _ = prepare(hall)
    before = ops.compute_frozen_hash(rnd)
    _changes(hall, rnd)[change]()
    db.session.commit()
    assert ops.compute_frozen_hash(db.session.get(Round, rnd.id)) != before


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("closed", [False, True])
def test_every_change_refuses_after_opening(app, hall, ctx, change, closed):
    h = hall
    rnd, _ = prepare(h)
    rnd = start(h, rnd)
    if closed:
        rnd = ops.close_round(U(h.mod), rnd)
        db.session.commit()
    counts = (len(ops.seats_of(rnd.id)), len(ops.options_of(rnd.id)), rnd.rule, rnd.closes_at)
    with pytest.raises(DomainError) as e:
        _changes(h, rnd)[change]()
    assert e.value.message == FROZEN
    db.session.rollback()
    rnd = db.session.get(Round, rnd.id)
    assert (len(ops.seats_of(rnd.id)), len(ops.options_of(rnd.id)), rnd.rule,
            rnd.closes_at) == counts
    assert ops.compute_frozen_hash(rnd) == rnd.frozen_hash


def test_open_round_refusals(app, hall, ctx):
    h = hall
    rnd, _ = prepare(h, seats=THREE[:2])
    mod = U(h.mod)
    with pytest.raises(DomainError, match="会议尚未开始"):
        ops.open_round(mod, rnd)
    clock.freeze(rnd.starts_at)
    with pytest.raises(DomainError, match="物业"):
        ops.open_round(mod, rnd)
    ops.add_seat(mod, rnd, U(h.prop), Body.PROPERTY)
    with pytest.raises(NotAllowed):
        ops.open_round(U(h.assoc), rnd)
    clock.freeze(rnd.closes_at)
    with pytest.raises(DomainError, match="截止"):
        ops.open_round(mod, rnd)
    clock.freeze(rnd.starts_at)
    ops.open_round(mod, rnd)
    with pytest.raises(DomainError):
        ops.open_round(mod, rnd)
    assert len(events("round.open")) == 1


def test_a_round_needs_an_option_besides_the_status_quo(app, hall, ctx):
    h = hall
    rnd, _ = prepare(h, options=())
    clock.freeze(rnd.starts_at)
    with pytest.raises(DomainError, match="维持现状"):
        ops.open_round(U(h.mod), rnd)
    with pytest.raises(Invalid):
        ops.remove_option(U(h.mod), rnd, ops.options_of(rnd.id)[0].id)


def test_scheduling_rules(app, hall, ctx):
    h = hall
    mod, c = U(h.mod), consultation(h)
    with pytest.raises(Invalid) as e:
        ops.schedule_round(mod, c, "议程", "会议室", False, later(days=2, hours=23),
                           later(days=3))
    assert e.value.field == "starts_at" and "3" in e.value.message
    set_notice_days(app, h, 1)
    with pytest.raises(Invalid) as e:
        ops.schedule_round(mod, c, "议程", "会议室", False, later(days=2), later(days=2))
    assert e.value.field == "closes_at"
    with pytest.raises(Invalid) as e:
        ops.schedule_round(mod, c, "  ", "会议室", False, later(days=2), later(days=3))
    assert e.value.field == "agenda"
    with pytest.raises(Invalid) as e:
        ops.schedule_round(mod, c, "议程", "", False, later(days=2), later(days=3))
    assert e.value.field == "place"
    with pytest.raises(Invalid) as e:
        ops.schedule_round(mod, c, "议程", "", True, later(days=2), later(days=3),
                           rule="unanimous")
    assert e.value.field == "rule"
    with pytest.raises(Invalid) as e:
        ops.schedule_round(mod, c, "议程", "", True, later(days=2), later(days=3),
                           quorum=Fraction(3, 2))
    assert e.value.field == "quorum"
    with pytest.raises(NotAllowed):
        ops.schedule_round(U(h.prop), c, "议程", "", True, later(days=2), later(days=3))
    rnd = ops.schedule_round(mod, c, "议程", "", True, later(days=2), later(days=3),
                             rule="two_thirds_all", quorum="2/3")
    assert rnd.online and rnd.rule is Rule.TWO_THIRDS_ALL and rnd.quorum == Fraction(2, 3)


def test_only_a_moderator_opens_consultation_and_only_on_an_accepted_issue(app, hall, ctx,
                                                                          make_issue):
    h = hall
    issue = db.session.get(Issue, h.issue_id)
    with pytest.raises(NotAllowed):
        ops.open_consultation(U(h.assoc), issue)
    ops.open_consultation(U(h.mod), issue)
    db.session.commit()
    with pytest.raises(DomainError):       # twice: the guarded state change refuses
        ops.open_consultation(U(h.mod), issue)
    db.session.rollback()
    iid, _ = make_issue(h.community)       # collecting, not accepted
    with pytest.raises(DomainError):
        ops.open_consultation(U(h.mod), db.session.get(Issue, iid))
    db.session.rollback()
    assert db.session.scalar(select(func.count(Consultation.id))) == 1


def test_option_fields_and_the_cost_check(app, hall, ctx):
    h = hall
    rnd, _ = prepare(h, options=())
    mod = U(h.mod)
    for kwargs, field in [({"title": " "}, "title"), ({"cost_fen": -1}, "cost_fen"),
                          ({"cost_fen": 1.5}, "cost_fen"),
                          ({"funding_source": "bank"}, "funding_source"),
                          ({"executor": "resident"}, "executor")]:
        args = {"title": "修排水沟", "description": "", "cost_fen": 100,
                "funding_source": "other", "executor": "association"} | kwargs
        with pytest.raises(Invalid) as e:
            ops.add_option(mod, rnd, **args)
        assert e.value.field == field
    # the database refuses a negative cost whatever the application does
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Option(round_id=rnd.id, position=9, title="x", cost_fen=-5))
    db.session.rollback()


# --- seats ---------------------------------------------------------------------------

def test_one_person_holds_one_seat_per_round(app, hall, ctx, make):
    h = hall
    both = make.staff(h.community, "association", user=U(h.prop))   # also on the 业委会
    rnd, _ = prepare(h)
    mod = U(h.mod)
    with pytest.raises(Invalid, match="一个席位"):
        ops.add_seat(mod, rnd, U(h.assoc), Body.ASSOCIATION)
    with pytest.raises(Invalid, match="一个席位"):
        ops.add_seat(mod, rnd, U(both), Body.ASSOCIATION)
    db.session.rollback()
    # the database is the backstop
    seat = seat_of(rnd, h.assoc)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Seat(round_id=rnd.id, body=Body.RESIDENT, user_id=h.assoc.id,
                            membership_id=seat.membership_id))
    db.session.rollback()
    assert len(ops.seats_of(rnd.id)) == 3


def test_a_seat_needs_the_matching_membership(app, hall, ctx):
    h = hall
    rnd, _ = prepare(h, seats=())
    mod = U(h.mod)
    with pytest.raises(Invalid, match="业委会"):
        ops.add_seat(mod, rnd, U(h.prop), Body.ASSOCIATION)
    with pytest.raises(Invalid, match="居民代表"):
        ops.add_seat(mod, rnd, U(h.prop), Body.RESIDENT)
    with pytest.raises(Invalid):
        ops.add_seat(mod, rnd, U(h.rep), Body.COMMITTEE)
    with pytest.raises(NotAllowed):
        ops.add_seat(U(h.assoc), rnd, U(h.assoc), Body.ASSOCIATION)
    seat = ops.add_seat(mod, rnd, U(h.rep), Body.RESIDENT, title="5号楼居民代表")
    assert seat.body is Body.RESIDENT and seat.title == "5号楼居民代表"
    assert db.session.get(Membership, seat.membership_id).role is Role.RESIDENT
    with pytest.raises(Unprocessable):
        ops.remove_seat(mod, rnd, 10**9)


# --- votes ---------------------------------------------------------------------------

def test_property_manager_cannot_vote_on_the_association_seat(app, hall, ctx):
    h = hall
    rnd, (pump,) = prepare(h)
    rnd = start(h, rnd)
    assoc_seat = seat_of(rnd, h.assoc)
    with pytest.raises(ops.VoteRefused) as e:
        ops.cast_vote(U(h.prop), rnd.id, pump.id, Vote.AGREE, seat_id=assoc_seat.id)
    assert isinstance(e.value, NotAllowed) and e.value.status == 403
    db.session.commit()             # the view commits the refusal record before its 403
    refused = events("vote.refused")
    assert len(refused) == 1 and refused[0].actor == U(h.prop).pseudonym
    assert '"code":"other_seat"' in refused[0].payload
    assert f'"seat":{assoc_seat.id}' in refused[0].payload
    assert vote_count(round_id=rnd.id) == 0 and events("vote.cast") == []
    # their own seat, named or not, works
    ops.cast_vote(U(h.prop), rnd.id, pump.id, Vote.AGREE, seat_id=seat_of(rnd, h.prop).id)
    db.session.commit()
    assert vote_count(seat_id=seat_of(rnd, h.prop).id) == 1


def test_a_seat_cannot_be_used_after_leaving_its_body(app, hall, ctx):
    h = hall
    rnd, (pump,) = prepare(h)
    rnd = start(h, rnd)
    db.session.execute(update(Membership).where(
        Membership.user_id == h.assoc.id, Membership.role == Role.ASSOCIATION)
        .values(status=MembershipStatus.REVOKED))
    db.session.commit()
    with pytest.raises(ops.VoteRefused):
        ops.cast_vote(U(h.assoc), rnd.id, pump.id, Vote.AGREE)
    db.session.commit()
    assert '"code":"body_mismatch"' in events("vote.refused")[0].payload
    assert vote_count() == 0


def test_no_vote_before_opening_after_the_deadline_after_closing_or_without_a_seat(
        app, hall, ctx):
    h = hall
    rnd, (pump,) = prepare(h)
    with pytest.raises(DomainError, match="尚未开始"):
        ops.cast_vote(U(h.assoc), rnd.id, pump.id, Vote.AGREE)
    rnd = start(h, rnd)
    with pytest.raises(NotAllowed, match="没有表决席位") as e:
        ops.cast_vote(U(h.assoc2), rnd.id, pump.id, Vote.AGREE)
    assert not isinstance(e.value, ops.VoteRefused)
    with pytest.raises(NotAllowed):
        ops.cast_vote(U(h.outsider), rnd.id, pump.id, Vote.AGREE)
    clock.freeze(rnd.closes_at)
    with pytest.raises(DomainError, match="截止"):
        ops.cast_vote(U(h.assoc), rnd.id, pump.id, Vote.AGREE)
    ops.close_round(None, rnd)
    db.session.commit()
    with pytest.raises(DomainError, match="已经结束"):
        ops.cast_vote(U(h.assoc), rnd.id, pump.id, Vote.AGREE)
    db.session.rollback()
    assert vote_count() == 0 and events("vote.refused") == []


def test_an_option_of_another_round_is_422(app, hall, ctx, make_issue):
    h = hall
    rnd, (pump,) = prepare(h)
    rnd = start(h, rnd)
    # a second consultation in the same community, with its own round and option
    iid, _ = make_issue(h.community, title="另一个议题")
    db.session.execute(update(Issue).where(Issue.id == iid).values(state=IssueState.ACCEPTED))
    other_c = ops.open_consultation(U(h.mod), db.session.get(Issue, iid))
    other = ops.schedule_round(U(h.mod), other_c, "别的议程", "会议室", False, later(days=4),
                               later(days=5))
    foreign = ops.options_of(other.id)[0]
    db.session.commit()
    with pytest.raises(Unprocessable) as e:
        ops.cast_vote(U(h.assoc), rnd.id, foreign.id, Vote.AGREE)
    assert e.value.status == 422 and isinstance(e.value, Invalid)
    for bad in (10**9, "1", None):
        with pytest.raises(Unprocessable):
            ops.cast_vote(U(h.assoc), rnd.id, bad, Vote.AGREE)
    with pytest.raises(Unprocessable):
        ops.cast_vote(U(h.assoc), 10**9, pump.id, Vote.AGREE)
    db.session.rollback()
    assert vote_count() == 0


def test_a_vote_changes_while_open_and_is_final_after_closing(app, hall, ctx):
    h = hall
    rnd, (pump,) = prepare(h)
    rnd = start(h, rnd)
    first = vote(h, rnd, "assoc", pump, Vote.ABSTAIN)
    clock.freeze(rnd.starts_at + timedelta(minutes=30))
    with pytest.raises(Invalid) as e:
        ops.cast_vote(U(h.assoc), rnd.id, pump.id, Vote.OPPOSE, "  ")
    assert e.value.field == "reason"
    with pytest.raises(Invalid) as e:
        ops.cast_vote(U(h.assoc), rnd.id, pump.id, "maybe")
    assert e.value.field == "vote"
    db.session.rollback()
    vote(h, rnd, "assoc", pump, Vote.OPPOSE, "应先查明积水原因")
    rows = list(db.session.scalars(select(SeatVote).where(SeatVote.round_id == rnd.id)))
    assert len(rows) == 1 and rows[0].id == first.id
    assert rows[0].vote is Vote.OPPOSE and rows[0].reason == "应先查明积水原因"
    assert rows[0].updated_at == clock.now() and rows[0].created_at == rnd.starts_at
    change = events("vote.change")
    assert len(change) == 1 and '"previous":"abstain"' in change[0].payload
    assert "查明" not in change[0].payload

    ops.close_round(U(h.mod), rnd)
    db.session.commit()
    with pytest.raises(DomainError):
        ops.cast_vote(U(h.assoc), rnd.id, pump.id, Vote.AGREE)
    db.session.rollback()
    assert db.session.get(SeatVote, first.id).vote is Vote.OPPOSE
    with pytest.raises(DomainError):
        ops.close_round(U(h.mod), rnd)


def test_the_job_closes_only_after_the_deadline(app, hall, ctx):
    h = hall
    rnd, _ = prepare(h)
    rnd = start(h, rnd)
    assert ops.close_due_rounds() == 0
    with pytest.raises(DomainError, match="尚未截止"):
        ops.close_round(None, rnd)
    with pytest.raises(NotAllowed):
        ops.close_round(U(h.prop), rnd)
    clock.freeze(rnd.closes_at + timedelta(seconds=1))
    assert ops.close_due_rounds() == 1
    db.session.commit()
    rnd = db.session.get(Round, rnd.id)
    assert rnd.state is RoundState.CLOSED and rnd.adopted_option_id is None
    assert '"agree":0' in events("round.close")[0].payload


def test_the_seat_vote_is_unique_in_the_database(app, hall, ctx):
    h = hall
    rnd, (pump,) = prepare(h)
    rnd = start(h, rnd)
    sv = vote(h, rnd, "mod", pump, Vote.AGREE)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(SeatVote(round_id=rnd.id, seat_id=sv.seat_id, option_id=pump.id,
                                vote=Vote.OPPOSE, reason="x"))
    db.session.rollback()


# --- races ---------------------------------------------------------------------------

def _race(app, jobs):
    """Run each job(user id) in its own thread and app context, all released together.
    POST request contexts, so that on SQLite each begins IMMEDIATE like a real request."""
    barrier = threading.Barrier(len(jobs))
    errors: list[str] = []

    def worker(job):
        try:
            with app.test_request_context("/", method="POST"):
                barrier.wait()
                try:
                    job()
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    raise
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []


def test_twenty_taps_on_one_seat_make_one_vote(app, hall, ctx):
    h = hall
    rnd, (pump,) = prepare(h)
    rnd = start(h, rnd)
    rid, oid, uid = rnd.id, pump.id, h.assoc.id
    db.session.commit()
    choices = [Vote.AGREE, Vote.ABSTAIN] * 10

    def tap(v):
        return lambda: ops.cast_vote(db.session.get(User, uid), rid, oid, v)

    _race(app, [tap(v) for v in choices])
    db.session.rollback()
    assert vote_count(round_id=rid) == 1
    assert len(events("vote.cast")) == 1 and len(events("vote.change")) == 19
    assert verify_chain().ok


def test_twenty_seats_vote_at_once(app, hall, ctx, make):
    h = hall
    reps = [make.resident(h.community) for _ in range(17)]
    rnd, (pump,) = prepare(h)
    for r in reps:
        ops.add_seat(U(h.mod), rnd, U(r), Body.RESIDENT)
    db.session.commit()
    rnd = start(h, rnd)
    rid, oid = rnd.id, pump.id
    voters = [h.mod.id, h.assoc.id, h.prop.id] + [r.id for r in reps]
    assert len(voters) == 20

    def cast(uid):
        return lambda: ops.cast_vote(db.session.get(User, uid), rid, oid, Vote.AGREE)

    _race(app, [cast(uid) for uid in voters])
    db.session.rollback()
    assert vote_count(round_id=rid) == 20
    assert len(events("vote.cast")) == 20
    assert ops.outcomes(db.session.get(Round, rid))[oid].totals.agree == 20
    assert verify_chain().ok
