"""Moderation: residents report content, three households hide it pending review, the
residents' committee hides, restores and suspends — with reasons, keeping the original."""
from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/c/<slug>")
