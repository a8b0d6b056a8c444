"""Communities: the community home, site administration, staff grants."""
from flask import Blueprint

bp = Blueprint("communities", __name__)
