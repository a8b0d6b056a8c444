"""Account rules. Operations flush, never commit; they raise DomainError subclasses."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from civic import clock
from civic.accounts.models import User
from civic.accounts.passwords import weakness
from civic.audit import operations as audit
from civic.domain import Invalid
from civic.extensions import db

_PHONE = re.compile(r"^1[3-9]\d{9}$")
#: compared against when the phone number is unknown, so both paths cost one scrypt
_DUMMY_HASH = generate_password_hash("civic-dummy-password", method="scrypt")


def normalise_phone(raw: str) -> str | None:
    """A mainland mobile number as 11 digits, or None. Accepts +86, spaces and dashes."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if _PHONE.match(digits) else None


def password_problem(password: str, phone: str | None = None) -> str | None:
    """A translated message when the password is too weak, else None."""
    return {
        "short": _("密码至少需要 8 个字符。"),
        "common": _("这个密码太常见，容易被猜到，请换一个。"),
        "phone": _("密码不能包含手机号。"),
    }.get(weakness(password, phone))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def register(phone: str, password: str, display_name: str = "") -> User | None:
    """Create the account, or return None if the number is taken.

    Callers must answer both cases identically (no account enumeration); the password is
    hashed either way so the timing matches too.
    Raises Invalid for a malformed number or a weak password.
    """
    number = normalise_phone(phone)
    if number is None:
        raise Invalid(_("请输入有效的中国大陆手机号。"), field="phone")
    problem = password_problem(password, number)
    if problem:
        raise Invalid(problem, field="password")
    pw_hash = hash_password(password)
    if db.session.execute(select(User.id).where(User.phone == number)).first():
        return None
    user = User(phone=number, password_hash=pw_hash, display_name=display_name.strip()[:40])
    db.session.add(user)
    db.session.flush()
    audit.record("account.register", user, actor=user)
    return user


def authenticate(phone: str, password: str) -> User | None:
    """The user for these credentials, or None. Costs the same whether the number exists."""
    number = normalise_phone(phone)
    user = None
    if number:
        user = db.session.execute(
            select(User).where(User.phone == number, User.deleted_at.is_(None))).scalar_one_or_none()
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def change_password(user: User, current: str, new: str) -> None:
    """Raises Invalid if `current` is wrong or `new` is weak. Rotates the session token."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise Invalid(_("当前密码不正确。"), field="current")
    problem = password_problem(new, user.phone)
    if problem:
        raise Invalid(problem, field="new")
    user.password_hash = hash_password(new)
    user.rotate_session()
    audit.record("account.password_changed", user, actor=user)


def update_profile(user: User, display_name: str, show_name: bool, locale: str) -> None:
    user.display_name = display_name.strip()[:40]
    user.show_name = bool(show_name and user.display_name)
    user.locale = locale


def log_out(user: User) -> None:
    """Every cookie for this user stops working (all devices)."""
    user.rotate_session()


def mark_login(user: User) -> None:
    user.last_login_at = clock.now()
