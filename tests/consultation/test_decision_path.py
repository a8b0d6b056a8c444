"""Issue → accepted → two rounds (the first without agreement) → minutes → decision →
objection answered → effective, through the operations."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from civic import clock
from civic.audit.operations import verify_chain
from civic.consultation import operations as ops
from civic.consultation.models import MinutesState
from civic.consultation.rules import Vote
from civic.decisions import operations as dops
from civic.decisions.models import DecisionState, Outcome
from civic.domain import DomainError
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from civic.notifications.models import Notification
from tests.consultation.test_rounds import U, prepare, start, vote


def _minutes(h, rnd):
    ops.write_minutes(U(h.mod), rnd, "会议纪要：三方到会。")
    ops.submit_minutes(U(h.mod), rnd)
    for who in ("mod", "assoc", "prop"):
        ops.confirm_minutes(U(getattr(h, who)), rnd, True)
    db.session.commit()
    assert ops.minutes_of(rnd).state is MinutesState.PUBLISHED


def test_two_rounds_then_decision_takes_effect_after_objection_answered(app, hall, ctx):
    h = hall
    rnd1, (pump,) = prepare(h)
    start(h, rnd1)
    options = ops.options_of(rnd1.id)
    for who in ("mod", "assoc", "prop"):
        for o in options:
            vote(h, rnd1, who, o, Vote.OPPOSE if who == "assoc" else Vote.AGREE, "理由")
    clock.freeze(rnd1.closes_at)
    assert ops.close_due_rounds() == 1
    db.session.commit()
    db.session.refresh(rnd1)
    assert rnd1.adopted_option_id is None
    with pytest.raises(DomainError):   # no minutes yet, and nothing adopted
        dops.publish(U(h.mod), db.session.get(Issue, h.issue_id))
    db.session.rollback()

    rnd2, (pump2,) = prepare(h, options=(("更换排水泵并加装挡水板", 1_800_000),))
    start(h, rnd2)
    for who in ("mod", "assoc", "prop"):
        vote(h, rnd2, who, pump2, Vote.AGREE)
        vote(h, rnd2, who, ops.options_of(rnd2.id)[0], Vote.OPPOSE, "积水必须处理")
    ops.close_round(U(h.mod), rnd2)
    db.session.commit()
    assert rnd2.adopted_option_id == pump2.id
    _minutes(h, rnd2)

    issue = db.session.get(Issue, h.issue_id)
    d = dops.publish(U(h.mod), issue, summary="采纳方案二", due_on=clock.now().date() + timedelta(days=60))
    db.session.commit()
    assert d.outcome is Outcome.ADOPTED and d.state is DecisionState.PUBLICITY
    assert d.budget_fen == 1_800_000 and issue.state is IssueState.DECIDED
    tally = dops.tally_of(d)
    assert [r["round"] for r in tally["rounds"]] == [1, 2]
    assert d.content_hash == dops.compute_content_hash(d)

    o = dops.file_objection(U(h.rep), d, "工期太长")
    db.session.commit()
    clock.freeze(d.publicity_ends_at)
    with pytest.raises(DomainError):
        dops.take_effect(None, d)
    db.session.rollback()
    assert dops.take_effect_due() == 0
    dops.answer_objection(U(h.mod), o, "工期已压缩到 45 天")
    db.session.commit()
    assert dops.take_effect_due() == 1
    db.session.commit()
    assert d.state is DecisionState.EFFECTIVE
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert {"round.opened", "round.closed", "minutes.confirm", "decision.published",
            "objection.answered", "decision.effective"} <= kinds
    assert verify_chain().ok
