"""Roster pages (moderators only): buildings, units, owners, import from a sheet."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from flask import Response, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from civic import permissions as can
from civic.communities.loaders import check, community_or_404, owned_or_404
from civic.communities.models import Building, Community, Unit
from civic.domain import Invalid
from civic.extensions import db
from civic.htmx import render, see_other
from civic.roster import bp
from civic.roster import operations as ops
from civic.roster.forms import BuildingForm, ImportForm, UnitForm
from civic.roster.operations import ImportSummary
from civic.roster.parse import RosterInvalid, parse_roster, template_csv

#: how many absent units the flash message names before "…"
_MISSING_SHOWN = 10


@bp.after_request
def _private(resp: Response) -> Response:
    """Owner names are personal data: never kept by a browser or proxy cache."""
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _community(slug: str, predicate=can.can_view_roster) -> Community:
    """The community in the URL (404 if none), if the predicate lets the user in (else 403)."""
    community = community_or_404(slug)
    check(predicate, community)
    return community


def _field_error(form, e: Invalid) -> None:
    """Show an operation's refusal under the field it names, as a validator would."""
    getattr(form, e.field).errors.append(e.message)


@bp.route("/")
@login_required
def index(slug: str):
    """Buildings with their unit counts and total area, and the community's totals."""
    community = _community(slug)
    buildings = db.session.scalars(select(Building).where(
        Building.community_id == community.id).order_by(Building.sort_key, Building.name)).all()
    # Summed here, not in SQL: SQLite would add areas as floating point.
    units: dict[int, int] = defaultdict(int)
    areas: dict[int, Decimal] = defaultdict(Decimal)
    owners: set[int] = set()
    for building_id, area, owner_id in db.session.execute(
            select(Unit.building_id, Unit.area, Unit.owner_id)
            .where(Unit.community_id == community.id)):
        units[building_id] += 1
        areas[building_id] += area
        if owner_id is not None:
            owners.add(owner_id)
    totals = {"units": sum(units.values()), "area": sum(areas.values(), Decimal(0)),
              "owners": len(owners)}
    return render("roster/index.html", community=community, buildings=buildings, units=units,
                  areas=areas, totals=totals)


@bp.route("/buildings/<int:building_id>")
@login_required
def building(slug: str, building_id: int):
    """One building's units with area and owner; owner names are for moderators only."""
    community = _community(slug)
    b = owned_or_404(Building, building_id, community)
    units = db.session.scalars(
        select(Unit).where(Unit.building_id == b.id).options(selectinload(Unit.owner))
        .order_by(Unit.sort_key, Unit.number)).all()
    total = sum((u.area for u in units), Decimal(0))
    return render("roster/building.html", community=community, building=b, units=units,
                  total=total)


@bp.route("/buildings/new", methods=["GET", "POST"])
@login_required
def new_building(slug: str):
    community = _community(slug, can.can_edit_roster)
    form = BuildingForm()
    if form.validate_on_submit():
        try:
            b = ops.add_building(current_user, community, form.name.data)
        except Invalid as e:
            _field_error(form, e)
        else:
            db.session.commit()
            flash(_("已添加%(name)s。", name=b.name), "success")
            return see_other(url_for("roster.building", slug=slug, building_id=b.id))
    return render("roster/building_form.html", community=community, form=form,
                  status=400 if form.is_submitted() else 200)


@bp.route("/buildings/<int:building_id>/units/new", methods=["GET", "POST"])
@login_required
def new_unit(slug: str, building_id: int):
    community = _community(slug, can.can_edit_roster)
    b = owned_or_404(Building, building_id, community)
    form = UnitForm()
    if form.validate_on_submit():
        try:
            unit = ops.add_unit(current_user, community, b, number=form.number.data,
                                area=form.area.data, owner_name=form.owner_name.data,
                                owner_key=form.owner_key.data,
                                is_developer=form.is_developer.data)
        except Invalid as e:
            _field_error(form, e)
        else:
            db.session.commit()
            flash(_("已添加 %(unit)s。", unit=f"{b.name}{unit.number}"), "success")
            return see_other(url_for("roster.building", slug=slug, building_id=b.id))
    return render("roster/unit_form.html", community=community, building=b, unit=None,
                  form=form, status=400 if form.is_submitted() else 200)


def _unit_data(unit: Unit) -> dict:
    """The edit form's initial values; the owner key shows only when it is not the name."""
    owner = unit.owner
    developer = bool(owner and owner.is_developer)
    return {"number": unit.number, "area": f"{unit.area:.2f}",
            "owner_name": owner.name if owner and not developer else "",
            "owner_key": owner.ref if owner and not developer and owner.ref != owner.name else "",
            "is_developer": developer}


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@login_required
def edit_unit(slug: str, unit_id: int):
    community = _community(slug, can.can_edit_roster)
    unit = owned_or_404(Unit, unit_id, community)
    form = UnitForm(data=_unit_data(unit))
    if form.validate_on_submit():
        try:
            changed = ops.update_unit(current_user, unit, number=form.number.data,
                                      area=form.area.data, owner_name=form.owner_name.data,
                                      owner_key=form.owner_key.data,
                                      is_developer=form.is_developer.data)
        except Invalid as e:
            _field_error(form, e)
        else:
            db.session.commit()
            if changed:
                flash(_("已保存 %(unit)s 的修改。", unit=unit.label), "success")
            else:
                flash(_("没有改动。"), "info")
            return see_other(url_for("roster.building", slug=slug, building_id=unit.building_id))
    return render("roster/unit_form.html", community=community, building=unit.building,
                  unit=unit, form=form, status=400 if form.is_submitted() else 200)


def _summary_message(s: ImportSummary) -> str:
    text = _("导入完成：共 %(rows)d 行；新建 %(buildings)d 栋楼、%(created)d 户，"
             "更新 %(updated)d 户，%(unchanged)d 户无变化。",
             rows=s.rows, buildings=s.buildings_created, created=s.units_created,
             updated=s.units_updated, unchanged=s.units_unchanged)
    if s.missing:
        shown = "、".join(s.missing[:_MISSING_SHOWN])
        more = "…" if len(s.missing) > _MISSING_SHOWN else ""
        text += " " + _("名册中另有 %(count)d 户不在这个文件里，已保留未删除：%(units)s%(more)s",
                        count=len(s.missing), units=shown, more=more)
    return text


@bp.route("/import", methods=["GET", "POST"], endpoint="import")
@login_required
def import_sheet(slug: str):
    """Upload a sheet: every bad row is reported and nothing is imported, or all of it is."""
    community = _community(slug, can.can_edit_roster)
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = parse_roster(upload.read(), upload.filename or "")
        except RosterInvalid as e:
            problems = e.problems
        else:
            summary = ops.import_roster(current_user, community, rows)
            db.session.commit()
            flash(_summary_message(summary), "success")
            return see_other(url_for("roster.index", slug=slug))
    return render("roster/import.html", community=community, form=form, problems=problems,
                  status=400 if form.is_submitted() else 200)


@bp.route("/template.csv")
@login_required
def template(slug: str):
    """A sample sheet with every recognised column; BOM so Excel reads it as UTF-8."""
    _community(slug, can.can_edit_roster)
    return Response("\ufeff" + template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=roster-template.csv"})
