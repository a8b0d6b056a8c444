"""Password policy: length and a list of common passwords (incl. common Chinese ones)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 8


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


def _sequential(pw: str) -> bool:
    """1234567890-, abcdefgh-, 9876… style runs."""
    if len(pw) < 2:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(pw, pw[1:])}
    return len(steps) == 1 and steps.pop() in (-1, 0, 1)


def weakness(password: str, phone: str | None = None) -> str | None:
    """Why the password is refused (a message key), or None if acceptable."""
    if len(password) < MIN_LENGTH:
        return "short"
    low = password.lower()
    if low in common_passwords() or _sequential(low):
        return "common"
    if phone and phone in password:
        return "phone"
    return None
