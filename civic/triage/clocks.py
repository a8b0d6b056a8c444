"""Time limits: pure functions of aware datetimes, no Flask, no database.

A limit of N days ends at 24:00 Asia/Shanghai on the Nth day after the day the clock
started ("3日内" counted from the next day), so a clock started at 23:50 is not one
evening shorter than one started at 00:10. A limit in hours is exact.
"""
from __future__ import annotations

import enum
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
#: a clock is "due soon" in its last 24 hours
DUE_SOON = timedelta(hours=24)


class ClockState(str, enum.Enum):
    RUNNING = "running"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"
    MISSED = "missed"   # done, but after the deadline


def deadline_days(start: datetime, days: int) -> datetime:
    """24:00 local time on the `days`-th local day after `start`'s local day, in UTC."""
    local_day = start.astimezone(LOCAL).date()
    end = datetime.combine(local_day + timedelta(days=days + 1), time.min, tzinfo=LOCAL)
    return end.astimezone(timezone.utc)


def deadline_hours(start: datetime, hours: int) -> datetime:
    return (start + timedelta(hours=hours)).astimezone(timezone.utc)


def state(due: datetime, now: datetime, done_at: datetime | None = None) -> ClockState:
    if done_at is not None:
        return ClockState.MET if done_at <= due else ClockState.MISSED
    if now > due:
        return ClockState.OVERDUE
    if due - now <= DUE_SOON:
        return ClockState.DUE_SOON
    return ClockState.RUNNING


def hours_left(due: datetime, now: datetime) -> int:
    """Whole hours left (negative when overdue), for "还剩 N 小时"."""
    return int((due - now).total_seconds() // 3600)
