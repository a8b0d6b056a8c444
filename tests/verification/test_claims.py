"""Claims: residents ask to be verified to a unit, moderators approve or reject."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from civic.accounts.models import User
from civic.communities.models import (Claim, ClaimStatus, Community, Membership, Role, Tenure,
                                      Unit)
from civic.domain import DomainError
from civic.extensions import db
from civic.verification import operations as ops
from tests.verification.conftest import THREADS, race, text


def _claim_url(world, community=None):
    return f"/c/{(community or world.c).slug}/claim"


def _submit(client, world, unit=None, tenure="owner", note="我是业主本人，2019年入住。"):
    unit = unit or world.u301
    return client.post(_claim_url(world), data={
        "building": str(unit.building_id), "unit": str(unit.id), "tenure": tenure, "note": note})


def _claims(query, **where) -> list[Claim]:
    def fn():
        stmt = select(Claim).order_by(Claim.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Claim, key) == value)
        return list(db.session.execute(stmt).scalars())
    return query(fn)


def _residents(query, user) -> list[Membership]:
    return query(lambda: list(db.session.execute(select(Membership).where(
        Membership.user_id == user.id, Membership.role == Role.RESIDENT)).scalars()))


# --- the claimant's side -----------------------------------------------------------------

def test_anonymous_is_sent_to_login(client, world):
    resp = client.get(_claim_url(world))
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_choosing_a_building_then_a_unit_without_javascript(world, client_for):
    client = client_for(world.newcomer)
    html = text(client.get(_claim_url(world)))
    assert "5号楼" in html and "6号楼" in html
    assert 'name="note"' not in html  # the second step appears once a building is chosen
    html = text(client.get(f"{_claim_url(world)}?building={world.b5.id}"))
    assert 'name="note"' in html
    assert f'value="{world.u301.id}"' in html and f'value="{world.u101.id}"' not in html


def test_htmx_gets_only_the_unit_step(world, client_for):
    resp = client_for(world.newcomer).get(f"{_claim_url(world)}?building={world.b6.id}",
                                          headers={"HX-Request": "true"})
    html = text(resp)
    assert resp.status_code == 200
    assert "<html" not in html and 'name="note"' in html and f'value="{world.u101.id}"' in html
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_building_of_another_community_is_404(world, client_for):
    resp = client_for(world.newcomer).get(f"{_claim_url(world)}?building={world.ob.id}")
    assert resp.status_code == 404


def test_submit_a_claim(world, client_for, query, events):
    client = client_for(world.newcomer)
    resp = _submit(client, world, tenure="tenant")
    assert resp.status_code == 303
    [claim] = _claims(query)
    assert (claim.user_id, claim.community_id, claim.unit_id, claim.tenure, claim.status) == (
        world.newcomer.id, world.c.id, world.u301.id, Tenure.TENANT, ClaimStatus.PENDING)
    assert claim.note == "我是业主本人，2019年入住。"
    [event] = events("claim.submit")
    payload = json.loads(event.payload)
    assert payload["unit"] == world.u301.id and payload["tenure"] == "tenant"
    assert "2019" not in event.payload and "新住户" not in event.payload
    html = text(client.get(resp.headers["Location"]))
    assert "等待审核" in html and "5号楼301" in html


def test_duplicate_pending_claim_is_refused(world, client_for, query):
    client = client_for(world.newcomer)
    assert _submit(client, world).status_code == 303
    resp = _submit(client, world, unit=world.u302)
    assert resp.status_code == 400
    assert "已经提交过认证申请" in text(resp)
    assert len(_claims(query)) == 1


def test_concurrent_duplicate_claims_leave_one_pending(app, world, query):
    def worker(i):
        with app.app_context():
            try:
                user = db.session.get(User, world.newcomer.id)
                ops.submit_claim(user, db.session.get(Community, world.c.id),
                                 db.session.get(Unit, world.u301.id), Tenure.OWNER, "说明")
                db.session.commit()
                return "ok"
            except DomainError as e:
                db.session.rollback()
                return e.message

    results = race(worker, 10)
    assert results.count("ok") == 1, results
    assert len(_claims(query, status=ClaimStatus.PENDING)) == 1


def test_unit_of_another_community_is_refused(world, client_for, query):
    client = client_for(world.newcomer)
    resp = client.post(_claim_url(world), data={
        "building": str(world.b5.id), "unit": str(world.other_unit.id), "tenure": "owner",
        "note": "说明"})
    assert resp.status_code == 404
    resp = client.post(_claim_url(world), data={
        "building": str(world.ob.id), "unit": "", "tenure": "owner", "note": "说明"})
    assert resp.status_code == 404
    assert _claims(query) == []


def test_missing_fields_rerender_with_values(world, client_for, query):
    client = client_for(world.newcomer)
    resp = client.post(_claim_url(world), data={
        "building": str(world.b5.id), "unit": "", "tenure": "tenant", "note": "租客，租期两年"})
    assert resp.status_code == 400
    html = text(resp)
    assert "请选择房号" in html and "租客，租期两年" in html
    resp = _submit(client, world, note="   ")
    assert resp.status_code == 400 and "请填写此项" in text(resp)
    assert _claims(query) == []


def test_verified_resident_cannot_claim(world, client_for, query):
    client = client_for(world.resident)
    assert "你已认证为" in text(client.get(_claim_url(world)))
    resp = _submit(client, world)
    assert resp.status_code == 400 and "已经是本小区的认证居民" in text(resp)
    assert _claims(query) == []


# --- the moderators' side --------------------------------------------------------------

def test_moderator_sees_pending_claims_with_roster_owner(world, client_for):
    _submit(client_for(world.newcomer), world)
    html = text(client_for(world.moderator).get(f"/c/{world.c.slug}/manage/claims"))
    assert "新住户" in html and "王业主" in html and "5号楼301" in html
    assert "我是业主本人" in html


def test_roster_owner_name_is_for_moderators_only(world, client_for):
    _submit(client_for(world.newcomer), world)
    for user in (world.newcomer, world.resident, world.other_moderator):
        resp = client_for(user).get(f"/c/{world.c.slug}/manage/claims")
        assert resp.status_code == 403
        assert "王业主" not in text(resp)
    assert "王业主" not in text(client_for(world.newcomer).get(_claim_url(world)))


def _pending_id(query) -> int:
    return _claims(query, status=ClaimStatus.PENDING)[0].id


def test_approve_makes_a_resident(world, client_for, query, events):
    _submit(client_for(world.newcomer), world, tenure="tenant")
    claim_id = _pending_id(query)
    resp = client_for(world.moderator).post(
        f"/c/{world.c.slug}/manage/claims/{claim_id}/approve")
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/c/{world.c.slug}/manage/claims")
    [m] = _residents(query, world.newcomer)
    assert (m.unit_id, m.tenure, m.status.value, m.granted_by_id) == (
        world.u301.id, Tenure.TENANT, "active", world.moderator.id)
    [claim] = _claims(query)
    assert claim.status is ClaimStatus.APPROVED and claim.decided_by_id == world.moderator.id
    [approve] = events("claim.approve")
    assert json.loads(approve.payload)["claimant"] == world.newcomer.pseudonym
    [verify] = events("resident.verify")
    assert json.loads(verify.payload)["via"] == "claim"
    html = text(client_for(world.newcomer).get(_claim_url(world)))
    assert "你已认证为 5号楼301 的租户" in html


def test_double_approval_is_guarded(world, client_for, query, events):
    _submit(client_for(world.newcomer), world)
    claim_id = _pending_id(query)
    mod = client_for(world.moderator)
    url = f"/c/{world.c.slug}/manage/claims/{claim_id}/approve"
    assert mod.post(url).status_code == 303
    resp = mod.post(url, follow_redirects=True)
    assert "已经处理过了" in text(resp)
    assert len(_residents(query, world.newcomer)) == 1
    assert len(events("claim.approve")) == 1
    resp = mod.post(f"/c/{world.c.slug}/manage/claims/{claim_id}/reject",
                    data={"reason": "晚了"}, follow_redirects=True)
    assert "已经处理过了" in text(resp)
    assert _claims(query)[0].status is ClaimStatus.APPROVED


def test_racing_approvals_bind_once(app, world, make, client_for, query, events):
    _submit(client_for(world.newcomer), world)
    claim_id = _pending_id(query)
    moderators = [world.moderator] + [make.staff(world.c, "moderator")
                                      for _i in range(THREADS - 1)]
    def worker(i):
        with app.app_context():
            try:
                ops.approve_claim(db.session.get(User, moderators[i].id),
                                  db.session.get(Claim, claim_id))
                db.session.commit()
                return "ok"
            except DomainError as e:
                db.session.rollback()
                return e.message

    results = race(worker)
    assert results.count("ok") == 1, results
    assert len(_residents(query, world.newcomer)) == 1
    assert len(events("claim.approve")) == 1
    assert len(events("resident.verify")) == 1


def test_approving_someone_who_meanwhile_became_resident_is_refused(world, make, client_for,
                                                                    query):
    _submit(client_for(world.newcomer), world)
    claim_id = _pending_id(query)
    make.resident(world.c, unit=world.u302, user=world.newcomer)
    resp = client_for(world.moderator).post(
        f"/c/{world.c.slug}/manage/claims/{claim_id}/approve", follow_redirects=True)
    assert "申请人已经是本小区的认证居民" in text(resp)
    assert _claims(query)[0].status is ClaimStatus.PENDING


def test_reject_with_reason_is_shown_to_the_claimant(world, client_for, query, events):
    claimant = client_for(world.newcomer)
    _submit(claimant, world)
    claim_id = _pending_id(query)
    mod = client_for(world.moderator)
    resp = mod.post(f"/c/{world.c.slug}/manage/claims/{claim_id}/reject",
                    data={"reason": "名册业主不是你，请带房产证到居委会"})
    assert resp.status_code == 303
    [claim] = _claims(query)
    assert claim.status is ClaimStatus.REJECTED
    assert claim.reason == "名册业主不是你，请带房产证到居委会"
    assert _residents(query, world.newcomer) == []
    [event] = events("claim.reject")
    assert "房产证" not in event.payload
    html = text(claimant.get(_claim_url(world)))
    assert "未通过" in html and "名册业主不是你，请带房产证到居委会" in html
    # and they may try again
    assert 'name="building"' in html
    assert _submit(claimant, world, unit=world.u302).status_code == 303


def test_reject_needs_a_reason(world, client_for, query):
    _submit(client_for(world.newcomer), world)
    claim_id = _pending_id(query)
    resp = client_for(world.moderator).post(
        f"/c/{world.c.slug}/manage/claims/{claim_id}/reject", data={"reason": "  "})
    assert resp.status_code == 400
    assert "请写明原因" in text(resp)
    assert _claims(query)[0].status is ClaimStatus.PENDING


def test_claim_of_another_community_is_404_through_my_slug(world, make, client_for, query):
    outsider = make.user()
    client = client_for(outsider)
    client.post(f"/c/{world.other.slug}/claim", data={
        "building": str(world.ob.id), "unit": str(world.other_unit.id), "tenure": "owner",
        "note": "说明"})
    claim_id = _pending_id(query)
    mod = client_for(world.moderator)
    assert mod.post(f"/c/{world.c.slug}/manage/claims/{claim_id}/approve").status_code == 404
    assert mod.post(f"/c/{world.c.slug}/manage/claims/{claim_id}/reject",
                    data={"reason": "x"}).status_code == 404
    assert mod.post(f"/c/{world.other.slug}/manage/claims/{claim_id}/approve").status_code == 403
    assert _claims(query)[0].status is ClaimStatus.PENDING
    assert query(lambda: db.session.scalar(select(func.count(Membership.id)).where(
        Membership.user_id == outsider.id))) == 0


@pytest.mark.parametrize("who", ["resident", "newcomer", "other_moderator"])
def test_only_moderators_decide(world, client_for, query, who):
    _submit(client_for(world.newcomer), world)
    claim_id = _pending_id(query)
    client = client_for(getattr(world, who))
    assert client.post(f"/c/{world.c.slug}/manage/claims/{claim_id}/approve").status_code == 403
    assert client.post(f"/c/{world.c.slug}/manage/claims/{claim_id}/reject",
                       data={"reason": "x"}).status_code == 403
    assert _claims(query)[0].status is ClaimStatus.PENDING


def test_hostile_names_and_notes_are_shown_as_text(world, make, client_for, query):
    evil = make.user(display_name='<script>alert(1)</script>')
    client = client_for(evil)
    _submit(client, world, note='<img src=x onerror=alert(1)> <a hx-get="/logout">x</a>')
    claim_id = _pending_id(query)
    mod = client_for(world.moderator)
    html = text(mod.get(f"/c/{world.c.slug}/manage/claims"))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html and 'hx-get="/logout"' not in html
    mod.post(f"/c/{world.c.slug}/manage/claims/{claim_id}/reject",
             data={"reason": "<b onmouseover=alert(1)>不符</b>"})
    html = text(client.get(_claim_url(world)))
    assert "<b onmouseover" not in html and "&lt;b onmouseover" in html
