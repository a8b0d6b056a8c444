"""Carrying out an effective decision: the expense ledger against its budget, the owners'
committee's approval of maintenance-fund spending, and progress updates up to completion."""
from flask import Blueprint

bp = Blueprint("implementation", __name__, url_prefix="/c/<slug>")
