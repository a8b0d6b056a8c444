"""Accounts: register, log in and out, profile, password, language."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)
