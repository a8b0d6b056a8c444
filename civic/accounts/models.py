"""User accounts: personal, login by mainland mobile number and password."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic.models import Base, CreatedMixin


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_pseudonym() -> str:
    return "u-" + secrets.token_hex(6)


class User(CreatedMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: normalised 11-digit mainland mobile number; NULL once the account is deleted
    phone: Mapped[str | None] = mapped_column(String(11), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(40), default="")
    #: the resident chose to appear publicly under display_name instead of "N号楼居民"
    show_name: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    is_admin: Mapped[bool] = mapped_column(default=False)
    #: part of the login cookie; rotated on logout, password and role change
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    #: stable pseudonymous id used in the audit log and the public archive
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True, default=new_pseudonym)
    last_login_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    #: all memberships, active or revoked; permissions filter on status
    memberships: Mapped[list["Membership"]] = relationship(  # noqa: F821
        primaryjoin="User.id == Membership.user_id", viewonly=True)

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    def get_id(self) -> str:
        return self.session_token

    def rotate_session(self) -> None:
        """Invalidate every cookie issued so far for this user."""
        self.session_token = new_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.pseudonym}>"
