"""Roster rules: importing a sheet, adding buildings and units, editing a unit.

Operations flush, never commit; each change is audited with ids and counts, never owner
names (audit payloads are public and permanent, names are personal data).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import insert, select

from civic.accounts.models import User
from civic.audit import operations as audit
from civic.communities.models import Building, Community, Owner, Unit
from civic.domain import Invalid
from civic.extensions import db
from civic.roster.parse import (DEVELOPER_NAME, DEVELOPER_REF, CellError, RosterRow,
                                natural_key, normalise_building, normalise_number,
                                normalise_owner_key, normalise_owner_name, parse_area)


@dataclass
class ImportSummary:
    """What an import did, for the flash message, the CLI and the audit event."""

    rows: int
    buildings_created: int = 0
    units_created: int = 0
    units_updated: int = 0
    units_unchanged: int = 0
    owners_created: int = 0
    #: owners (found by their 业主编号) whose name the sheet corrected
    owners_renamed: int = 0
    #: labels ("5号楼301") of units on record but not in the sheet: kept, never deleted,
    #: because memberships, codes and ballots point at them
    missing: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "buildings_created": self.buildings_created,
                "units_created": self.units_created, "units_updated": self.units_updated,
                "units_unchanged": self.units_unchanged, "owners_created": self.owners_created,
                "owners_renamed": self.owners_renamed, "units_missing": len(self.missing)}


def _lock(community: Community) -> None:
    """Serialise roster changes within a community (PostgreSQL row lock; SQLite writes
    already hold the database lock from BEGIN IMMEDIATE, and omits FOR UPDATE)."""
    db.session.execute(
        select(Community.id).where(Community.id == community.id).with_for_update())


def _valid(check, value: str, field_name: str):
    """Run a roster value check; its complaint becomes Invalid on the form field."""
    try:
        return check(value or "")
    except CellError as e:
        raise Invalid(_(e.reason, **e.args_), field=field_name) from None


def _owner(community: Community, ref: str, name: str, is_developer: bool) -> tuple[Owner, str]:
    """The owner with this ref, created or renamed as needed: (owner, "created"/"renamed"/"")."""
    owner = db.session.execute(select(Owner).where(
        Owner.community_id == community.id, Owner.ref == ref)).scalar_one_or_none()
    if owner is None:
        owner = Owner(community_id=community.id, ref=ref, is_developer=is_developer,
                      name=DEVELOPER_NAME if is_developer else name)
        db.session.add(owner)
        return owner, "created"
    if not is_developer and owner.name != name:
        owner.name = name
        return owner, "renamed"
    return owner, ""


def import_roster(actor: User | None, community: Community,
                  rows: list[RosterRow]) -> ImportSummary:
    """Merge validated sheet rows into the community's buildings, units and owners.

    Units are matched by building name + unit number; new ones are created, area and owner
    of existing ones updated; units missing from the sheet are reported, never deleted.
    Writes one `roster.import` audit event with counts only. `actor` None = a command.
    """
    _lock(community)
    cid = community.id
    buildings = {b.name: b for b in db.session.scalars(
        select(Building).where(Building.community_id == cid))}
    units = {(name, u.number): u for u, name in db.session.execute(
        select(Unit, Building.name).join(Building, Unit.building_id == Building.id)
        .where(Unit.community_id == cid))}
    owners = {o.ref: o for o in db.session.scalars(
        select(Owner).where(Owner.community_id == cid))}
    summary = ImportSummary(rows=len(rows))

    new_owners: dict[str, dict] = {}
    for row in rows:
        if row.building not in buildings:
            b = Building(community_id=cid, name=row.building, sort_key=natural_key(row.building))
            db.session.add(b)
            buildings[row.building] = b
            summary.buildings_created += 1
        owner = owners.get(row.owner_ref)
        if owner is None:
            new_owners.setdefault(row.owner_ref, {
                "community_id": cid, "ref": row.owner_ref, "is_developer": row.is_developer,
                "name": DEVELOPER_NAME if row.is_developer else row.owner_name})
        elif not row.is_developer and owner.name != row.owner_name:
            owner.name = row.owner_name
            summary.owners_renamed += 1
    if new_owners:
        # Bulk INSERTs here and below: a first import may create 20000 owners and units.
        owners.update((o.ref, o) for o in db.session.scalars(
            insert(Owner).returning(Owner), list(new_owners.values())))
    summary.owners_created = len(new_owners)
    db.session.flush()  # ids for new buildings

    new_units: list[dict] = []
    for row in rows:
        owner = owners[row.owner_ref]
        unit = units.get((row.building, row.number))
        if unit is None:
            new_units.append({"community_id": cid, "building_id": buildings[row.building].id,
                              "number": row.number, "sort_key": natural_key(row.number),
                              "area": row.area, "owner_id": owner.id})
        elif unit.area != row.area or unit.owner_id != owner.id:
            unit.area, unit.owner_id = row.area, owner.id
            summary.units_updated += 1
        else:
            summary.units_unchanged += 1
    if new_units:
        db.session.execute(insert(Unit), new_units)
    summary.units_created = len(new_units)

    in_sheet = {(r.building, r.number) for r in rows}
    absent = [(b, n) for (b, n) in units if (b, n) not in in_sheet]
    absent.sort(key=lambda k: (natural_key(k[0]), natural_key(k[1])))
    summary.missing = [f"{b}{n}" for b, n in absent]
    db.session.flush()
    audit.record("roster.import", community, actor=actor, community_id=cid, **summary.counts())
    return summary


def add_building(actor: User, community: Community, name: str) -> Building:
    """Raises Invalid (field "name") for an empty, too long or existing building name."""
    name = _valid(normalise_building, name, "name")
    _lock(community)
    exists = db.session.execute(select(Building.id).where(
        Building.community_id == community.id, Building.name == name)).first()
    if exists:
        raise Invalid(_("“%(name)s”已经在名册里了。", name=name), field="name")
    b = Building(community_id=community.id, name=name, sort_key=natural_key(name))
    db.session.add(b)
    db.session.flush()
    audit.record("roster.building_create", b, actor=actor, name=name)
    return b


def _owner_fields(owner_name: str, owner_key: str, is_developer: bool) -> tuple[str, str]:
    """Validated (ref, name) of the owner a form describes. Raises Invalid."""
    name = _valid(normalise_owner_name, owner_name, "owner_name")
    key = _valid(normalise_owner_key, owner_key, "owner_key")
    if is_developer:
        return DEVELOPER_REF, ""
    if not name:
        raise Invalid(_("请填写业主姓名；尚未售出或交付的房屋请勾选“开发商持有”。"),
                      field="owner_name")
    return key or name, name


def _number_free(building: Building, number: str, unit: Unit | None = None) -> None:
    q = select(Unit.id).where(Unit.building_id == building.id, Unit.number == number)
    if unit is not None:
        q = q.where(Unit.id != unit.id)
    if db.session.execute(q).first():
        raise Invalid(_("%(building)s已经有房号 %(number)s。", building=building.name,
                        number=number), field="number")


def add_unit(actor: User, community: Community, building: Building, *, number: str,
             area: str, owner_name: str = "", owner_key: str = "",
             is_developer: bool = False) -> Unit:
    """Add one unit to a building. Raises Invalid naming the bad field."""
    if building.community_id != community.id:
        raise ValueError("building of another community")
    number = _valid(normalise_number, number, "number")
    exact_area = _valid(parse_area, area, "area")
    ref, name = _owner_fields(owner_name, owner_key, is_developer)
    _lock(community)
    _number_free(building, number)
    owner, _what = _owner(community, ref, name, is_developer)
    db.session.flush()
    unit = Unit(community_id=community.id, building_id=building.id, number=number,
                sort_key=natural_key(number), area=exact_area, owner_id=owner.id)
    db.session.add(unit)
    db.session.flush()
    audit.record("roster.unit_create", unit, actor=actor, building=building.id,
                 number=number, area=str(exact_area), owner=owner.id,
                 developer=owner.is_developer)
    return unit


def update_unit(actor: User, unit: Unit, *, number: str, area: str, owner_name: str = "",
                owner_key: str = "", is_developer: bool = False) -> list[str]:
    """Change a unit's number, area or owner; returns the changed field names ([] = none).

    A changed name under the same 业主编号 corrects that owner's name on all their units.
    Raises Invalid naming the bad field.
    """
    number = _valid(normalise_number, number, "number")
    exact_area = _valid(parse_area, area, "area")
    ref, name = _owner_fields(owner_name, owner_key, is_developer)
    community = db.session.get(Community, unit.community_id)
    _lock(community)
    if number != unit.number:
        _number_free(unit.building, number, unit)
    owner, what = _owner(community, ref, name, is_developer)
    db.session.flush()

    changed: list[str] = []
    details: dict[str, object] = {}
    if number != unit.number:
        changed.append("number")
        details.update(number_old=unit.number, number_new=number)
        unit.number, unit.sort_key = number, natural_key(number)
    if exact_area != unit.area:
        changed.append("area")
        details.update(area_old=str(unit.area), area_new=str(exact_area))
        unit.area = exact_area
    if owner.id != unit.owner_id:
        changed.append("owner")
        details.update(owner_old=unit.owner_id, owner_new=owner.id)
        unit.owner_id = owner.id
    elif what == "renamed":
        changed.append("owner_name")
    if changed:
        db.session.flush()
        audit.record("roster.unit_update", unit, actor=actor, fields=changed, **details)
    return changed

