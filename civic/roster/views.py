"""Roster pages (moderators only)."""
from flask import abort

from civic.roster import bp


@bp.route("/")
def index(slug: str):
    abort(404)
