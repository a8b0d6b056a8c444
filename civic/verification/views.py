"""Verification pages."""
from flask import abort

from civic.verification import bp


@bp.route("/join", methods=["GET", "POST"])
def redeem():
    abort(404)


@bp.route("/c/<slug>/claim", methods=["GET", "POST"])
def claim(slug):
    abort(404)


@bp.route("/c/<slug>/manage/codes", methods=["GET", "POST"])
def codes(slug):
    abort(404)


@bp.route("/c/<slug>/manage/claims")
def claims(slug):
    abort(404)


@bp.route("/c/<slug>/manage/members")
def members(slug):
    abort(404)


@bp.route("/c/<slug>/manage/members/<int:membership_id>/revoke", methods=["POST"])
def revoke(slug, membership_id):
    abort(404)
