"""Builders for decision tests: a consultation whose last round is closed (through the
operations), then everything else through HTTP."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from civic import clock
from civic.audit.models import AuditEvent
from civic.consultation import operations as ops
from civic.consultation.models import FundingSource, Round
from civic.consultation.rules import Body, Vote
from civic.decisions.models import Decision, Objection
from civic.extensions import db
from civic.issues.models import Issue
from civic.notifications.models import Notification
from tests.consultation.conftest import later
from tests.consultation.test_rounds import THREE, U, consultation

HX = {"HX-Request": "true"}
PLAN = "更换排水泵并加装挡水板"


def run(app, fn):
    """fn() in a POST request context (a write transaction, like a request), committed."""
    with app.test_request_context("/", method="POST"):
        result = fn()
        db.session.commit()
        return result


def read(app, fn):
    """fn() in a short app context, for reading plain values after requests."""
    with app.app_context():
        return fn()


def close_round(app, h, *, result: str = "plan", owners_item: int | None = None,
                cost: int = 1_800_000, minutes: str = "published") -> int:
    """Schedule, seat, open, vote and close a round of the hall's issue.

    result: "plan" (the plan is adopted), "status_quo" (维持现状 is adopted) or "none"
    (nothing passes). minutes: "published", "confirming" (one body has not confirmed) or
    "none". Returns the round number."""
    def go():
        mod = U(h.mod)
        starts = later(days=3, hours=1)
        rnd = ops.schedule_round(mod, consultation(h), agenda="地下车库积水如何处理",
                                 place="居委会二楼", online=False, starts_at=starts,
                                 closes_at=starts + timedelta(hours=2))
        for name, body in THREE:
            ops.add_seat(mod, rnd, U(getattr(h, name)), body)
        plan = ops.add_option(mod, rnd, PLAN, "由物业组织施工，工期 45 天", cost,
                              FundingSource.MAINTENANCE_FUND, Body.PROPERTY,
                              owners_item=owners_item)
        db.session.commit()
        clock.freeze(rnd.starts_at)
        ops.open_round(mod, rnd)
        status_quo = ops.options_of(rnd.id)[0]
        for who in ("mod", "assoc", "prop"):
            person = U(getattr(h, who))
            if result == "plan":
                ops.cast_vote(person, rnd.id, plan.id, Vote.AGREE, "雨季前必须解决")
                ops.cast_vote(person, rnd.id, status_quo.id, Vote.OPPOSE, "积水影响出行")
            elif result == "status_quo":
                ops.cast_vote(person, rnd.id, plan.id, Vote.OPPOSE, "费用超出维修资金预算")
                ops.cast_vote(person, rnd.id, status_quo.id, Vote.AGREE)
            else:
                ops.cast_vote(person, rnd.id, plan.id,
                              Vote.OPPOSE if who == "assoc" else Vote.AGREE, "意见不一")
        ops.close_round(mod, rnd)
        if minutes != "none":
            ops.write_minutes(mod, rnd, "会议纪要：三方到会，**一致同意**更换排水泵。")
            ops.submit_minutes(mod, rnd)
            who = ("mod", "assoc", "prop") if minutes == "published" else ("mod", "assoc")
            for name in who:
                ops.confirm_minutes(U(getattr(h, name)), rnd, True)
        return rnd.number
    return run(app, go)


def due_text(days: int = 60) -> str:
    return (clock.now() + timedelta(days=days)).date().isoformat()


def publish_data(**over) -> dict:
    data = {"summary": "采纳更换排水泵方案，雨季前完工。", "lead": "property",
            "due_on": due_text(), "budget": "18,000.00", "funding_source": "maintenance_fund"}
    data.update(over)
    return data


def base(h) -> str:
    return f"/c/{h.community.slug}/issues/{h.number}"


def publish(client, h, **over):
    return client.post(f"{base(h)}/decisions/new", data=publish_data(**over))


def decision(app, h, version: int = 1) -> Decision | None:
    def get():
        d = db.session.scalar(select(Decision).where(Decision.issue_id == h.issue_id,
                                                     Decision.version == version))
        if d is not None:
            db.session.expunge(d)
        return d
    return read(app, get)


def issue(app, h) -> Issue:
    def get():
        i = db.session.get(Issue, h.issue_id)
        db.session.expunge(i)
        return i
    return read(app, get)


def count(app, model, *where) -> int:
    return read(app, lambda: db.session.scalar(select(func.count()).select_from(model)
                                               .where(*where)))


def objections(app, decision_id: int) -> list[Objection]:
    def get():
        items = list(db.session.scalars(select(Objection).where(
            Objection.decision_id == decision_id).order_by(Objection.id)))
        for o in items:
            db.session.expunge(o)
        return items
    return read(app, get)


def notified(app, kind: str) -> list[int]:
    return read(app, lambda: sorted(db.session.scalars(
        select(Notification.user_id).where(Notification.kind == kind))))


def audit_count(app, action: str) -> int:
    return count(app, AuditEvent, AuditEvent.action == action)


def last_round(app, h) -> Round:
    def get():
        r = db.session.scalar(select(Round).where(Round.community_id == h.community.id)
                              .order_by(Round.id.desc()).limit(1))
        db.session.expunge(r)
        return r
    return read(app, get)


def text_of(resp) -> str:
    return resp.get_data(as_text=True)


def flashes(client) -> list[str]:
    with client.session_transaction() as s:
        return [m for _, m in s.get("_flashes", [])]


def field_value(html: str, name: str) -> str | None:
    m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    return m.group(1) if m else None


def client_for(app, user):
    """A test client of its own, logged in as `user`."""
    from tests.conftest import Auth
    client = app.test_client()
    resp = Auth(client).login(user)
    assert resp.status_code == 303, resp.status_code
    return client


def published(app, h, **over) -> Decision:
    """Close a round with the plan adopted and publish it through HTTP as the moderator."""
    close_round(app, h, **{k: over.pop(k) for k in ("result", "owners_item", "cost")
                           if k in over})
    resp = client_for(app, h.mod).post(f"{base(h)}/decisions/new", data=publish_data(**over))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return decision(app, h)
