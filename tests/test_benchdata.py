"""The benchmark data generator (`flask bench generate`, civic.benchdata) at a tiny scale:
row counts, the schema's invariants, the pages over the generated data, determinism."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, inspect, select, text

from civic import benchdata
from civic.benchdata import BENCH_PASSWORD, build, sizes
from civic.communities.models import Community, Membership, Unit
from civic.audit.chain import canonical_json
from civic.consultation.models import Consultation, Option, Round, Seat, SeatVote
from civic.consultation.operations import compute_frozen_hash
from civic.decisions.models import Decision, DecisionState, Outcome
from civic.decisions.operations import compute_content_hash, tally_payload
from civic.extensions import db
from civic.implementation.models import Expense
from civic.issues.models import Cosign, Issue, IssueState

SCALE = 0.005


@pytest.fixture
def generated(app, runner):
    result = runner.invoke(args=["bench", "generate", "--scale", str(SCALE), "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "cosign" in result.output and BENCH_PASSWORD in result.output
    return sizes(SCALE)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_row_counts_scale_as_asked(app, generated):
    n = generated
    assert n == {"communities": 2, "units": 500, "issues": 100, "cosigns": 5000,
                 "decisions": 25, "expenses": 250}
    with app.app_context():
        assert _count(Community) == n["communities"]
        assert _count(Unit) == n["units"]
        assert _count(Issue) == n["issues"]
        assert _count(Cosign) == n["cosigns"]
        assert _count(Decision) == n["decisions"]
        assert _count(Expense) == n["expenses"]


def test_cosigns_are_counted_and_by_verified_households_of_the_community(app, generated):
    with app.app_context():
        per_issue = dict(db.session.execute(
            select(Cosign.issue_id, func.count()).group_by(Cosign.issue_id)).all())
        for iid, stored in db.session.execute(select(Issue.id, Issue.cosign_count)):
            assert stored == per_issue.get(iid, 0), iid
        # every co-sign: the signer's active resident membership of that unit, same community
        stray = db.session.scalar(text(
            "SELECT count(*) FROM cosign c JOIN issue i ON i.id = c.issue_id "
            "WHERE NOT EXISTS (SELECT 1 FROM membership m WHERE m.user_id = c.user_id "
            "AND m.unit_id = c.unit_id AND m.community_id = i.community_id "
            "AND m.role = 'resident' AND m.status = 'active')"))
        assert stray == 0
        # one household per unit
        assert db.session.scalar(text(
            "SELECT count(*) FROM (SELECT unit_id FROM membership WHERE role = 'resident' "
            "GROUP BY unit_id HAVING count(*) > 1) x")) == 0


def test_every_state_with_consistent_thresholds_and_times(app, generated):
    with app.app_context():
        issues = db.session.scalars(select(Issue)).all()
        assert {i.state for i in issues} == set(IssueState)
        before = (IssueState.DRAFT, IssueState.COLLECTING, IssueState.EXPIRED,
                  IssueState.WITHDRAWN)
        for i in issues:
            if i.state is IssueState.DRAFT:
                assert i.collecting_at is None and i.cosign_count == 0
                continue
            assert i.created_at <= i.collecting_at < i.expires_at
            if i.state in before:
                assert i.cosign_count < i.need_households and i.threshold_at is None
            else:
                assert i.cosign_count >= i.need_households
                assert i.collecting_at <= i.threshold_at <= i.expires_at
            if i.state in (IssueState.EXPIRED, IssueState.WITHDRAWN, IssueState.DECLINED,
                           IssueState.MERGED, IssueState.REFERRED, IssueState.COMPLETED):
                assert i.closed_at is not None
            if i.state in (IssueState.COMPLETED, IssueState.UNDER_REVIEW):
                assert i.completed_at is not None and i.rating_window == 1
            if i.state is IssueState.UNDER_REVIEW:
                assert i.review_opened_at is not None


def test_decisions_have_rounds_seats_votes_and_the_apps_hash(app, generated):
    with app.app_context():
        decisions = db.session.scalars(select(Decision)).all()
        assert decisions
        assert {d.outcome for d in decisions} == set(Outcome)
        for d in decisions:
            assert d.content_hash == compute_content_hash(d)
            # the tally and the rounds' frozen hashes are what the app computes from the rows
            assert d.tally == canonical_json(tally_payload(db.session.get(Consultation,
                                                                           d.consultation_id)))
            for r in db.session.scalars(select(Round).where(
                    Round.consultation_id == d.consultation_id)):
                assert r.frozen_hash == compute_frozen_hash(r)
            issue = db.session.get(Issue, d.issue_id)
            assert issue.state in (IssueState.DECIDED, IssueState.IN_PROGRESS,
                                   IssueState.COMPLETED, IssueState.UNDER_REVIEW)
            rnd = db.session.get(Round, d.round_id)
            assert rnd.consultation_id == d.consultation_id and rnd.closed_at is not None
            seats = db.session.scalars(select(Seat).where(Seat.round_id == rnd.id)).all()
            assert {s.body.value for s in seats} == {"committee", "association", "property"}
            options = db.session.scalars(select(Option).where(Option.round_id == rnd.id)).all()
            assert [o.is_status_quo for o in sorted(options, key=lambda o: o.position)][0]
            votes = db.session.scalar(select(func.count()).where(SeatVote.round_id == rnd.id))
            assert votes == len(seats) * len(options)
            if d.outcome is Outcome.ADOPTED:
                assert rnd.adopted_option_id == d.adopted_option_id
            else:
                assert d.adopted_option_id is None and d.budget_fen == 0
            if d.state is DecisionState.PUBLICITY:
                assert issue.state is IssueState.DECIDED


def test_expenses_are_within_effective_budgets(app, generated):
    with app.app_context():
        spent = db.session.execute(select(Expense.decision_id, func.sum(Expense.amount_fen),
                                          func.min(Expense.amount_fen))
                                   .group_by(Expense.decision_id)).all()
        assert spent
        for decision_id, total, smallest in spent:
            d = db.session.get(Decision, decision_id)
            assert d.state is DecisionState.EFFECTIVE and d.outcome is Outcome.ADOPTED
            assert 0 < smallest and total <= d.budget_fen


def test_audit_chain_verifies_and_a_second_run_is_refused(app, runner, generated):
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    again = runner.invoke(args=["bench", "generate", "--scale", str(SCALE)])
    assert again.exit_code == 2
    with app.app_context():
        assert _count(Community) == generated["communities"]


def _targets(app):
    with app.app_context():
        c = db.session.scalars(select(Community).order_by(Community.id)).first()
        word = db.session.scalar(select(Issue.title).where(
            Issue.community_id == c.id, Issue.state != IssueState.DRAFT).limit(1))[-4:]
        issue = db.session.scalar(select(Issue.number).where(
            Issue.community_id == c.id, Issue.state == IssueState.COLLECTING).limit(1))
        spent = db.session.scalar(select(Issue.number).join(Expense, Expense.issue_id == Issue.id)
                                  .where(Issue.community_id == c.id).limit(1))
        d = db.session.execute(select(Issue.number, Decision.version)
                               .join(Decision, Decision.issue_id == Issue.id)
                               .where(Issue.community_id == c.id).limit(1)).first()
        resident = db.session.scalar(
            select(Membership).where(Membership.community_id == c.id,
                                     Membership.role == "resident").limit(1))
        phone = resident.user.phone
        s = c.slug
        urls = [f"/c/{s}/", f"/c/{s}/issues/", f"/c/{s}/issues/?q={word}",
                f"/c/{s}/issues/?page=2", f"/c/{s}/issues/{issue}/",
                f"/c/{s}/decisions/", f"/c/{s}/issues/{d.number}/decisions/{d.version}",
                f"/c/{s}/issues/{spent}/implementation", f"/c/{s}/stats",
                f"/streets/{c.district}/stats", "/api/v1/communities",
                f"/api/v1/communities/{s}/issues", f"/api/v1/communities/{s}/decisions",
                f"/api/v1/communities/{s}/expenses", f"/api/v1/communities/{s}/stats",
                f"/api/v1/streets/{c.district}/stats"]
        return urls, phone, s, issue, word


def test_pages_render_for_a_visitor_and_a_generated_resident(app, client, auth, generated):
    urls, phone, slug, issue, word = _targets(app)
    for url in urls:
        assert client.get(url).status_code == 200, url
    listed = client.get(f"/c/{slug}/issues/?q={word}").get_data(as_text=True)
    assert word in listed
    resp = auth.login(phone, BENCH_PASSWORD)
    assert resp.status_code in (302, 303) and "/login" not in resp.headers["Location"]
    for url in urls:
        assert client.get(url).status_code == 200, url
    # ids continue after the generated rows (sequences moved on PostgreSQL): the resident
    # co-signs a collecting issue, unless their household already did
    with app.app_context():
        before = db.session.scalar(select(Issue.cosign_count).join(Community).where(
            Community.slug == slug, Issue.number == issue))
    resp = client.post(f"/c/{slug}/issues/{issue}/cosign", data={"comment": ""})
    assert resp.status_code in (303, 409), resp.status_code
    with app.app_context():
        after = db.session.scalar(select(Issue.cosign_count).join(Community).where(
            Community.slug == slug, Issue.number == issue))
        assert after == before + (1 if resp.status_code == 303 else 0)
        assert after == db.session.scalar(select(func.count()).select_from(Cosign).join(
            Issue).join(Community).where(Community.slug == slug, Issue.number == issue))


def test_same_seed_same_data(app):
    now = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)
    with app.app_context():
        a = build(0.002, seed=3, now=now).fingerprint()
        assert build(0.002, seed=3, now=now).fingerprint() == a
        assert build(0.002, seed=4, now=now).fingerprint() != a


def _schema(app) -> dict:
    with app.app_context():
        insp = inspect(db.engine)
        return {t: (sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                           for i in insp.get_indexes(t)),
                    sorted((k["name"] or "", tuple(k["constrained_columns"]), k["referred_table"])
                           for k in insp.get_foreign_keys(t)),
                    sorted((u["name"] or "", tuple(u["column_names"]))
                           for u in insp.get_unique_constraints(t)))
                for t in benchdata.TABLES}


def test_bulk_load_leaves_keys_and_indexes_as_migrated(app, runner, monkeypatch):
    """On PostgreSQL the big tables are loaded without their foreign keys and plain indexes,
    which are created again afterwards; here every table with 200 rows or more is."""
    monkeypatch.setattr(benchdata, "BULK_DDL_ROWS", 200)
    before = _schema(app)
    assert any(keys for _i, keys, _u in before.values())
    result = runner.invoke(args=["bench", "generate", "--scale", "0.002"])
    assert result.exit_code == 0, result.output
    assert _schema(app) == before
    with app.app_context():
        assert _count(Cosign) == sizes(0.002)["cosigns"]
