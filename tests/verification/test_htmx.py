"""The same mutating routes posted by htmx: HX-Location instead of a 303."""
from __future__ import annotations

from sqlalchemy import select

from civic.accounts.models import User
from civic.communities.models import Claim, ClaimStatus, Community, Membership, Role, Tenure, \
    Unit
from civic.extensions import db
from civic.verification import operations as ops

HX = {"HX-Request": "true"}


def _code(app, world) -> str:
    with app.app_context():
        [issued] = ops.issue_codes(db.session.get(User, world.moderator.id),
                                   db.session.get(Community, world.c.id),
                                   [db.session.get(Unit, world.u302.id)], Tenure.OWNER)
        db.session.commit()
        return issued.code


def test_redeem_by_htmx(app, world, client_for):
    resp = client_for(world.newcomer).post("/join", data={"code": _code(app, world)},
                                           headers=HX)
    assert resp.status_code == 204
    assert resp.headers["HX-Location"].endswith(f"/c/{world.c.slug}/")


def test_claim_approve_reject_revoke_by_htmx(world, make, client_for, query):
    newcomer = client_for(world.newcomer)
    resp = newcomer.post(f"/c/{world.c.slug}/claim", headers=HX, data={
        "building": str(world.b5.id), "unit": str(world.u301.id), "tenure": "owner",
        "note": "说明"})
    assert resp.status_code == 204 and resp.headers["HX-Location"].endswith("/claim")
    claim_id = query(lambda: db.session.execute(select(Claim.id)).scalar_one())
    mod = client_for(world.moderator)
    resp = mod.post(f"/c/{world.c.slug}/manage/claims/{claim_id}/approve", headers=HX)
    assert resp.status_code == 204 and resp.headers["HX-Location"].endswith("/manage/claims")
    assert query(lambda: db.session.get(Claim, claim_id)).status is ClaimStatus.APPROVED

    other = make.user()
    client_for(other).post(f"/c/{world.c.slug}/claim", data={
        "building": str(world.b5.id), "unit": str(world.u302.id), "tenure": "owner",
        "note": "说明"})
    second = query(lambda: db.session.execute(
        select(Claim.id).where(Claim.user_id == other.id)).scalar_one())
    resp = mod.post(f"/c/{world.c.slug}/manage/claims/{second}/reject", headers=HX,
                    data={"reason": "不符"})
    assert resp.status_code == 204
    assert query(lambda: db.session.get(Claim, second)).status is ClaimStatus.REJECTED

    m_id = query(lambda: db.session.execute(select(Membership.id).where(
        Membership.user_id == world.resident.id, Membership.role == Role.RESIDENT)).scalar())
    resp = mod.post(f"/c/{world.c.slug}/manage/members/{m_id}/revoke", headers=HX,
                    data={"reason": "已搬离"})
    assert resp.status_code == 204 and "/manage/members" in resp.headers["HX-Location"]
