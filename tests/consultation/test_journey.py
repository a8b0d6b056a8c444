"""The whole way through the pages, as browsers without JavaScript and as htmx:
accepted issue → consultation → round 1 (no agreement) → round 2 → votes → minutes
confirmed by every attending body and published."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from civic import clock
from civic.audit.operations import verify_chain
from civic.consultation import operations as ops
from civic.consultation.models import (Consultation, ConsultationState, Minutes,
                                       MinutesState, Option, Round, RoundState)
from civic.extensions import db
from civic.issues.models import Issue, IssueState
from tests.consultation.helpers import (HX, Clients, Paths, count, get_round, local,
                                        option_ids, read, seat_id, text)


def _done(resp, htmx: bool, to: str | None = None) -> None:
    """A successful POST: 303 for browsers, 204 + HX-Location for htmx."""
    if htmx:
        assert resp.status_code == 204, text(resp)
        location = resp.headers["HX-Location"]
    else:
        assert resp.status_code == 303, text(resp)
        location = resp.headers["Location"]
    if to is not None:
        assert to in location, location


def _round_id(app, h, k: int) -> int:
    def fn():
        issue = db.session.get(Issue, h.issue_id)
        c = ops.consultation_of(issue)
        return db.session.scalar(select(Round.id).where(Round.consultation_id == c.id,
                                                        Round.number == k))
    return read(app, fn)


def _prepare_round(app, h, clients, paths, htmx, k, option_title, cost):
    hdr = HX if htmx else {}
    mod = clients(h.mod)
    starts = clock.now() + timedelta(days=3, hours=2)
    resp = mod.post(paths.schedule, headers=hdr, data={
        "agenda": f"第{k}轮：地下车库积水如何处理\n请各方提出方案", "place": "居委会二楼会议室",
        "starts_at": local(starts), "closes_at": local(starts + timedelta(hours=2)),
        "rule": "consensus", "quorum": "1/2", "guests": "街道城管中队\n区排水公司"})
    _done(resp, htmx, paths.round(k, "/manage"))
    rid = _round_id(app, h, k)
    rnd = get_round(app, rid)
    assert rnd.state is RoundState.NOTICED and rnd.number == k
    assert rnd.starts_at == starts.replace(second=0, microsecond=0)
    assert rnd.guests == "街道城管中队\n区排水公司"

    for body, person in (("committee", h.mod), ("association", h.assoc), ("property", h.prop)):
        _done(mod.post(paths.round(k, f"/seats/{body}"), headers=hdr,
                       data={f"{body}-user_id": str(person.id)}), htmx, "/manage")
    _done(mod.post(paths.round(k, "/seats/resident"), headers=hdr,
                   data={"resident-phone": f"+86 {h.rep.phone[:3]}-{h.rep.phone[3:]}",
                         "resident-title": "居民代表"}), htmx, "/manage")
    _done(mod.post(paths.round(k, "/options"), headers=hdr, data={
        "title": option_title, "description": "由物业组织施工，工期 20 天", "cost": cost,
        "funding_source": "maintenance_fund", "executor": "property",
        "owners_item": "5"}), htmx, "/manage")
    page = text(mod.get(paths.round(k, "/manage")))
    assert option_title in page and "居民代表" in page
    return rid


def _vote(clients, paths, htmx, k, person, option_id, sid, vote, reason=""):
    hdr = HX if htmx else {}
    resp = clients(person).post(paths.round(k, f"/options/{option_id}/vote"), headers=hdr,
                                data={f"o{option_id}-vote": vote,
                                      f"o{option_id}-reason": reason,
                                      f"o{option_id}-seat_id": str(sid)})
    if htmx:
        assert resp.status_code == 200, text(resp)
        assert f'id="vote-{option_id}"' in text(resp) and "已记录你的表决" in text(resp)
        assert "<html" not in text(resp)
    else:
        assert resp.status_code == 303, text(resp)
        assert resp.headers["Location"].endswith(f"#option-{option_id}")


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_issue_to_published_minutes_through_the_pages(app, hall, htmx):
    h = hall
    hdr = HX if htmx else {}
    clients = Clients(app)
    paths = Paths(h)
    mod = clients(h.mod)

    # accepted → in consultation
    _done(mod.post(paths.open, headers=hdr), htmx, paths.consultation)
    assert read(app, lambda: db.session.get(Issue, h.issue_id).state) \
        is IssueState.IN_CONSULTATION
    page = text(clients().get(paths.consultation))
    assert "协商议事" in page and "还没有安排协商会议" in page
    assert 'action="' + paths.schedule not in page          # the public sees no form

    # round 1: no agreement
    rid1 = _prepare_round(app, h, clients, paths, htmx, 1, "更换排水泵", "12,500.50")
    pump1 = option_ids(app, rid1)[1]
    assert read(app, lambda: db.session.get(Option, pump1).cost_fen) == 1_250_050
    clock.freeze(get_round(app, rid1).starts_at)
    _done(mod.post(paths.round(1, "/open"), headers=hdr), htmx, paths.round(1))
    rnd1 = get_round(app, rid1)
    assert rnd1.state is RoundState.OPEN and len(rnd1.frozen_hash) == 64
    frozen = clients().get(paths.round(1, "/frozen.json")).data
    assert hashlib.sha256(frozen).hexdigest() == rnd1.frozen_hash
    sq1 = option_ids(app, rid1)[0]
    ballots = {"mod": "agree", "assoc": "oppose", "prop": "agree", "rep": "agree"}
    for who, v in ballots.items():
        person = getattr(h, who)
        sid = seat_id(app, rid1, person)
        _vote(clients, paths, htmx, 1, person, pump1, sid, v,
              "费用超出维修资金预算" if v == "oppose" else "")
        _vote(clients, paths, htmx, 1, person, sq1, sid, "oppose", "积水必须处理")
    _done(mod.post(paths.round(1, "/close"), headers=hdr), htmx, paths.round(1))
    rnd1 = get_round(app, rid1)
    assert rnd1.state is RoundState.CLOSED and rnd1.adopted_option_id is None
    public = text(clients().get(paths.round(1)))
    assert "本轮未形成决定" in public and "费用超出维修资金预算" in public
    assert "业委会有1票反对。" in public
    overview = text(clients().get(paths.consultation))
    assert "未形成决定" in overview
    assert "安排第 2 轮协商" in text(mod.get(paths.consultation))

    # round 2: agreement
    rid2 = _prepare_round(app, h, clients, paths, htmx, 2, "加装截水沟", "3800")
    clock.freeze(get_round(app, rid2).starts_at)
    _done(mod.post(paths.round(2, "/open"), headers=hdr), htmx, paths.round(2))
    sq2, ditch = option_ids(app, rid2)
    for who in ("mod", "assoc", "prop", "rep"):
        person = getattr(h, who)
        sid = seat_id(app, rid2, person)
        _vote(clients, paths, htmx, 2, person, ditch, sid, "agree")
        _vote(clients, paths, htmx, 2, person, sq2, sid, "oppose", "积水必须处理")
    _done(mod.post(paths.round(2, "/close"), headers=hdr), htmx, paths.round(2))
    rnd2 = get_round(app, rid2)
    assert rnd2.adopted_option_id == ditch
    assert read(app, lambda: db.session.scalar(select(Consultation.state))) \
        is ConsultationState.CLOSED
    public = text(clients().get(paths.round(2)))
    assert "采纳方案" in public and "加装截水沟" in public
    assert "须经业主表决（《民法典》第二百七十八条第五项）" in public
    assert "该方案属于业主共同决定的事项" in public

    # minutes: written, submitted, confirmed by every attending body, published
    _done(mod.post(paths.round(2, "/minutes"), headers=hdr,
                   data={"minutes-text": "会议纪要：四方到会，一致同意加装截水沟。"}), htmx, "#minutes")
    _done(mod.post(paths.round(2, "/minutes/submit"), headers=hdr), htmx, "#minutes")
    assert "会议纪要经参会各方确认后公布" in text(clients().get(paths.round(2)))
    for who in ("mod", "assoc", "prop", "rep"):
        _done(clients(getattr(h, who)).post(paths.round(2, "/minutes/confirm"), headers=hdr,
                                            data={"confirm-answer": "confirm"}), htmx, "#minutes")
    m = read(app, lambda: db.session.scalar(select(Minutes).where(Minutes.round_id == rid2)))
    assert m.state is MinutesState.PUBLISHED and m.published_at == clock.now()
    public = text(clients().get(paths.round(2)))
    assert "一致同意加装截水沟" in public and "已公布" in public
    assert count(app, Round) == 2
    assert read(app, lambda: verify_chain().ok)
