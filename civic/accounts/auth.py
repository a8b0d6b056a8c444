"""Flask-Login wiring: cookies carry a per-user session token that rotation invalidates."""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext
from flask_login import LoginManager
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from civic.accounts.models import User
from civic.database import built_once
from civic.extensions import db
from civic.i18n import N_


@built_once
def _user_by_token(dialect: str):
    """The signed-in user by their session token, with their memberships, which nearly every
    signed-in page asks about (every signed-in request runs it)."""
    return (select(User).where(User.session_token == bindparam("token"),
                               User.deleted_at.is_(None))
            .options(joinedload(User.memberships)))


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = N_("请先登录。")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token: str):
        return db.session.execute(_user_by_token(), {"token": token}).unique().scalar_one_or_none()
