"""Open data: the archive's lists as CSV and JSON, and an Atom feed of decisions."""
from flask import Blueprint

bp = Blueprint("opendata", __name__, url_prefix="/c/<slug>")
