"""Community rules: creating communities, granting and revoking roles."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from civic import clock
from civic.accounts.models import User
from civic.audit import operations as audit
from civic.communities.models import (Community, Membership, MembershipStatus, Role, Tenure,
                                      Unit)
from civic.domain import DomainError, Invalid
from civic.extensions import db

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")


def create_community(actor: User, slug: str, name: str, district: str = "") -> Community:
    """Raises Invalid for a malformed or taken slug."""
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise Invalid(_("网址标识只能用小写字母、数字和连字符，3 到 40 个字符。"), field="slug")
    if db.session.execute(select(Community.id).where(Community.slug == slug)).first():
        raise Invalid(_("这个网址标识已被使用。"), field="slug")
    c = Community(slug=slug, name=name.strip(), district=district.strip())
    db.session.add(c)
    db.session.flush()
    audit.record("community.create", c, actor=actor, community_id=c.id, slug=slug)
    return c


def _membership(user: User, community: Community, role: Role) -> Membership | None:
    return db.session.execute(select(Membership).where(
        Membership.user_id == user.id, Membership.community_id == community.id,
        Membership.role == role)).scalar_one_or_none()


def grant_staff_role(actor: User, community: Community, user: User, role: Role,
                     title: str = "") -> Membership:
    """Grant a staff role. The grantee's sessions are rotated: they log in afresh.

    Raises Invalid for a non-staff role or an already active grant.
    """
    if not role.is_staff:
        raise Invalid(_("只能授予工作人员角色。"), field="role")
    m = _membership(user, community, role)
    if m is not None and m.is_active:
        raise Invalid(_("此人已经担任这个角色。"), field="phone")
    if m is None:
        m = Membership(user_id=user.id, community_id=community.id, role=role)
        db.session.add(m)
    m.status, m.title, m.granted_by_id = MembershipStatus.ACTIVE, title.strip()[:40], actor.id
    m.revoked_at, m.revoked_reason = None, ""
    user.rotate_session()
    db.session.flush()
    audit.record("role.grant", m, actor=actor, role=role.value, grantee=user.pseudonym)
    return m


def bind_resident(user: User, unit: Unit, tenure: Tenure, *, actor: User | None,
                  via: str) -> Membership:
    """Make `user` a verified resident of `unit` (their household). `via`: code or claim.

    Raises DomainError if the user is already a verified resident of this community.
    """
    community_id = unit.community_id
    m = db.session.execute(select(Membership).where(
        Membership.user_id == user.id, Membership.community_id == community_id,
        Membership.role == Role.RESIDENT)).scalar_one_or_none()
    if m is not None and m.is_active:
        raise DomainError(_("你已经是本小区的认证居民。"))
    if m is not None and m.status is MembershipStatus.SUSPENDED:
        raise DomainError(_("你在本小区的居民身份已被暂停，请联系居委会。"))
    if m is None:
        m = Membership(user_id=user.id, community_id=community_id, role=Role.RESIDENT,
                       unit_id=unit.id)
        db.session.add(m)
    m.unit_id, m.tenure, m.status = unit.id, tenure, MembershipStatus.ACTIVE
    m.granted_by_id = actor.id if actor else None
    m.revoked_at, m.revoked_reason = None, ""
    db.session.flush()
    audit.record("resident.verify", m, actor=actor or user, unit=unit.id, tenure=tenure.value,
                 via=via, resident=user.pseudonym)
    return m


def revoke(actor: User, membership: Membership, reason: str) -> None:
    """End a membership. Raises Invalid without a reason, DomainError if already revoked."""
    reason = reason.strip()
    if not reason:
        raise Invalid(_("请写明撤销原因。"), field="reason")
    if membership.status is MembershipStatus.REVOKED:
        raise DomainError(_("这个身份已经撤销。"))
    membership.status = MembershipStatus.REVOKED
    membership.revoked_at = clock.now()
    membership.revoked_reason = reason[:200]
    membership.user.rotate_session()
    audit.record("role.revoke", membership, actor=actor, role=membership.role.value,
                 member=membership.user.pseudonym)
