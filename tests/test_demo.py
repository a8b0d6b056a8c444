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
                          "declined", "in_consultation", "decided", "in_progress",
                          "completed"}
        # the joint meeting's history: two rounds on parking (the second voting now), a
        # decision in its publicity period, a lift plan before the owners of 1号楼
        from civic.ballots.models import Ballot, BallotState, BallotVote
        from civic.consultation.models import Round, RoundState
        from civic.decisions.models import Decision, DecisionState
        rounds = {(r.number, r.state) for r in db.session.query(Round)}
        assert (2, RoundState.OPEN) in rounds and (1, RoundState.CLOSED) in rounds
        assert {d.state for d in db.session.query(Decision)} == {
            DecisionState.PUBLICITY, DecisionState.AWAITING_BALLOT, DecisionState.EFFECTIVE}
        ballot = db.session.query(Ballot).one()
        assert ballot.state is BallotState.OPEN and not ballot.whole_community
        assert db.session.query(BallotVote).count() >= 10

        # work carried out: a ledger with a reversal (public income) and approved
        # maintenance-fund payments, progress updates, one issue completed
        from civic.implementation import operations as work
        from civic.consultation.models import FundingSource
        by_title = {i.title: i for i in db.session.query(Issue).filter_by(community_id=c.id)}
        fitness = work.ledger_of(by_title["健身器材老化需要更换"])
        assert fitness.spent_fen == 1_880_000 and fitness.budget_fen == 3_600_000
        assert any(line.entry.is_reversal for line in fitness.lines)
        path = work.ledger_of(by_title["南门人行道路面破损"])
        assert path.spent_fen == 2_200_000 and path.pending_fen == 0
        assert work.totals(c).source_total(FundingSource.MAINTENANCE_FUND) == 2_200_000
        assert work.updates_of(by_title["健身器材老化需要更换"])
        from civic.implementation import ratings
        rated = ratings.summary(by_title["南门人行道路面破损"])
        assert (rated.satisfied, rated.basic, rated.unsatisfied) == (3, 1, 1)
        assert by_title["南门人行道路面破损"].rating_closed_at is not None
