"""Plans reserved to the owners (Civil Code Art. 278): the owners' ballot comes first."""
from __future__ import annotations

from datetime import timedelta

import pytest

from civic import clock
from civic.consultation import operations as ops
from civic.consultation.models import ConsultationState
from civic.decisions import operations as dops
from civic.decisions.models import Decision, DecisionState
from civic.domain import DomainError
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.consultation.conftest import later
from tests.consultation.test_rounds import U
from tests.decisions.helpers import (base, client_for, close_round, decision, issue, notified,
                                     publish_data, read, run, text_of)


def _ballot(app, h, approved: bool) -> None:
    run(app, lambda: dops.after_owners_ballot(
        db.session.get(Decision, decision(app, h).id), approved, ballot_ref="B-1"))


def _publish(app, h):
    close_round(app, h, owners_item=5)
    mod = client_for(app, h.mod)
    page = text_of(mod.get(f"{base(h)}/decisions/new"))
    assert "第二百七十八条第 5 项" in page and "使用建筑物及其附属设施的维修资金" in page
    assert "须先由业主表决通过" in page and "记录决议，提交业主表决" in page
    resp = mod.post(f"{base(h)}/decisions/new", data=publish_data())
    assert resp.status_code == 303
    assert any("须先经业主表决" in m for _, m in _flashes(mod))
    return mod


def _flashes(client):
    with client.session_transaction() as s:
        return s.get("_flashes", [])


def test_an_owners_plan_waits_for_the_ballot(app, hall):
    h = hall
    _publish(app, h)
    d = decision(app, h)
    assert d.state is DecisionState.AWAITING_BALLOT and d.owners_item == 5
    assert d.published_at is None and d.publicity_ends_at is None
    assert issue(app, h).state is IssueState.DECIDED
    assert notified(app, "decision.published") == []
    public = text_of(app.test_client().get(f"{base(h)}/decisions/1"))
    assert "待业主表决" in public and "须由业主表决" in public and "公示期：" not in public
    resident = client_for(app, h.rep)
    assert 'id="objection-form"' not in text_of(resident.get(f"{base(h)}/decisions/1"))
    resident.post(f"{base(h)}/decisions/1/objections", data={"text": "反对"})
    assert read(app, lambda: dops.objections_of(db.session.get(Decision, d.id))) == []


def test_an_approved_ballot_starts_the_publicity_period(app, hall):
    h = hall
    _publish(app, h)
    clock.freeze(clock.now() + timedelta(days=20))
    _ballot(app, h, approved=True)
    d = decision(app, h)
    assert d.state is DecisionState.PUBLICITY and d.published_at == clock.now()
    assert d.publicity_ends_at == clock.now() + timedelta(days=7)
    assert len(notified(app, "decision.published")) == 2
    page = text_of(client_for(app, h.rep).get(f"{base(h)}/decisions/1"))
    assert "公示中" in page and 'id="objection-form"' in page
    with pytest.raises(DomainError):
        _ballot(app, h, approved=True)


def test_a_failed_ballot_returns_the_issue_to_consultation(app, hall):
    h = hall
    _publish(app, h)
    _ballot(app, h, approved=False)
    d = decision(app, h)
    assert d.state is DecisionState.BALLOT_FAILED
    assert issue(app, h).state is IssueState.IN_CONSULTATION
    assert read(app, lambda: ops.consultation_of(db.session.get(Issue, h.issue_id)).state) \
        is ConsultationState.OPEN
    assert notified(app, "decision.published") == []
    page = text_of(app.test_client().get(f"{base(h)}/decisions/1"))
    assert "业主表决未通过" in page and "议题回到协商中" in page

    def next_round():
        starts = later(days=4)
        rnd = ops.schedule_round(U(h.mod), ops.consultation_of(db.session.get(Issue, h.issue_id)),
                                 agenda="调整方案后再议", place="", online=True,
                                 starts_at=starts, closes_at=starts + timedelta(hours=2))
        return rnd.number
    assert run(app, next_round) == 2


def test_an_awaiting_decision_can_be_withdrawn_but_not_corrected(app, hall):
    h = hall
    mod = _publish(app, h)
    page = text_of(mod.get(f"{base(h)}/decisions/1"))
    assert 'id="withdraw"' in page and "更正决议" not in page
    assert mod.post(f"{base(h)}/decisions/1/withdraw", data={"reason": "业主意见分歧大"}
                    ).status_code == 303
    assert decision(app, h).state is DecisionState.WITHDRAWN
    assert issue(app, h).state is IssueState.IN_CONSULTATION
