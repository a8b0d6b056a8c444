"""Reaching residents where they are: printable notices with QR codes, stable short links
for them, link previews and the installable web app (manifest, service worker)."""
from flask import Blueprint

bp = Blueprint("notices", __name__)
