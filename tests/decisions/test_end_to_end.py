"""Issue → co-signed → accepted → round → votes → minutes → published decision → objection
answered → effective. Everything a person does in a browser goes through HTTP (as plain
POSTs, and again as htmx requests); the round itself is driven through the consultation
operations, whose pages are another area's."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from civic import clock
from civic.audit.operations import verify_chain
from civic.communities.models import Community
from civic.decisions.models import DecisionState, Objection
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.consultation.conftest import T0
from tests.decisions.helpers import (HX, client_for, close_round, decision, notified,
                                     publish_data, read, run, text_of)


def _ok(resp, hx: bool) -> str:
    """The next page: HX-Location for htmx, Location for browsers."""
    if hx:
        assert resp.status_code == 204, resp.get_data(as_text=True)[:500]
        return resp.headers["HX-Location"]
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return resp.headers["Location"]


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_from_a_residents_issue_to_an_effective_decision(app, make, hx):
    headers = HX if hx else {}
    clock.freeze(T0)
    c = make.community()

    def rules():
        community = db.session.get(Community, c.id)
        community.threshold_kind, community.threshold_households = "households", 1
    run(app, rules)
    h = SimpleNamespace(community=c, mod=make.staff(c, "moderator", title="居委会主任"),
                        assoc=make.staff(c, "association", title="业委会主任"),
                        prop=make.staff(c, "property", title="项目经理"))
    proposer, signer = make.resident(c), make.resident(c)
    slug = c.slug

    # a resident proposes, a neighbour co-signs, the committee accepts
    author = client_for(app, proposer)
    resp = author.post(f"/c/{slug}/issues/new", headers=headers, data={
        "title": "地下车库雨天积水", "category": "设施维修", "building_id": "",
        "place_text": "B区", "body": "每逢下雨积水没过脚踝。", "idempotency_key": "new-1",
        "action": "publish"})
    issue_page = _ok(resp, hx)
    h.issue_id, h.number = read(app, lambda: db.session.execute(
        select(Issue.id, Issue.number).where(Issue.community_id == c.id)).one())
    assert issue_page.endswith(f"/issues/{h.number}/")
    cosign = client_for(app, signer).post(f"/c/{slug}/issues/{h.number}/cosign", headers=headers)
    assert cosign.status_code == (200 if hx else 303)
    mod = client_for(app, h.mod)
    _ok(mod.post(f"/c/{slug}/manage/triage/{h.number}/accept", headers=headers,
                 data={"lead": "property"}), hx)
    assert read(app, lambda: db.session.get(Issue, h.issue_id).state) is IssueState.ACCEPTED

    # the joint meeting: one round adopts the plan, every body confirms the minutes
    close_round(app, h)

    # the moderator publishes; the page and the form first
    base = f"/c/{slug}/issues/{h.number}"
    assert "发布决议" in text_of(mod.get(f"{base}/decisions/new"))
    page = _ok(mod.post(f"{base}/decisions/new", headers=headers, data=publish_data()), hx)
    assert page == f"{base}/decisions/1"
    assert read(app, lambda: db.session.get(Issue, h.issue_id).state) is IssueState.DECIDED
    assert notified(app, "decision.published") == sorted([proposer.id, signer.id])

    # the co-signing neighbour objects; the committee answers publicly
    neighbour = client_for(app, signer)
    assert 'id="objection-form"' in text_of(neighbour.get(page))
    _ok(neighbour.post(f"{page}/objections", headers=headers,
                       data={"text": "施工期间车位怎么安排？", "idempotency_key": "obj-1"}), hx)
    d = decision(app, h)
    oid = read(app, lambda: _objection_id(d.id))
    clock.freeze(d.publicity_ends_at)
    assert "暂不能生效：还有 1 条异议未答复" in text_of(mod.get(page))
    _ok(mod.post(f"{page}/objections/{oid}/answer", headers=headers,
                 data={"answer": "施工期间可临时停放在地面 C 区。"}), hx)
    assert notified(app, "objection.answered") == [signer.id]

    # the period is over and every objection answered: the decision takes effect
    _ok(mod.post(f"{page}/effective", headers=headers), hx)
    d = decision(app, h)
    assert d.state is DecisionState.EFFECTIVE
    assert notified(app, "decision.effective") == sorted([proposer.id, signer.id])
    public = text_of(app.test_client().get(page))
    for text in ("已生效", "施工期间车位怎么安排？", "施工期间可临时停放在地面 C 区。", "¥18,000.00",
                 "物业项目经理", "居委会已确认", "业委会已确认", "物业已确认", d.content_hash):
        assert text in public
    listing = text_of(app.test_client().get(f"/c/{slug}/decisions/?state=effective"))
    assert "更换排水泵并加装挡水板" in listing
    assert read(app, lambda: verify_chain().ok)


def _objection_id(decision_id: int) -> int:
    return db.session.scalar(select(Objection.id).where(Objection.decision_id == decision_id))
