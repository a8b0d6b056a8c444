"""Flask-Login wiring: cookies carry a per-user session token that rotation invalidates."""
from __future__ import annotations

from flask import Flask
from flask_babel import gettext
from flask_login import LoginManager
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from civic.accounts.models import User
from civic.extensions import db
from civic.i18n import N_


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = N_("请先登录。")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token: str):
        # with their memberships, which nearly every signed-in page asks about
        return db.session.execute(
            select(User).where(User.session_token == token, User.deleted_at.is_(None))
            .options(joinedload(User.memberships))
        ).unique().scalar_one_or_none()
