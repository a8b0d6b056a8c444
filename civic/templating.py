"""Template globals and filters shared by every page."""
from __future__ import annotations

from decimal import Decimal

from flask import Flask
from flask_babel import format_datetime, get_locale, gettext

from civic import permissions
from civic.communities.models import Role
from civic.i18n import N_

ROLE_LABELS = {
    Role.RESIDENT: N_("居民"),
    Role.MODERATOR: N_("居委会"),
    Role.ASSOCIATION: N_("业委会"),
    Role.PROPERTY: N_("物业"),
    Role.OBSERVER: N_("街道"),
}


def role_label(role: Role) -> str:
    return gettext(ROLE_LABELS[Role(role)])


def public_name(user, membership=None, unit=None) -> str:
    """How a person appears publicly: "5号楼居民" unless they chose to show their name;
    staff in their official capacity. Never a phone number or a roster name."""
    if user is None or user.deleted_at is not None:
        return gettext("已注销用户")
    if membership is not None and membership.role.is_staff:
        return official_name(role_label(membership.role), membership.title)
    if user.show_name and user.display_name:
        return user.display_name
    unit = unit or (membership.unit if membership is not None else None)
    if unit is not None:
        return gettext("%(building)s居民", building=unit.building.name)
    return gettext("居民")


def official_name(body: str, title: str = "") -> str:
    """"物业项目经理": a body and the person's official title, never a personal name."""
    if not title:
        return body
    if title.startswith(body):   # "物业项目经理" already names the body
        return title
    return gettext("%(body)s%(title)s", body=body, title=title)


def area(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def unread_notifications() -> int:
    from flask_login import current_user
    from civic.notifications.operations import unread_count
    return unread_count(current_user.id) if current_user.is_authenticated else 0


def init_app(app: Flask) -> None:
    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.globals.update(can=permissions, role_label=role_label, public_name=public_name,
                                  official_name=official_name,
                                  get_locale=get_locale)
    from civic.money import format_fen
    app.jinja_env.filters["yuan"] = format_fen
    app.jinja_env.filters["datetime"] = lambda dt, fmt="yyyy-MM-dd HH:mm": (
        format_datetime(dt, fmt) if dt else "")
    app.jinja_env.filters["area"] = area
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
