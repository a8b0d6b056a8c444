"""QUALITY.md §4, row by row: every "try" of the hostile-input table and the tests that
show what must happen. Rows proven elsewhere point at their tests (a test that does not
exist fails `test_every_row_is_proven`); the rest are proven here, over the two demo
communities of the authorisation matrix."""
from __future__ import annotations

import importlib
import io
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civic.accounts.models import User
from civic.ballots.models import BallotVote
from civic.communities.models import Membership, MembershipStatus
from civic.consultation.models import Consultation, Round, RoundComment
from civic.decisions.models import Decision, Objection
from civic.extensions import db
from civic.implementation.models import Expense
from civic.issues.models import Comment, Cosign, Issue
from civic.moderation.models import Report
from tests.conftest import jpeg_bytes
from tests.test_authorisation_matrix import (
    A, VISITORS, _args, _issue, _login, _routes, _url, world)  # noqa: F401  (fixture)
from tests.test_get_is_safe import _snapshot

HERE = "tests/test_hostile_input.py"

#: the table's rows, in its order: what is tried → the tests proving what must happen
ROWS: dict[str, list[str]] = {
    "co-sign the same issue twice; 20 parallel co-signs from one household": [
        "tests/issues/test_cosign.py::test_double_tap_creates_one_cosign",
        "tests/issues/test_cosign.py::test_concurrent_taps_from_one_household_make_one_cosign"],
    "a second resident of the same unit co-signs": [
        "tests/issues/test_cosign.py::test_second_resident_of_same_household_refused"],
    "forged unit_id / user_id / role in a POST": [
        "tests/issues/test_cosign.py::test_forged_ids_are_ignored",
        "tests/communities/test_views.py::test_forged_role_value_refused"],
    "unverified or revoked resident co-signs, comments, votes": [
        "tests/issues/test_cosign.py::test_only_verified_residents_of_this_community_cosign",
        f"{HERE}::test_unverified_and_revoked_residents_are_refused_and_nothing_is_stored"],
    "co-sign a draft, expired, withdrawn or declined issue": [
        "tests/issues/test_cosign.py::test_closed_issues_refuse_with_reason"],
    "concurrent co-signs cross the threshold": [
        "tests/issues/test_cosign.py::test_concurrent_cosigns_are_exact_and_cross_once"],
    "property manager votes on an owners'-committee seat": [
        "tests/consultation/test_votes.py::test_a_property_manager_cannot_vote_on_the_association_seat"],
    "vote before the round opens, after it closes, or in a round you have no seat in": [
        "tests/consultation/test_votes.py::"
        "test_no_vote_before_opening_after_the_deadline_after_closing_or_without_a_seat"],
    "change a vote after the round closed": [
        "tests/consultation/test_rounds.py::"
        "test_no_vote_before_opening_after_the_deadline_after_closing_or_without_a_seat"],
    "an option id from another round": [
        "tests/consultation/test_rounds.py::test_an_option_of_another_round_is_422",
        "tests/consultation/test_votes.py::test_an_option_of_another_round_is_422",
        f"{HERE}::test_an_option_of_another_round_is_422_over_http"],
    "edit or delete a published decision or expense by any route": [
        "tests/decisions/test_integrity.py::test_the_database_refuses_to_update_content",
        "tests/implementation/test_ledger.py::test_the_database_refuses_to_change_or_delete_an_entry",
        f"{HERE}::test_no_route_edits_a_published_decision_or_expense"],
    "anonymous user opens drafts, internal notes, the roster, phone numbers": [
        "tests/test_authorisation_matrix.py::test_authorisation_matrix",
        "tests/archive/test_privacy_scan.py::"
        "test_no_personal_data_drafts_or_hidden_content_in_any_public_page"],
    "<script>, <img onerror>, javascript: links, hx-get= in titles, bodies, display names, "
    "comments": [
        "tests/issues/test_views.py::test_xss_in_title_body_comment_name_is_text",
        f"{HERE}::test_hostile_markup_is_text_on_every_page"],
    "POST without or with a wrong CSRF token; state change via GET": [
        "tests/test_csrf_everywhere.py::test_every_post_without_a_token_is_refused_and_changes_nothing",
        "tests/test_app.py::test_csrf_required_on_post",
        "tests/test_get_is_safe.py::test_no_get_route_changes_the_database",
        f"{HERE}::test_a_get_to_a_post_only_route_is_405"],
    "register or log in with an existing vs a new phone number": [
        "tests/accounts/test_views.py::test_register_same_answer_for_existing_number",
        "tests/accounts/test_views.py::test_login_same_message_for_unknown_number_and_wrong_password"],
    "100 wrong passwords": [
        "tests/accounts/test_views.py::test_login_throttled_per_account",
        "tests/accounts/test_views.py::test_login_throttled_per_ip_and_forwarded_for_does_not_help"],
    "next=https://evil.example, //evil.example": [
        "tests/accounts/test_views.py::test_login_next_only_local"],
    "upload over the size limit; an HTML file named .jpg; a 20000×20000 PNG; SVG": [
        "tests/issues/test_photos.py::test_request_over_size_limit_refused",
        "tests/issues/test_photos.py::test_non_images_refused_and_nothing_stored",
        "tests/issues/test_photos.py::test_decompression_bomb_refused",
        f"{HERE}::test_every_upload_refuses_what_is_not_a_photo_and_keeps_nothing"],
    "?sort= / ?page= with SQL or garbage": [
        "tests/issues/test_views.py::test_garbage_query_parameters_are_ignored",
        f"{HERE}::test_garbage_query_strings_never_cause_a_server_error",
        f"{HERE}::test_a_nul_character_anywhere_is_400"],
    "roster file with bad rows": [
        "tests/roster/test_views.py::test_import_with_bad_rows_lists_every_problem_and_imports_nothing"],
    "ballot recount file that is malformed or inconsistent": [
        "tests/ballots/test_art278.py::test_recount_bad_files",
        "tests/ballots/test_recount_cli.py::test_bad_files_name_the_problem_on_stderr"],
    "database stopped mid-request": [
        "tests/test_database_faults.py::test_the_database_stops_mid_request_and_the_app_recovers",
        "tests/test_database_faults.py::test_a_photo_written_before_the_database_stopped_is_removed"],
    "restore the latest backup into an empty database": [
        "tests/test_backup.py::test_restore_drill_into_an_empty_database"],
    "delete an account": [
        "tests/accounts/test_privacy.py::test_deleting_removes_personal_data_and_keeps_the_record"],
    "force an exception": ["tests/test_app.py::test_500_is_generic_with_request_id"],
}


def test_every_row_is_proven():
    """The table has 25 rows; each names at least one test, and every test named exists."""
    assert len(ROWS) == 25
    for row, tests in ROWS.items():
        assert tests, row
        for node in tests:
            path, name = node.split("::")
            module = importlib.import_module(path[:-3].replace("/", "."))
            assert callable(getattr(module, name, None)), f"{row}: {node} does not exist"


# --- the world: the authorisation matrix's two demo communities ------------------------

def _client(app, who: str):
    client = app.test_client()
    _login(client, who)
    return client


def _counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Cosign, Comment, RoundComment, Objection, BallotVote, Report))


def test_unverified_and_revoked_residents_are_refused_and_nothing_is_stored(world):
    """A signed-in user verified nowhere, and the owner of 1号楼101 after the committee
    revoked their verification, try to co-sign, comment, give an opinion on a round,
    object to a decision, vote in the owners' ballot and report a comment — as a plain
    form and with htmx. Every attempt is 403 and no row is written."""
    with world.app_context():
        args = _args(A)
        owner = db.session.scalar(select(Membership).join(User, User.id == Membership.user_id)
                                  .where(User.phone == VISITORS["owner"],
                                         Membership.community_id == _issue_community(A).id))
        before = _counts()
        db.session.remove()
    n, k = args["issues"]["number"], args["consultation"]["k"]
    attempts = [
        (f"/c/{A}/issues/{n}/cosign", {}),
        (f"/c/{A}/issues/{n}/comments", {"body": "我也同意"}),
        (f"/c/{A}/issues/{args['consultation']['number']}/rounds/{k}/comments",
         {"opinion-text": "我有意见"}),
        (f"/c/{A}/issues/{args['decisions']['number']}/decisions/"
         f"{args['decisions']['version']}/objections", {"text": "我反对"}),
        (f"/c/{A}/ballots/{args['ballots']['number']}/vote", {"choice": "yes"}),
        (f"/c/{A}/report/comment/{args['moderation']['target_id']}", {"reason": "广告"}),
    ]
    revoker = _client(world, "moderator")
    assert revoker.post(f"/c/{A}/manage/members/{owner.id}/revoke",
                        data={"reason": "已搬离"}).status_code == 303
    with world.app_context():
        assert db.session.get(Membership, owner.id).status is MembershipStatus.REVOKED
        db.session.remove()
    for who in ("unverified", "owner"):
        client = _client(world, who)
        for htmx in (False, True):
            for url, data in attempts:
                resp = client.post(url, data=data, headers={"HX-Request": "true"} if htmx else {})
                assert resp.status_code == 403, (who, htmx, url, resp.status_code)
    with world.app_context():
        assert _counts() == before


def test_an_option_of_another_round_is_422_over_http(world):
    """A seat holder of the voting round votes with the id of an option of another round
    (here, of the other community's round): 422, nothing stored."""
    with world.app_context():
        ours = _args(A)["consultation"]
        theirs = _args("other")["consultation"]
        votes = db.session.scalar(select(func.count(BallotVote.id)))
        db.session.remove()
    client = _client(world, "association")
    url = f"/c/{A}/issues/{ours['number']}/rounds/{ours['k']}/options/{theirs['option_id']}/vote"
    for headers in ({}, {"HX-Request": "true"}):
        resp = client.post(url, data={"vote": "agree"}, headers=headers)
        assert resp.status_code == 422, resp.status_code
        assert "不属于这一轮" in resp.get_data(as_text=True)
    with world.app_context():
        assert db.session.scalar(select(func.count(BallotVote.id))) == votes


#: plausible values for every field name the app's forms use, so that a route which could
#: change something gets the chance to
PAYLOAD = {
    "title": "改过的标题", "summary": "改过的决议内容", "body": "改过的正文", "text": "改过的内容",
    "reason": "改一下", "note": "改一下", "answer": "confirm", "amount": "1.00", "cost": "1",
    "payee": "改过的收款方", "purpose": "改过的用途", "spent_on": date.today().isoformat(),
    "status": "in_progress", "resolved": "yes", "score": "3", "choice": "yes", "vote": "agree",
    "approved": "1", "lead": "property", "funding_source": "public_income",
    "due_on": "2027-01-31", "budget": "99999", "correction_note": "改正",
}


@pytest.mark.parametrize("who", ["moderator", "property", "association"])
def test_no_route_edits_a_published_decision_or_expense(world, who):
    """Each of the three bodies posts plausible values to every POST route of the app.
    Every published decision keeps its content, every expense entry stays as it was, and
    a new decision can only be a new version (a correction) or a supplement."""
    content = (Decision.id, Decision.title, Decision.summary, Decision.tally,
               Decision.budget_fen, Decision.lead, Decision.due_on, Decision.funding_source,
               Decision.content_hash, Decision.version)
    with world.app_context():
        args = _args(A)
        routes = [(e, m, _url(world, r, args)) for e, m, r in _routes(world)
                  if m == "POST" and e not in ("accounts.logout", "accounts.delete_account")]
        decisions = {row[0]: row for row in db.session.execute(select(*content))}
        expenses = {e.id: _row(e) for e in db.session.scalars(select(Expense))}
        db.session.remove()
    client = _client(world, who)
    for endpoint, _method, url in routes:
        assert client.post(url, data=PAYLOAD).status_code < 500, endpoint
    with world.app_context():
        after = {row[0]: row for row in db.session.execute(select(*content))}
        assert {i: after[i] for i in decisions} == decisions
        for i in set(after) - set(decisions):
            new = db.session.get(Decision, i)
            assert new.corrects_id in decisions or new.supplements_id in decisions
        assert {e.id: _row(e) for e in db.session.scalars(select(Expense))
                if e.id in expenses} == expenses


def _row(obj) -> tuple:
    return tuple(getattr(obj, c.key) for c in obj.__table__.columns)


def test_a_get_to_a_post_only_route_is_405(world):
    """No route changes state on GET: a route that acts only on POST answers GET with 405."""
    with world.app_context():
        args = _args(A)
        post_only = [(e, _url(world, r, args)) for e, m, r in _routes(world)
                     if r.methods & {"GET"} == set()]
    client = _client(world, "moderator")
    with world.app_context():
        before = _snapshot()
        db.session.remove()
    assert len(post_only) > 50
    for endpoint, url in post_only:
        resp = client.get(url)
        assert resp.status_code == 405, endpoint
        assert "POST" in resp.headers["Allow"]
    with world.app_context():
        assert _snapshot() == before


GARBAGE = ("sort=name%27%3B+DROP+TABLE+issue%3B--&page=-1&per_page=99999999999999999999"
           "&q=%27+OR+1%3D1--%00&state=%3Cscript%3E&year=abc&building=1e309&cpage=NaN"
           "&category=%E2%80%AE&source=..%2F..%2Fetc%2Fpasswd&lang=xx&format=%25s%25n")


@pytest.mark.parametrize("who", ["public", "moderator"])
def test_garbage_query_strings_never_cause_a_server_error(world, who):
    """Every GET route with SQL, huge numbers, NUL bytes and markup in its query string:
    an answer below 500 (the pages ignore what they cannot use, the API says 400)."""
    with world.app_context():
        args = _args(A)
        urls = [(e, _url(world, r, args)) for e, m, r in _routes(world) if m == "GET"]
        db.session.remove()
    client = _client(world, who)
    for endpoint, url in urls:
        resp = client.get(f"{url}?{GARBAGE}")
        assert resp.status_code < 500, endpoint
        if resp.mimetype == "text/html":
            assert "<script>" not in resp.get_data(as_text=True), endpoint


HOSTILE = ('<script>alert(1)</script><img src=x onerror=alert(2)>'
           '<a hx-get="/logout" hx-trigger="load" href="javascript:alert(3)">点我</a>')
#: what would be live markup, as opposed to the same text escaped
LIVE = [re.compile(p) for p in (r"<script>alert", r"<img\b[^<>]*onerror",
                                r'<a\b[^<>]*hx-get="/logout"',
                                r'<a\b[^<>]*href="javascript:')]


def test_hostile_markup_is_text_on_every_page(world):
    """Hostile markup in a display name, an issue's title and body, a comment, a round
    opinion, an objection, a progress update and an expense's payee and purpose is shown
    as text on every page of the app, as the public, a resident and the moderator see it."""
    from civic.consultation import operations as rounds
    from civic.decisions import operations as decisions
    from civic.implementation import operations as work
    from civic.issues import operations as issue_ops
    with world.app_context():
        args = _args(A)
        users = {who: db.session.scalar(select(User).where(User.phone == VISITORS[who]))
                 for who in ("owner", "resident", "property")}
        users["owner"].display_name = HOSTILE[:40]
        users["resident"].display_name = '<img src=x onerror=alert(2)>'
        c = _issue_community(A)
        issue = issue_ops.create_issue(users["owner"], c, title=HOSTILE[:80], body=HOSTILE,
                                       category="安全", building_id=None, place_text="",
                                       photos=[])
        issue_ops.submit(users["owner"], issue)
        collecting = db.session.scalar(select(Issue).where(
            Issue.community_id == c.id, Issue.number == args["issues"]["number"]))
        issue_ops.add_comment(users["resident"], collecting, HOSTILE)
        rnd = db.session.scalar(select(Round).join(Consultation).where(
            Consultation.issue_id == _issue(c, "西侧绿化带改建停车位").id,
            Round.number == args["consultation"]["k"]))
        rounds.add_round_comment(users["resident"], rnd, HOSTILE)
        wall = db.session.scalar(select(Decision).where(
            Decision.issue_id == _issue(c, "2号楼外墙渗水维修").id))
        decisions.file_objection(users["resident"], wall, HOSTILE)
        fitness = _issue(c, "健身器材老化需要更换")
        work.post_update(users["property"], fitness, status="in_progress", text=HOSTILE,
                         photos=[])
        work.add_expense(users["property"], fitness, spent_on=date.today(), amount_fen=100,
                         payee=HOSTILE[:100], purpose=HOSTILE, receipts=[jpeg_bytes()])
        db.session.commit()
        urls = [(e, _url(world, r, args)) for e, m, r in _routes(world) if m == "GET"]
        db.session.remove()
    pages = 0
    for who in ("public", "resident", "moderator"):
        client = _client(world, who)
        for endpoint, url in urls:
            for headers in ({}, {"HX-Request": "true"}):
                resp = client.get(url, headers=headers)
                if resp.mimetype not in ("text/html", "application/atom+xml"):
                    continue
                pages += 1
                html = resp.get_data(as_text=True)
                for pattern in LIVE:
                    m = pattern.search(html)
                    assert not m, (who, endpoint, html[max(0, m.start() - 300):m.end() + 100])
    assert pages > 150


def _issue_community(slug):
    from civic.communities.models import Community
    return db.session.scalar(select(Community).where(Community.slug == slug))


#: every form that takes files, the field, who may use it, and the rest of a valid form
UPLOADS = [
    ("issues.new", "/c/{slug}/issues/new", "photos", "owner",
     {"title": "楼道灯坏了", "category": "安全", "body": "", "action": "publish"}),
    ("implementation.book", "/c/{slug}/issues/{fitness}/expenses", "receipts", "property",
     {"spent_on": date.today().isoformat(), "amount": "10.00", "payee": "五金店",
      "purpose": "螺丝"}),
    ("implementation.progress", "/c/{slug}/issues/{fitness}/progress", "photos", "property",
     {"status": "in_progress", "text": "今天装好了"}),
    ("ballots.proxy", "/c/{slug}/ballots/{ballot}/proxy", "proxy-document", "moderator",
     {"proxy-unit": "", "proxy-choice": "yes", "proxy-proxy_name": "张三"}),
]
NOT_PHOTOS = [
    ("evil.jpg", b"<html><script>alert(1)</script></html>"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("big.png", None),   # a 20000×20000 PNG, made below
]


def _huge_png() -> bytes:
    """A PNG that declares 20000×20000 pixels in a few kilobytes (one colour compresses)."""
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")
    Image.MAX_IMAGE_PIXELS = 89478485
    return buf.getvalue()


@pytest.mark.parametrize("endpoint,url,field,who,form", UPLOADS, ids=[u[0] for u in UPLOADS])
def test_every_upload_refuses_what_is_not_a_photo_and_keeps_nothing(world, endpoint, url,
                                                                    field, who, form):
    """Every form that takes files refuses an HTML file named .jpg, an SVG and a 20000×20000
    PNG with a message in Chinese, writes no file and no row."""
    with world.app_context():
        args = _args(A)
        url = url.format(slug=A, fitness=args["implementation"]["number"],
                         ballot=args["ballots"]["number"])
    client = _client(world, who)
    with world.app_context():
        before = _snapshot()
        folder = Path(world.config["UPLOAD_FOLDER"])
        files = sorted(folder.rglob("*"))
        db.session.remove()
    huge = _huge_png()
    for name, data in NOT_PHOTOS:
        resp = client.post(url, content_type="multipart/form-data",
                           data={**form, field: [(io.BytesIO(data or huge), name)]})
        assert resp.status_code in (400, 413, 422), (name, resp.status_code)
        html = resp.get_data(as_text=True)
        assert re.search(r"JPEG、PNG 或 WEBP|图片太大|像素", html), name
    with world.app_context():
        assert _snapshot() == before
        db.session.remove()
    assert sorted(folder.rglob("*")) == files


def test_a_nul_character_anywhere_is_400(client, make, auth):
    """PostgreSQL cannot store NUL: a query or form value holding one is refused up front,
    on every database, instead of failing (500) deep in a search or an insert."""
    c = make.community()
    for url in (f"/c/{c.slug}/decisions/?q=%E7%94%B5%00", f"/c/{c.slug}/issues/?q=a%00",
                f"/c/{c.slug}/?x%00=1"):
        assert client.get(url).status_code == 400, url
    auth.login(make.resident(c))
    resp = client.post(f"/c/{c.slug}/issues/new", data={"title": "灯\x00坏了", "category": "安全"})
    assert resp.status_code == 400
    assert client.get(f"/c/{c.slug}/decisions/?q=%E7%94%B5").status_code == 200
