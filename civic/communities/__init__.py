"""Communities: the community home, site administration, staff grants."""
from flask import Blueprint

bp = Blueprint("communities", __name__)

from civic.communities import views  # noqa: E402,F401
