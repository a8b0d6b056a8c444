"""The one source of time, so tests can move it."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc)


def freeze(at: datetime | None) -> None:
    """Pin now() to `at` (aware), or release it with None. For tests and time-based jobs."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(timezone.utc) if at else None


def local(dt: datetime) -> datetime:
    """`dt` in Asia/Shanghai, for display and for local day boundaries."""
    return dt.astimezone(LOCAL_TZ)
