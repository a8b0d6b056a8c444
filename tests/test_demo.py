"""The demo community a newcomer loads: every role, realistic roster, verifiable chain."""
from decimal import Decimal

from civic.accounts.operations import authenticate
from civic.audit.operations import verify_chain
from civic.communities.models import Community, Membership, Owner, Role, Unit
from civic.demo import DEMO_PASSWORD, DEMO_USERS
from civic.extensions import db
from civic.issues.models import Issue


def test_demo_load_is_complete_and_idempotent(runner, app):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0 and "huayuan" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "已存在" in second.output
    with app.test_request_context():
        c = db.session.query(Community).filter_by(slug="huayuan").one()
        units = db.session.query(Unit).filter_by(community_id=c.id).all()
        assert len(units) == 120 and len(c.buildings) == 3
        assert all(Decimal("30") < u.area < Decimal("200") for u in units)
        dev = db.session.query(Owner).filter_by(community_id=c.id, is_developer=True).one()
        assert len(dev.units) == 4
        roles = {m.role for m in db.session.query(Membership).filter_by(community_id=c.id)}
        assert roles == set(Role)
        for phone, *_ in DEMO_USERS:
            assert authenticate(phone, DEMO_PASSWORD) is not None
        assert verify_chain().ok
        states = {i.state.value for i in db.session.query(Issue).filter_by(community_id=c.id)}
        assert states == {"draft", "collecting", "awaiting_triage", "expired", "accepted",
                          "declined"}
