"""A building putting a lift to its owners: units, owners (one with two units), the
developer's unsold units, verified owners, a tenant, and the committee."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from civic import clock

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


@pytest.fixture
def estate(app, make):
    """Building 3: 3-101 (A, 90.00), 3-102 (A, 60.50), 3-201 (B, 89.37), 3-202 (C, 100.13),
    3-301 and 3-302 (developer, 75.00 each); building 5: 5-101 (D, 120.00), outside a
    building-3 ballot. Owners A, B, C, D verified; a tenant in 3-201."""
    clock.freeze(T0)
    c = make.community()
    b3, b5 = make.building(c, "3号楼"), make.building(c, "5号楼")
    a, b, cc, d = (make.owner(c, n) for n in ("甲", "乙", "丙", "丁"))
    dev = make.owner(c, "开发商", is_developer=True)
    units = {
        "3-101": make.unit(c, b3, "101", "90.00", a), "3-102": make.unit(c, b3, "102", "60.50", a),
        "3-201": make.unit(c, b3, "201", "89.37", b), "3-202": make.unit(c, b3, "202", "100.13", cc),
        "3-301": make.unit(c, b3, "301", "75.00", dev), "3-302": make.unit(c, b3, "302", "75.00", dev),
        "5-101": make.unit(c, b5, "101", "120.00", d),
    }
    h = SimpleNamespace(
        community=c, b3=b3, b5=b5, units=units,
        mod=make.staff(c, "moderator", title="居委会主任"),
        owner_a=make.resident(c, units["3-101"]),
        owner_b=make.resident(c, units["3-201"]),
        owner_c=make.resident(c, units["3-202"]),
        owner_d=make.resident(c, units["5-101"]),
        tenant=make.resident(c, units["3-201"], tenure="tenant"),
    )
    return h


def later(days: float = 0, hours: float = 0) -> datetime:
    return clock.now() + timedelta(days=days, hours=hours)


# --- HTTP helpers ---------------------------------------------------------------------------

HX = {"HX-Request": "true"}


def client_for(app, user):
    """A test client logged in as `user`."""
    from tests.conftest import PASSWORD
    client = app.test_client()
    resp = client.post("/login", data={"phone": user.phone, "password": PASSWORD})
    assert resp.status_code in (302, 303), resp.status_code
    return client


def load(app, ballot_id: int):
    """The ballot as stored now, detached (columns loaded)."""
    from civic.ballots.models import Ballot
    from civic.extensions import db
    with app.app_context():
        b = db.session.get(Ballot, ballot_id)
        db.session.expunge(b)
        return b


def run(app, fn):
    """fn() inside a POST request context, committed; returns its result."""
    from civic.extensions import db
    with app.test_request_context("/", method="POST"):
        out = fn()
        db.session.commit()
        return out


@pytest.fixture
def lift(app, estate):
    """A noticed ballot on using the maintenance fund (item 5) for a lift in building 3:
    opens 3 days 1 hour from T0, closes 14 days later; scheduled through the operations."""
    from civic.accounts.models import User
    from civic.ballots import operations as ops
    from civic.communities.models import Community
    from civic.extensions import db
    h = estate

    def schedule():
        opens = later(days=3, hours=1)
        b = ops.schedule(db.session.get(User, h.mod.id), db.session.get(Community, h.community.id),
                         title="3号楼加装电梯使用维修资金", question="是否同意使用专项维修资金加装电梯？",
                         item=5, opens_at=opens, closes_at=opens + timedelta(days=14),
                         building_ids=[h.b3.id])
        return b.id
    h.ballot_id = run(app, schedule)
    b = load(app, h.ballot_id)
    h.number, h.opens_at, h.closes_at = b.number, b.opens_at, b.closes_at
    h.url = f"/c/{h.community.slug}/ballots/{b.number}"
    return h


def open_now(app, h):
    """Move to the opening time and open the ballot (through the job)."""
    from civic.ballots import operations as ops
    clock.freeze(h.opens_at)
    assert run(app, ops.run_due)["opened"] == 1


# --- a decision waiting for the owners' ballot ------------------------------------------------

@pytest.fixture
def awaiting_decision(app, make, make_issue):
    """awaiting_decision(h) → decision id: in estate `h`'s community, an issue co-signed and
    accepted, one consultation round whose adopted plan is Art. 278 item 5 (using the
    maintenance fund), minutes confirmed by the three bodies, and the decision published —
    all through the real operations, so the decision is AWAITING_BALLOT. Moves the clock
    to the round's start."""
    def build(h) -> int:
        from civic.accounts.models import User
        from civic.consultation import operations as cops
        from civic.consultation.models import FundingSource
        from civic.consultation.rules import Body, Rule, Vote
        from civic.decisions import operations as dops
        from civic.decisions.models import DecisionState
        from civic.extensions import db
        from civic.issues import operations as issue_ops
        from civic.issues.models import Issue
        from civic.triage import operations as triage_ops
        from civic.triage.models import Body as TriageBody

        c = h.community
        h.assoc = make.staff(c, "association", title="业委会主任")
        h.prop = make.staff(c, "property", title="项目经理")
        issue_id, _number = make_issue(c, author=h.owner_c, need=1, title="3号楼加装电梯")
        U = lambda person: db.session.get(User, person.id)  # noqa: E731
        with app.test_request_context("/", method="POST"):
            issue_ops.cosign(U(h.owner_b), issue_id)
            issue = db.session.get(Issue, issue_id)
            triage_ops.accept(U(h.mod), issue, TriageBody.PROPERTY, [])
            con = cops.open_consultation(U(h.mod), issue)
            starts = clock.now() + timedelta(days=3, hours=1)
            rnd = cops.schedule_round(U(h.mod), con, agenda="3号楼加装电梯方案", place="居委会",
                                      online=False, starts_at=starts,
                                      closes_at=starts + timedelta(hours=2), rule=Rule.CONSENSUS)
            for who, body in (("mod", Body.COMMITTEE), ("assoc", Body.ASSOCIATION),
                              ("prop", Body.PROPERTY)):
                cops.add_seat(U(h.mod), rnd, U(getattr(h, who)), body)
            lift = cops.add_option(U(h.mod), rnd, "使用维修资金为3号楼加装电梯", "由物业组织施工",
                                   45_000_000, FundingSource.MAINTENANCE_FUND, Body.PROPERTY,
                                   owners_item=5)
            db.session.commit()
            clock.freeze(starts)
            cops.open_round(U(h.mod), rnd)
            db.session.commit()
            status_quo = cops.options_of(rnd.id)[0]
            for who in ("mod", "assoc", "prop"):
                cops.cast_vote(U(getattr(h, who)), rnd.id, lift.id, Vote.AGREE)
                cops.cast_vote(U(getattr(h, who)), rnd.id, status_quo.id, Vote.OPPOSE, "需要电梯")
            db.session.commit()
            cops.close_round(U(h.mod), rnd)
            cops.write_minutes(U(h.mod), rnd, "会议纪要：三方同意加装电梯方案。")
            cops.submit_minutes(U(h.mod), rnd)
            for who in ("mod", "assoc", "prop"):
                cops.confirm_minutes(U(getattr(h, who)), rnd, True)
            db.session.commit()
            d = dops.publish(U(h.mod), db.session.get(Issue, issue_id), summary="加装一部电梯",
                             due_on=clock.now().date() + timedelta(days=120))
            db.session.commit()
            assert d.state is DecisionState.AWAITING_BALLOT and d.owners_item == 5
            h.issue_number = db.session.get(Issue, issue_id).number
            h.decision_version = d.version
            return d.id
    return build


def decision_state(app, decision_id: int):
    from civic.decisions.models import Decision
    from civic.extensions import db
    with app.app_context():
        return db.session.get(Decision, decision_id).state
