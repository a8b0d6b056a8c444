"""Loaders that 404 on a missing object and 403 when the predicate says no."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, select

from civic.communities.models import Community
from civic.database import built_once
from civic.extensions import db


@built_once
def _community_by_slug(dialect: str):
    """Nearly every page of a community starts here."""
    return select(Community).where(Community.slug == bindparam("slug"))


def community_or_404(slug: str) -> Community:
    c = db.session.execute(_community_by_slug(), {"slug": slug}).scalar_one_or_none()
    if c is None:
        abort(404)
    return c


def owned_or_404(model, obj_id: int, community: Community):
    """`model` row `obj_id` only if it belongs to `community` (no IDOR across communities)."""
    obj = db.session.get(model, obj_id)
    if obj is None or obj.community_id != community.id:
        abort(404)
    return obj


def require(allowed: bool) -> None:
    """403 unless allowed; anonymous users are sent to log in instead."""
    if not allowed:
        if not current_user.is_authenticated:
            from flask import current_app
            abort(current_app.login_manager.unauthorized())
        abort(403)


def check(predicate: Callable[..., bool], *args) -> None:
    require(predicate(current_user, *args))
