"""Voting through the round page: the vote panel (plain and htmx), refused votes and their
audit record, the checklist, named results, and races between requests."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from civic import clock
from civic.audit.operations import verify_chain
from civic.consultation import operations as ops
from civic.consultation.models import Round, RoundState, SeatVote
from civic.consultation.rules import Vote
from civic.extensions import db
from tests.conftest import PASSWORD
from tests.consultation.helpers import (HX, Clients, Paths, checked_value, close_now, events,
                                        get_round, main, open_now, option_ids, prepared_round,
                                        read, seat_id, text, votes)

MODES = pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])


@pytest.fixture
def clients(app):
    return Clients(app)


@pytest.fixture
def paths(hall):
    return Paths(hall)


@pytest.fixture
def opened(app, hall):
    """An open round: (round dict, status quo id, pump id)."""
    r = prepared_round(app, hall)
    open_now(app, hall, r)
    return r, r["status_quo"], r["options"][0]


def post_vote(clients, paths, person, option_id, vote, reason="", seat=None, htmx=False):
    data = {f"o{option_id}-vote": vote, f"o{option_id}-reason": reason}
    if seat is not None:
        data[f"o{option_id}-seat_id"] = str(seat)
    return clients(person).post(paths.round(1, f"/options/{option_id}/vote"), data=data,
                                headers=HX if htmx else {})


# --- the panel ---------------------------------------------------------------------------

def test_a_seat_holder_votes_and_changes_the_vote_plain_then_htmx(app, hall, clients, paths,
                                                                  opened):
    h = hall
    r, sq, pump = opened
    sid = seat_id(app, r["id"], h.assoc)
    page = text(clients(h.assoc).get(paths.round(1)))
    assert f'id="vote-{pump}"' in page and f'name="o{pump}-seat_id" type="hidden" value="{sid}"' \
        in page
    assert "你（业委会主任）还没有对这个方案表决。" in page

    resp = post_vote(clients, paths, h.assoc, pump, "agree", seat=sid)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"#option-{pump}")
    page = text(clients(h.assoc).get(resp.headers["Location"]))
    assert "表决已记录" in page and checked_value(page, f"o{pump}-vote") == "agree"
    assert "你（业委会主任）的表决：<strong>同意</strong>" in page

    resp = post_vote(clients, paths, h.assoc, pump, "abstain", "再观察一次降雨", seat=sid,
                     htmx=True)
    assert resp.status_code == 200
    fragment = text(resp)
    assert fragment.lstrip().startswith(f'<div id="vote-{pump}"') and "<html" not in fragment
    assert "已记录你的表决" in fragment and checked_value(fragment, f"o{pump}-vote") == "abstain"
    assert "再观察一次降雨" in fragment
    assert "HX-Request" in resp.headers["Vary"]
    rows = votes(app, r["id"])
    assert [(v.seat_id, v.option_id, v.vote, v.reason) for v in rows] == [
        (sid, pump, Vote.ABSTAIN, "再观察一次降雨")]
    assert len(events(app, "vote.cast")) == 1 and len(events(app, "vote.change")) == 1


@MODES
def test_opposing_needs_a_reason_shown_at_the_field(app, hall, clients, paths, opened, htmx):
    h = hall
    r, sq, pump = opened
    resp = post_vote(clients, paths, h.prop, pump, "oppose", "   ", htmx=htmx)
    page = text(resp)
    assert "投反对票须写明理由（会随表决结果公开）。" in page
    assert f'id="o{pump}-reason-err"' in page
    assert checked_value(page, f"o{pump}-vote") == "oppose"      # the user's choice kept
    if htmx:
        assert resp.status_code == 200 and "<html" not in page  # htmx swaps only 2xx
    else:
        assert resp.status_code == 400 and "<html" in page
    resp = post_vote(clients, paths, h.prop, pump, "maybe", htmx=htmx)
    assert "请选择同意、反对或弃权。" in text(resp)
    assert resp.status_code == (200 if htmx else 400)
    assert votes(app, r["id"]) == []


@MODES
def test_a_property_manager_cannot_vote_on_the_association_seat(app, hall, clients, paths,
                                                                opened, htmx):
    h = hall
    r, sq, pump = opened
    assoc_seat = seat_id(app, r["id"], h.assoc)
    resp = post_vote(clients, paths, h.prop, pump, "agree", seat=assoc_seat, htmx=htmx)
    assert resp.status_code == 403
    refused = events(app, "vote.refused")            # committed before the 403
    assert len(refused) == 1 and refused[0].actor == read(
        app, lambda: db.session.get(type(h.prop), h.prop.id).pseudonym)
    assert '"code":"other_seat"' in refused[0].payload
    assert f'"seat":{assoc_seat}' in refused[0].payload
    assert votes(app, r["id"]) == []
    # nor can someone without any seat borrow it
    resp = post_vote(clients, paths, h.assoc2, pump, "agree", seat=assoc_seat, htmx=htmx)
    assert resp.status_code == 403 and len(events(app, "vote.refused")) == 2
    # their own seat works
    own = seat_id(app, r["id"], h.prop)
    resp = post_vote(clients, paths, h.prop, pump, "agree", seat=own, htmx=htmx)
    assert resp.status_code == (200 if htmx else 303)
    assert [v.seat_id for v in votes(app, r["id"])] == [own]
    assert read(app, lambda: verify_chain().ok)


def test_a_seat_holder_who_left_the_body_is_refused_and_logged(app, hall, clients, paths,
                                                               opened):
    from civic.communities.models import Membership, MembershipStatus, Role
    from sqlalchemy import update
    h = hall
    r, sq, pump = opened
    client = clients(h.assoc)                       # logged in before the revocation
    with app.test_request_context("/", method="POST"):
        db.session.execute(update(Membership).where(
            Membership.user_id == h.assoc.id, Membership.role == Role.ASSOCIATION)
            .values(status=MembershipStatus.REVOKED))
        db.session.commit()
    resp = client.post(paths.round(1, f"/options/{pump}/vote"),
                       data={f"o{pump}-vote": "agree"})
    assert resp.status_code == 403
    assert '"code":"body_mismatch"' in events(app, "vote.refused")[0].payload
    assert votes(app, r["id"]) == []


@MODES
def test_no_vote_before_opening_after_the_deadline_after_closing_or_without_a_seat(
        app, hall, clients, paths, htmx):
    h = hall
    r = prepared_round(app, h)
    pump = r["options"][0]

    def refused_with(message, person=h.assoc):
        resp = post_vote(clients, paths, person, pump, "agree", htmx=htmx)
        where = resp.headers["HX-Location"] if htmx else resp.headers["Location"]
        assert resp.status_code == (204 if htmx else 303)
        assert message in text(clients(person).get(where))

    refused_with("这一轮尚未开始表决。")
    assert f"/options/{pump}/vote" not in text(clients(h.assoc).get(paths.round(1)))
    open_now(app, h, r)
    for person in (h.assoc2, h.outsider):           # staff without a seat, a resident
        assert post_vote(clients, paths, person, pump, "agree", htmx=htmx).status_code == 403
    anonymous = post_vote(clients, paths, None, pump, "agree", htmx=htmx)
    assert anonymous.status_code in (302, 303, 401)
    clock.freeze(r["closes_at"])
    refused_with("表决已截止。")
    page = text(clients(h.assoc).get(paths.round(1)))
    assert "表决已截止，等待结束表决并公布结果。" in page and "/vote" not in page
    close_now(app, h, r)
    refused_with("这一轮已经结束，表决结果为最终结果。")
    assert votes(app, r["id"]) == [] and events(app, "vote.refused") == []


def test_an_option_of_another_round_is_422(app, hall, clients, paths, opened):
    """An option of another round is 422; an option that does not exist is 404."""
    h = hall
    r, sq, pump = opened
    resp = clients(h.assoc).post(paths.round(2, f"/options/{pump}/vote"),
                                 data={f"o{pump}-vote": "agree"})
    assert resp.status_code in (404, 422)   # round 2 may not exist: then 404 first
    resp = clients(h.assoc).post(paths.round(1, f"/options/{pump + 100}/vote"),
                                 data={f"o{pump + 100}-vote": "agree"})
    assert resp.status_code == 404
    assert votes(app, r["id"]) == []


def test_the_checklist_shows_who_has_not_voted(app, hall, clients, paths, opened):
    h = hall
    r, sq, pump = opened
    for option in (sq, pump):
        post_vote(clients, paths, h.mod, option, "agree")
    post_vote(clients, paths, h.assoc, pump, "agree")
    page = text(clients(h.prop).get(paths.round(1)))
    waiting = page.split('id="checklist"')[1].split("</section>")[0]
    assert "居委会主任" not in waiting
    assert "业委会主任</span> <span class=\"muted small\">已表决 1 / 2 个方案" in waiting
    assert "物业项目经理</span> <span class=\"muted small\">已表决 0 / 2 个方案" in waiting
    assert "表决进度" not in text(clients(h.rep).get(paths.round(1)))   # no seat, no checklist
    assert "表决进度" not in text(clients().get(paths.round(1)))
    for who in (h.assoc, h.prop):
        for option in (sq, pump):
            post_vote(clients, paths, who, option, "agree")
    assert "全部席位均已表决" in text(clients(h.mod).get(paths.round(1)))


def test_named_votes_are_published_with_the_result_only(app, hall, clients, paths, opened):
    h = hall
    r, sq, pump = opened
    post_vote(clients, paths, h.mod, pump, "agree")
    post_vote(clients, paths, h.assoc, pump, "oppose", "应先查明积水<原因>")
    post_vote(clients, paths, h.prop, pump, "abstain")
    public = text(clients().get(paths.round(1)))
    assert "应先查明积水" not in public and "实名表决" not in public
    close_now(app, h, r)
    public = main(text(clients().get(paths.round(1))))
    assert "本轮未形成决定" in public
    assert "应先查明积水&lt;原因&gt;" in public
    option = public.split(f'id="option-{pump}"')[1].split("</article>")[0]
    assert "<strong>未通过</strong>" not in option and "未通过" in option
    assert "业委会有1票反对。" in option and "物业有1票弃权，一致须全部同意。" in option
    named = option.split("实名表决")[1]
    assert named.index("居委会主任") < named.index("同意")
    assert "业委会主任</span> <strong>反对</strong>" in named
    assert "物业项目经理</span> <strong>弃权</strong>" in named
    for person in (h.mod, h.assoc, h.prop):
        assert person.phone not in public and person.display_name not in public
    rows = option.split("<tbody>")[1].split("</tbody>")[0]
    assert '<th scope="row">合计</th><td class="num">3</td><td class="num">1</td>' \
           '<td class="num">1</td><td class="num">1</td><td class="num">0</td>' in rows


def test_a_passing_option_is_shown_as_adopted(app, hall, clients, paths, opened):
    h = hall
    r, sq, pump = opened
    for who in (h.mod, h.assoc, h.prop):
        post_vote(clients, paths, who, pump, "agree")
        post_vote(clients, paths, who, sq, "oppose", "积水必须处理")
    close_now(app, h, r)
    assert get_round(app, r["id"]).adopted_option_id == pump
    page = main(text(clients().get(paths.round(1))))
    result = page.split('id="result"')[1].split("</section>")[0]
    assert "采纳方案" in result and "更换排水泵" in result and "未形成决定" not in result
    assert "三方一致：参加表决的各方席位全部投同意票，达成一致。" in page
    overview = text(clients().get(paths.consultation))
    assert "采纳方案" in overview and "更换排水泵" in overview


# --- races ---------------------------------------------------------------------------

def _race(app, jobs):
    """Run each job(client) at once in its own thread with its own logged-in client."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [], []

    def worker(person, job):
        try:
            client = app.test_client()
            assert client.post("/login", data={"phone": person.phone,
                                               "password": PASSWORD}).status_code == 303
            barrier.wait()
            results.append(job(client))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    return results


@MODES
def test_concurrent_votes_by_one_seat_leave_one_row(app, hall, paths, opened, htmx):
    h = hall
    r, sq, pump = opened
    sid = seat_id(app, r["id"], h.assoc)
    choices = ["agree", "abstain"] * 6

    def tap(choice):
        return lambda client: client.post(
            paths.round(1, f"/options/{pump}/vote"), headers=HX if htmx else {},
            data={f"o{pump}-vote": choice, f"o{pump}-seat_id": str(sid)}).status_code

    codes = _race(app, [(h.assoc, tap(c)) for c in choices])
    assert codes == [200 if htmx else 303] * len(choices)
    rows = votes(app, r["id"])
    assert len(rows) == 1 and (rows[0].seat_id, rows[0].option_id) == (sid, pump)
    assert len(events(app, "vote.cast")) == 1
    assert len(events(app, "vote.change")) == len(choices) - 1
    assert read(app, lambda: verify_chain().ok)


def test_opening_races_a_change_and_the_hash_still_holds(app, hall, paths):
    """A change racing the opening either lands before it (and is in the hash) or is
    refused; the stored hash always matches the stored round."""
    h = hall
    r = prepared_round(app, h)
    clock.freeze(r["starts_at"])

    def open_(client):
        return client.post(paths.round(1, "/open")).status_code

    def add(i):
        return lambda client: client.post(paths.round(1, "/options"), data={
            "title": f"方案{i}", "cost": "100", "funding_source": "other",
            "executor": "committee"}).status_code

    codes = _race(app, [(h.mod, open_)] + [(h.mod, add(i)) for i in range(5)])
    assert codes == [303] * 6
    rnd = get_round(app, r["id"])
    assert rnd.state is RoundState.OPEN
    assert read(app, lambda: ops.compute_frozen_hash(db.session.get(Round, r["id"]))) \
        == rnd.frozen_hash
    added = len(option_ids(app, r["id"])) - 2
    assert len(events(app, "round.option_add")) == 1 + added
    assert '"options":' in events(app, "round.open")[0].payload
    assert f'"options":{added + 2}' in events(app, "round.open")[0].payload
    assert read(app, lambda: db.session.scalar(
        select(SeatVote.id).where(SeatVote.round_id == r["id"]))) is None


def test_the_prefixed_forms_carry_their_csrf_token(app, hall, clients, paths, opened):
    """With CSRF protection on, as in production: each form's own hidden token (named
    after the form's prefix) is accepted, and a post without one is refused."""
    h = hall
    r, sq, pump = opened
    client = clients(h.assoc)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = text(client.get(paths.round(1)))
        token = re.search(rf'name="o{pump}-csrf_token" type="hidden" value="([^"]+)"',
                          page).group(1)
        resp = client.post(paths.round(1, f"/options/{pump}/vote"),
                           data={f"o{pump}-vote": "agree"})
        assert resp.status_code == 400
        resp = client.post(paths.round(1, f"/options/{pump}/vote"),
                           data={f"o{pump}-vote": "agree", f"o{pump}-csrf_token": token})
        assert resp.status_code == 303, text(resp)
        token = re.search(r'name="statement-csrf_token" type="hidden" value="([^"]+)"',
                          page).group(1)
        resp = client.post(paths.round(1, "/statements"), data={
            "statement-body": "association", "statement-text": "业委会意见",
            "statement-csrf_token": token})
        assert resp.status_code == 303, text(resp)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert [v.vote for v in votes(app, r["id"])] == [Vote.AGREE]
