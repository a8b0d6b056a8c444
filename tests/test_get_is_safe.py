"""No state change on GET: every GET route of the app, filled in with objects of the demo
community, is requested by each kind of visitor (anonymous, resident, moderator, owners'
committee, property), and every table of the database is exactly as before — same rows,
same values. The routes come from the URL map, so a new route is walked too."""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select, text

from civic.ballots.models import Ballot, BallotVote
from civic.communities.models import Building, Community, Membership, Role, Unit
from civic.consultation.models import Round
from civic.decisions.models import Decision
from civic.demo import DEMO_PASSWORD
from civic.extensions import db
from civic.implementation.models import Expense, ProgressUpdate
from civic.issues.models import Comment, Issue, IssuePhoto

#: a route may answer anything but a server error; what matters is the database after
SERVER_ERROR = 500


def _snapshot() -> str:
    """A digest of every row of every table, in primary-key order."""
    h = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        order = ", ".join(c.name for c in table.primary_key.columns) or "1"
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}')):
            h.update(repr((table.name, tuple(row))).encode())
    return h.hexdigest()


def _values() -> dict:
    """For each URL argument, a value naming a real object of the demo (the most lived-in
    one where there is a choice)."""
    c = db.session.scalar(select(Community).where(Community.slug == "huayuan"))
    decided = db.session.scalar(select(Decision).order_by(Decision.id))
    issue = db.session.get(Issue, decided.issue_id)
    rnd = db.session.scalar(select(Round).where(Round.community_id == c.id)
                            .order_by(Round.id))
    spent = db.session.scalar(select(Expense).order_by(Expense.id))
    photo = db.session.scalar(select(IssuePhoto))
    update = db.session.scalar(select(ProgressUpdate).where(ProgressUpdate.photos.any()))
    vote = db.session.scalar(select(BallotVote).where(BallotVote.proxy_document.is_not(None)))
    comment = db.session.scalar(select(Comment))
    resident = db.session.scalar(select(Membership).where(
        Membership.community_id == c.id, Membership.role == Role.RESIDENT))
    return {
        "slug": c.slug, "district": c.district, "number": issue.number,
        "version": decided.version, "k": rnd.number,
        "building_id": db.session.scalar(select(Building.id).where(
            Building.community_id == c.id)),
        "unit_id": db.session.scalar(select(Unit.id).where(Unit.community_id == c.id)),
        "membership_id": resident.id,
        "kind": "issue" if comment is None else "comment",
        "target_id": issue.id if comment is None else comment.id,
        "vote_id": vote.id if vote else 1,
        "stem": photo.stem if photo else "x",
        "receipt_stem": spent.receipts[0].stem if spent else "x",
        "progress_stem": update.photos[0].stem if update else "x",
        "expense_issue": db.session.get(Issue, spent.issue_id).number if spent else 1,
        "ballot": db.session.scalar(select(Ballot.number).where(Ballot.community_id == c.id)),
        "option_id": 1, "objection_id": 1, "seat_id": 1, "code": "x", "token": "x",
    }


def _urls(app, values: dict, method: str = "GET") -> list[str]:
    """Every URL of the map answering `method`, its arguments filled from `values`."""
    from flask import url_for
    urls = []
    for rule in app.url_map.iter_rules():
        if method not in rule.methods:
            continue
        args = {}
        for name in rule.arguments:
            if name == "stem":
                args[name] = (values["receipt_stem"] if "receipt" in rule.endpoint else
                              values["progress_stem"] if "progress" in rule.endpoint else
                              values["stem"])
            elif name == "filename":
                args[name] = "css/civic.css"
            elif name == "number" and rule.endpoint.startswith("implementation."):
                args[name] = values["expense_issue"]
            elif name == "number" and rule.endpoint.startswith("ballots."):
                args[name] = values["ballot"]
            else:
                args[name] = values.get(name) or 1
        # an <any(a, b):name> argument takes its first word
        for words, name in re.findall(r"<any\(([^)]*)\):(\w+)>", rule.rule):
            args[name] = words.split(",")[0].strip()
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **args))
    return sorted(set(urls))


@pytest.fixture
def demo(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    return app


@pytest.mark.parametrize("who", [None, "13800000005", "13800000001", "13800000002",
                                 "13800000003"],
                         ids=["anonymous", "resident", "moderator", "association", "property"])
def test_no_get_route_changes_the_database(demo, who):
    client = demo.test_client()
    if who:
        assert client.post("/login", data={"phone": who, "password": DEMO_PASSWORD}
                           ).status_code == 303
    with demo.app_context():
        urls = _urls(demo, _values())
        before = _snapshot()
        db.session.remove()
    answered = {}
    for url in urls:
        resp = client.get(url)
        assert resp.status_code != SERVER_ERROR, url
        answered[url] = resp.status_code
    with demo.app_context():
        after = _snapshot()
        db.session.remove()
    assert after == before
    # the walk reached real pages, not only refusals
    assert sum(1 for s in answered.values() if s == 200) >= 40, answered


def test_the_snapshot_sees_a_change(demo):
    """The comparison above can fail: one changed value in one row changes the digest."""
    with demo.app_context():
        before = _snapshot()
        db.session.execute(text("UPDATE issue SET cosign_count = cosign_count + 1 "
                                "WHERE id = (SELECT min(id) FROM issue)"))
        db.session.commit()
        assert _snapshot() != before
        db.session.remove()
