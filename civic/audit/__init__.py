"""Audit log area: hash-chained record of every state change."""
from flask import Blueprint

#: the public verification page (civic.audit.views)
bp = Blueprint("audit", __name__, url_prefix="/audit")
