"""Roster operations: import merge rules, owners, edits, audit events."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from civic.audit.models import AuditEvent
from civic.communities.models import Building, Owner, Unit
from civic.domain import Invalid
from civic.extensions import db
from civic.roster import operations as ops
from civic.roster.parse import DEVELOPER_REF, parse_roster
from tests.roster.conftest import HEADER, csv_bytes

pytestmark = pytest.mark.usefixtures("ctx")

HEADER_KEY = HEADER + ["业主编号", "类型"]


def rows_of(*rows, header=HEADER_KEY):
    return parse_roster(csv_bytes([list(r) for r in rows], header=header), "r.csv")


def count(model, **where) -> int:
    q = select(func.count()).select_from(model)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    return db.session.scalar(q)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def unit(community, building: str, number: str) -> Unit:
    return db.session.execute(select(Unit).join(Building).where(
        Unit.community_id == community.id, Building.name == building,
        Unit.number == number)).scalar_one()


SHEET = [
    ("1", "101", "89.50", "张三", "A1", ""),
    ("1", "102", "120.25", "张三", "A1", ""),
    ("10", "1201", "75", "李四", "", ""),
    ("2", "301", "66.6", "", "", "未售"),
    ("2", "302", "66.6", "", "", "未交付"),
]


def test_import_creates_buildings_units_owners(community, moderator):
    summary = ops.import_roster(moderator, community, rows_of(*SHEET))
    assert summary.counts() == {
        "rows": 5, "buildings_created": 3, "units_created": 5, "units_updated": 0,
        "units_unchanged": 0, "owners_created": 3, "owners_renamed": 0, "units_missing": 0}
    names = db.session.scalars(select(Building.name).where(
        Building.community_id == community.id).order_by(Building.sort_key)).all()
    assert names == ["1号楼", "2号楼", "10号楼"]
    u = unit(community, "1号楼", "102")
    assert u.area == Decimal("120.25") and u.owner.ref == "A1" and u.owner.name == "张三"
    assert unit(community, "10号楼", "1201").owner.ref == "李四"


def test_developer_units_share_one_owner(community, moderator):
    ops.import_roster(moderator, community, rows_of(*SHEET))
    dev = db.session.execute(select(Owner).where(Owner.community_id == community.id,
                                                 Owner.is_developer)).scalar_one()
    assert dev.ref == DEVELOPER_REF and dev.name == "开发商"
    assert {u.number for u in dev.units} == {"301", "302"}


def test_owner_dedupe_by_key_and_by_name(community, moderator):
    ops.import_roster(moderator, community, rows_of(
        ("1", "101", "90", "张三", "A1", ""),
        ("1", "102", "90", "张三", "A2", ""),    # same name, other key: another person
        ("1", "103", "90", "王五", "", ""),
        ("2", "201", "90", "王五", "", ""),      # same name, no key: same person
    ))
    owners = {o.ref: o for o in db.session.scalars(
        select(Owner).where(Owner.community_id == community.id))}
    assert set(owners) == {"A1", "A2", "王五"}
    assert len(owners["王五"].units) == 2


def test_reimport_is_idempotent(community, moderator):
    ops.import_roster(moderator, community, rows_of(*SHEET))
    before = (count(Building), count(Unit), count(Owner))
    summary = ops.import_roster(moderator, community, rows_of(*SHEET))
    assert (count(Building), count(Unit), count(Owner)) == before
    assert summary.counts()["units_unchanged"] == 5
    assert summary.units_created == summary.units_updated == summary.owners_created == 0
    assert len(events("roster.import")) == 2


def test_reimport_updates_area_and_owner_and_renames_by_key(community, moderator):
    ops.import_roster(moderator, community, rows_of(*SHEET))
    summary = ops.import_roster(moderator, community, rows_of(
        ("1", "101", "89.5", "张叁", "A1", ""),   # same key, name corrected
        ("1", "102", "121", "张叁", "A1", ""),    # area changed
        ("10", "1201", "75", "周九", "", ""),     # sold: new owner
        ("2", "301", "66.6", "", "", "未售"),
        ("2", "302", "66.60", "", "", "未交付"),
    ))
    assert (summary.units_updated, summary.units_unchanged) == (2, 3)
    assert (summary.owners_created, summary.owners_renamed) == (1, 1)
    assert unit(community, "1号楼", "101").owner.name == "张叁"
    assert unit(community, "1号楼", "102").area == Decimal("121.00")
    assert unit(community, "10号楼", "1201").owner.name == "周九"


def test_units_absent_from_the_sheet_are_kept_and_reported(community, moderator, make):
    ops.import_roster(moderator, community, rows_of(*SHEET))
    summary = ops.import_roster(moderator, community, rows_of(SHEET[0], SHEET[2]))
    assert summary.missing == ["1号楼102", "2号楼301", "2号楼302"]
    assert count(Unit, community_id=community.id) == 5


def test_import_touches_only_its_own_community(community, moderator, make):
    other = make.community()
    theirs = make.unit(other, make.building(other, "1号楼"), number="101", area="50")
    ops.import_roster(moderator, community, rows_of(*SHEET))
    db.session.refresh(theirs)
    assert theirs.area == Decimal("50.00") and theirs.owner_id is None
    assert count(Unit, community_id=other.id) == 1


def test_import_audit_event_has_counts_and_no_names(community, moderator):
    ops.import_roster(moderator, community, rows_of(*SHEET))
    [ev] = events("roster.import")
    payload = json.loads(ev.payload)
    assert payload["units_created"] == 5 and payload["rows"] == 5
    assert ev.actor == moderator.pseudonym and ev.community_id == community.id
    assert "张三" not in ev.payload and "李四" not in ev.payload and "A1" not in ev.payload


def test_import_by_command_is_audited_as_system(community):
    ops.import_roster(None, community, rows_of(*SHEET))
    assert events("roster.import")[0].actor == "system"


# --- buildings --------------------------------------------------------------------------

def test_add_building_normalises_and_refuses_duplicates(community, moderator):
    b = ops.add_building(moderator, community, " 5 ")
    assert b.name == "5号楼" and b.sort_key.startswith("00000005")
    with pytest.raises(Invalid) as info:
        ops.add_building(moderator, community, "5号楼")
    assert info.value.field == "name" and "已经在名册里" in info.value.message
    with pytest.raises(Invalid) as info:
        ops.add_building(moderator, community, "  ")
    assert info.value.field == "name"
    [ev] = events("roster.building_create")
    assert json.loads(ev.payload) == {"name": "5号楼"}


# --- units -------------------------------------------------------------------------------

def test_add_unit_and_its_audit_event(community, moderator, make):
    b = make.building(community, "5号楼")
    u = ops.add_unit(moderator, community, b, number="301", area="89.5", owner_name="张三")
    assert (u.number, u.area, u.owner.name, u.owner.ref) == ("301", Decimal("89.50"), "张三", "张三")
    [ev] = events("roster.unit_create")
    assert json.loads(ev.payload) == {"area": "89.50", "building": b.id, "developer": False,
                                      "number": "301", "owner": u.owner_id}
    dev = ops.add_unit(moderator, community, b, number="302", area="70", is_developer=True,
                       owner_name="忽略")
    assert dev.owner.is_developer and dev.owner.name == "开发商"


@pytest.mark.parametrize("fields, bad", [
    ({"number": "", "area": "90", "owner_name": "张三"}, "number"),
    ({"number": "301", "area": "90", "owner_name": "张三"}, "number"),      # taken
    ({"number": "302", "area": "0", "owner_name": "张三"}, "area"),
    ({"number": "302", "area": "9.999", "owner_name": "张三"}, "area"),
    ({"number": "302", "area": "90", "owner_name": ""}, "owner_name"),
    ({"number": "302", "area": "90", "owner_name": "张三", "owner_key": DEVELOPER_REF},
     "owner_key"),
])
def test_add_unit_refuses_bad_input(community, moderator, make, fields, bad):
    b = make.building(community, "5号楼")
    make.unit(community, b, number="301")
    with pytest.raises(Invalid) as info:
        ops.add_unit(moderator, community, b, **fields)
    assert info.value.field == bad and info.value.message
    assert count(Unit) == 1 and events("roster.unit_create") == []


def test_update_unit_records_changed_fields_without_names(community, moderator, make):
    b = make.building(community, "5号楼")
    zhang = make.owner(community, "张三", ref="张三")
    u = make.unit(community, b, number="301", area="89.50", owner=zhang)
    changed = ops.update_unit(moderator, u, number="301A", area="90.1", owner_name="李四")
    assert changed == ["number", "area", "owner"]
    [ev] = events("roster.unit_update")
    payload = json.loads(ev.payload)
    assert payload["fields"] == ["number", "area", "owner"]
    assert (payload["area_old"], payload["area_new"]) == ("89.50", "90.10")
    assert payload["owner_old"] == zhang.id and payload["owner_new"] == u.owner_id
    assert "张三" not in ev.payload and "李四" not in ev.payload
    assert u.sort_key.startswith("00000301")


def test_update_unit_without_changes_writes_nothing(community, moderator, make):
    zhang = make.owner(community, "张三", ref="张三")
    u = make.unit(community, number="301", area="89.50", owner=zhang)
    assert ops.update_unit(moderator, u, number="301", area="89.5", owner_name="张三") == []
    assert events("roster.unit_update") == []


def test_update_unit_renames_owner_by_key_everywhere(community, moderator, make):
    zhang = make.owner(community, "张三", ref="A1")
    u1 = make.unit(community, number="101", owner=zhang)
    u2 = make.unit(community, number="102", owner=zhang)
    assert ops.update_unit(moderator, u1, number="101", area=str(u1.area), owner_name="张叁",
                           owner_key="A1") == ["owner_name"]
    db.session.refresh(u2)
    assert u2.owner.name == "张叁" and u2.owner_id == zhang.id


def test_update_unit_number_must_stay_unique(community, moderator, make):
    b = make.building(community)
    make.unit(community, b, number="301")
    u = make.unit(community, b, number="302", owner=make.owner(community))
    with pytest.raises(Invalid) as info:
        ops.update_unit(moderator, u, number="301", area="90", is_developer=True)
    assert info.value.field == "number"
    db.session.rollback()
    db.session.refresh(u)
    assert u.number == "302"
