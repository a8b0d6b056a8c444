"""Issues: propose, co-sign to a threshold, comment."""
from flask import Blueprint

bp = Blueprint("issues", __name__, url_prefix="/c/<slug>")
