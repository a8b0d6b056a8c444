"""Invitation codes: generating, storing only hashes, voiding, statuses, the printable page."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from civic import clock
from civic.communities.models import InvitationCode, Tenure
from civic.extensions import db
from civic.verification import operations as ops
from tests.verification.conftest import CODE_RE, text


def _codes(query, **where) -> list[InvitationCode]:
    def fn():
        stmt = select(InvitationCode).order_by(InvitationCode.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(InvitationCode, key) == value)
        return list(db.session.execute(stmt).scalars())
    return query(fn)


def _generate(client, world, units=(), tenure="owner", scope="selected", building=None):
    return client.post(f"/c/{world.c.slug}/manage/codes", data={
        "building": str((building or world.b5).id), "tenure": tenure, "scope": scope,
        "units": [str(u.id) for u in units]})


# --- pure helpers ----------------------------------------------------------------------

def test_new_codes_use_the_unambiguous_alphabet():
    codes = {ops.new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == 10
        assert not set(code) & set("01OIL")
        assert set(code) <= set(ops.ALPHABET)


def test_format_and_normalise():
    assert ops.format_code("ABCDEFGHJK") == "ABCDE-FGHJK"
    assert ops.normalise_code(" abcde-fghjk ") == "ABCDEFGHJK"
    assert ops.normalise_code("ABCDE FGHJK") == "ABCDEFGHJK"
    assert ops.hash_code("abcde fghjk") == hashlib.sha256(b"ABCDEFGHJK").hexdigest()


def test_status_of_a_code():
    now = clock.now()
    code = InvitationCode(expires_at=now + timedelta(days=1))
    assert ops.status_of(None, now) is ops.CodeStatus.NONE
    assert ops.status_of(code, now) is ops.CodeStatus.PENDING
    assert ops.status_of(code, now + timedelta(days=2)) is ops.CodeStatus.EXPIRED
    code.voided_at = now
    assert ops.status_of(code, now) is ops.CodeStatus.VOIDED
    code.used_at = now
    assert ops.status_of(code, now + timedelta(days=2)) is ops.CodeStatus.USED


# --- generating ------------------------------------------------------------------------

def test_generate_for_selected_units_prints_codes_and_stores_only_hashes(
        app, world, client_for, query, events):
    client = client_for(world.moderator)
    resp = _generate(client, world, units=[world.u301, world.u302])
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    html = text(resp)
    printed = CODE_RE.findall(html)
    assert len(printed) == 2
    assert "花园小区" in html and "5号楼301" in html and "5号楼302" in html
    # the address on paper is the public one, whatever host the moderator printed from
    assert app.config["PUBLIC_BASE_URL"] + "/join" in html
    assert "注册" in html and "邀请码" in html

    rows = _codes(query)
    assert {r.unit_id for r in rows} == {world.u301.id, world.u302.id}
    assert {r.code_hash for r in rows} == {ops.hash_code(code) for code in printed}
    for r in rows:
        assert r.tenure is Tenure.OWNER and r.community_id == world.c.id
        assert r.created_by_id == world.moderator.id
        assert r.used_at is None and r.voided_at is None
        days = app.config["INVITATION_CODE_DAYS"]
        assert timedelta(days=days - 1) < r.expires_at - clock.now() <= timedelta(days=days)
        stored = " ".join(str(v) for v in vars(r).values())
        for code in printed:
            assert code not in stored and code.replace("-", "") not in stored

    [event] = events("invitation.issue")
    payload = json.loads(event.payload)
    assert payload["count"] == 2 and payload["tenure"] == "owner"
    assert payload["units"] == sorted([world.u301.id, world.u302.id])
    for code in printed:
        assert code.replace("-", "") not in event.payload
        assert ops.hash_code(code) not in event.payload


def test_slips_show_expiry_date_and_tenure(app, world, client_for):
    clock.freeze(clock.now().replace(year=2030, month=3, day=1, hour=4))
    resp = _generate(client_for(world.moderator), world, units=[world.u302], tenure="tenant")
    html = text(resp)
    expiry = clock.local(clock.now() + timedelta(days=app.config["INVITATION_CODE_DAYS"]))
    assert expiry.strftime("%Y-%m-%d") in html
    assert "租户" in html


def test_generate_for_all_units_of_a_building(world, client_for, query):
    resp = _generate(client_for(world.moderator), world, scope="all", tenure="tenant")
    assert resp.status_code == 200
    assert len(CODE_RE.findall(text(resp))) == 3
    rows = _codes(query)
    assert {r.unit_id for r in rows} == {world.u301.id, world.u302.id, world.u401.id}
    assert all(r.tenure is Tenure.TENANT for r in rows)


def test_regenerating_voids_earlier_unused_codes_of_that_tenure_only(world, client_for, query):
    client = client_for(world.moderator)
    _generate(client, world, units=[world.u301, world.u302])              # owner codes
    _generate(client, world, units=[world.u301], tenure="tenant")         # tenant code
    first = {r.unit_id: r for r in _codes(query, tenure=Tenure.OWNER)}
    _generate(client, world, units=[world.u301])                          # owner again
    owner = _codes(query, tenure=Tenure.OWNER)
    old_301 = next(r for r in owner if r.id == first[world.u301.id].id)
    new_301 = [r for r in owner if r.unit_id == world.u301.id and r.id != old_301.id]
    assert old_301.voided_at is not None
    assert len(new_301) == 1 and new_301[0].voided_at is None
    # 302's owner code and 301's tenant code are untouched
    assert next(r for r in owner if r.unit_id == world.u302.id).voided_at is None
    assert _codes(query, tenure=Tenure.TENANT)[0].voided_at is None


def test_used_codes_are_not_voided_by_regenerating(app, world, client_for, query):
    client = client_for(world.moderator)
    [code] = CODE_RE.findall(text(_generate(client, world, units=[world.u301])))
    assert client_for(world.newcomer).post("/join", data={"code": code}).status_code == 303
    _generate(client, world, units=[world.u301])
    used = [r for r in _codes(query) if r.used_at is not None]
    assert len(used) == 1 and used[0].voided_at is None


@pytest.mark.parametrize("units", ["other_unit", "u101", "garbage"])
def test_units_outside_the_building_are_refused(world, client_for, query, units):
    ids = {"other_unit": [str(world.other_unit.id)], "u101": [str(world.u101.id)],
           "garbage": ["abc"]}[units]
    resp = client_for(world.moderator).post(f"/c/{world.c.slug}/manage/codes", data={
        "building": str(world.b5.id), "tenure": "owner", "scope": "selected", "units": ids})
    assert resp.status_code == 400
    assert "所选房号不属于这栋楼" in text(resp)
    assert _codes(query) == []


def test_building_of_another_community_is_404(world, client_for, query):
    client = client_for(world.moderator)
    assert client.get(f"/c/{world.c.slug}/manage/codes?building={world.ob.id}").status_code == 404
    resp = _generate(client, world, units=[world.other_unit], building=world.ob, scope="all")
    assert resp.status_code == 404
    assert _codes(query) == []


def test_nothing_selected_rerenders_with_message(world, client_for, query):
    resp = _generate(client_for(world.moderator), world, units=[], tenure="tenant")
    assert resp.status_code == 400
    html = text(resp)
    assert "请至少勾选一个房号" in html
    assert re.search(r'<input checked[^>]*value="tenant"', html)
    assert _codes(query) == []


def test_codes_page_explains_and_lists_statuses(world, client_for, make):
    mod = client_for(world.moderator)
    [c301] = CODE_RE.findall(text(_generate(mod, world, units=[world.u301])))
    _generate(mod, world, units=[world.u302])
    assert client_for(world.newcomer).post("/join", data={"code": c301}).status_code == 303

    html = text(mod.get(f"/c/{world.c.slug}/manage/codes"))
    assert "无法再次查看" in html and "作废" in html
    assert "已使用" in html and "待使用" in html and "未发放" in html
    assert "已过期" not in html
    clock.freeze(clock.now() + timedelta(days=400))
    html = text(mod.get(f"/c/{world.c.slug}/manage/codes?building={world.b5.id}"))
    assert "已过期" in html and "已使用" in html and "待使用" not in html
    # 6号楼 can be chosen
    html = text(mod.get(f"/c/{world.c.slug}/manage/codes?building={world.b6.id}"))
    assert "6号楼：生成邀请码" in html and "101" in html


def test_codes_page_without_roster(make, client_for):
    c = make.community()
    mod = make.staff(c, "moderator")
    resp = client_for(mod).get(f"/c/{c.slug}/manage/codes")
    assert resp.status_code == 200 and "请先导入房屋名册" in text(resp)


def test_issue_codes_operation_refuses_units_of_another_community(app, world):
    from civic.accounts.models import User
    from civic.communities.models import Community, Unit
    from civic.domain import Invalid
    with app.app_context():
        actor = db.session.get(User, world.moderator.id)
        community = db.session.get(Community, world.c.id)
        with pytest.raises(Invalid):
            ops.issue_codes(actor, community, [db.session.get(Unit, world.other_unit.id)],
                            Tenure.OWNER)
        with pytest.raises(Invalid):
            ops.issue_codes(actor, community, [], Tenure.OWNER)


def test_each_slip_has_a_qr_code_opening_join_with_its_code(app, world, client_for, make):
    """Scanning a slip opens /join with the code filled in — after logging in or registering
    first, which keeps the code in `next`."""
    from tests.notices.qr import decode_page
    resp = _generate(client_for(world.moderator), world, units=[world.u301, world.u302])
    html = text(resp)
    printed = CODE_RE.findall(html)
    base = app.config["PUBLIC_BASE_URL"]
    assert decode_page(html) == [f"{base}/join?code={code}" for code in printed]

    path = f"/join?code={printed[0]}"
    anonymous = app.test_client()
    to_login = anonymous.get(path)
    assert to_login.status_code == 302 and "/login?next=" in to_login.headers["Location"]
    login_page = anonymous.get(to_login.headers["Location"]).get_data(as_text=True)
    assert f"/register?next=/join?code%3D{printed[0]}" in login_page.replace("&amp;", "&")

    newcomer = client_for(make.user())
    form = newcomer.get(path).get_data(as_text=True)
    assert f'value="{printed[0]}"' in form
