"""Household verification: invitation codes, claims, resident memberships."""
from flask import Blueprint

bp = Blueprint("verification", __name__)

from civic.verification import views  # noqa: E402,F401
