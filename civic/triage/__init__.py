"""Triage: the moderators' queue, responsibility list and precedents, official responses."""
from flask import Blueprint

bp = Blueprint("triage", __name__, url_prefix="/c/<slug>")
