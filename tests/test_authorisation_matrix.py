"""The authorisation matrix: every route of the URL map × every method × every kind of
visitor, against real objects of two communities built by the demo.

Each route has an entry in MATRIX naming who gets past authorisation; everybody else must
be refused — sent to the login page, 403 or 404 — and a refused POST changes nothing in
the database. "Gets past" means anything but a refusal: the page, a redirect after the
operation, or a 400/409/422 because the (empty) form or the object's state says no.
A route without an entry fails the test, so a new route has to be placed in the matrix.

The visitors: anonymous; a signed-in user verified nowhere; the tenant and the owner of
two households of 花园小区 (the owner wrote every demo issue, so the owner/tenant pair is
the own/other-object pair for the author's routes); a resident of another community; the
residents' committee, the owners' committee, the property company and the street office
of 花园小区; the moderator of the other community; the site administrator.

A second test is the cross-community IDOR check: the other community's moderator, who may
manage their own community, uses URLs of their community carrying object ids of 花园小区
and is refused every time.
"""
from __future__ import annotations


import pytest
from flask import url_for
from sqlalchemy import select, text

from civic.accounts.models import User
from civic.accounts.operations import hash_password
from civic.ballots.models import Ballot, BallotObjection, BallotUnit, BallotVote
from civic.communities.models import Building, Claim, Community, Membership, Role, Unit
from civic.consultation.models import Consultation, Round, RoundState, Seat
from civic.decisions.models import Decision, Objection
from civic.demo import DEMO_PASSWORD
from civic.extensions import db
from civic.implementation.models import Expense, ProgressUpdate
from civic.issues.models import Comment, Issue, IssuePhoto, IssueState
from tests.test_get_is_safe import _snapshot

A, B = "huayuan", "other"

VISITORS = {
    "public": None,
    "unverified": "13700000001",
    "resident": "13800000006",     # tenant of 花园小区 (another household than the author's)
    "owner": "13800000005",        # owner of 花园小区 1号楼101, author of every demo issue
    "outsider": "13900000005",     # owner resident of the other community
    "moderator": "13800000001",
    "association": "13800000002",
    "property": "13800000003",
    "observer": "13800000004",
    "other_moderator": "13900000001",
    "admin": "13800000000",
}

# --- groups of visitors ---------------------------------------------------------------
ANYONE = frozenset(VISITORS)
SIGNED_IN = ANYONE - {"public"}
RESIDENTS = frozenset({"resident", "owner"})
MOD = frozenset({"moderator"})
OFFICIAL = frozenset({"moderator", "association", "property"})
MEMBERS = RESIDENTS | OFFICIAL | {"observer"}
NOBODY = frozenset()

#: (endpoint, method) → who gets past authorisation, for the objects _args names
MATRIX: dict[tuple[str, str], frozenset] = {
    # accounts: one's own account only, so any signed-in user; login and registration
    # send a signed-in user on (served), language switching is for everyone
    ("accounts.index", "GET"): ANYONE,
    ("accounts.login", "GET"): ANYONE,
    ("accounts.login", "POST"): ANYONE,
    ("accounts.register", "GET"): ANYONE,
    ("accounts.register", "POST"): ANYONE,
    ("accounts.set_locale", "POST"): ANYONE,
    ("accounts.logout", "POST"): SIGNED_IN,
    ("accounts.profile", "GET"): SIGNED_IN,
    ("accounts.profile", "POST"): SIGNED_IN,
    ("accounts.change_password", "GET"): SIGNED_IN,
    ("accounts.change_password", "POST"): SIGNED_IN,
    ("accounts.delete_account", "GET"): SIGNED_IN,
    ("accounts.delete_account", "POST"): SIGNED_IN,
    ("accounts.export_data", "GET"): SIGNED_IN,
    ("notifications.index", "GET"): SIGNED_IN,
    ("notifications.read_all", "POST"): SIGNED_IN,
    ("notifications.settings", "GET"): SIGNED_IN,
    ("notifications.settings", "POST"): SIGNED_IN,
    # the public record: read by anyone
    ("static", "GET"): ANYONE,
    ("audit.index", "GET"): ANYONE,
    ("communities.home", "GET"): ANYONE,
    ("archive.community", "GET"): ANYONE,
    ("archive.street", "GET"): ANYONE,
    ("issues.index", "GET"): ANYONE,
    ("issues.show", "GET"): ANYONE,
    ("issues.cosigners", "GET"): ANYONE,
    ("issues.photo", "GET"): ANYONE,
    ("issues.thumb", "GET"): ANYONE,
    ("triage.precedents", "GET"): ANYONE,
    ("consultation.show", "GET"): ANYONE,
    ("consultation.round_page", "GET"): ANYONE,
    ("consultation.frozen_json", "GET"): ANYONE,
    ("decisions.index", "GET"): ANYONE,
    ("decisions.show", "GET"): ANYONE,
    ("decisions.content", "GET"): ANYONE,
    ("ballots.index", "GET"): ANYONE,
    ("ballots.show", "GET"): ANYONE,
    # no interim result: the ballot file exists for nobody while the ballot is open
    ("ballots.ballot_json", "GET"): NOBODY,
    ("implementation.show", "GET"): ANYONE,
    ("implementation.spending", "GET"): ANYONE,
    ("implementation.receipt", "GET"): ANYONE,
    ("implementation.receipt_thumb", "GET"): ANYONE,
    ("implementation.progress_photo", "GET"): ANYONE,
    ("implementation.progress_thumb", "GET"): ANYONE,
    **{(f"opendata.{name}", "GET"): ANYONE for name in (
        "decisions_csv", "decisions_json", "decisions_atom", "issues_csv", "issues_json",
        "expenses_csv", "expenses_json", "ballots_csv", "ballots_json", "stats_csv",
        "stats_json")},
    **{(f"api.{name}", "GET"): ANYONE for name in (
        "docs", "openapi", "communities", "decisions", "issues", "expenses", "ballots",
        "stats", "street_stats")},
    # site administration
    ("communities.admin_communities", "GET"): frozenset({"admin"}),
    ("communities.admin_communities", "POST"): frozenset({"admin"}),
    ("communities.staff", "GET"): MOD | {"admin"},
    ("communities.staff", "POST"): MOD | {"admin"},
    # joining: any signed-in user may ask (the page tells a resident they already are)
    ("verification.redeem", "GET"): SIGNED_IN,
    ("verification.redeem", "POST"): SIGNED_IN,
    ("verification.claim", "GET"): SIGNED_IN,
    ("verification.claim", "POST"): SIGNED_IN,
    # residents of this community, for their household
    ("issues.new", "GET"): RESIDENTS,
    ("issues.new", "POST"): RESIDENTS,
    ("issues.cosign", "POST"): RESIDENTS,
    ("issues.withdraw_cosign", "POST"): RESIDENTS,
    ("moderation.report", "GET"): RESIDENTS,
    ("moderation.report", "POST"): RESIDENTS,
    ("consultation.comment", "POST"): RESIDENTS,
    ("decisions.object_", "POST"): RESIDENTS,
    ("implementation.rate", "POST"): RESIDENTS,
    # the author's own issue (the owner wrote it; the tenant is another household)
    ("issues.edit", "GET"): frozenset({"owner"}),
    ("issues.edit", "POST"): frozenset({"owner"}),
    ("issues.submit", "POST"): frozenset({"owner"}),
    ("issues.withdraw", "POST"): frozenset({"owner"}),
    # comments: residents and the three bodies' staff; the street office reads only
    ("issues.comment", "POST"): RESIDENTS | OFFICIAL,
    # owners in the ballot's electorate (a tenant is not an owner)
    ("ballots.vote", "POST"): frozenset({"owner"}),
    ("ballots.object_", "POST"): frozenset({"owner"}),
    # seat holders of the voting round: the three bodies and the residents' representative
    ("consultation.vote", "POST"): OFFICIAL | {"owner"},
    ("consultation.statement", "POST"): OFFICIAL | {"owner"},
    ("consultation.confirm_minutes", "POST"): OFFICIAL | {"owner"},
    # official responses: staff of the three bodies
    ("triage.respond", "POST"): OFFICIAL,
    # the books and the progress of a decision led by the property company: its staff and
    # the residents' committee, which keeps every decision's books
    ("implementation.book", "POST"): MOD | {"property"},
    ("implementation.reverse", "POST"): MOD | {"property"},
    ("implementation.progress", "POST"): MOD | {"property"},
    # a maintenance-fund payment is approved by the owners' committee
    ("implementation.review", "POST"): frozenset({"association"}),
    # the proxy authorisation photo: the residents' committee only (404 to everyone else)
    ("ballots.authorisation", "GET"): MOD,
    # notices for the board: printable by anyone while there is something public to print
    # (a ballot's result only once counted: nobody while it is open), their short links,
    # and the installable app's manifest, service worker and offline page
    ("notices.short", "GET"): ANYONE,
    ("notices.decision_notice", "GET"): ANYONE,
    ("notices.ballot_notice", "GET"): ANYONE,
    ("notices.ballot_result", "GET"): NOBODY,
    ("notices.round_notice", "GET"): ANYONE,
    ("notices.cosign_poster", "GET"): ANYONE,
    ("notices.manifest", "GET"): ANYONE,
    ("notices.service_worker", "GET"): ANYONE,
    ("notices.offline", "GET"): ANYONE,
}

#: everything else is the residents' committee's (居委会) management of its community
MODERATOR_ONLY = [
    "ballots.answer POST", "ballots.count POST", "ballots.extend POST", "ballots.finalize POST",
    "ballots.manage GET", "ballots.new GET", "ballots.new POST", "ballots.open_ POST",
    "ballots.paper POST", "ballots.proxy POST",
    "consultation.add_option POST", "consultation.add_seat POST", "consultation.close_round POST",
    "consultation.escalate POST", "consultation.manage GET", "consultation.open_consultation POST",
    "consultation.open_round POST", "consultation.open_supplement POST",
    "consultation.remove_option POST", "consultation.remove_seat POST",
    "consultation.schedule POST", "consultation.set_deadline POST", "consultation.set_rule POST",
    "consultation.submit_minutes POST", "consultation.update_notice POST",
    "consultation.write_minutes POST",
    "decisions.answer POST", "decisions.correct GET", "decisions.correct POST",
    "decisions.new GET", "decisions.new POST", "decisions.take_effect POST",
    "decisions.withdraw POST",
    "issues.rules GET", "issues.rules POST",
    "moderation.item GET", "moderation.member GET", "moderation.member POST",
    "moderation.moderate POST", "moderation.queue GET",
    "roster.building GET", "roster.edit_unit GET", "roster.edit_unit POST", "roster.import GET",
    "roster.import POST", "roster.index GET", "roster.new_building GET",
    "roster.new_building POST", "roster.new_unit GET", "roster.new_unit POST",
    "roster.template GET",
    "triage.accept POST", "triage.dashboard GET", "triage.decline POST", "triage.merge POST",
    "triage.queue GET", "triage.refer POST", "triage.request_ruling POST", "triage.ruling POST",
    "triage.show GET", "triage.responsibility GET", "triage.responsibility POST",
    "verification.approve POST", "verification.reject POST", "verification.claims GET",
    "verification.codes GET", "verification.codes POST", "verification.members GET",
    "verification.revoke POST",
]
for _entry in MODERATOR_ONLY:
    _endpoint, _method = _entry.split()
    assert (_endpoint, _method) not in MATRIX, _entry
    MATRIX[(_endpoint, _method)] = MOD

#: URL arguments naming an object by its id (rather than by a per-community number)
ID_ARGUMENTS = {"option_id", "seat_id", "objection_id", "vote_id", "claim_id", "membership_id",
                "building_id", "unit_id", "target_id", "stem"}


# --- the objects the URLs name --------------------------------------------------------

def _issue(c: Community, title: str | None = None, state: IssueState | None = None) -> Issue:
    q = select(Issue).where(Issue.community_id == c.id)
    q = q.where(Issue.title == title) if title else q.where(Issue.state == state)
    return db.session.scalars(q.order_by(Issue.number)).first()


def _args(slug: str) -> dict[str, dict]:
    """For each endpoint, URL arguments naming the object its actions are meant for in
    community `slug` (a draft for the draft's routes, a voting round for the vote…).
    The key "*" holds the defaults."""
    c = db.session.scalar(select(Community).where(Community.slug == slug))
    draft = _issue(c, state=IssueState.DRAFT)
    collecting = _issue(c, "3号楼北侧路灯坏了一个月")
    triage = _issue(c, state=IssueState.AWAITING_TRIAGE)
    accepted = _issue(c, "2号楼单元门门禁失灵")
    parking = _issue(c, "西侧绿化带改建停车位")
    voting = db.session.scalar(select(Round).join(Consultation).where(
        Consultation.issue_id == parking.id, Round.state == RoundState.OPEN))
    wall = _issue(c, "2号楼外墙渗水维修")
    wall_decision = db.session.scalar(select(Decision).where(Decision.issue_id == wall.id))
    fitness = _issue(c, "健身器材老化需要更换")
    path = _issue(c, "南门人行道路面破损")
    ballot = db.session.scalar(select(Ballot).where(Ballot.community_id == c.id))
    comment = db.session.scalar(select(Comment).join(Issue).where(Issue.community_id == c.id)
                                .order_by(Comment.id))
    resident = db.session.scalar(select(Membership).where(
        Membership.community_id == c.id, Membership.role == Role.RESIDENT)
        .order_by(Membership.id.desc()))
    building = db.session.scalar(select(Building).where(Building.community_id == c.id)
                                 .order_by(Building.id))
    photo = db.session.scalar(select(IssuePhoto).join(Issue).where(Issue.community_id == c.id))
    receipt = db.session.scalars(select(Expense).where(Expense.issue_id == fitness.id)
                                 ).first().receipts[0]
    update = db.session.scalar(select(ProgressUpdate).join(Issue).where(
        Issue.community_id == c.id, ProgressUpdate.photos.any()))
    vote = db.session.scalar(select(BallotVote).where(
        BallotVote.ballot_id == ballot.id, BallotVote.proxy_document.is_not(None)))
    claim = db.session.scalar(select(Claim).where(Claim.community_id == c.id))

    def on(issue, **more):
        return {"number": issue.number, **more}

    rnd = {"k": voting.number,
           "option_id": voting.options[0].id,
           "seat_id": db.session.scalar(select(Seat.id).where(Seat.round_id == voting.id)),
           "body": "resident"}
    return {
        "*": {"slug": slug, "district": c.district, "filename": "css/civic.css",
              "code": "x", "token": "x"},
        "issues": on(collecting),
        "issues.edit": on(draft), "issues.submit": on(draft),
        "issues.photo": {"stem": photo.stem}, "issues.thumb": {"stem": photo.stem},
        "triage": on(triage),
        "triage.respond": on(accepted),
        "consultation": on(parking, **rnd),
        "consultation.open_consultation": on(accepted),
        "consultation.open_supplement": on(fitness),
        "decisions": on(wall, version=wall_decision.version,
                        objection_id=db.session.scalar(select(Objection.id).where(
                            Objection.decision_id == wall_decision.id))),
        "decisions.new": on(parking),
        "ballots": {"number": ballot.number, "vote_id": vote.id,
                    "objection_id": db.session.scalar(select(BallotObjection.id).where(
                        BallotObjection.ballot_id == ballot.id))},
        "implementation": on(fitness, k=1),
        "implementation.review": on(path, k=1),
        "implementation.rate": on(path),
        "implementation.receipt": {"stem": receipt.stem},
        "implementation.receipt_thumb": {"stem": receipt.stem},
        "implementation.progress_photo": {"stem": update.photos[0].stem},
        "implementation.progress_thumb": {"stem": update.photos[0].stem},
        "moderation": {"kind": "comment", "target_id": comment.id,
                       "membership_id": resident.id, "action": "suspend"},
        "moderation.moderate": {"kind": "comment", "target_id": comment.id, "action": "hide"},
        "roster": {"building_id": building.id,
                   "unit_id": db.session.scalar(select(Unit.id).where(
                       Unit.building_id == building.id))},
        "verification": {"claim_id": claim.id, "membership_id": resident.id},
        "notices": on(parking, **rnd),
        "notices.short": {"code": f"i{collecting.id}"},
        "notices.decision_notice": on(wall, version=wall_decision.version),
        "notices.ballot_notice": {"number": ballot.number},
        "notices.ballot_result": {"number": ballot.number},
        # another collecting issue: the owner withdraws `collecting` earlier in the walk
        "notices.cosign_poster": on(_issue(c, "1号楼加装电梯征求意见")),
    }


def _url(app, rule, args: dict[str, dict]) -> str:
    values = dict(args["*"])
    area = rule.endpoint.split(".")[0]
    values.update(args.get(area, {}))
    values.update(args.get(rule.endpoint, {}))
    needed = set(rule.arguments) - set(rule.defaults or {})
    assert needed <= set(values), f"{rule.endpoint}: no value for {needed - set(values)}"
    with app.test_request_context():
        return url_for(rule.endpoint, **{k: values[k] for k in needed})


def _routes(app) -> list[tuple[str, str, object]]:
    """(endpoint, method, rule) for every rule and method of the URL map."""
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, rule))
    return sorted(out, key=lambda t: (t[0] == "accounts.logout", t[0], t[1]))


# --- the world ------------------------------------------------------------------------

def _world(runner) -> None:
    """Two communities from the demo: the other one first, its people renumbered to 139…,
    then 花园小区 with the usual 138… people; an account verified nowhere, and a pending
    ownership claim and a ballot objection in each community."""
    assert runner.invoke(args=["demo", "load", "--slug", B]).exit_code == 0
    db.session.execute(text("UPDATE user_account SET phone = '139' || substr(phone, 4)"))
    db.session.commit()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    db.session.add(User(phone=VISITORS["unverified"], password_hash=hash_password(DEMO_PASSWORD),
                        display_name="路人"))
    db.session.commit()
    from civic.communities.models import Tenure
    from civic.ballots import operations as ballot_ops
    from civic.implementation import operations as work
    from civic.issues import operations as issue_ops
    from civic.verification import operations as verification
    from tests.conftest import jpeg_bytes
    unverified = db.session.scalar(select(User).where(User.phone == VISITORS["unverified"]))
    owner_phone = {A: VISITORS["owner"], B: VISITORS["outsider"]}
    for slug in (A, B):
        c = db.session.scalar(select(Community).where(Community.slug == slug))
        unit = db.session.scalars(select(Unit).where(Unit.community_id == c.id)
                                  .order_by(Unit.id.desc())).first()
        verification.submit_claim(unverified, c, unit, Tenure.TENANT, "我租住在这里")
        ballot = db.session.scalar(select(Ballot).where(Ballot.community_id == c.id))
        owner = db.session.scalar(select(User).where(User.phone == owner_phone[slug]))
        db.session.add(BallotObjection(ballot_id=ballot.id, author_id=owner.id,
                                       membership_id=_residency(owner, c).id,
                                       text="计票有误"))
        issue = issue_ops.create_issue(owner, c, title="楼道堆物影响通行", body="3楼楼道堆满杂物。",
                                       category="安全", building_id=None, place_text="",
                                       photos=[jpeg_bytes()])
        issue_ops.submit(owner, issue)
        issue_ops.add_comment(owner, issue, "物业能不能先清一下？")
        moderator = db.session.scalar(select(User).where(
            User.phone == {A: VISITORS["moderator"], B: VISITORS["other_moderator"]}[slug]))
        voted = {v.person for v in db.session.scalars(select(BallotVote).where(
            BallotVote.ballot_id == ballot.id))}
        label = next(u.label for u in db.session.scalars(select(BallotUnit).where(
            BallotUnit.ballot_id == ballot.id).order_by(BallotUnit.id.desc()))
            if u.person not in voted)
        ballot_ops.record_proxy(moderator, ballot, label, "yes", "张三", jpeg_bytes())
        fitness = _issue(c, "健身器材老化需要更换")
        work.post_update(_staff(c, Role.PROPERTY), fitness, status="in_progress",
                         text="新器材已到货。", photos=[jpeg_bytes()])
    db.session.commit()


def _staff(c: Community, role: Role) -> User:
    return db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.community_id == c.id, Membership.role == role))


def _residency(user: User, c: Community) -> Membership:
    return db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.community_id == c.id,
        Membership.role == Role.RESIDENT))


def _login(client, who: str | None) -> None:
    if VISITORS[who]:
        resp = client.post("/login", data={"phone": VISITORS[who], "password": DEMO_PASSWORD})
        assert resp.status_code == 303, who


def _refused(resp) -> bool:
    """Turned away by authorisation: to the login page, 403 or 404."""
    if resp.status_code in (401, 403, 404):
        return True
    return resp.status_code in (302, 303) and resp.location.split("?")[0].endswith("/login")


@pytest.fixture
def world(app, runner):
    with app.app_context():
        _world(runner)
        db.session.remove()
    return app


def _walk(client, requests) -> dict[tuple[str, str], object]:
    out = {}
    for endpoint, method, url in requests:
        resp = client.open(url, method=method, data={})
        assert resp.status_code < 500, (endpoint, method, url)
        with client.session_transaction() as session:
            resp.errors = [m for c, m in session.pop("_flashes", []) if c == "error"]
        out[(endpoint, method)] = resp
    return out


def test_every_route_has_an_entry(app):
    """A new route, or a new method on a route, fails here until it is placed in MATRIX."""
    routes = {(e, m) for e, m, _r in _routes(app)}
    assert routes - set(MATRIX) == set(), "routes missing from MATRIX"
    assert set(MATRIX) - routes == set(), "MATRIX names routes that do not exist"


@pytest.mark.parametrize("who", list(VISITORS))
def test_authorisation_matrix(world, who):
    client = world.test_client()
    _login(client, who)
    with world.app_context():
        args = _args(A)
        routes = [(e, m, _url(world, r, args)) for e, m, r in _routes(world)]
        before = _snapshot()
        db.session.remove()
    refused = [r for r in routes if who not in MATRIX[r[:2]]]
    served = [r for r in routes if who in MATRIX[r[:2]]]
    # everything this visitor may not do, first: each is refused, and together they
    # change nothing at all
    wrong = {k: (resp.status_code, resp.location) for k, resp in _walk(client, refused).items()
             if not _refused(resp)}
    assert wrong == {}, f"{who} got past authorisation"
    with world.app_context():
        assert _snapshot() == before
        db.session.remove()
    # then everything they may do: none is refused
    wrong = {k: (resp.status_code, resp.location) for k, resp in _walk(client, served).items()
             if _refused(resp)}
    assert wrong == {}, f"{who} was refused"


def test_no_object_of_one_community_through_another(world):
    """The other community's moderator, on their own community's URLs carrying the ids of
    花园小区's options, seats, objections, votes, claims, members, buildings, units,
    comments and files, is refused every time; with their own community's ids, the same
    routes serve them (where a moderator or anyone may use them)."""
    client = world.test_client()
    _login(client, "other_moderator")
    with world.app_context():
        theirs, ours = _args(B), _args(A)
        foreign = {k: {n: (ours[k][n] if n in ID_ARGUMENTS else v) for n, v in d.items()}
                   for k, d in theirs.items()}
        rules = [(e, m, r) for e, m, r in _routes(world)
                 if ID_ARGUMENTS & set(r.arguments) and e != "accounts.logout"]
        crossing = [(e, m, _url(world, r, foreign)) for e, m, r in rules]
        own = [(e, m, _url(world, r, theirs)) for e, m, r in rules
               if "moderator" in MATRIX[(e, m)]]
        before = _snapshot()
        db.session.remove()
    assert len(crossing) >= 25
    # refused outright, 422 (an option of another round), or sent back to the page with
    # the refusal (a form-less action without JavaScript: post/redirect/get with an error)
    wrong = {k: resp.status_code for k, resp in _walk(client, crossing).items()
             if not (_refused(resp) or resp.status_code == 422 or resp.errors)}
    assert wrong == {}, "an object of 花园小区 was reached through the other community"
    with world.app_context():
        assert _snapshot() == before
        db.session.remove()
    wrong = {k: resp.status_code for k, resp in _walk(client, own).items() if _refused(resp)}
    assert wrong == {}
