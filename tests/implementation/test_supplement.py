"""Supplementary decisions (补充决议): when the budget runs out, the joint meeting holds a new
round on the extra money; the plan it adopts is published as a supplementary decision with
its own publicity period, and only when that takes effect does the budget grow — the
decision it supplements stays in effect until then, and then gives way in one transaction."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from civic import clock
from civic.audit.chain import canonical_json
from civic.audit.operations import verify_chain
from civic.consultation import operations as cops
from civic.consultation.models import Consultation, ConsultationState
from civic.decisions import operations as dops
from civic.decisions.models import Decision, DecisionState
from civic.domain import DomainError, NotAllowed
from civic.extensions import db
from civic.implementation import operations as ops
from civic.issues.models import Issue, IssueState
from tests.decisions.helpers import base, client_for, close_round, read, run
from tests.implementation.conftest import U, the_issue
from tests.implementation.test_ledger import book_id

SUMMARY = "井道改造费用超出预期，追加预算用于加固。"


def _state(app, h) -> dict:
    """Versions → (state, budget, supplements' version), the issue state, the consultation
    state and the ledger's budget."""
    def get():
        ds = db.session.query(Decision).filter_by(issue_id=h.issue_id).all()
        versions = {d.id: d.version for d in ds}
        c = db.session.query(Consultation).filter_by(issue_id=h.issue_id).one()
        return {"decisions": {d.version: (d.state, d.budget_fen, versions.get(d.supplements_id))
                              for d in ds},
                "issue": the_issue(h).state, "consultation": c.state,
                "budget": ops.ledger_of(the_issue(h)).budget_fen}
    return read(app, get)


def _spend_up_to(app, h, fen: int) -> None:
    """Book `fen` (maintenance fund: awaiting approval, which the guard counts as used)."""
    book_id(app, h, amount=fen)


def _supplementary_round(app, h, cost: int = 500_000, result: str = "plan") -> None:
    run(app, lambda: cops.open_supplement(U(h.mod), the_issue(h)))
    close_round(app, h, cost=cost, result=result)


def _publish(app, h, **data):
    due = (clock.now() + timedelta(days=90)).date().isoformat()
    return client_for(app, h.mod).post(f"{base(h)}/decisions/new",
                                       data={"summary": SUMMARY, "due_on": due, **data})


def test_more_money_through_a_new_round_and_a_supplementary_decision(app, effective):
    h = effective
    _spend_up_to(app, h, 1_500_000)
    with pytest.raises(DomainError, match="补充决议"):
        book_id(app, h, amount=500_000)  # 15,000 + 5,000 > 18,000
    _supplementary_round(app, h, cost=500_000)
    before = _state(app, h)
    assert before["decisions"] == {1: (DecisionState.EFFECTIVE, 1_800_000, None)}
    assert before["issue"] is IssueState.DECIDED  # work goes on meanwhile

    resp = _publish(app, h, budget="99,999.00", lead="committee")  # ignored: not the round's
    assert resp.status_code == 303
    s = _state(app, h)
    assert s["decisions"] == {1: (DecisionState.EFFECTIVE, 1_800_000, None),
                              2: (DecisionState.PUBLICITY, 2_300_000, 1)}
    assert s["issue"] is IssueState.DECIDED and s["budget"] == 1_800_000
    # until it takes effect, the old budget holds: 3,000 left, not 8,000
    with pytest.raises(DomainError, match="补充决议"):
        book_id(app, h, amount=300_001)

    v2 = read(app, lambda: db.session.query(Decision).filter_by(version=2,
                                                                issue_id=h.issue_id).one())
    clock.freeze(v2.publicity_ends_at + timedelta(minutes=1))
    assert run(app, dops.take_effect_due) == 1
    s = _state(app, h)
    assert s["decisions"] == {1: (DecisionState.SUPERSEDED, 1_800_000, None),
                              2: (DecisionState.EFFECTIVE, 2_300_000, 1)}
    assert s["budget"] == 2_300_000
    # the entries stand; the guard now allows exactly 8,000 more
    with pytest.raises(DomainError, match="补充决议"):
        book_id(app, h, amount=800_001)
    book_id(app, h, amount=800_000)
    with app.app_context():
        lg = ops.ledger_of(the_issue(h))
        assert [line.entry.amount_fen for line in lg.lines] == [1_500_000, 800_000]
        assert lg.remaining_fen == 0
        assert verify_chain().ok


def test_the_supplement_is_part_of_its_content_hash(app, effective, client):
    h = effective
    _supplementary_round(app, h)
    assert _publish(app, h).status_code == 303
    resp = client.get(f"{base(h)}/decisions/2/content.json")
    payload = resp.get_json()
    v1_id = read(app, lambda: db.session.query(Decision).filter_by(
        issue_id=h.issue_id, version=1).one().id)
    assert payload["supplements"] == v1_id and payload["budget_fen"] == 2_300_000
    assert hashlib.sha256(resp.get_data()).hexdigest() == resp.headers["X-Content-SHA256"]
    # a decision that supplements nothing hashes as before: no key at all
    assert "supplements" not in client.get(f"{base(h)}/decisions/1/content.json").get_json()
    page = client.get(f"{base(h)}/decisions/2").get_data(as_text=True)
    assert "补充决议：在 v1 的预算 ¥18,000.00 基础上追加 ¥5,000.00" in page
    assert canonical_json(payload)  # parseable and canonical


def test_a_round_that_adopts_no_extra_money_changes_nothing(app, effective):
    h = effective
    _supplementary_round(app, h, result="status_quo")
    preview = read(app, lambda: dops.publish_preview(the_issue(h)))
    assert preview.problem and "没有通过追加方案" in preview.problem
    assert _publish(app, h).status_code == 303  # refused with a message, back to the issue
    s = _state(app, h)
    assert s["decisions"] == {1: (DecisionState.EFFECTIVE, 1_800_000, None)}
    # the status quo closed the consultation: another supplementary round may be asked for
    assert s["consultation"] is ConsultationState.CLOSED
    assert read(app, lambda: cops.can_open_supplement(the_issue(h)))


def test_withdrawing_a_supplement_leaves_the_decision_in_effect(app, effective):
    h = effective
    _supplementary_round(app, h)
    assert _publish(app, h).status_code == 303
    v2 = read(app, lambda: db.session.query(Decision).filter_by(
        issue_id=h.issue_id, version=2).one())
    run(app, lambda: dops.withdraw(U(h.mod), db.session.get(Decision, v2.id), "费用需要重新核算"))
    s = _state(app, h)
    assert s["decisions"][1][0] is DecisionState.EFFECTIVE
    assert s["decisions"][2][0] is DecisionState.WITHDRAWN
    assert s["issue"] is IssueState.DECIDED and s["budget"] == 1_800_000
    assert s["consultation"] is ConsultationState.OPEN  # another round may follow


def test_the_decision_cannot_be_corrected_while_a_supplement_is_pending(app, effective):
    h = effective
    _supplementary_round(app, h)
    assert _publish(app, h).status_code == 303
    v1 = read(app, lambda: db.session.query(Decision).filter_by(
        issue_id=h.issue_id, version=1).one())
    with pytest.raises(DomainError, match="补充决议正在公示"):
        run(app, lambda: dops.correct(U(h.mod), db.session.get(Decision, v1.id),
                                      note="改期", summary="改期"))


def test_a_plan_from_another_fund_is_not_a_supplement(app, effective_public):
    h = effective_public  # public income; the round's plan is from the maintenance fund
    _supplementary_round(app, h)
    preview = read(app, lambda: dops.publish_preview(the_issue(h)))
    assert preview.problem and "资金来源" in preview.problem
    assert _state(app, h)["decisions"] == {1: (DecisionState.EFFECTIVE, 1_800_000, None)}


def test_who_may_start_a_supplementary_consultation_and_when(app, hall, effective):
    h = effective
    with pytest.raises(NotAllowed):
        run(app, lambda: cops.open_supplement(U(h.prop), the_issue(h)))
    run(app, lambda: cops.open_supplement(U(h.mod), the_issue(h)))
    with pytest.raises(DomainError, match="补充协商"):
        run(app, lambda: cops.open_supplement(U(h.mod), the_issue(h)))


def test_no_supplement_without_a_plan_in_effect(app, hall):
    h = hall  # accepted, never decided
    with pytest.raises(DomainError, match="补充协商"):
        run(app, lambda: cops.open_supplement(U(h.mod), db.session.get(Issue, h.issue_id)))


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_implementation_page_offers_it_to_moderators_only(app, effective, htmx):
    h = effective
    page = f"/c/{h.community.slug}/issues/{h.number}/implementation"
    action = f"{base(h)}/consultation/supplement"
    assert action not in client_for(app, h.prop).get(page).get_data(as_text=True)
    assert client_for(app, h.prop).post(action).status_code == 403
    mod = client_for(app, h.mod)
    assert action in mod.get(page).get_data(as_text=True)
    headers = {"HX-Request": "true"} if htmx else {}
    resp = mod.post(action, headers=headers)
    if htmx:
        assert resp.status_code == 204 and "consultation" in resp.headers["HX-Location"]
    else:
        assert resp.status_code == 303 and resp.headers["Location"].endswith(
            "/consultation#schedule")
    assert _state(app, h)["consultation"] is ConsultationState.OPEN
    shown = mod.get(page).get_data(as_text=True)
    assert "补充协商进行中" in shown and action not in shown
    assert "补充协商：决议 v1（批准预算 ¥18,000.00）仍然有效" in mod.get(
        f"{base(h)}/consultation").get_data(as_text=True)


def test_the_publish_page_shows_the_sum_and_asks_only_why_and_when(app, effective):
    h = effective
    _supplementary_round(app, h)
    mod = client_for(app, h.mod)
    page = mod.get(f"{base(h)}/decisions/new").get_data(as_text=True)
    assert "发布补充决议" in page
    assert "本轮协商通过追加 ¥5,000.00，补充决议生效后批准预算合计 ¥23,000.00" in page
    assert 'name="summary"' in page and 'name="due_on"' in page
    assert 'name="budget"' not in page and 'name="lead"' not in page
    issue_page = mod.get(f"{base(h)}/").get_data(as_text=True)
    assert "发布补充决议" in issue_page
    resp = _publish(app, h, summary="")
    assert resp.status_code == 400 and "请说明为什么需要追加预算" in resp.get_data(as_text=True)
    assert _state(app, h)["decisions"] == {1: (DecisionState.EFFECTIVE, 1_800_000, None)}
