"""Members: moderators list verified residents and revoke memberships with a reason."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from civic.communities.models import Membership, MembershipStatus, Role
from civic.extensions import db
from civic.verification import views
from tests.verification.conftest import text


def _membership(query, user, role=Role.RESIDENT, community=None) -> Membership:
    def fn():
        stmt = select(Membership).where(Membership.user_id == user.id, Membership.role == role)
        if community is not None:
            stmt = stmt.where(Membership.community_id == community.id)
        return db.session.execute(stmt).scalar_one()
    return query(fn)


def _revoke_url(world, membership_id, community=None):
    return f"/c/{(community or world.c).slug}/manage/members/{membership_id}/revoke"


def test_members_list(world, make, client_for):
    make.resident(world.c, unit=world.u302, tenure="tenant",
                  user=make.user(display_name="租客小陈"))
    make.resident(world.other, unit=world.other_unit, user=make.user(display_name="隔壁邻居"))
    resp = client_for(world.moderator).get(f"/c/{world.c.slug}/manage/members")
    assert resp.status_code == 200
    html = text(resp)
    assert "5号楼401" in html and "老住户" in html and "业主" in html
    assert "5号楼302" in html and "租客小陈" in html and "租户" in html
    assert "认证于" in html
    assert "隔壁邻居" not in html
    assert "居委会小李" not in html  # staff are not listed as residents


def test_members_list_is_paginated_and_filtered(world, make, client_for, monkeypatch):
    monkeypatch.setattr(views, "PER_PAGE", 2)
    for number, name in (("501", "甲"), ("502", "乙"), ("503", "丙")):
        make.resident(world.c, unit=make.unit(world.c, world.b6, number=number),
                      user=make.user(display_name=f"住户{name}"))
    mod = client_for(world.moderator)
    first = text(mod.get(f"/c/{world.c.slug}/manage/members"))
    assert "第 1 / 2 页" in first and "page=2" in first
    second = text(mod.get(f"/c/{world.c.slug}/manage/members?page=2"))
    assert "第 2 / 2 页" in second
    shown = [n for n in ("住户甲", "住户乙", "住户丙", "老住户") if n in first or n in second]
    assert len(shown) == 4
    assert mod.get(f"/c/{world.c.slug}/manage/members?page=abc").status_code == 200
    assert mod.get(f"/c/{world.c.slug}/manage/members?page=-5").status_code == 200
    only6 = text(mod.get(f"/c/{world.c.slug}/manage/members?building={world.b6.id}"))
    assert "老住户" not in only6 and "住户甲" in only6
    assert mod.get(
        f"/c/{world.c.slug}/manage/members?building={world.ob.id}").status_code == 404


def test_revoke_a_resident(world, client_for, query, events):
    m = _membership(query, world.resident)
    mod = client_for(world.moderator)
    nxt = f"/c/{world.c.slug}/manage/members?page=1"
    resp = mod.post(_revoke_url(world, m.id), data={"reason": "已搬离", "next": nxt})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(nxt)
    m = _membership(query, world.resident)
    assert m.status is MembershipStatus.REVOKED and m.revoked_reason == "已搬离"
    [event] = events("role.revoke")
    assert json.loads(event.payload)["member"] == world.resident.pseudonym
    assert "已搬离" not in event.payload
    html = text(mod.get(f"/c/{world.c.slug}/manage/members?show=revoked"))
    assert "老住户" in html and "已搬离" in html
    # and gone from the active list
    assert "老住户" not in text(mod.get(f"/c/{world.c.slug}/manage/members"))


def test_revoked_residents_session_ends(world, client_for, query):
    resident = client_for(world.resident)
    assert resident.get("/account").status_code == 200
    m = _membership(query, world.resident)
    client_for(world.moderator).post(_revoke_url(world, m.id), data={"reason": "冒用"})
    resp = resident.get("/account")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_revoke_needs_a_reason(world, client_for, query):
    m = _membership(query, world.resident)
    resp = client_for(world.moderator).post(_revoke_url(world, m.id), data={"reason": " "})
    assert resp.status_code == 400
    html = text(resp)
    assert "请写明原因" in html and "5号楼401" in html
    assert _membership(query, world.resident).is_active


def test_revoke_twice_says_so(world, client_for, query, events):
    m = _membership(query, world.resident)
    mod = client_for(world.moderator)
    mod.post(_revoke_url(world, m.id), data={"reason": "已搬离"})
    resp = mod.post(_revoke_url(world, m.id), data={"reason": "再次"}, follow_redirects=True)
    assert resp.status_code == 200 and "这个身份已经撤销" in text(resp)
    assert len(events("role.revoke")) == 1


def test_revoke_staff_from_the_staff_page_goes_back_there(world, make, client_for, query):
    clerk = make.staff(world.c, "property", title="物业经理")
    m = _membership(query, clerk, Role.PROPERTY)
    resp = client_for(world.moderator).post(_revoke_url(world, m.id),
                                            data={"reason": "合同到期",
                                                  "next": "https://evil.example/"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/c/{world.c.slug}/manage/staff")
    assert not _membership(query, clerk, Role.PROPERTY).is_active


def test_next_cannot_leave_the_site(world, client_for, query):
    m = _membership(query, world.resident)
    resp = client_for(world.moderator).post(_revoke_url(world, m.id),
                                            data={"reason": "x", "next": "//evil.example"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/c/{world.c.slug}/manage/members")


def test_admin_may_revoke_a_moderator(world, make, client_for, query):
    admin = make.admin()
    m = _membership(query, world.moderator, Role.MODERATOR)
    resp = client_for(admin).post(_revoke_url(world, m.id), data={"reason": "换届"})
    assert resp.status_code == 303
    assert not _membership(query, world.moderator, Role.MODERATOR).is_active


def test_moderator_cannot_revoke_themself(world, client_for, query):
    m = _membership(query, world.moderator, Role.MODERATOR)
    resp = client_for(world.moderator).post(_revoke_url(world, m.id), data={"reason": "x"})
    assert resp.status_code == 403
    assert _membership(query, world.moderator, Role.MODERATOR).is_active


@pytest.mark.parametrize("who", ["anonymous", "resident", "newcomer", "other_moderator"])
def test_only_moderators_revoke(world, client_for, query, who):
    m = _membership(query, world.resident)
    client = client_for(None if who == "anonymous" else getattr(world, who))
    resp = client.post(_revoke_url(world, m.id), data={"reason": "x"})
    if who == "anonymous":
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    else:
        assert resp.status_code == 403
    assert _membership(query, world.resident).is_active


def test_membership_of_another_community_is_404(world, make, client_for, query):
    neighbour = make.resident(world.other, unit=world.other_unit)
    m = _membership(query, neighbour)
    mod = client_for(world.moderator)
    assert mod.post(_revoke_url(world, m.id), data={"reason": "x"}).status_code == 404
    assert client_for(world.other_moderator).post(
        _revoke_url(world, m.id), data={"reason": "x"}).status_code == 404
    assert mod.post(_revoke_url(world, m.id, world.other),
                    data={"reason": "x"}).status_code == 403
    assert _membership(query, neighbour).is_active
