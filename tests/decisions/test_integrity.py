"""The record: the database refuses to change or delete a decision's content, the content
hash recomputes, and the public pages need no login and leak nothing personal."""
from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from civic.audit.chain import canonical_json
from civic.audit.operations import verify_chain
from civic.decisions import operations as dops
from civic.decisions.models import Decision, DecisionState
from civic.extensions import db
from tests.decisions.helpers import (HX, base, client_for, decision, published, read, run,
                                     text_of)

CHANGES = {
    "title": "'改过的标题'", "summary": "'改过的说明'", "budget_fen": "1",
    "tally": "'{}'", "content_hash": "'0000'", "due_on": "NULL", "lead": "'committee'",
    "funding_source": "'other'", "outcome": "'rejected'", "version": "9",
    "correction_note": "'x'", "rule": "'majority_all'", "supplements_id": "1",
}


@pytest.mark.parametrize("column", sorted(CHANGES))
def test_the_database_refuses_to_update_content(app, hall, column):
    h = hall
    d = published(app, h)

    def change():
        db.session.execute(text(f"UPDATE decision SET {column} = {CHANGES[column]} "
                                "WHERE id = :id"), {"id": d.id})
    with pytest.raises(DBAPIError, match="never edited"):
        run(app, change)
    after = decision(app, h)
    assert getattr(after, column) == getattr(d, column)
    assert after.content_hash == read(app, lambda: dops.compute_content_hash(
        db.session.get(Decision, d.id)))


def test_the_database_refuses_to_delete_a_decision(app, hall):
    h = hall
    d = published(app, h)
    with pytest.raises(DBAPIError, match="never deleted"):
        run(app, lambda: db.session.execute(text("DELETE FROM decision WHERE id = :id"),
                                            {"id": d.id}))
    with pytest.raises(DBAPIError, match="never deleted"):
        run(app, lambda: db.session.delete(db.session.get(Decision, d.id)))
    assert decision(app, h) is not None


def test_the_orm_cannot_edit_content_but_state_changes_still_work(app, hall):
    h = hall
    d = published(app, h)

    def edit():
        db.session.get(Decision, d.id).budget_fen = 1
    with pytest.raises(DBAPIError, match="never edited"):
        run(app, edit)
    run(app, lambda: db.session.execute(text(
        "UPDATE decision SET state = 'withdrawn', withdraw_reason = '测试' WHERE id = :id"),
        {"id": d.id}))
    after = decision(app, h)
    assert after.state is DecisionState.WITHDRAWN and after.budget_fen == d.budget_fen


def test_the_content_hash_recomputes_from_the_published_json(app, hall):
    h = hall
    d = published(app, h)
    assert read(app, lambda: dops.compute_content_hash(db.session.get(Decision, d.id))) \
        == d.content_hash
    resp = app.test_client().get(f"{base(h)}/decisions/1/content.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_data()
    assert hashlib.sha256(body).hexdigest() == d.content_hash
    assert resp.headers["X-Content-SHA256"] == d.content_hash
    payload = json.loads(body)
    assert payload["budget_fen"] == 1_800_000 and payload["version"] == 1
    assert [r["round"] for r in payload["tally"]["rounds"]] == [1]
    payload["budget_fen"] += 1   # any change to the content changes the hash
    assert hashlib.sha256(canonical_json(payload).encode()).hexdigest() != d.content_hash
    page = text_of(app.test_client().get(f"{base(h)}/decisions/1"))
    assert d.content_hash in page and "SHA-256" in page and "规范化 JSON" in page
    assert read(app, lambda: verify_chain().ok)


def test_public_pages_need_no_login_and_show_no_personal_data(app, hall, make):
    h = hall
    d = published(app, h)
    unit = make.unit(h.community, building=make.building(h.community, "7号楼"),
                     owner=make.owner(h.community, name="赵淑芬"))
    objector = make.resident(h.community, unit=unit, user=make.user(display_name="赵大伟"))
    client_for(app, objector).post(f"{base(h)}/decisions/1/objections",
                                   data={"text": "请公开施工单位"})
    mod = client_for(app, h.mod)
    o = read(app, lambda: dops.objections_of(db.session.get(Decision, d.id))[0])
    mod.post(f"{base(h)}/decisions/1/objections/{o.id}/answer", data={"answer": "将在开工前公示"})

    anonymous = app.test_client()
    pages = [anonymous.get(f"{base(h)}/decisions/1"),
             anonymous.get(f"{base(h)}/decisions/1", headers=HX),
             anonymous.get(f"/c/{h.community.slug}/decisions/"),
             anonymous.get(f"/c/{h.community.slug}/decisions/?state=publicity"),
             anonymous.get(f"{base(h)}/decisions/1/content.json")]
    assert [p.status_code for p in pages] == [200] * len(pages)
    html = "".join(text_of(p) for p in pages)
    people = [h.mod, h.assoc, h.assoc2, h.prop, h.rep, h.outsider, objector]
    users = read(app, lambda: [(u.phone, u.display_name) for u in
                               (db.session.get(type(objector), p.id) for p in people)])
    for phone, name in users:
        assert phone not in html and phone[-8:] not in html
        assert not name or name not in html
    assert "赵淑芬" not in html and "工作人员" not in html
    page = text_of(pages[0])
    assert "7号楼居民" in page and "请公开施工单位" in page and "将在开工前公示" in page
    for seat in ("居委会主任", "业委会主任", "物业项目经理"):
        assert seat in page
    assert 'hx-disable>请公开施工单位' in page.replace("<p>", "")
    assert '登录后提出异议' in page and 'id="manage"' not in page


def test_pages_of_unknown_things_are_404(app, hall, make, make_issue):
    h = hall
    published(app, h)
    client = app.test_client()
    slug = h.community.slug
    assert client.get(f"{base(h)}/decisions/2").status_code == 404
    assert client.get(f"/c/{slug}/issues/999/decisions/1").status_code == 404
    assert client.get(f"/c/nowhere/issues/{h.number}/decisions/1").status_code == 404
    assert client.get(f"{base(h)}/decisions/2/content.json").status_code == 404
    other = make.community()
    assert client.get(f"/c/{other.slug}/issues/{h.number}/decisions/1").status_code == 404
    _iid, draft = make_issue(h.community, state="draft")
    assert client.get(f"/c/{slug}/issues/{draft}/decisions/1").status_code == 404
    mod = client_for(app, h.mod)
    assert mod.get(f"/c/{slug}/issues/{draft}/decisions/new").status_code == 404
    assert mod.post(f"{base(h)}/decisions/7/withdraw", data={"reason": "x"}).status_code == 404
    assert mod.post(f"{base(h)}/decisions/7/effective").status_code == 404


def test_the_decision_page_runs_a_constant_number_of_queries(app, hall, make, count_queries):
    h = hall
    published(app, h)
    mod = client_for(app, h.mod)
    url = f"{base(h)}/decisions/1"

    def queries() -> int:
        with count_queries() as q:
            assert mod.get(url).status_code == 200
        return q.count

    def objection(i: int) -> None:
        resident = make.resident(h.community)
        client_for(app, resident).post(f"{url}/objections", data={"text": f"异议 {i}"})

    def answer(n: int) -> None:
        items = read(app, lambda: dops.objections_of(db.session.get(Decision,
                                                                    decision(app, h).id)))
        for item in items[:n]:
            if item.answer is None:
                mod.post(f"{url}/objections/{item.id}/answer", data={"answer": "已答复"})

    objection(0)
    objection(1)
    answer(1)
    one = queries()
    for i in range(2, 6):
        objection(i)
    answer(4)
    assert "异议（6）" in text_of(mod.get(url))
    assert queries() == one
