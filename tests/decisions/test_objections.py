"""Objections during the publicity period, public answers, and taking effect."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from civic import clock
from civic.accounts.models import User
from civic.decisions import operations as dops
from civic.decisions.models import Decision, DecisionState, Objection
from civic.domain import DomainError
from civic.extensions import db
from tests.decisions.helpers import (HX, audit_count, base, client_for, count, decision,
                                     flashes, notified, objections, published, read, run,
                                     text_of)


def _url(h, tail: str = "") -> str:
    return f"{base(h)}/decisions/1{tail}"


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_a_verified_resident_objects_once_per_submission(app, hall, make, hx):
    h = hall
    d = published(app, h)
    unit = make.unit(h.community, building=make.building(h.community, "5号楼"),
                     owner=make.owner(h.community, name="李秀英"))
    neighbour = make.resident(h.community, unit=unit,
                              user=make.user(display_name="王小明"))
    client = client_for(app, neighbour)
    page = text_of(client.get(_url(h)))
    assert 'id="objection-form"' in page and 'name="idempotency_key"' in page
    data = {"text": "工期太长，雨季前完不成<script>alert(1)</script>", "idempotency_key": "tap-1"}
    for _ in range(2):   # a double tap
        resp = client.post(_url(h, "/objections"), data=data, headers=HX if hx else {})
        if hx:
            assert resp.status_code == 204
            assert resp.headers["HX-Location"] == _url(h, "#objections")
        else:
            assert resp.status_code == 303 and resp.headers["Location"] == _url(h, "#objections")
    [o] = objections(app, d.id)
    assert o.author_id == neighbour.id and o.answer is None
    assert audit_count(app, "objection.file") == 1
    assert notified(app, "objection.filed") == [h.mod.id]
    public = text_of(app.test_client().get(_url(h)))
    assert "5号楼居民" in public and "王小明" not in public and "李秀英" not in public
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in public and "<script>alert" not in public
    assert "等待居委会答复" in public and "异议（1）" in public


def test_objections_from_anyone_but_a_verified_resident_are_refused(app, hall, make):
    h = hall
    d = published(app, h)
    other = make.community()
    people = [h.assoc, h.prop, make.user(), make.resident(other),
              make.resident(h.community, status="revoked"),
              make.resident(h.community, status="suspended")]
    for person in people:
        client = client_for(app, person)
        assert client.post(_url(h, "/objections"), data={"text": "反对"}).status_code == 403
        assert client.post(_url(h, "/objections"), data={"text": "反对"},
                           headers=HX).status_code == 403
        assert 'id="objection-form"' not in text_of(client.get(_url(h)))
    anonymous = app.test_client()
    resp = anonymous.post(_url(h, "/objections"), data={"text": "反对"})
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]
    assert "登录后提出异议" in text_of(anonymous.get(_url(h)))
    assert objections(app, d.id) == []


def test_objections_only_during_the_period(app, hall):
    h = hall
    d = published(app, h)
    client = client_for(app, h.rep)
    clock.freeze(d.publicity_ends_at)
    assert 'id="objection-form"' not in text_of(client.get(_url(h)))
    for headers in ({}, HX):
        resp = client.post(_url(h, "/objections"), data={"text": "太晚了"}, headers=headers)
        assert resp.status_code in (303, 204)
    assert any("公示期已结束" in m for m in flashes(client))
    assert objections(app, d.id) == []


def test_an_empty_objection_comes_back_with_a_chinese_error(app, hall):
    h = hall
    d = published(app, h)
    client = client_for(app, h.rep)
    resp = client.post(_url(h, "/objections"), data={"text": "   "})
    assert resp.status_code == 400 and "请填写此项" in text_of(resp)
    assert 'id="terms"' in text_of(resp)                         # the whole page
    hx = client.post(_url(h, "/objections"), data={"text": ""}, headers=HX)
    assert hx.status_code == 200 and text_of(hx).lstrip().startswith('<form id="objection-form"')
    assert "请填写此项" in text_of(hx)
    too_long = client.post(_url(h, "/objections"), data={"text": "长" * 2001})
    assert too_long.status_code == 400 and "长" * 2001 in text_of(too_long)
    assert objections(app, d.id) == []


def _object(app, h, text="工期太长") -> Objection:
    resp = client_for(app, h.rep).post(_url(h, "/objections"), data={"text": text})
    assert resp.status_code == 303
    return objections(app, decision(app, h).id)[-1]


@pytest.mark.parametrize("hx", [False, True], ids=["plain", "htmx"])
def test_objections_block_taking_effect_until_every_one_is_answered(app, hall, hx):
    h = hall
    d = published(app, h)
    first, second = _object(app, h, "工期太长"), _object(app, h, "预算偏高")
    mod = client_for(app, h.mod)
    headers = HX if hx else {}
    clock.freeze(d.publicity_ends_at)
    page = text_of(mod.get(_url(h)))
    assert "暂不能生效：还有 2 条异议未答复" in page and "确认生效" not in page
    assert run(app, dops.take_effect_due) == 0
    resp = mod.post(_url(h, "/effective"), headers=headers)
    assert resp.status_code == (204 if hx else 303)
    assert decision(app, h).state is DecisionState.PUBLICITY
    assert any("还有 2 条异议未答复" in m for m in flashes(mod))

    resp = mod.post(_url(h, f"/objections/{first.id}/answer"), headers=headers,
                    data={"answer": "工期已压缩到 45 天"})
    assert resp.status_code == (204 if hx else 303)
    assert (resp.headers.get("HX-Location") if hx else resp.headers["Location"]) \
        == _url(h, f"#objection-{first.id}")
    assert notified(app, "objection.answered") == [h.rep.id]
    assert run(app, dops.take_effect_due) == 0
    assert "还有 1 条异议未答复" in text_of(mod.get(_url(h)))
    mod.post(_url(h, f"/objections/{second.id}/answer"), data={"answer": "预算按审价结果执行"},
             headers=headers)
    page = text_of(mod.get(_url(h)))
    assert "确认生效" in page and "暂不能生效" not in page
    assert "工期已压缩到 45 天" in page and "居委会主任" in page and "公开答复" in page

    resp = mod.post(_url(h, "/effective"), headers=headers)
    assert resp.status_code == (204 if hx else 303)
    d = decision(app, h)
    assert d.state is DecisionState.EFFECTIVE and d.effective_at == clock.now()
    assert len(notified(app, "decision.effective")) == 2
    assert audit_count(app, "decision.effective") == 1
    again = mod.post(_url(h, "/effective"), headers=headers)
    assert again.status_code == (204 if hx else 303) and audit_count(app, "decision.effective") == 1
    assert "已生效" in text_of(app.test_client().get(_url(h)))


def test_the_job_lets_a_decision_without_open_objections_take_effect(app, hall):
    h = hall
    d = published(app, h)
    o = _object(app, h)
    clock.freeze(d.publicity_ends_at)
    assert run(app, dops.take_effect_due) == 0
    client_for(app, h.mod).post(_url(h, f"/objections/{o.id}/answer"), data={"answer": "已采纳"})
    assert run(app, dops.take_effect_due) == 1
    assert run(app, dops.take_effect_due) == 0
    assert decision(app, h).state is DecisionState.EFFECTIVE
    assert notified(app, "decision.effective")


def test_nothing_takes_effect_before_the_period_ends(app, hall):
    h = hall
    d = published(app, h)
    mod = client_for(app, h.mod)
    clock.freeze(d.publicity_ends_at - (d.publicity_ends_at - d.published_at) / 2)
    assert "暂不能生效：公示期尚未结束" in text_of(mod.get(_url(h)))
    mod.post(_url(h, "/effective"))
    assert run(app, dops.take_effect_due) == 0
    assert decision(app, h).state is DecisionState.PUBLICITY
    assert any("公示期尚未结束" in m for m in flashes(mod))


def test_only_moderators_answer_and_take_effect(app, hall):
    h = hall
    d = published(app, h)
    o = _object(app, h)
    clock.freeze(d.publicity_ends_at)
    for person in (h.rep, h.assoc, h.prop):
        client = client_for(app, person)
        assert client.post(_url(h, f"/objections/{o.id}/answer"),
                           data={"answer": "我来答"}).status_code == 403
        assert client.post(_url(h, "/effective")).status_code == 403
        assert 'name="answer"' not in text_of(client.get(_url(h)))
    assert objections(app, d.id)[0].answer is None


def test_answering_twice_is_refused_and_the_first_answer_stays(app, hall):
    h = hall
    published(app, h)
    o = _object(app, h)
    mod = client_for(app, h.mod)
    assert 'id="answer-form-%d"' % o.id in text_of(mod.get(_url(h)))
    mod.post(_url(h, f"/objections/{o.id}/answer"), data={"answer": "第一次答复"})
    assert 'id="answer-form-%d"' % o.id not in text_of(mod.get(_url(h)))
    for headers in ({}, HX):
        again = mod.post(_url(h, f"/objections/{o.id}/answer"), data={"answer": "改口"},
                         headers=headers)
        assert again.status_code in (303, 204)
    assert any("已经答复过了" in m for m in flashes(mod))
    [o] = objections(app, o.decision_id)
    assert o.answer == "第一次答复" and audit_count(app, "objection.answer") == 1
    assert notified(app, "objection.answered") == [h.rep.id]


def test_an_empty_answer_comes_back_with_its_error_and_an_unknown_objection_is_404(app, hall):
    h = hall
    published(app, h)
    o = _object(app, h)
    mod = client_for(app, h.mod)
    resp = mod.post(_url(h, f"/objections/{o.id}/answer"), data={"answer": ""})
    html = text_of(resp)
    assert resp.status_code == 400 and f'id="answer-{o.id}-err"' in html and "请填写此项" in html
    hx = mod.post(_url(h, f"/objections/{o.id}/answer"), data={"answer": " "}, headers=HX)
    assert hx.status_code == 200
    assert text_of(hx).lstrip().startswith(f'<form id="answer-form-{o.id}"')
    assert mod.post(_url(h, "/objections/9999/answer"),
                    data={"answer": "x"}).status_code == 404
    assert objections(app, o.decision_id)[0].answer is None


def test_twenty_moderators_racing_to_answer_leave_one_answer(app, hall, make):
    h = hall
    d = published(app, h)
    o = _object(app, h)
    mods = [h.mod] + [make.staff(h.community, "moderator") for _ in range(19)]
    barrier = threading.Barrier(len(mods))
    outcomes: list[str] = []

    def answer(uid: int, i: int) -> None:
        with app.test_request_context("/", method="POST"):
            barrier.wait()
            try:
                dops.answer_objection(db.session.get(User, uid),
                                      db.session.get(Objection, o.id), f"答复 {i}")
                db.session.commit()
                outcomes.append("answered")
            except DomainError as e:
                db.session.rollback()
                outcomes.append(e.message)

    threads = [threading.Thread(target=answer, args=(m.id, i)) for i, m in enumerate(mods)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert outcomes.count("answered") == 1
    assert outcomes.count("这条异议已经答复过了。") == len(mods) - 1
    [stored] = objections(app, d.id)
    assert stored.answer.startswith("答复 ") and audit_count(app, "objection.answer") == 1
    assert notified(app, "objection.answered") == [h.rep.id]


def test_objections_to_a_decision_are_not_answerable_through_another_version(app, hall):
    h = hall
    published(app, h)
    o = _object(app, h)
    mod = client_for(app, h.mod)
    assert mod.post(f"{base(h)}/decisions/2/objections/{o.id}/answer",
                    data={"answer": "x"}).status_code == 404
    assert read(app, lambda: db.session.scalar(select(Decision.id).where(
        Decision.version == 2))) is None
    assert count(app, Objection, Objection.answer.is_not(None)) == 0
