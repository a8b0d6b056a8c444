"""Builders and helpers for moderation tests."""
import json

import pytest

from civic.extensions import db


@pytest.fixture
def make_comment(app):
    """make_comment(issue_id, author, body="…", parent_id=None) → comment id, through the
    real operation."""
    def build(issue_id, author, body="楼上说得不对", parent_id=None):
        from civic.accounts.models import User
        from civic.issues import operations as ops
        from civic.issues.models import Issue
        with app.test_request_context("/", method="POST"):
            c = ops.add_comment(db.session.get(User, author.id), db.session.get(Issue, issue_id),
                                body, parent_id=parent_id)
            db.session.commit()
            return c.id
    return build


def report(client, community, kind, target_id, reason="人身攻击", detail="", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/c/{community.slug}/report/{kind}/{target_id}",
                       data={"reason": reason, "detail": detail}, headers=headers)


def moderate(client, community, kind, target_id, action, reason="违反议事规则"):
    return client.post(f"/c/{community.slug}/manage/moderate/{kind}/{target_id}/{action}",
                       data={"reason": reason})


def member_action(client, community, membership_id, action, reason="多次人身攻击"):
    return client.post(f"/c/{community.slug}/manage/members/{membership_id}/{action}",
                       data={"reason": reason})


def membership_of(app, user, community):
    from civic.communities.models import Membership, Role
    with app.app_context():
        return db.session.query(Membership).filter_by(
            user_id=user.id, community_id=community.id, role=Role.RESIDENT).one()


def hidden_at(app, model, obj_id):
    with app.app_context():
        return db.session.get(model, obj_id).hidden_at


def events(app, action):
    """[(object_type, object_id, payload dict)] of the audit events with this action."""
    from civic.audit.models import AuditEvent
    with app.app_context():
        return [(e.object_type, e.object_id, json.loads(e.payload)) for e in
                db.session.query(AuditEvent).filter_by(action=action).order_by(AuditEvent.seq)]


def notifications(app, user, kind):
    from civic.notifications.models import Notification
    with app.app_context():
        return [json.loads(n.params) for n in
                db.session.query(Notification).filter_by(user_id=user.id, kind=kind)]
