"""Truth tables: who may report, hide, restore, suspend and open the queue — as predicates
and through the routes, in this community and from another."""
import pytest

from civic import permissions as can
from civic.extensions import db
from civic.issues.models import Issue
from civic.moderation.models import Report
from tests.moderation.conftest import hidden_at, member_action, membership_of, moderate, report

ROLES = ["anonymous", "user", "resident", "tenant", "revoked", "suspended", "other_resident",
         "moderator", "other_moderator", "property", "association", "observer", "admin"]


def _person(make, who, here, there):
    return {
        "anonymous": lambda: None,
        "user": make.user,
        "resident": lambda: make.resident(here),
        "tenant": lambda: make.resident(here, tenure="tenant"),
        "revoked": lambda: make.resident(here, status="revoked"),
        "suspended": lambda: make.resident(here, status="suspended"),
        "other_resident": lambda: make.resident(there),
        "moderator": lambda: make.staff(here, "moderator"),
        "other_moderator": lambda: make.staff(there, "moderator"),
        "property": lambda: make.staff(here, "property"),
        "association": lambda: make.staff(here, "association"),
        "observer": lambda: make.staff(here, "observer"),
        "admin": make.admin,
    }[who]()


PREDICATES = {
    "can_report": (can.can_report, {"resident", "tenant"}),
    "can_moderate": (can.can_moderate, {"moderator"}),
}


@pytest.mark.parametrize("name", PREDICATES)
def test_predicate_truth_table(ctx, make, name):
    here, there = make.community(), make.community()
    predicate, yes = PREDICATES[name]
    got = {who: predicate(_person(make, who, here, there), here) for who in ROLES}
    assert got == {who: who in yes for who in ROLES}


# --- through the routes ----------------------------------------------------------------

HTTP_ROLES = ["anonymous", "user", "resident", "tenant", "suspended", "other_resident",
              "moderator", "other_moderator", "property", "association", "observer"]


def _expect(who, allowed: set[str], ok: int = 303) -> int:
    if who == "anonymous":
        return 302          # to the login page
    return ok if who in allowed else 403


@pytest.fixture
def scene(app, make, make_issue, make_comment):
    here, there = make.community(), make.community()
    author = make.resident(here)
    iid, _n = make_issue(here, author=author)
    cid = make_comment(iid, author)
    return here, there, author, iid, cid


@pytest.mark.parametrize("who", HTTP_ROLES)
def test_report_route(app, client, make, auth, scene, who):
    here, there, _author, iid, cid = scene
    user = _person(make, who, here, there)
    if user:
        auth.login(user)
    expected = _expect(who, {"resident", "tenant"})
    assert report(client, here, "issue", iid).status_code == expected
    assert report(client, here, "comment", cid).status_code == expected
    assert client.get(f"/c/{here.slug}/report/issue/{iid}").status_code == (
        200 if expected == 303 else expected)
    with app.app_context():
        assert db.session.query(Report).count() == (2 if expected == 303 else 0)


@pytest.mark.parametrize("who", HTTP_ROLES)
def test_hide_and_restore_routes(app, client, make, auth, scene, who):
    here, there, _author, iid, cid = scene
    user = _person(make, who, here, there)
    if user:
        auth.login(user)
    expected = _expect(who, {"moderator"})
    assert moderate(client, here, "issue", iid, "hide").status_code == expected
    assert (hidden_at(app, Issue, iid) is not None) == (expected == 303)
    if expected != 303:                      # hidden by a moderator, for the restore check
        with app.app_context():
            from civic import clock
            db.session.get(Issue, iid).hidden_at = clock.now()
            db.session.commit()
    assert moderate(client, here, "issue", iid, "restore").status_code == expected
    assert (hidden_at(app, Issue, iid) is None) == (expected == 303)
    assert client.get(f"/c/{here.slug}/manage/reports").status_code == (
        200 if expected == 303 else expected)
    assert client.get(f"/c/{here.slug}/manage/moderate/comment/{cid}/").status_code == (
        200 if expected == 303 else expected)


@pytest.mark.parametrize("who", HTTP_ROLES)
def test_suspend_route(app, client, make, auth, scene, who):
    from civic.communities.models import MembershipStatus
    here, there, author, _iid, _cid = scene
    m = membership_of(app, author, here)
    user = _person(make, who, here, there)
    if user:
        auth.login(user)
    expected = _expect(who, {"moderator"})
    assert member_action(client, here, m.id, "suspend").status_code == expected
    with app.app_context():
        from civic.communities.models import Membership
        status = db.session.get(Membership, m.id).status
    assert status is (MembershipStatus.SUSPENDED if expected == 303 else MembershipStatus.ACTIVE)
    assert member_action(client, here, m.id, "unsuspend").status_code == expected


def test_other_communities_items_are_404_for_moderators(app, client, make, auth, make_issue):
    here, there = make.community(), make.community()
    iid, _n = make_issue(there)
    auth.login(make.staff(here, "moderator"))
    assert moderate(client, here, "issue", iid, "hide").status_code == 404
    assert client.get(f"/c/{here.slug}/manage/moderate/issue/{iid}/").status_code == 404
    assert hidden_at(app, Issue, iid) is None
