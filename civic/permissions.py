"""Who may do what: pure predicates used by views and templates alike.

Every predicate takes the current user (possibly anonymous) and the object acted on, and
answers from the user's memberships in *that object's* community only.
"""
from __future__ import annotations

from civic.communities.models import Membership, Role


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _cid(community_or_id) -> int:
    return community_or_id if isinstance(community_or_id, int) else community_or_id.id


def is_admin(user) -> bool:
    return _authenticated(user) and bool(user.is_admin)


def memberships_in(user, community) -> list[Membership]:
    """The user's active memberships in this community."""
    if not _authenticated(user):
        return []
    cid = _cid(community)
    return [m for m in user.memberships if m.community_id == cid and m.is_active]


def roles_in(user, community) -> set[Role]:
    return {m.role for m in memberships_in(user, community)}


def residency(user, community) -> Membership | None:
    """The user's active resident membership (their household) here, if verified."""
    for m in memberships_in(user, community):
        if m.role is Role.RESIDENT:
            return m
    return None


def has_role(user, community, role: Role) -> bool:
    return role in roles_in(user, community)


def is_staff(user, community) -> bool:
    return any(r.is_staff for r in roles_in(user, community))


def is_moderator(user, community) -> bool:
    return has_role(user, community, Role.MODERATOR)


# --- site administration -------------------------------------------------------------

def can_create_community(user) -> bool:
    return is_admin(user)


def can_appoint_moderator(user, community) -> bool:
    return is_admin(user) or is_moderator(user, community)


# --- community management ------------------------------------------------------------

def can_manage(user, community) -> bool:
    """Open the committee's management pages at all."""
    return is_moderator(user, community)


def can_view_roster(user, community) -> bool:
    """Roster owner names are personal data: moderators only."""
    return is_moderator(user, community)


def can_edit_roster(user, community) -> bool:
    return is_moderator(user, community)


def can_issue_codes(user, community) -> bool:
    return is_moderator(user, community)


def can_review_claims(user, community) -> bool:
    return is_moderator(user, community)


def can_view_members(user, community) -> bool:
    return is_moderator(user, community)


def can_grant_role(user, community, role: Role) -> bool:
    """Staff roles are granted by a moderator of the community or the site admin."""
    if not role.is_staff:
        return False
    return is_admin(user) or is_moderator(user, community)


def can_revoke(user, membership: Membership) -> bool:
    """Moderators revoke memberships of their community, but never their own."""
    if (not _authenticated(user) or membership.user_id == user.id
            or membership.status.value == "revoked"):
        return False
    return is_moderator(user, membership.community_id) or (
        is_admin(user) and membership.role is Role.MODERATOR)


# --- residents -------------------------------------------------------------------------

def can_join(user, community) -> bool:
    """Ask to be verified to a unit here (by code or by claim) — not while suspended here."""
    if not _authenticated(user) or residency(user, community) is not None:
        return False
    cid = _cid(community)
    return not any(m.community_id == cid and m.status.value == "suspended"
                   for m in user.memberships)


def is_verified_resident(user, community) -> bool:
    return residency(user, community) is not None


def is_verified_owner(user, community) -> bool:
    m = residency(user, community)
    return m is not None and m.tenure is not None and m.tenure.value == "owner"


def can_propose(user, community) -> bool:
    return is_verified_resident(user, community)


def can_cosign(user, community) -> bool:
    """One co-sign per household: only verified residents speak for a household."""
    return is_verified_resident(user, community)


def can_comment(user, community) -> bool:
    """Verified residents and staff of the community; observers read only."""
    return bool(roles_in(user, community) - {Role.OBSERVER})


def can_triage(user, community) -> bool:
    """Accept, decline, merge, refer: the residents' committee."""
    return is_moderator(user, community)


def can_respond(user, community) -> bool:
    """Official responses: staff of the three bodies (not the street office)."""
    return official_membership(user, community) is not None


def official_membership(user, community) -> Membership | None:
    """The membership a staff member answers through: 居委会 before 物业 before 业委会."""
    ms = memberships_in(user, community)
    for role in (Role.MODERATOR, Role.PROPERTY, Role.ASSOCIATION):
        for m in ms:
            if m.role is role:
                return m
    return None


# --- moderation ----------------------------------------------------------------------

def can_report(user, community) -> bool:
    """Report content (one report per household): verified residents of the community."""
    return is_verified_resident(user, community)


def can_moderate(user, community) -> bool:
    """Hide, restore, see hidden content, suspend residents: the residents' committee."""
    return is_moderator(user, community)
