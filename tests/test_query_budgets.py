"""Every page type renders with a constant number of SQL queries at the generated data shape.

The benchmark generator (civic.benchdata) fills the database once for the module, with the
two communities of a small scale split unevenly (three quarters and a quarter of the units,
issues, co-signs, decisions and expenses), and the demo community is loaded beside them for
what the generator does not write (photos, notifications, audit events). Comments,
reports, claims, invitation codes, staff, a counted ballot and categories of its own are
added to the generated communities: many to one object, one or a few to another.

Each GET page of the URL map is then visited, as the visitor it is meant for, for objects of
clearly different size (the community with more issues and the one with fewer, page 1 and
the last page, the issue with the most co-signs and comments and the one with the fewest, a
decision with many expenses and one with a single expense …): the number of statements must
be the same, and at most the page's budget in BUDGETS. A GET endpoint neither budgeted nor
in EXCLUDED fails the completeness check, so a new page has to get a budget.
"""
from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from civic import benchdata, clock, create_app
from civic.accounts.models import User
from civic.audit.models import AuditEvent
from civic.ballots.models import Ballot
from civic.benchdata import BENCH_PASSWORD
from civic.communities.models import Building, Community, Membership, Role, Tenure, Unit
from civic.consultation.models import Consultation, FundingSource, Round
from civic.decisions.models import Decision, DecisionState
from civic.demo import DEMO_PASSWORD
from civic.extensions import db, limiter
from civic.implementation.models import Expense
from civic.issues.models import Category, Comment, Cosign, Issue, IssueState
from civic.notifications.models import Notification
from tests.conftest import QueryCounter, _config, truncate_all

SCALE = 0.005

#: endpoint → the most statements one GET of it may send (signed-in pages include loading
#: the visitor and their memberships)
BUDGETS: dict[str, int] = {
    # the public record
    "accounts.index": 1, "accounts.login": 0, "accounts.register": 0,
    "communities.home": 6,
    "issues.index": 8, "issues.show": 27, "issues.cosigners": 5,
    "triage.precedents": 2,
    "consultation.show": 9, "consultation.round_page": 19, "consultation.frozen_json": 11,
    "decisions.index": 6, "decisions.show": 12, "decisions.content": 3,
    "implementation.show": 12, "implementation.spending": 6,
    "ballots.index": 2, "ballots.show": 8, "ballots.ballot_json": 2,
    "notices.ballot_result": 4,
    "archive.community": 5, "archive.street": 5, "audit.index": 2,
    "notices.decision_notice": 8, "notices.round_notice": 10, "notices.cosign_poster": 7,
    "notices.ballot_notice": 3, "notices.offline": 0,
    "opendata.decisions_csv": 4, "opendata.decisions_json": 4, "opendata.decisions_atom": 4,
    "opendata.issues_csv": 3, "opendata.issues_json": 3, "opendata.expenses_csv": 6,
    "opendata.expenses_json": 6, "opendata.ballots_csv": 3, "opendata.ballots_json": 3,
    "opendata.stats_csv": 5, "opendata.stats_json": 5,
    "api.docs": 0, "api.openapi": 0, "api.communities": 2, "api.issues": 4,
    "api.decisions": 4, "api.expenses": 7, "api.ballots": 4, "api.stats": 5,
    "api.street_stats": 5,
    # a signed-in user's own pages
    "accounts.profile": 6, "accounts.change_password": 2, "accounts.delete_account": 2,
    "accounts.export_data": 41, "notifications.index": 4, "notifications.settings": 3,
    "verification.redeem": 2, "verification.claim": 8,
    # a resident's forms
    "issues.new": 6, "issues.edit": 10, "decisions.new": 12, "moderation.report": 6,
    # the community's staff
    "issues.rules": 5, "triage.dashboard": 8, "triage.queue": 5, "triage.show": 8,
    "triage.responsibility": 7, "consultation.manage": 14, "decisions.correct": 6,
    "ballots.manage": 10, "ballots.new": 5, "communities.staff": 6,
    "roster.index": 6, "roster.building": 7, "roster.edit_unit": 7, "roster.new_building": 4,
    "roster.new_unit": 5, "roster.import": 4, "roster.template": 3,
    "verification.claims": 12, "verification.codes": 7, "verification.members": 8,
    "moderation.queue": 17, "moderation.item": 16, "moderation.member": 8,
    # the site's administrators
    "communities.admin_communities": 3,
}

#: GET endpoints without a budget, and why
EXCLUDED = {
    "static": "files from static/, no database",
    "notices.manifest": "the web app manifest, no database",
    "notices.service_worker": "the service worker script, no database",
    "notices.short": "a short link: one lookup, then a redirect",
    "issues.photo": "an uploaded file, served after one lookup",
    "issues.thumb": "an uploaded file, served after one lookup",
    "implementation.receipt": "an uploaded file, served after one lookup",
    "implementation.receipt_thumb": "an uploaded file, served after one lookup",
    "implementation.progress_photo": "an uploaded file, served after one lookup",
    "implementation.progress_thumb": "an uploaded file, served after one lookup",
    "ballots.authorisation": "an uploaded file (a proxy's authorisation), after one lookup",
}


def _uneven(total: int, parts: int) -> list[int]:
    """Three quarters to the first part, the rest evenly to the others."""
    if parts == 1:
        return [total]
    first = total * 3 // 4
    rest, extra = divmod(total - first, parts - 1)
    return [first] + [rest + (1 if i < extra else 0) for i in range(parts - 1)]


# --- the data -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bench(database, tmp_path_factory):
    kind, where = database
    tmp = tmp_path_factory.mktemp("budgets")
    if kind == "sqlite":
        shutil.copyfile(where, tmp / "civic.db")
        url = f"sqlite:///{tmp / 'civic.db'}"
    else:
        url = where
    os.environ["CIVIC_INSTANCE"] = str(tmp / "instance")
    app = create_app(_config(url, tmp))
    with app.app_context():
        limiter._storage_dead = False
        limiter.reset()
    runner = app.test_cli_runner()
    # seed 8: both communities have maintenance-fund expenses (which carry reviews), so
    # their pages have the same shape and differ only in size
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(benchdata, "_split", _uneven)
        result = runner.invoke(args=["bench", "generate", "--scale", str(SCALE), "--seed", "8"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.test_request_context("/", method="POST"):
        _extras()
        db.session.commit()
    with app.app_context():
        targets = _targets()
        db.session.remove()
    yield app, targets
    clock.freeze(None)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if kind == "pg":
        truncate_all(where)


def _community(slug: str) -> Community:
    return db.session.scalar(select(Community).where(Community.slug == slug))


def _residents(c: Community) -> list[User]:
    return list(db.session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                   .where(Membership.community_id == c.id,
                                          Membership.role == Role.RESIDENT)
                                   .order_by(Membership.id)))


def _staff(c: Community, role: Role) -> User:
    return db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.community_id == c.id, Membership.role == role))


def _ranked_issues(c: Community, state: IssueState) -> list[Issue]:
    """Issues of a state not placed in a building (and, when decided, not paid from the
    maintenance fund, whose expenses carry reviews): pages of the same shape, most co-signs
    first."""
    q = select(Issue).where(Issue.community_id == c.id, Issue.state == state,
                            Issue.building_id.is_(None))
    if state is IssueState.COMPLETED:
        q = q.where(~Issue.id.in_(select(Decision.issue_id).where(
            Decision.funding_source == FundingSource.MAINTENANCE_FUND)))
    return list(db.session.scalars(q.order_by(Issue.cosign_count.desc(), Issue.id)))


def _extras() -> None:
    """Comments, replies, reports and a claim on the generated communities: many on one
    object, one on another."""
    from civic.issues import operations as issue_ops
    from civic.moderation import operations as moderation
    from civic.verification import operations as verification
    from civic.communities import operations as community_ops
    for slug, many in (("bench-001", 25), ("bench-002", 1)):
        c = _community(slug)
        people = _residents(c)
        completed = _ranked_issues(c, IssueState.COMPLETED)
        big = completed[0]
        last = issue_ops.add_comment(people[-1], completed[-1], "已经修好了。")
        issue_ops.add_comment(people[-2], completed[-1], "确实。", parent_id=last.id)
        for i in range(many):
            top = issue_ops.add_comment(people[i], big, f"第{i + 1}条意见：同意尽快处理。")
            if i % 3 == 0:
                issue_ops.add_comment(people[i + 1], big, "补充一点。", parent_id=top.id)
            moderation.report(people[-1 - i], c, "comment", top.id, "人身攻击")
        # reported, but fewer times than would hide it
        for reporter in people[-2 - min(many, 2):-2]:
            moderation.report(reporter, c, "issue", big.id, "与事实不符")
        # claims of households not yet verified, and more staff in A than in B
        vacant = db.session.scalars(select(Unit).where(
            Unit.community_id == c.id, ~Unit.id.in_(select(Membership.unit_id).where(
                Membership.unit_id.is_not(None)))).order_by(Unit.id)).all()
        mod = _staff(c, Role.MODERATOR)
        for k in range(min(many, 6)):
            newcomer = User(phone=f"199{slug[-1]}00000{k:02d}",
                            password_hash=people[0].password_hash, display_name="申请人")
            db.session.add(newcomer)
            db.session.flush()
            verification.submit_claim(newcomer, c, vacant[k], Tenure.TENANT, "我租住在这里")
            if k < 3 and many > 1:
                helper = User(phone=f"198{slug[-1]}00000{k:02d}", password_hash="",
                              display_name="网格员")
                db.session.add(helper)
                db.session.flush()
                community_ops.grant_staff_role(mod, c, helper, Role.OBSERVER,
                                               title=f"网格员{k + 1}")
        # invitation codes: every unit of A's largest building, one unit of B
        largest = db.session.execute(
            select(Building.id).join(Unit, Unit.building_id == Building.id)
            .where(Building.community_id == c.id).group_by(Building.id)
            .order_by(func.count(Unit.id).desc(), Building.id).limit(1)).scalar()
        units = db.session.scalars(select(Unit).where(Unit.building_id == largest)
                                   .order_by(Unit.id)).all()
        verification.issue_codes(mod, c, units if many > 1 else units[:1], Tenure.OWNER)
    # B keeps three categories of its own; A has the ten defaults
    b = _community("bench-002")
    for position, name in enumerate(("安全", "环境卫生", "其他")):
        db.session.add(Category(community_id=b.id, name=name, position=position))
    _counted_ballot(_community("bench-001"), 40, None)
    _counted_ballot(_community("bench-002"), 2, None)


def _counted_ballot(c: Community, voters: int, building_ids: list[int] | None) -> None:
    """An owners' ballot of the community, or of some of its buildings, with `voters`
    online votes, opened and counted (the clock moved on and back)."""
    from civic.ballots import operations as ballot_ops
    mod = _staff(c, Role.MODERATOR)
    now = clock.now()
    try:
        ballot = ballot_ops.schedule(mod, c, title="公共收益用于增设休闲座椅",
                                     question="是否同意使用公共收益增设休闲座椅？", item=9,
                                     opens_at=now + timedelta(days=4),
                                     closes_at=now + timedelta(days=10),
                                     building_ids=building_ids)
        clock.freeze(now + timedelta(days=5))
        ballot_ops.open_ballot(mod, ballot)
        owners = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                    .where(Membership.community_id == c.id,
                                           Membership.role == Role.RESIDENT,
                                           Membership.tenure == Tenure.OWNER)
                                    .order_by(Membership.id))
        cast = 0
        for owner in owners:
            if cast == voters:
                break
            if ballot_ops.persons_of(owner, ballot):
                ballot_ops.vote_online(owner, ballot, "yes" if cast % 4 else "no")
                cast += 1
        clock.freeze(now + timedelta(days=11))
        ballot_ops.count(mod, ballot)
    finally:
        clock.freeze(None)


def _targets() -> dict:
    """URL pieces and visitors' phones for the pairs of objects of different size."""
    a, b, demo = _community("bench-001"), _community("bench-002"), _community("huayuan")
    t: dict = {"a": a.slug, "b": b.slug, "demo": demo.slug,
               "district_a": a.district, "district_b": b.district}
    t["pages_a"] = -(-db.session.scalar(select(func.count()).where(
        Issue.community_id == a.id, Issue.state != IssueState.DRAFT)) // 20)
    for key, c in (("a", a), ("b", b)):
        completed = _ranked_issues(c, IssueState.COMPLETED)
        t[f"completed_{key}"] = (completed[0].number, completed[-1].number)
        collecting = _ranked_issues(c, IssueState.COLLECTING)
        t[f"collecting_{key}"] = (collecting[0].number, collecting[-1].number)
        waiting = _ranked_issues(c, IssueState.AWAITING_TRIAGE)
        t[f"triage_{key}"] = (waiting[0].number, waiting[-1].number)
        t[f"completed_id_{key}"] = completed[0].id
        t[f"moderator_{key}"] = _staff(c, Role.MODERATOR).phone
        t[f"word_{key}"] = completed[0].title[-4:]
        buildings = db.session.execute(
            select(Building.id, func.count(Unit.id)).join(Unit, Unit.building_id == Building.id)
            .where(Building.community_id == c.id).group_by(Building.id)
            .order_by(func.count(Unit.id).desc(), Building.id)).all()
        t[f"buildings_{key}"] = (buildings[0][0], buildings[-1][0])
        t[f"unit_{key}"] = db.session.scalar(select(Unit.id).where(Unit.building_id ==
                                                                   buildings[0][0]).limit(1))
    # decisions of community A with the most and the fewest (at least one) expenses
    spent = db.session.execute(
        select(Issue.number, Decision.version, func.count(Expense.id))
        .join(Decision, Decision.issue_id == Issue.id)
        .join(Expense, Expense.decision_id == Decision.id)
        .where(Issue.community_id == a.id, Decision.state == DecisionState.EFFECTIVE)
        .group_by(Issue.number, Decision.version)
        .order_by(func.count(Expense.id).desc(), Issue.number)).all()
    assert spent[0][2] >= 3 * spent[-1][2], spent
    t["spent"] = ((spent[0][0], spent[0][1]), (spent[-1][0], spent[-1][1]))
    # consultations with two rounds and with one
    rounds = db.session.execute(
        select(Issue.number, func.count(Round.id))
        .join(Consultation, Consultation.issue_id == Issue.id)
        .join(Round, Round.consultation_id == Consultation.id)
        .where(Issue.community_id == a.id, Issue.state == IssueState.COMPLETED,
               Issue.building_id.is_(None))
        .group_by(Issue.number).order_by(func.count(Round.id).desc(), Issue.number)).all()
    t["rounds"] = (rounds[0][0], rounds[-1][0])
    assert rounds[0][1] > rounds[-1][1], rounds
    # the generated residents who co-signed the most and the fewest issues of A
    signers = db.session.execute(
        select(User.phone, func.count(Cosign.id)).join(Cosign, Cosign.user_id == User.id)
        .join(Issue, Issue.id == Cosign.issue_id).where(Issue.community_id == a.id)
        .group_by(User.phone).order_by(func.count(Cosign.id).desc(), User.phone)).all()
    t["signers"] = (signers[0][0], signers[-1][0])
    # demo people with the most and the fewest notifications
    notified = db.session.execute(
        select(User.phone, func.count(Notification.id))
        .join(Notification, Notification.user_id == User.id)
        .group_by(User.phone).order_by(func.count(Notification.id).desc(), User.phone)).all()
    t["notified"] = (notified[0][0], notified[-1][0])
    assert notified[0][1] >= 3 * notified[-1][1], notified
    drafts = db.session.execute(select(User.phone, Issue.number).join(
        Issue, Issue.author_id == User.id).where(Issue.community_id == a.id,
                                                 Issue.state == IssueState.DRAFT)
        .order_by(Issue.number)).all()
    t["drafts"] = [tuple(d) for d in drafts[:2]]
    # issues in consultation whose round has closed: one round, and two
    t["consulting"] = db.session.scalars(
        select(Issue.number).join(Consultation, Consultation.issue_id == Issue.id)
        .join(Round, Round.consultation_id == Consultation.id)
        .where(Issue.community_id == a.id, Issue.state == IssueState.IN_CONSULTATION,
               Issue.building_id.is_(None), Round.closed_at.is_not(None))
        .group_by(Issue.number).order_by(func.count(Round.id), Issue.number)).all()
    t["audit_hash"] = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.seq))
    t["ballot"] = db.session.scalar(select(Ballot.number).where(Ballot.community_id == demo.id))
    for key, c in (("a", a), ("b", b)):
        t[f"ballot_{key}"] = db.session.scalar(select(Ballot.number).where(
            Ballot.community_id == c.id))
    for key, c in (("a", a), ("b", b)):
        t[f"comment_{key}"] = db.session.scalar(select(Comment.id).join(Issue).where(
            Issue.community_id == c.id).order_by(Comment.id))
    t["member_a"] = db.session.scalar(select(Membership.id).where(
        Membership.community_id == a.id, Membership.role == Role.RESIDENT)
        .order_by(Membership.id))
    return t


# --- visiting -------------------------------------------------------------------------

class Visitors:
    """One test client per visitor, signed in once."""

    def __init__(self, app):
        self.app = app
        self.clients: dict = {}

    def __call__(self, phone: str | None, password: str = BENCH_PASSWORD):
        if phone not in self.clients:
            client = self.app.test_client()
            if phone:
                resp = client.post("/login", data={"phone": phone, "password": password})
                assert resp.status_code == 303, phone
            self.clients[phone] = client
        return self.clients[phone]


@pytest.fixture(scope="module")
def visit(bench):
    app, _t = bench
    visitors = Visitors(app)
    with app.app_context():
        engine = db.engine

    def count(phone, url, password=BENCH_PASSWORD, headers=None) -> int:
        client = visitors(phone, password)
        first = client.get(url, headers=headers)
        assert first.status_code == 200, (url, first.status_code, first.location)
        counter = QueryCounter()
        event.listen(engine, "before_cursor_execute", counter)
        try:
            again = client.get(url, headers=headers)
        finally:
            event.remove(engine, "before_cursor_execute", counter)
        assert again.status_code == 200, url
        return counter.count
    return count


HTMX = {"HX-Request": "true"}


def _password(phone: str) -> str:
    return DEMO_PASSWORD if phone.startswith("138") else BENCH_PASSWORD


def _cases(t: dict) -> dict[str, list[list[tuple]]]:
    """endpoint → groups of (visitor phone, url[, password[, headers]]): every visit of a
    group must send the same number of statements."""
    a, b, demo = f"/c/{t['a']}", f"/c/{t['b']}", f"/c/{t['demo']}"
    anon = None
    mod_a, mod_b = t["moderator_a"], t["moderator_b"]
    big_signer, small_signer = t["signers"]
    demo_mod, demo_admin = "13800000001", "13800000000"
    (done_a, done_a_small), (done_b, _) = t["completed_a"], t["completed_b"]
    (coll_a, coll_a_small), (coll_b, _) = t["collecting_a"], t["collecting_b"]
    (many, many_v), (few, few_v) = t["spent"]
    two_rounds, one_round = t["rounds"]
    (bld_big, bld_small) = t["buildings_a"]

    def both(visitor_a, visitor_b, path: str):
        return [(visitor_a, a + path), (visitor_b, b + path)]

    def public(path: str):
        return [both(anon, anon, path)]

    cases = {
        "accounts.index": [[(anon, "/"), (anon, "/?all=1")]],
        "accounts.login": [[(anon, "/login")]],
        "accounts.register": [[(anon, "/register")]],
        "accounts.profile": [[(big_signer, "/account"), (small_signer, "/account")]],
        "accounts.change_password": [[(big_signer, "/account/password"),
                                      (small_signer, "/account/password")]],
        "accounts.delete_account": [[(big_signer, "/account/delete"),
                                     (small_signer, "/account/delete")]],
        "accounts.export_data": [[(big_signer, "/account/data.json"),
                                  (small_signer, "/account/data.json")]],
        "notifications.index": [[(p, "/notifications/", _password(p)) for p in t["notified"]]],
        "notifications.settings": [[(p, "/notifications/settings", _password(p))
                                    for p in t["notified"]]],
        "communities.home": public("/"),
        "issues.index": [
            both(anon, anon, "/issues/") + [(anon, f"{a}/issues/?page=2"),
                                            (anon, f"{a}/issues/?page={t['pages_a']}")],
            [(anon, f"{a}/issues/?q={t['word_a']}"), (anon, f"{b}/issues/?q={t['word_b']}")],
            [(anon, f"{a}/issues/?state=collecting"), (anon, f"{a}/issues/?state=completed"),
             (anon, f"{b}/issues/?state=collecting")],
            [(anon, f"{a}/issues/?category=安全&sort=cosigns"),
             (anon, f"{b}/issues/?category=安全&sort=cosigns")],
            [(big_signer, f"{a}/issues/?signed=1"), (small_signer, f"{a}/issues/?signed=1")],
            # the list alone, as htmx asks for it when a filter changes
            [(anon, f"{a}/issues/", BENCH_PASSWORD, HTMX),
             (anon, f"{a}/issues/?page={t['pages_a']}", BENCH_PASSWORD, HTMX),
             (anon, f"{b}/issues/", BENCH_PASSWORD, HTMX)],
        ],
        "issues.show": [
            # 25 comments (and page 2 of them), one, and one
            [(anon, f"{a}/issues/{done_a}/"), (anon, f"{a}/issues/{done_a}/?cpage=2"),
             (anon, f"{a}/issues/{done_a_small}/"), (anon, f"{b}/issues/{done_b}/")],
            [(anon, f"{a}/issues/{coll_a}/"), (anon, f"{a}/issues/{coll_a_small}/"),
             (anon, f"{b}/issues/{coll_b}/")],
            # the co-sign panel, for a household that may sign
            [(big_signer, f"{a}/issues/{coll_a}/"), (small_signer, f"{a}/issues/{coll_a_small}/")],
        ],
        "issues.cosigners": [
            # the section the page reloads after a co-sign: many co-signs, few; signed in
            [(anon, f"{a}/issues/{done_a}/cosigners"), (anon, f"{a}/issues/{done_a_small}/cosigners"),
             (anon, f"{b}/issues/{done_b}/cosigners")],
            [(big_signer, f"{a}/issues/{coll_a}/cosigners"),
             (small_signer, f"{a}/issues/{coll_a_small}/cosigners")],
        ],
        "issues.edit": [[(phone, f"{a}/issues/{n}/edit") for phone, n in t["drafts"]]],
        "decisions.new": [[(mod_a, f"{a}/issues/{n}/decisions/new")
                           for n in (t["consulting"][0], t["consulting"][-1])]],
        "issues.new": [[(big_signer, f"{a}/issues/new"), (small_signer, f"{a}/issues/new")]],
        "issues.rules": [both(mod_a, mod_b, "/manage/rules")],
        "triage.precedents": public("/precedents/"),
        "triage.dashboard": [both(mod_a, mod_b, "/manage/")],
        "triage.queue": [both(mod_a, mod_b, "/manage/triage/")],
        "triage.show": [[(mod_a, f"{a}/manage/triage/{n}") for n in t["triage_a"]]
                        + [(mod_b, f"{b}/manage/triage/{t['triage_b'][0]}")]],
        "triage.responsibility": [both(mod_a, mod_b, "/manage/responsibility")],
        "consultation.show": [[(anon, f"{a}/issues/{n}/consultation") for n in t["rounds"]]],
        "consultation.round_page": [[(anon, f"{a}/issues/{two_rounds}/rounds/2"),
                                     (anon, f"{a}/issues/{one_round}/rounds/1")]],
        "consultation.frozen_json": [[(anon, f"{a}/issues/{two_rounds}/rounds/2/frozen.json"),
                                      (anon, f"{a}/issues/{one_round}/rounds/1/frozen.json")]],
        "consultation.manage": [[(mod_a, f"{a}/issues/{two_rounds}/rounds/2/manage"),
                                 (mod_a, f"{a}/issues/{one_round}/rounds/1/manage")]],
        "decisions.index": public("/decisions/"),
        "decisions.show": [[(anon, f"{a}/issues/{many}/decisions/{many_v}"),
                            (anon, f"{a}/issues/{few}/decisions/{few_v}")]],
        "decisions.content": [[(anon, f"{a}/issues/{many}/decisions/{many_v}/content.json"),
                               (anon, f"{a}/issues/{few}/decisions/{few_v}/content.json")]],
        "decisions.correct": [[(mod_a, f"{a}/issues/{many}/decisions/{many_v}/correct"),
                               (mod_a, f"{a}/issues/{few}/decisions/{few_v}/correct")]],
        "implementation.show": [[(anon, f"{a}/issues/{many}/implementation"),
                                 (anon, f"{a}/issues/{few}/implementation")]],
        "implementation.spending": public("/spending"),
        "notices.decision_notice": [[(anon, f"{a}/issues/{many}/decisions/{many_v}/print"),
                                     (anon, f"{a}/issues/{few}/decisions/{few_v}/print")]],
        "notices.round_notice": [[(anon, f"{a}/issues/{two_rounds}/rounds/2/print"),
                                  (anon, f"{a}/issues/{one_round}/rounds/1/print")]],
        "notices.cosign_poster": [[(anon, f"{a}/issues/{coll_a}/poster"),
                                   (anon, f"{a}/issues/{coll_a_small}/poster"),
                                   (anon, f"{b}/issues/{coll_b}/poster")]],
        "notices.offline": [[(anon, "/offline")]],
        "archive.community": public("/stats"),
        "archive.street": [[(anon, f"/streets/{t['district_a']}/stats"),
                            (anon, f"/streets/{t['district_b']}/stats")]],
        # the chain's head; an event looked up by its hash; a hash that names none
        "audit.index": [[(anon, "/audit/")],
                        [(anon, f"/audit/?hash={t['audit_hash']}"),
                         (anon, f"/audit/?hash={'0' * 64}")]],
        "ballots.index": [[(anon, f"{demo}/ballots/"), (anon, f"{a}/ballots/"),
                           (anon, f"{b}/ballots/")]],
        # counted: A's (750 units) with 40 votes, B's (250 units) with 2; open (the demo's)
        "ballots.show": [[(anon, f"{a}/ballots/{t['ballot_a']}"),
                          (anon, f"{b}/ballots/{t['ballot_b']}")],
                         [(anon, f"{demo}/ballots/{t['ballot']}")]],
        "ballots.ballot_json": [[(anon, f"{a}/ballots/{t['ballot_a']}/ballot.json"),
                                 (anon, f"{b}/ballots/{t['ballot_b']}/ballot.json")]],
        "notices.ballot_result": [[(anon, f"{a}/ballots/{t['ballot_a']}/result/print"),
                                   (anon, f"{b}/ballots/{t['ballot_b']}/result/print")]],
        "notices.ballot_notice": [[(anon, f"{a}/ballots/{t['ballot_a']}/notice/print"),
                                   (anon, f"{b}/ballots/{t['ballot_b']}/notice/print")],
                                  [(anon, f"{demo}/ballots/{t['ballot']}/notice/print")]],
        "ballots.manage": [[(mod_a, f"{a}/ballots/{t['ballot_a']}/manage"),
                            (mod_b, f"{b}/ballots/{t['ballot_b']}/manage")],
                           [(demo_mod, f"{demo}/ballots/{t['ballot']}/manage", DEMO_PASSWORD)]],
        "ballots.new": [[(demo_mod, f"{demo}/ballots/new", DEMO_PASSWORD)]
                        + both(mod_a, mod_b, "/ballots/new")],
        "communities.admin_communities": [[(demo_admin, "/admin/communities", DEMO_PASSWORD)]],
        "communities.staff": [both(mod_a, mod_b, "/manage/staff")],
        "roster.index": [both(mod_a, mod_b, "/manage/roster/")],
        "roster.building": [[(mod_a, f"{a}/manage/roster/buildings/{n}")
                             for n in t["buildings_a"]]
                            + [(mod_b, f"{b}/manage/roster/buildings/{t['buildings_b'][1]}")]],
        "roster.edit_unit": [[(mod_a, f"{a}/manage/roster/units/{t['unit_a']}/edit"),
                              (mod_b, f"{b}/manage/roster/units/{t['unit_b']}/edit")]],
        "roster.new_building": [both(mod_a, mod_b, "/manage/roster/buildings/new")],
        "roster.new_unit": [[(mod_a, f"{a}/manage/roster/buildings/{bld_big}/units/new"),
                             (mod_a, f"{a}/manage/roster/buildings/{bld_small}/units/new")]],
        "roster.import": [both(mod_a, mod_b, "/manage/roster/import")],
        "roster.template": [both(mod_a, mod_b, "/manage/roster/template.csv")],
        "verification.claims": [both(mod_a, mod_b, "/manage/claims")],
        "verification.codes": [both(mod_a, mod_b, "/manage/codes"),
                               [(mod_a, f"{a}/manage/codes?building={bld_big}"),
                                (mod_a, f"{a}/manage/codes?building={bld_small}")]],
        "verification.members": [both(mod_a, mod_b, "/manage/members")
                                 + [(mod_a, f"{a}/manage/members?page=2")]],
        "verification.redeem": [[(big_signer, "/join"), (small_signer, "/join")]],
        # a resident of A, and a visitor who lives elsewhere
        "verification.claim": [[(big_signer, f"{a}/claim"), (small_signer, f"{a}/claim")],
                               [(big_signer, f"{b}/claim"), (small_signer, f"{b}/claim")]],
        "moderation.queue": [both(mod_a, mod_b, "/manage/reports")],
        "moderation.item": [[(mod_a, f"{a}/manage/moderate/issue/{t['completed_id_a']}/"),
                             (mod_b, f"{b}/manage/moderate/issue/{t['completed_id_b']}/")],
                            [(mod_a, f"{a}/manage/moderate/comment/{t['comment_a']}/"),
                             (mod_b, f"{b}/manage/moderate/comment/{t['comment_b']}/")]],
        "moderation.member": [[(mod_a, f"{a}/manage/members/{t['member_a']}/suspend")]],
        "moderation.report": [[(big_signer, f"{a}/report/issue/{t['completed_id_a']}"),
                               (small_signer, f"{a}/report/issue/{t['completed_id_a']}")],
                              [(big_signer, f"{a}/report/comment/{t['comment_a']}"),
                               (small_signer, f"{a}/report/comment/{t['comment_a']}")]],
    }
    for name in ("decisions_csv", "decisions_json", "decisions_atom", "issues_csv",
                 "issues_json", "expenses_csv", "expenses_json", "ballots_csv", "ballots_json",
                 "stats_csv", "stats_json"):
        stem, ext = name.rsplit("_", 1)
        cases[f"opendata.{name}"] = public(f"/{stem}.{ext}")
    for name in ("issues", "decisions", "expenses", "ballots", "stats"):
        cases[f"api.{name}"] = [[(anon, f"/api/v1/communities/{t[k]}/{name}") for k in "ab"]]
    cases["api.communities"] = [[(anon, "/api/v1/communities")]]
    cases["api.street_stats"] = [[(anon, f"/api/v1/streets/{t[k]}/stats")
                                  for k in ("district_a", "district_b")]]
    cases["api.docs"] = [[(anon, "/api/")]]
    cases["api.openapi"] = [[(anon, "/api/v1/openapi.json")]]
    return cases


# --- the tests ------------------------------------------------------------------------

def _get_endpoints(app) -> set[str]:
    return {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}


def test_every_get_page_has_a_budget_or_a_reason(bench):
    app, t = bench
    pages = _get_endpoints(app)
    assert pages - set(BUDGETS) - set(EXCLUDED) == set(), "GET pages without a budget"
    assert set(BUDGETS) & set(EXCLUDED) == set()
    assert (set(BUDGETS) | set(EXCLUDED)) - pages == set(), "budgets for pages that are gone"
    assert set(_cases(t)) == set(BUDGETS)


@pytest.mark.parametrize("endpoint", sorted(BUDGETS))
def test_constant_and_within_budget(bench, visit, endpoint):
    _app, t = bench
    seen = {}
    for group in _cases(t)[endpoint]:
        counts = {f"{visitor or 'anonymous'} {url}{' (htmx)' if rest[1:] else ''}":
                  visit(visitor, url, *rest) for visitor, url, *rest in group}
        assert len(set(counts.values())) == 1, f"{endpoint}: the count varies: {counts}"
        seen.update(counts)
    assert max(seen.values()) <= BUDGETS[endpoint], f"{endpoint} over its budget: {seen}"


