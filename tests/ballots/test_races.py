"""Nobody is counted twice, whatever the channel and however the requests race — on SQLite
and on PostgreSQL (run with CIVIC_TEST_DATABASE_URL)."""
from __future__ import annotations

import io
import threading

from sqlalchemy import func, select

from civic import uploads
from civic.audit.models import AuditEvent
from civic.audit.operations import verify_chain
from civic.ballots.models import BallotVote, Channel
from civic.extensions import db
from tests.ballots.conftest import HX, client_for, open_now
from tests.conftest import jpeg_bytes


def _race(calls):
    """Run the (client, path, data) posts at once; the HTTP status codes, in order."""
    barrier = threading.Barrier(len(calls))
    codes: list[int | None] = [None] * len(calls)
    errors: list[str] = []

    def worker(i, client, path, data):
        try:
            barrier.wait()
            codes[i] = client.post(path, data=data, headers=HX).status_code
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    return codes


def _votes(app, ballot_id, person):
    with app.app_context():
        return list(db.session.scalars(select(BallotVote).where(
            BallotVote.ballot_id == ballot_id, BallotVote.person == person)))


def _vote_events(app):
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.seq)).where(
            AuditEvent.action == "ballot.vote"))


def test_one_owner_voting_online_from_many_taps_and_devices_counts_once(app, make, lift):
    h = lift
    # a second verified owner of 甲's other unit: the same person (o-1) in the headcount
    co_owner = make.resident(h.community, h.units["3-102"])
    open_now(app, h)
    clients = [client_for(app, h.owner_a) for _ in range(6)] + \
        [client_for(app, co_owner) for _ in range(6)]
    choices = ["yes", "no"] * 6
    codes = _race([(c, h.url + "/vote", {"choice": ch}) for c, ch in zip(clients, choices)])
    # each request either counted the vote or was told it was already counted
    assert codes == [204] * 12
    rows = _votes(app, h.ballot_id, "o-1")
    assert len(rows) == 1 and rows[0].channel is Channel.ONLINE
    assert _vote_events(app) == 1
    with app.app_context():
        assert verify_chain().ok


def test_online_and_paper_for_the_same_owner_race_to_one_vote(app, lift):
    h = lift
    open_now(app, h)
    owners = [client_for(app, h.owner_b) for _ in range(5)]
    mods = [client_for(app, h.mod) for _ in range(5)]
    calls = []
    for o, m in zip(owners, mods):
        calls.append((o, h.url + "/vote", {"choice": "yes"}))
        calls.append((m, h.url + "/paper", {"unit": "3号楼-201", "choice": "no"}))
    codes = _race(calls)
    assert codes == [204] * 10
    rows = _votes(app, h.ballot_id, "o-2")
    assert len(rows) == 1
    assert rows[0].channel in (Channel.ONLINE, Channel.PAPER)
    assert _vote_events(app) == 1


def test_two_moderators_entering_the_same_paper_ballot_count_it_once(app, make, lift):
    h = lift
    second = make.staff(h.community, "moderator", title="居委会委员")
    open_now(app, h)
    clients = [client_for(app, h.mod) for _ in range(4)] + [client_for(app, second)
                                                             for _ in range(4)]
    # 3号楼-301 and -302 are both the developer's: one person, one vote
    units = ["3号楼-301", "3号楼-302"] * 4
    codes = _race([(c, h.url + "/paper", {"unit": u, "choice": "abstain"})
                   for c, u in zip(clients, units)])
    assert codes == [204] * 8
    assert len(_votes(app, h.ballot_id, "developer")) == 1


def test_paper_after_online_is_refused_with_a_clear_message(app, lift):
    h = lift
    open_now(app, h)
    owner, mod = client_for(app, h.owner_b), client_for(app, h.mod)
    assert owner.post(h.url + "/vote", data={"choice": "yes"}).status_code == 303
    resp = mod.post(h.url + "/paper", data={"unit": "3号楼-201", "choice": "no"},
                    follow_redirects=True)
    assert resp.status_code == 200
    assert "该业主已经通过线上表决表决过，不能重复计票" in resp.text
    rows = _votes(app, h.ballot_id, "o-2")
    assert [(r.channel, r.choice.value) for r in rows] == [(Channel.ONLINE, "yes")]


def test_online_after_paper_is_refused_with_a_clear_message(app, lift):
    h = lift
    open_now(app, h)
    owner, mod = client_for(app, h.owner_b), client_for(app, h.mod)
    assert mod.post(h.url + "/paper", data={"unit": "3号楼-201", "choice": "no"}).status_code == 303
    resp = owner.post(h.url + "/vote", data={"choice": "yes"}, follow_redirects=True)
    assert "该业主已经通过书面表决票表决过，不能重复计票" in resp.text
    # the owner's receipt shows the paper ballot the committee entered
    assert "书面表决票（由居委会录入）" in resp.text
    rows = _votes(app, h.ballot_id, "o-2")
    assert [(r.channel, r.choice.value) for r in rows] == [(Channel.PAPER, "no")]


def test_proxy_after_paper_for_another_unit_of_the_same_owner_is_refused(app, lift):
    h = lift
    open_now(app, h)
    mod = client_for(app, h.mod)
    assert mod.post(h.url + "/paper", data={"unit": "3号楼-101", "choice": "yes"}).status_code == 303
    resp = mod.post(h.url + "/proxy", data={
        "unit": "3号楼-102", "choice": "no", "proxy_name": "王五",
        "document": (io.BytesIO(jpeg_bytes()), "a.jpg")}, follow_redirects=True)
    assert "该业主已经通过书面表决票表决过" in resp.text
    assert len(_votes(app, h.ballot_id, "o-1")) == 1
    with app.app_context():
        folder = uploads.folder("proxies")
        assert list(folder.iterdir()) == []   # the refused proxy left no file behind
