"""Who may open each verification route: a truth table per route and per kind of user."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from civic.communities.models import Membership, Role
from civic.extensions import db

MANAGE_GETS = ["/c/{slug}/manage/codes", "/c/{slug}/manage/claims", "/c/{slug}/manage/members"]


def _posts(world, query) -> list[tuple[str, dict]]:
    """Every mutating moderator route, with data that would succeed for a moderator."""
    resident_m = query(lambda: db.session.execute(select(Membership.id).where(
        Membership.user_id == world.resident.id, Membership.role == Role.RESIDENT)).scalar())
    return [
        (f"/c/{world.c.slug}/manage/codes",
         {"building": str(world.b5.id), "tenure": "owner", "scope": "all"}),
        (f"/c/{world.c.slug}/manage/claims/{{claim}}/approve", {}),
        (f"/c/{world.c.slug}/manage/claims/{{claim}}/reject", {"reason": "不符"}),
        (f"/c/{world.c.slug}/manage/members/{resident_m}/revoke", {"reason": "已搬离"}),
    ]


@pytest.fixture
def claim_id(world, client_for, query):
    from civic.communities.models import Claim
    client_for(world.newcomer).post(f"/c/{world.c.slug}/claim", data={
        "building": str(world.b5.id), "unit": str(world.u301.id), "tenure": "owner",
        "note": "说明"})
    return query(lambda: db.session.execute(select(Claim.id)).scalar_one())


WHO = ["anonymous", "newcomer", "resident", "other_moderator", "association", "moderator"]


def _user(world, make, who):
    if who == "anonymous":
        return None
    if who == "association":
        return make.staff(world.c, "association")
    return getattr(world, who)


def _expect(resp, who):
    if who == "anonymous":
        assert resp.status_code == 302
        assert resp.headers["Location"].startswith("/login")
    elif who == "moderator":
        assert resp.status_code in (200, 303), resp.status_code
    else:
        assert resp.status_code == 403, resp.status_code


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("path", MANAGE_GETS)
def test_manage_pages(world, make, client_for, who, path):
    client = client_for(_user(world, make, who))
    _expect(client.get(path.format(slug=world.c.slug)), who)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("index", range(4))
def test_manage_actions(world, make, client_for, query, claim_id, who, index):
    path, data = _posts(world, query)[index]
    client = client_for(_user(world, make, who))
    _expect(client.post(path.format(claim=claim_id), data=data), who)


@pytest.mark.parametrize("path", ["/join", "/c/{slug}/claim"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_resident_pages_need_a_login(world, client, path, method):
    resp = getattr(client, method)(path.format(slug=world.c.slug))
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_unknown_community_is_404(world, client_for):
    client = client_for(world.moderator)
    for path in MANAGE_GETS + ["/c/{slug}/claim"]:
        assert client.get(path.format(slug="no-such-place")).status_code == 404


def test_moderator_sees_management_links_residents_do_not(world, client_for):
    html = client_for(world.moderator).get(f"/c/{world.c.slug}/").get_data(as_text=True)
    assert f"/c/{world.c.slug}/manage/codes" in html
    html = client_for(world.resident).get(f"/c/{world.c.slug}/").get_data(as_text=True)
    assert "/manage/" not in html


def test_revoke_is_offered_only_where_allowed(world, make, client_for, query):
    resident_m = query(lambda: db.session.execute(select(Membership.id).where(
        Membership.user_id == world.resident.id, Membership.role == Role.RESIDENT)).scalar())
    html = client_for(world.moderator).get(
        f"/c/{world.c.slug}/manage/members").get_data(as_text=True)
    assert f"/manage/members/{resident_m}/revoke" in html


def test_garbage_and_huge_ids_are_404_or_ignored_never_500(world, client_for):
    mod = client_for(world.moderator)
    slug = world.c.slug
    for url in (f"/c/{slug}/manage/members/99999999999/revoke",
                f"/c/{slug}/manage/claims/99999999999/approve",
                f"/c/{slug}/manage/claims/99999999999/reject"):
        assert mod.post(url, data={"reason": "x"}).status_code == 404
    for url in (f"/c/{slug}/manage/codes?building=99999999999999",
                f"/c/{slug}/manage/codes?building=abc",
                f"/c/{slug}/manage/members?page=99999999999999&building=1%27--",
                f"/c/{slug}/claim?building=%27%3B--"):
        assert mod.get(url).status_code in (200, 404), url
    resp = client_for(world.newcomer).post(f"/c/{slug}/claim", data={
        "building": "x", "unit": "99999999999", "tenure": "owner", "note": "n"})
    assert resp.status_code == 400
