"""Consultation rounds of the joint meeting (协商议事, DESIGN.md §4)."""
from flask import Blueprint

bp = Blueprint("consultation", __name__, url_prefix="/c/<slug>")
