"""Roster pages: who may open them, import by upload, add and edit forms."""
from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from civic.audit.models import AuditEvent
from civic.communities.models import Building, Owner, Unit
from civic.extensions import db
from civic.roster.parse import parse_roster
from tests.roster.conftest import HEADER, csv_bytes, xlsx_bytes

BASE = "/c/huayuan/manage/roster"


@pytest.fixture
def world(make, community, moderator):
    """花园小区 (huayuan): 5号楼 301 owned by 王业主, 302 held by the developer;
    a neighbouring community with its own building, unit and moderator."""
    b5 = make.building(community, "5号楼")
    wang = make.owner(community, "王业主", ref="王业主")
    dev = make.owner(community, "开发商", ref="__developer__", is_developer=True)
    u301 = make.unit(community, b5, number="301", area="89.50", owner=wang)
    u302 = make.unit(community, b5, number="302", area="70.00", owner=dev)
    other = make.community(slug="gebi", name="隔壁小区")
    ob = make.building(other, "9号楼")
    ou = make.unit(other, ob, number="901", owner=make.owner(other, "隔壁业主"))
    return SimpleNamespace(c=community, b5=b5, u301=u301, u302=u302, moderator=moderator,
                           other=other, ob=ob, ou=ou,
                           other_moderator=make.staff(other, "moderator"))


def text(resp) -> str:
    return resp.get_data(as_text=True)


def upload(data: bytes, filename: str) -> dict:
    return {"file": (io.BytesIO(data), filename)}


def audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        db.session.expunge_all()
    return rows


def total(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def pages(w) -> list[str]:
    return [f"{BASE}/", f"{BASE}/buildings/{w.b5.id}", f"{BASE}/buildings/new",
            f"{BASE}/buildings/{w.b5.id}/units/new", f"{BASE}/units/{w.u301.id}/edit",
            f"{BASE}/import", f"{BASE}/template.csv"]


# --- who may open the roster ------------------------------------------------------------

def user_as(world, make, who: str):
    """A user in the given position relative to 花园小区."""
    if who == "moderator":
        return world.moderator
    if who == "other_moderator":
        return world.other_moderator
    if who == "resident":
        return make.resident(world.c, unit=world.u301)
    if who == "stranger":
        return make.user()
    return make.staff(world.c, who)


@pytest.mark.parametrize("who, status", [
    ("moderator", 200), ("resident", 403), ("association", 403), ("property", 403),
    ("observer", 403), ("other_moderator", 403), ("stranger", 403),
])
def test_roster_pages_truth_table(world, make, client_for, app, who, status):
    client = client_for(user_as(world, make, who))
    for url in pages(world):
        resp = client.get(url)
        assert resp.status_code == status, url
        if status != 200:
            assert "王业主" not in text(resp)
    assert "王业主" not in text(client.get("/c/huayuan/"))
    post = client.post(f"{BASE}/units/{world.u301.id}/edit",
                       data={"number": "301", "area": "1", "owner_name": "黑客"})
    assert post.status_code == (303 if status == 200 else 403)
    for url, data in ((f"{BASE}/buildings/new", {"name": "99"}),
                      (f"{BASE}/buildings/{world.b5.id}/units/new",
                       {"number": "1", "area": "1", "owner_name": "黑客"}),
                      (f"{BASE}/import", upload(csv_bytes([["1", "1", "1", "黑客"]]), "r.csv"))):
        assert client.post(url, data=data).status_code == (303 if status == 200 else 403), url
    if status != 200:
        assert total(app, Building) == 2 and audit(app, "roster.unit_update") == []


def test_anonymous_is_sent_to_log_in(world, client):
    for url in pages(world):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    resp = client.post(f"{BASE}/import", data=upload(csv_bytes([]), "r.csv"))
    assert resp.status_code == 302


def test_unknown_community_is_404(world, mod_client):
    assert mod_client.get("/c/nope/manage/roster/").status_code == 404


def test_objects_of_another_community_are_404(world, mod_client):
    for url in (f"{BASE}/buildings/{world.ob.id}", f"{BASE}/buildings/{world.ob.id}/units/new",
                f"{BASE}/units/{world.ou.id}/edit", f"{BASE}/buildings/999999"):
        assert mod_client.get(url).status_code == 404, url
    resp = mod_client.post(f"{BASE}/units/{world.ou.id}/edit",
                           data={"number": "1", "area": "1", "is_developer": "y"})
    assert resp.status_code == 404
    # and through the other community's URL, the moderator of this one is refused
    assert mod_client.get(f"/c/gebi/manage/roster/units/{world.ou.id}/edit").status_code == 403


def test_pages_are_not_cached(world, mod_client):
    assert mod_client.get(f"{BASE}/").headers["Cache-Control"] == "no-store"


# --- reading ----------------------------------------------------------------------------

def test_index_lists_buildings_in_natural_order_with_counts_and_area(world, mod_client, app):
    for name, area in (("10", "100.05"), ("9", "10")):
        mod_client.post(f"{BASE}/buildings/new", data={"name": name})
        with app.app_context():
            b = db.session.execute(select(Building.id).where(
                Building.community_id == world.c.id, Building.name == f"{name}号楼")).scalar_one()
        mod_client.post(f"{BASE}/buildings/{b}/units/new", data={
            "number": "1", "area": area, "is_developer": "y"})
    html = text(mod_client.get(f"{BASE}/"))
    assert html.index(">9号楼<") < html.index(">10号楼<")
    assert "159.50" in html and "269.55" in html       # per building and in total
    assert "王业主" not in html                        # names only on the building page


def test_building_page_shows_units_owners_and_developer_badge(world, mod_client):
    html = text(mod_client.get(f"{BASE}/buildings/{world.b5.id}"))
    assert "301" in html and "89.50" in html and "王业主" in html
    assert 'class="badge badge-warn">开发商' in html


def test_owner_names_are_escaped(world, make, mod_client):
    make.unit(world.c, world.b5, number="303", owner=make.owner(world.c, "<script>x</script>"))
    html = text(mod_client.get(f"{BASE}/buildings/{world.b5.id}"))
    assert "<script>x" not in html and "&lt;script&gt;x" in html


def test_template_download(world, mod_client):
    resp = mod_client.get(f"{BASE}/template.csv")
    assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
    assert resp.data.startswith("\ufeff楼栋,".encode())
    assert len(parse_roster(resp.data, "roster-template.csv")) == 4


# --- import -----------------------------------------------------------------------------

def test_import_csv_success(world, mod_client, app):
    data = csv_bytes([["5", "301", "90", "王业主"], ["6", "101", "75.5", "李四"]],
                     encoding="gb18030")
    resp = mod_client.post(f"{BASE}/import", data=upload(data, "名册.csv"))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"{BASE}/")
    html = text(mod_client.get(resp.headers["Location"]))
    assert "导入完成" in html and "新建 1 栋楼、1 户" in html and "更新 1 户" in html
    assert "5号楼302" in html                            # kept, and reported as absent
    with app.app_context():
        assert db.session.get(Unit, world.u301.id).area == Decimal("90.00")
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 4
    [ev] = audit(app, "roster.import")
    assert json.loads(ev.payload)["units_missing"] == 1 and "李四" not in ev.payload


def test_import_xlsx_success(world, mod_client, app):
    data = xlsx_bytes([[7, 701, 88.8, "赵六"]])
    resp = mod_client.post(f"{BASE}/import", data=upload(data, "名册.xlsx"))
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.execute(select(Building).where(Building.name == "7号楼")).scalar_one()


def test_import_with_bad_rows_lists_every_problem_and_imports_nothing(world, mod_client, app):
    before = (total(app, Building), total(app, Unit), total(app, Owner))
    data = csv_bytes([
        ["6", "101", "90", "甲"],
        ["6", "102", "abc", "乙"],
        ["", "103", "90", "丙"],
        ["6", "101", "90", "丁"],
        ["6", "104", "1.234", "戊"],
    ])
    resp = mod_client.post(f"{BASE}/import", data=upload(data, "r.csv"))
    html = text(resp)
    assert resp.status_code == 400
    assert "文件有 4 处问题，没有导入任何数据" in html
    for line, reason in ((3, "不是有效的面积数字"), (4, "不能为空"), (5, "与第 2 行重复"),
                         (6, "两位小数")):
        assert f'<td class="num">{line}</td>' in html and reason in html
    assert (total(app, Building), total(app, Unit), total(app, Owner)) == before
    assert audit(app, "roster.import") == []


def test_import_problem_values_are_escaped(world, mod_client):
    data = csv_bytes([["6", "101", "<b>x</b>", "甲"]])
    html = text(mod_client.post(f"{BASE}/import", data=upload(data, "r.csv")))
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


@pytest.mark.parametrize("data, message", [
    ({}, "请选择要上传的名册文件"),
    (upload(b"hello", "r.txt"), "只能上传 CSV 或 XLSX 文件"),
    (upload(b"a" * (5 * 1024 * 1024 + 1), "r.csv"), "文件超过 5 MB"),
])
def test_import_form_errors(world, mod_client, data, message):
    resp = mod_client.post(f"{BASE}/import", data=data)
    assert resp.status_code == 400 and message in text(resp)


def test_import_unreadable_file(world, mod_client):
    resp = mod_client.post(f"{BASE}/import", data=upload(b"PK\x03\x04broken", "r.xlsx"))
    assert resp.status_code == 400 and "无法读取" in text(resp)


def test_import_by_htmx_answers_with_hx_location(world, mod_client):
    resp = mod_client.post(f"{BASE}/import", headers={"HX-Request": "true"},
                           data=upload(csv_bytes([["8", "1", "50", "钱七"]]), "r.csv"))
    assert resp.status_code == 204 and resp.headers["HX-Location"].endswith(f"{BASE}/")


def test_import_page_explains_columns(world, mod_client):
    html = text(mod_client.get(f"{BASE}/import"))
    assert 'enctype="multipart/form-data"' in html
    for header in HEADER[:3] + ["业主编号", "类型"]:
        assert header in html
    assert f"{BASE}/template.csv" in html


# --- adding and editing -----------------------------------------------------------------

def test_add_building(world, mod_client, app):
    resp = mod_client.post(f"{BASE}/buildings/new", data={"name": "12"})
    assert resp.status_code == 303
    with app.app_context():
        b = db.session.execute(select(Building).where(Building.name == "12号楼")).scalar_one()
        assert resp.headers["Location"].endswith(f"/buildings/{b.id}")
    assert len(audit(app, "roster.building_create")) == 1


def test_add_building_duplicate_rerenders_with_value(world, mod_client):
    resp = mod_client.post(f"{BASE}/buildings/new", data={"name": "5号楼"})
    assert resp.status_code == 400
    assert "已经在名册里了" in text(resp) and 'value="5号楼"' in text(resp)


def test_add_unit(world, mod_client, app):
    resp = mod_client.post(f"{BASE}/buildings/{world.b5.id}/units/new", data={
        "number": "401", "area": "95.5", "owner_name": "孙八", "owner_key": "S8"})
    assert resp.status_code == 303
    with app.app_context():
        u = db.session.execute(select(Unit).where(Unit.number == "401")).scalar_one()
        assert (u.area, u.owner.name, u.owner.ref, u.building_id) == (
            Decimal("95.50"), "孙八", "S8", world.b5.id)
    [ev] = audit(app, "roster.unit_create")
    assert "孙八" not in ev.payload and "S8" not in ev.payload


def test_add_unit_bad_input_rerenders_every_error_with_values(world, mod_client, app):
    resp = mod_client.post(f"{BASE}/buildings/{world.b5.id}/units/new", data={
        "number": "402", "area": "12.345", "owner_name": "", "owner_key": "K<1>"})
    html = text(resp)
    assert resp.status_code == 400
    assert "面积最多保留两位小数" in html and 'value="12.345"' in html
    assert 'value="402"' in html and 'value="K&lt;1&gt;"' in html
    resp = mod_client.post(f"{BASE}/buildings/{world.b5.id}/units/new", data={
        "number": "301", "area": "90", "owner_name": "周九"})
    assert resp.status_code == 400 and "已经有房号 301" in text(resp)
    resp = mod_client.post(f"{BASE}/buildings/{world.b5.id}/units/new", data={
        "number": "403", "area": "90"})
    assert resp.status_code == 400 and "请填写业主姓名" in text(resp)
    assert total(app, Unit) == 3 and audit(app, "roster.unit_create") == []


def test_edit_unit_form_is_prefilled(world, mod_client):
    html = text(mod_client.get(f"{BASE}/units/{world.u301.id}/edit"))
    assert 'value="301"' in html and 'value="89.50"' in html and 'value="王业主"' in html
    assert "<h1>编辑 5号楼301</h1>" in html and "<title>编辑 5号楼301 · " in html
    html = text(mod_client.get(f"{BASE}/units/{world.u302.id}/edit"))
    assert re.search(r'<input checked[^>]*name="is_developer"', html)
    assert 'value="开发商"' not in html


def test_edit_unit_saves_and_audits_in_the_same_transaction(world, mod_client, app):
    resp = mod_client.post(f"{BASE}/units/{world.u301.id}/edit", data={
        "number": "301", "area": "91.25", "owner_name": "王业主"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"{BASE}/buildings/{world.b5.id}")
    with app.app_context():
        assert db.session.get(Unit, world.u301.id).area == Decimal("91.25")
    [ev] = audit(app, "roster.unit_update")
    assert json.loads(ev.payload) == {"fields": ["area"], "area_old": "89.50",
                                      "area_new": "91.25"}
    assert ev.actor == world.moderator.pseudonym and ev.object_id == str(world.u301.id)


def test_edit_unit_to_developer(world, mod_client, app):
    resp = mod_client.post(f"{BASE}/units/{world.u301.id}/edit", data={
        "number": "301", "area": "89.50", "owner_name": "王业主", "is_developer": "y"})
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.get(Unit, world.u301.id).owner_id == world.u302.owner_id


def test_edit_unit_bad_input_rerenders_with_values_and_changes_nothing(world, mod_client, app):
    resp = mod_client.post(f"{BASE}/units/{world.u301.id}/edit", data={
        "number": "302", "area": "-3", "owner_name": "新业主"})
    html = text(resp)
    assert resp.status_code == 400
    assert "面积必须大于 0" in html and 'value="-3"' in html and 'value="新业主"' in html
    resp = mod_client.post(f"{BASE}/units/{world.u301.id}/edit", data={
        "number": "302", "area": "90", "owner_name": "新业主"})
    assert resp.status_code == 400 and "已经有房号 302" in text(resp)
    with app.app_context():
        u = db.session.get(Unit, world.u301.id)
        assert (u.number, u.area, u.owner.name) == ("301", Decimal("89.50"), "王业主")
    assert audit(app, "roster.unit_update") == []
