"""The read-only JSON API of the public archive (/api/v1), described by an OpenAPI document
the app serves, and a page documenting it (/api/)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")
