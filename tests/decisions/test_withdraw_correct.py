"""Withdrawing a decision back into consultation, and corrections as new versions."""
from __future__ import annotations

from datetime import timedelta

import pytest

from civic import clock
from civic.consultation import operations as ops
from civic.consultation.models import Consultation, ConsultationState, RoundState
from civic.decisions import operations as dops
from civic.decisions.models import Decision, DecisionState
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.consultation.conftest import later
from tests.consultation.test_rounds import U
from tests.decisions.helpers import (HX, audit_count, base, client_for, count, decision,
                                     due_text, field_value, flashes, issue, notified, published,
                                     read, run, text_of)


def _url(h, version: int = 1, tail: str = "") -> str:
    return f"{base(h)}/decisions/{version}{tail}"


def _consultation_state(app, h) -> ConsultationState:
    return read(app, lambda: ops.consultation_of(db.session.get(Issue, h.issue_id)).state)


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_withdraw_returns_the_issue_to_consultation_and_a_new_round_can_follow(app, hall, hx):
    h = hall
    published(app, h)
    mod = client_for(app, h.mod)
    resp = mod.post(_url(h, tail="/withdraw"), data={"reason": "业主反映方案有遗漏，重新协商"},
                    headers=HX if hx else {})
    assert resp.status_code == (204 if hx else 303)
    d = decision(app, h)
    assert d.state is DecisionState.WITHDRAWN and d.withdraw_reason == "业主反映方案有遗漏，重新协商"
    assert issue(app, h).state is IssueState.IN_CONSULTATION
    assert _consultation_state(app, h) is ConsultationState.OPEN
    assert audit_count(app, "decision.withdraw") == 1
    page = text_of(app.test_client().get(_url(h)))
    assert "已撤回" in page and "业主反映方案有遗漏，重新协商" in page

    def next_round():
        starts = later(days=4)
        rnd = ops.schedule_round(U(h.mod), ops.consultation_of(db.session.get(Issue, h.issue_id)),
                                 agenda="重新协商积水方案", place="居委会二楼", online=False,
                                 starts_at=starts, closes_at=starts + timedelta(hours=2))
        return rnd.number, rnd.state
    assert run(app, next_round) == (2, RoundState.NOTICED)
    # the withdrawn decision no longer stands: a new one can be published later
    assert read(app, lambda: dops.standing_decision(h.issue_id)) is None


def test_withdraw_needs_a_reason_and_only_from_the_period(app, hall):
    h = hall
    d = published(app, h)
    mod = client_for(app, h.mod)
    resp = mod.post(_url(h, tail="/withdraw"), data={"reason": ""})
    assert resp.status_code == 400 and "请填写此项" in text_of(resp)
    assert '<details id="withdraw" open>' in text_of(resp)
    hx = mod.post(_url(h, tail="/withdraw"), data={"reason": ""}, headers=HX)
    assert hx.status_code == 200 and text_of(hx).lstrip().startswith('<details id="withdraw" open>')
    assert decision(app, h).state is DecisionState.PUBLICITY
    clock.freeze(d.publicity_ends_at)
    run(app, dops.take_effect_due)
    assert 'id="withdraw"' not in text_of(mod.get(_url(h)))
    resp = mod.post(_url(h, tail="/withdraw"), data={"reason": "想撤回"})
    assert resp.status_code == 303 and decision(app, h).state is DecisionState.EFFECTIVE
    assert any("只有公示中或等待业主表决的决议可以撤回" in m for m in flashes(mod))
    for person in (h.rep, h.assoc):
        assert client_for(app, person).post(_url(h, tail="/withdraw"),
                                            data={"reason": "x"}).status_code == 403


def test_the_correction_form_is_prefilled_from_the_old_version(app, hall):
    h = hall
    published(app, h, budget="18,000", summary="原说明")
    page = text_of(client_for(app, h.mod).get(_url(h, tail="/correct")))
    assert field_value(page, "budget") == "18,000.00" and field_value(page, "due_on") == due_text()
    assert "原说明" in page and '<option selected value="maintenance_fund">' in page
    assert 'checked id="lead-2" name="lead" type="radio" value="property"' in page
    assert 'name="note"' in page and "更正自 v1" in page


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_a_correction_is_a_new_version_and_both_stay_public(app, hall, hx):
    h = hall
    old = published(app, h)
    mod = client_for(app, h.mod)
    data = {"note": "预算笔误：应为 16,800 元", "summary": "采纳更换排水泵方案。",
            "lead": "property", "due_on": due_text(50), "budget": "16800",
            "funding_source": "maintenance_fund"}
    resp = mod.post(_url(h, tail="/correct"), data=data, headers=HX if hx else {})
    assert resp.status_code == (204 if hx else 303)
    assert (resp.headers.get("HX-Location") if hx else resp.headers["Location"]) == _url(h, 2)
    v1, v2 = decision(app, h, 1), decision(app, h, 2)
    assert v1.state is DecisionState.SUPERSEDED and v2.state is DecisionState.PUBLICITY
    assert v2.corrects_id == v1.id and v2.correction_note == "预算笔误：应为 16,800 元"
    assert v2.budget_fen == 1_680_000 and v1.budget_fen == old.budget_fen == 1_800_000
    assert v2.tally == v1.tally and v2.title == v1.title and v2.content_hash != v1.content_hash
    assert v1.content_hash == old.content_hash
    assert audit_count(app, "decision.correct") == 1
    assert len(notified(app, "decision.published")) == 4     # two residents, twice
    public = app.test_client()
    p1, p2 = text_of(public.get(_url(h, 1))), text_of(public.get(_url(h, 2)))
    assert "已更正" in p1 and "已被 v2 更正" in p1 and "¥18,000.00" in p1
    assert "更正自 v1" in p2 and "预算笔误：应为 16,800 元" in p2 and "¥16,800.00" in p2
    assert f'href="{_url(h, 2)}"' in p1 and f'href="{_url(h, 1)}"' in p2
    # the superseded version can be neither corrected again nor withdrawn
    again = mod.get(_url(h, 1, "/correct"))
    assert again.status_code == 303 and again.headers["Location"] == _url(h, 1)
    assert mod.post(_url(h, 1, "/withdraw"), data={"reason": "x"}).status_code == 303
    assert decision(app, h, 1).state is DecisionState.SUPERSEDED
    assert count(app, Decision) == 2


def test_a_correction_needs_a_note_and_valid_terms(app, hall):
    h = hall
    published(app, h)
    mod = client_for(app, h.mod)
    base_data = {"note": "", "summary": "说明", "lead": "property", "due_on": due_text(),
                 "budget": "18000", "funding_source": "maintenance_fund"}
    resp = mod.post(_url(h, tail="/correct"), data=base_data)
    assert resp.status_code == 400 and 'id="note-err"' in text_of(resp)
    bad = mod.post(_url(h, tail="/correct"), data={**base_data, "note": "改预算",
                                                   "budget": "一万"})
    assert bad.status_code == 400 and "请按元填写金额" in text_of(bad)
    assert field_value(text_of(bad), "budget") == "一万" and "改预算" in text_of(bad)
    hx = mod.post(_url(h, tail="/correct"), data={**base_data, "note": "改期限",
                                                  "due_on": "2000-01-01"}, headers=HX)
    assert hx.status_code == 200 and text_of(hx).lstrip().startswith('<form id="correct-form"')
    assert "完成期限须是今天以后的日期" in text_of(hx)
    assert count(app, Decision) == 1 and decision(app, h).state is DecisionState.PUBLICITY
    for person in (h.rep, h.prop):
        client = client_for(app, person)
        assert client.get(_url(h, tail="/correct")).status_code == 403
        assert client.post(_url(h, tail="/correct"),
                           data={**base_data, "note": "x"}).status_code == 403


def test_a_rejection_is_corrected_with_a_note_and_summary_only(app, hall):
    h = hall
    published(app, h, result="status_quo", summary="费用过高")
    mod = client_for(app, h.mod)
    page = text_of(mod.get(_url(h, tail="/correct")))
    assert 'name="budget"' not in page and 'name="note"' in page
    resp = mod.post(_url(h, tail="/correct"), data={"note": "补充理由", "summary": "费用过高，另议"})
    assert resp.status_code == 303
    v2 = decision(app, h, 2)
    assert v2.outcome.value == "rejected" and v2.summary == "费用过高，另议" and v2.budget_fen == 0


def test_an_effective_decision_can_be_corrected(app, hall):
    h = hall
    d = published(app, h)
    clock.freeze(d.publicity_ends_at)
    run(app, dops.take_effect_due)
    mod = client_for(app, h.mod)
    resp = mod.post(_url(h, tail="/correct"), data={
        "note": "延长期限", "summary": "说明", "lead": "property", "due_on": due_text(90),
        "budget": "18000", "funding_source": "maintenance_fund"})
    assert resp.status_code == 303
    assert decision(app, h, 1).state is DecisionState.SUPERSEDED
    assert decision(app, h, 2).state is DecisionState.PUBLICITY
    assert read(app, lambda: db.session.get(Consultation, decision(app, h, 2).consultation_id)
                ).state is ConsultationState.CLOSED
