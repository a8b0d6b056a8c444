"""Roster: buildings, units with exclusive area, owners; CSV/XLSX import."""
from flask import Blueprint

bp = Blueprint("roster", __name__, url_prefix="/c/<slug>/manage/roster")
