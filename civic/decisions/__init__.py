"""Decisions of the joint meeting: publicity period, objections, corrections."""
from flask import Blueprint

bp = Blueprint("decisions", __name__, url_prefix="/c/<slug>")
