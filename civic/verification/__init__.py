"""Household verification: invitation codes, claims, resident memberships."""
from flask import Blueprint

bp = Blueprint("verification", __name__)
