"""A ballot deciding a decision that waits for the owners (Art. 278): started from the
decision, its final result moves the decision on."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import select

from civic import clock
from civic.accounts.models import User
from civic.ballots.models import Ballot, BallotState
from civic.decisions.models import Decision, DecisionState
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.ballots.conftest import client_for, decision_state, load, run


def local(dt) -> str:
    return clock.local(dt).strftime("%Y-%m-%dT%H:%M")


def start_from_decision(app, h, decision_id):
    """The moderator opens the prefilled form from the decision and publishes the notice."""
    slug = h.community.slug
    mod = client_for(app, h.mod)
    form = mod.get(f"/c/{slug}/ballots/new?decision={decision_id}")
    assert form.status_code == 200
    html = form.text
    assert 'value="使用维修资金为3号楼加装电梯"' in html
    assert '<option selected value="5">' in html
    assert f'name="decision" type="hidden" value="{decision_id}"' in html
    assert "是否同意实施以下方案：使用维修资金为3号楼加装电梯" in html
    assert "本次表决决定以下决议的方案" in html
    assert f'href="/c/{slug}/issues/{h.issue_number}/decisions/{h.decision_version}"' in html
    opens = clock.now() + timedelta(days=4)
    resp = mod.post(f"/c/{slug}/ballots/new", data={
        "decision": str(decision_id), "title": "3号楼加装电梯使用维修资金",
        "question": "是否同意使用专项维修资金为3号楼加装电梯？", "item": "5",
        "scope": "buildings", "buildings": [str(h.b3.id)],
        "opens_at": local(opens), "closes_at": local(opens + timedelta(days=10))})
    assert resp.status_code == 303
    with app.app_context():
        b = db.session.scalar(select(Ballot).where(Ballot.decision_id == decision_id))
        h.ballot_id, h.number = b.id, b.number
    h.url = f"/c/{slug}/ballots/{h.number}"
    return mod


def vote_and_finish(app, h, mod, votes):
    b = load(app, h.ballot_id)
    clock.freeze(b.opens_at)
    assert mod.post(h.url + "/open").status_code == 303
    for unit, choice in votes:
        assert mod.post(h.url + "/paper", data={"unit": unit, "choice": choice}).status_code == 303
    clock.freeze(b.closes_at)
    assert mod.post(h.url + "/count").status_code == 303
    clock.freeze(load(app, h.ballot_id).objection_ends_at)
    assert mod.post(h.url + "/finalize").status_code == 303
    assert load(app, h.ballot_id).state is BallotState.FINAL


def test_final_pass_starts_the_decisions_publicity(app, client, estate, awaiting_decision):
    h = estate
    did = awaiting_decision(h)
    mod = start_from_decision(app, h, did)
    page = client.get(h.url).text
    decision_url = f"/c/{h.community.slug}/issues/{h.issue_number}/decisions/{h.decision_version}"
    assert f'href="{decision_url}"' in page and "本次表决决定决议" in page
    vote_and_finish(app, h, mod, [("3号楼-101", "yes"), ("3号楼-201", "yes"),
                                  ("3号楼-202", "no")])
    assert load(app, h.ballot_id).passed is True
    assert decision_state(app, did) is DecisionState.PUBLICITY
    with app.app_context():
        d = db.session.get(Decision, did)
        assert d.published_at == clock.now() and d.publicity_ends_at > clock.now()


def test_final_fail_ends_the_decision_and_returns_the_issue(app, client, estate,
                                                            awaiting_decision):
    h = estate
    did = awaiting_decision(h)
    mod = start_from_decision(app, h, did)
    vote_and_finish(app, h, mod, [("3号楼-101", "no"), ("3号楼-201", "yes"),
                                  ("3号楼-301", "no")])
    assert load(app, h.ballot_id).passed is False
    assert decision_state(app, did) is DecisionState.BALLOT_FAILED
    with app.app_context():
        d = db.session.get(Decision, did)
        assert db.session.get(Issue, d.issue_id).state is IssueState.IN_CONSULTATION


def test_provisional_result_does_not_move_the_decision(app, estate, awaiting_decision):
    h = estate
    did = awaiting_decision(h)
    mod = start_from_decision(app, h, did)
    b = load(app, h.ballot_id)
    clock.freeze(b.opens_at)
    mod.post(h.url + "/open")
    mod.post(h.url + "/paper", data={"unit": "3号楼-101", "choice": "yes"})
    clock.freeze(b.closes_at)
    mod.post(h.url + "/count")
    assert load(app, h.ballot_id).state is BallotState.PROVISIONAL
    assert decision_state(app, did) is DecisionState.AWAITING_BALLOT


def test_a_decision_withdrawn_during_the_ballot_still_lets_the_result_become_final(
        app, estate, awaiting_decision):
    from civic.decisions import operations as dops
    h = estate
    did = awaiting_decision(h)
    mod = start_from_decision(app, h, did)
    run(app, lambda: dops.withdraw(db.session.get(User, h.mod.id),
                                   db.session.get(Decision, did), "方案需要修改"))
    vote_and_finish(app, h, mod, [("3号楼-101", "yes"), ("3号楼-201", "yes"),
                                  ("3号楼-202", "yes")])
    assert decision_state(app, did) is DecisionState.WITHDRAWN


def test_the_form_refuses_foreign_unknown_or_settled_decisions(app, make, estate,
                                                               awaiting_decision):
    h = estate
    did = awaiting_decision(h)
    slug = h.community.slug
    mod = client_for(app, h.mod)
    assert mod.get(f"/c/{slug}/ballots/new?decision=999999").status_code == 404
    assert mod.get(f"/c/{slug}/ballots/new?decision=abc").status_code == 404
    other = make.community()
    other_mod = client_for(app, make.staff(other, "moderator"))
    assert other_mod.get(f"/c/{other.slug}/ballots/new?decision={did}").status_code == 404
    assert other_mod.post(f"/c/{other.slug}/ballots/new",
                          data={"decision": str(did), "title": "x"}).status_code == 404
    start_from_decision(app, h, did)
    # a second ballot while the first is pending
    opens = clock.now() + timedelta(days=4)
    resp = mod.post(f"/c/{slug}/ballots/new", follow_redirects=True, data={
        "decision": str(did), "title": "再来一次", "question": "？", "item": "5", "scope": "all",
        "opens_at": local(opens), "closes_at": local(opens + timedelta(days=3))})
    assert "这项决议已有进行中的业主表决。" in resp.text
    with app.app_context():
        assert db.session.query(Ballot).count() == 1


def test_decision_panel_partial(app, estate, awaiting_decision):
    h = estate
    did = awaiting_decision(h)
    slug = h.community.slug

    def panel(user=None) -> str:
        with app.test_request_context("/"):
            if user is not None:
                login_user(db.session.get(User, user.id))
            d = db.session.get(Decision, did)
            return render_template("ballots/_decision_ballot.html", d=d)

    html = panel(h.mod)
    assert "发起业主表决" in html and f'href="/c/{slug}/ballots/new?decision={did}"' in html
    assert "owners-ballot" not in panel()          # nothing to show the public yet
    assert "发起业主表决" not in panel(h.owner_a)
    start_from_decision(app, h, did)
    for who in (None, h.owner_a, h.mod):
        html = panel(who)
        assert f'href="/c/{slug}/ballots/{h.number}"' in html and "已发布通知" in html
        assert "第 5 项：使用建筑物及其附属设施的维修资金" in html
        assert "发起业主表决" not in html
    mod = client_for(app, h.mod)
    vote_and_finish(app, h, mod, [("3号楼-101", "yes"), ("3号楼-201", "yes"),
                                  ("3号楼-202", "yes")])
    html = panel()
    assert "结果已确定" in html and "通过" in html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_decision_no_longer_awaiting_is_refused_politely(app, estate, awaiting_decision, htmx):
    from civic.decisions import operations as dops
    h = estate
    did = awaiting_decision(h)
    run(app, lambda: dops.withdraw(db.session.get(User, h.mod.id),
                                   db.session.get(Decision, did), "方案需要修改"))
    mod = client_for(app, h.mod)
    resp = mod.get(f"/c/{h.community.slug}/ballots/new?decision={did}")
    assert resp.status_code == 303
    assert "这项决议不在等待业主表决。" in mod.get(resp.headers["Location"]).text
    opens = clock.now() + timedelta(days=4)
    resp = mod.post(f"/c/{h.community.slug}/ballots/new",
                    headers={"HX-Request": "true"} if htmx else {}, data={
                        "decision": str(did), "title": "x", "question": "？", "item": "5",
                        "scope": "all", "opens_at": local(opens),
                        "closes_at": local(opens + timedelta(days=3))})
    assert resp.status_code == (204 if htmx else 303)
    with app.app_context():
        assert db.session.query(Ballot).count() == 0
