"""A suspension cannot be lifted by the resident through verification, and a suspended
membership can still be revoked."""
from civic.communities.models import Membership, MembershipStatus, Tenure, Unit
from civic.communities import operations as community_ops
from civic.domain import DomainError
from civic.extensions import db
from civic import permissions

import pytest


def test_suspended_resident_cannot_rejoin_or_be_rebound(app, make):
    c = make.community()
    resident = make.resident(c, status="suspended")
    with app.test_request_context("/", method="POST"):
        from civic.accounts.models import User
        from civic.communities.models import Community
        user = db.session.get(User, resident.id)
        community = db.session.get(Community, c.id)
        assert not permissions.can_join(user, community)
        unit = db.session.query(Unit).filter_by(community_id=c.id).first()
        with pytest.raises(DomainError, match="已被暂停"):
            community_ops.bind_resident(user, unit, Tenure.OWNER, actor=None, via="code")


def test_suspended_membership_can_be_revoked(app, make):
    c = make.community()
    moderator = make.staff(c, "moderator")
    resident = make.resident(c, status="suspended")
    with app.test_request_context("/", method="POST"):
        from civic.accounts.models import User
        m = db.session.query(Membership).filter_by(user_id=resident.id).one()
        mod = db.session.get(User, moderator.id)
        assert permissions.can_revoke(mod, m)
        community_ops.revoke(mod, m, "已搬离")
        assert m.status is MembershipStatus.REVOKED
