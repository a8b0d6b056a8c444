"""Truth tables: every role × every predicate, in this community and in another."""
import pytest

from civic import permissions as can
from civic.communities.models import Role

ROLES = ["anonymous", "user", "resident", "tenant", "revoked", "moderator", "association",
         "property", "observer", "admin", "other_moderator", "other_resident"]


@pytest.fixture
def people(ctx, make):
    here, there = make.community(), make.community()
    p = {
        "anonymous": None,
        "user": make.user(),
        "resident": make.resident(here),
        "tenant": make.resident(here, tenure="tenant"),
        "revoked": make.resident(here, status="revoked"),
        "moderator": make.staff(here, "moderator"),
        "association": make.staff(here, "association"),
        "property": make.staff(here, "property"),
        "observer": make.staff(here, "observer"),
        "admin": make.admin(),
        "other_moderator": make.staff(there, "moderator"),
        "other_resident": make.resident(there),
    }
    return here, p


def _yes(*roles):
    return {r: (r in roles) for r in ROLES}


TABLE = {
    "can_create_community": (lambda u, c: can.can_create_community(u), _yes("admin")),
    "can_appoint_moderator": (can.can_appoint_moderator, _yes("admin", "moderator")),
    "can_manage": (can.can_manage, _yes("moderator")),
    "can_view_roster": (can.can_view_roster, _yes("moderator")),
    "can_edit_roster": (can.can_edit_roster, _yes("moderator")),
    "can_issue_codes": (can.can_issue_codes, _yes("moderator")),
    "can_review_claims": (can.can_review_claims, _yes("moderator")),
    "can_view_members": (can.can_view_members, _yes("moderator")),
    "can_join": (can.can_join, _yes("user", "revoked", "moderator", "association", "property",
                                    "observer", "admin", "other_moderator", "other_resident")),
    "is_verified_resident": (can.is_verified_resident, _yes("resident", "tenant")),
    "is_verified_owner": (can.is_verified_owner, _yes("resident")),
    "is_staff": (can.is_staff, _yes("moderator", "association", "property", "observer")),
    "grant moderator": (lambda u, c: can.can_grant_role(u, c, Role.MODERATOR),
                        _yes("admin", "moderator")),
    "grant property": (lambda u, c: can.can_grant_role(u, c, Role.PROPERTY),
                       _yes("admin", "moderator")),
    "grant resident": (lambda u, c: can.can_grant_role(u, c, Role.RESIDENT), _yes()),
    "can_propose": (can.can_propose, _yes("resident", "tenant")),
    "can_cosign": (can.can_cosign, _yes("resident", "tenant")),
    "can_comment": (can.can_comment, _yes("resident", "tenant", "moderator", "association",
                                          "property")),
    "can_triage": (can.can_triage, _yes("moderator")),
    "can_respond": (can.can_respond, _yes("moderator", "association", "property")),
    "can_report": (can.can_report, _yes("resident", "tenant")),
    "can_moderate": (can.can_moderate, _yes("moderator")),
}


@pytest.mark.parametrize("name", TABLE)
def test_truth_table(people, name):
    community, p = people
    predicate, expected = TABLE[name]
    got = {role: bool(predicate(p[role], community)) for role in ROLES}
    assert got == expected


def test_revoke_truth_table(ctx, make):
    from civic.communities.models import Membership
    from civic.extensions import db
    here = make.community()
    mod, mod2, admin = make.staff(here, "moderator"), make.staff(here, "moderator"), make.admin()
    res = make.resident(here)
    prop = make.staff(here, "property")
    other_mod = make.staff(make.community(), "moderator")
    m = {u: db.session.query(Membership).filter_by(user_id=u.id, community_id=here.id).one()
         for u in (mod, mod2, res, prop)}
    assert can.can_revoke(mod, m[res]) and can.can_revoke(mod, m[prop]) and can.can_revoke(mod, m[mod2])
    assert not can.can_revoke(mod, m[mod])            # never one's own
    assert not can.can_revoke(prop, m[res])
    assert not can.can_revoke(res, m[res])
    assert not can.can_revoke(other_mod, m[res])      # other community
    assert can.can_revoke(admin, m[mod]) and not can.can_revoke(admin, m[res])
    assert not can.can_revoke(None, m[res])
