"""Owners' ballots on the matters of Civil Code Art. 278."""
from flask import Blueprint

bp = Blueprint("ballots", __name__, url_prefix="/c/<slug>")
