"""Redeeming invitation codes at /join: binding, refusals, throttling, races."""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from civic import clock
from civic.accounts.models import User
from civic.communities.models import (Community, InvitationCode, Membership, Role, Tenure,
                                      Unit)
from civic.domain import Invalid
from civic.extensions import db
from civic.verification import operations as ops
from tests.verification.conftest import THREADS, race, text


def _issue(app, world, unit=None, tenure=Tenure.OWNER, community=None) -> str:
    """Issue one code through the operation; return its printed form."""
    with app.app_context():
        actor = db.session.get(User, world.moderator.id)
        unit = db.session.get(Unit, (unit or world.u301).id)
        community = db.session.get(Community, unit.community_id)
        [issued] = ops.issue_codes(actor, community, [unit], tenure)
        db.session.commit()
        return issued.code


def _memberships(query, user) -> list[Membership]:
    return query(lambda: list(db.session.execute(select(Membership).where(
        Membership.user_id == user.id, Membership.role == Role.RESIDENT)).scalars()))


def _code_row(query, code) -> InvitationCode:
    return query(lambda: db.session.execute(select(InvitationCode).where(
        InvitationCode.code_hash == ops.hash_code(code))).scalar_one())


def test_anonymous_is_sent_to_login_with_the_code_kept(client):
    resp = client.get("/join?code=ABCDE-FGHJK")
    assert resp.status_code == 302
    url = urlsplit(resp.headers["Location"])
    assert url.path == "/login"
    assert parse_qs(url.query)["next"] == ["/join?code=ABCDE-FGHJK"]
    resp = client.post("/join", data={"code": "ABCDE-FGHJK"})
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == "/login"


def test_form_is_prefilled_from_the_query(world, client_for):
    resp = client_for(world.newcomer).get("/join?code=ABCDE-FGHJK")
    assert resp.status_code == 200
    assert 'value="ABCDE-FGHJK"' in text(resp)


@pytest.mark.parametrize("tenure", [Tenure.OWNER, Tenure.TENANT])
def test_redeeming_binds_the_unit_and_tenure(app, world, client_for, query, events, tenure):
    code = _issue(app, world, world.u302, tenure)
    client = client_for(world.newcomer)
    resp = client.post("/join", data={"code": code})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/c/{world.c.slug}/")
    [m] = _memberships(query, world.newcomer)
    assert (m.community_id, m.unit_id, m.tenure, m.status.value) == (
        world.c.id, world.u302.id, tenure, "active")
    row = _code_row(query, code)
    assert row.used_by_id == world.newcomer.id and row.used_at is not None
    [event] = events("resident.verify")
    assert json.loads(event.payload)["via"] == "code"
    home = text(client.get(resp.headers["Location"]))
    assert "认证成功" in home and "5号楼302" in home


def test_code_is_case_and_separator_insensitive(app, world, client_for, query):
    code = _issue(app, world)
    sloppy = " " + code.lower().replace("-", " ") + " "
    assert client_for(world.newcomer).post("/join", data={"code": sloppy}).status_code == 303
    assert len(_memberships(query, world.newcomer)) == 1


def _assert_refused(resp, message, value):
    assert resp.status_code == 400
    html = text(resp)
    assert message in html
    assert f'value="{value}"' in html


def test_wrong_code_is_refused(app, world, client_for, query):
    _issue(app, world)
    resp = client_for(world.newcomer).post("/join", data={"code": "ZZZZZ-ZZZZZ"})
    _assert_refused(resp, "邀请码不正确", "ZZZZZ-ZZZZZ")
    assert _memberships(query, world.newcomer) == []


def test_reused_code_is_refused(app, world, client_for, make, query):
    code = _issue(app, world)
    assert client_for(world.newcomer).post("/join", data={"code": code}).status_code == 303
    second = make.user()
    resp = client_for(second).post("/join", data={"code": code})
    _assert_refused(resp, "已经使用过", code)
    assert _memberships(query, second) == []
    assert _code_row(query, code).used_by_id == world.newcomer.id


def test_voided_code_is_refused(app, world, client_for, query):
    old = _issue(app, world)
    _issue(app, world)  # a newer owner code for the same unit voids the old one
    resp = client_for(world.newcomer).post("/join", data={"code": old})
    _assert_refused(resp, "已作废", old)
    assert _memberships(query, world.newcomer) == []
    assert _code_row(query, old).used_at is None


def test_expired_code_is_refused(app, world, client_for, query):
    code = _issue(app, world)
    clock.freeze(clock.now() + timedelta(days=app.config["INVITATION_CODE_DAYS"], seconds=1))
    resp = client_for(world.newcomer).post("/join", data={"code": code})
    _assert_refused(resp, "已过期", code)
    assert _memberships(query, world.newcomer) == []
    assert _code_row(query, code).used_at is None


def test_already_verified_resident_is_refused_and_code_stays_unused(app, world, client_for,
                                                                    query):
    code = _issue(app, world, world.u302)
    resp = client_for(world.resident).post("/join", data={"code": code})
    _assert_refused(resp, "你已经是这个小区的认证居民", code)
    [m] = _memberships(query, world.resident)
    assert m.unit_id == world.u401.id
    assert _code_row(query, code).used_at is None


def test_code_of_another_community_binds_to_that_community_only(app, world, client_for,
                                                                query):
    # the resident of 花园小区 receives a code for a flat in 别的小区
    code = _issue(app, world, world.other_unit, Tenure.TENANT)
    resp = client_for(world.resident).post("/join", data={"code": code})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/c/{world.other.slug}/")
    by_community = {m.community_id: m for m in _memberships(query, world.resident)}
    assert by_community[world.other.id].unit_id == world.other_unit.id
    assert by_community[world.other.id].tenure is Tenure.TENANT
    assert by_community[world.c.id].unit_id == world.u401.id


def test_revoked_resident_can_verify_again_with_a_new_code(app, world, make, client_for,
                                                           query):
    user = make.resident(world.c, unit=world.u302, status="revoked")
    code = _issue(app, world, world.u301)
    assert client_for(user).post("/join", data={"code": code}).status_code == 303
    [m] = _memberships(query, user)
    assert (m.unit_id, m.status.value) == (world.u301.id, "active")


# --- throttling --------------------------------------------------------------------------

def test_wrong_codes_are_throttled_per_user(world, client_for):
    client = client_for(world.newcomer)
    for _i in range(10):
        assert client.post("/join", data={"code": "ZZZZZ-ZZZZZ"}).status_code == 400
    assert client.post("/join", data={"code": "ZZZZZ-ZZZZZ"}).status_code == 429
    # the form itself is still reachable
    assert client.get("/join").status_code == 200


def test_wrong_codes_are_throttled_per_address(world, make, client_for):
    for _i in range(20):
        resp = client_for(make.user()).post("/join", data={"code": "ZZZZZ-ZZZZZ"})
        assert resp.status_code == 400
    resp = client_for(make.user()).post("/join", data={"code": "ZZZZZ-ZZZZZ"})
    assert resp.status_code == 429


def test_successes_do_not_count_against_the_limit(app, world, make, client_for):
    client = client_for(world.newcomer)
    for _i in range(9):
        client.post("/join", data={"code": "ZZZZZ-ZZZZZ"})
    code = _issue(app, world)
    assert client.post("/join", data={"code": code}).status_code == 303
    assert client.post("/join", data={"code": "ZZZZZ-ZZZZZ"}).status_code == 400
    assert client.post("/join", data={"code": "ZZZZZ-ZZZZZ"}).status_code == 429


# --- races -----------------------------------------------------------------------------

def _resident_count(query, unit_id: int) -> int:
    return query(lambda: db.session.scalar(select(func.count(Membership.id)).where(
        Membership.unit_id == unit_id, Membership.role == Role.RESIDENT)))


def test_twenty_users_racing_one_code_bind_exactly_one(app, world, make, query):
    """Each thread its own app context and session, all redeeming the same code at once."""
    code = _issue(app, world, world.u302)
    users = [make.user() for _i in range(THREADS)]

    def worker(i):
        with app.app_context():
            try:
                user = db.session.get(User, users[i].id)
                ops.redeem_code(user, code)
                db.session.commit()
                return "ok"
            except Invalid as e:
                db.session.rollback()
                return e.message

    results = race(worker)
    assert results.count("ok") == 1, results
    assert all(r == "ok" or "已经使用过" in r for r in results), results
    assert _resident_count(query, world.u302.id) == 1
    winner = users[results.index("ok")]
    assert _code_row(query, code).used_by_id == winner.id


def test_twenty_requests_racing_one_code_over_http(app, world, make, client_for, query):
    code = _issue(app, world, world.u302)
    clients = [client_for(make.user()) for _i in range(THREADS)]
    statuses = race(lambda i: clients[i].post("/join", data={"code": code}).status_code)
    assert statuses.count(303) == 1, statuses
    assert set(statuses) <= {303, 400, 429}, statuses
    assert _resident_count(query, world.u302.id) == 1


def test_one_user_double_submitting_gets_one_membership(app, world, query, make):
    code = _issue(app, world, world.u302)
    user = make.user()

    def worker(i):
        with app.app_context():
            try:
                ops.redeem_code(db.session.get(User, user.id), code)
                db.session.commit()
                return "ok"
            except Invalid as e:
                db.session.rollback()
                return e.message

    results = race(worker)
    assert results.count("ok") == 1, results
    assert len(_memberships(query, user)) == 1
