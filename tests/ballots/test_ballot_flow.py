"""A ballot on using the maintenance fund for a lift in one building, through the operations."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from civic import clock
from civic.accounts.models import User
from civic.ballots import ballotfile
from civic.ballots import operations as ops
from civic.ballots.models import BallotState, Channel
from civic.communities.models import Community
from civic.domain import DomainError, NotAllowed
from civic.extensions import db
from tests.ballots.conftest import later
from tests.conftest import jpeg_bytes


def U(person) -> User:
    return db.session.get(User, person.id)


def lift_ballot(h):
    community = db.session.get(Community, h.community.id)
    opens = later(days=3, hours=1)
    b = ops.schedule(U(h.mod), community, title="3号楼加装电梯使用维修资金", question="是否同意……",
                     item=5, opens_at=opens, closes_at=opens + timedelta(days=14),
                     building_ids=[h.b3.id])
    db.session.commit()
    return b


def test_lift_ballot_from_notice_to_final(app, estate, ctx):
    h = estate
    b = lift_ballot(h)
    with pytest.raises(DomainError):
        ops.open_ballot(U(h.mod), b)
    db.session.rollback()
    clock.freeze(b.opens_at)
    assert ops.run_due()["opened"] == 1
    db.session.commit()
    assert b.state is BallotState.OPEN
    roll = ops.roll_of(b)
    assert sorted(u.label for u in roll) == ["3号楼-101", "3号楼-102", "3号楼-201", "3号楼-202",
                                             "3号楼-301", "3号楼-302"]
    assert b.total_heads == 4 and b.total_area == Decimal("490.00")

    ops.vote_online(U(h.owner_a), b, "yes")
    db.session.commit()
    with pytest.raises(NotAllowed):
        ops.vote_online(U(h.tenant), b, "yes")
    with pytest.raises(NotAllowed):
        ops.vote_online(U(h.owner_d), b, "yes")   # building 5 is not in scope
    ops.enter_paper(U(h.mod), b, "3号楼-201", "yes")
    db.session.commit()
    with pytest.raises(DomainError):
        ops.vote_online(U(h.owner_b), b, "no")    # already counted on paper
    db.session.rollback()
    ops.record_proxy(U(h.mod), b, "3号楼-301", "abstain", "王五", jpeg_bytes())
    db.session.commit()
    live = ops.tally(b)
    assert live.participating_heads == 3 and live.participating_area == Decimal("389.87")
    assert [r["vote"].channel for r in ops.receipts_of(U(h.owner_b), b)] == [Channel.PAPER]

    clock.freeze(b.closes_at)
    assert ops.run_due()["counted"] == 1
    db.session.commit()
    assert b.state is BallotState.PROVISIONAL
    data = json.loads(b.file_json)
    assert data["matter"] == 5 and data["votes"] == {"o-1": "yes", "o-2": "yes",
                                                     "developer": "abstain"}
    summary = ballotfile.recount(b.file_json)
    assert summary["participation"] == {"area": "389.87", "area_total": "490.00",
                                        "headcount": 3, "headcount_total": 4, "met": True}
    assert summary["passed"] is b.passed is True
    clock.freeze(b.objection_ends_at)
    assert ops.run_due()["final"] == 1
    db.session.commit()
    assert b.state is BallotState.FINAL
