"""Time limits with Asia/Shanghai day boundaries."""
from datetime import datetime, timedelta, timezone

import pytest

from civic.triage import clocks
from civic.triage.clocks import ClockState

UTC = timezone.utc


@pytest.mark.parametrize("start_utc,days,due_utc", [
    # 23:50 Beijing on 22 Nov: 3 days end at 24:00 Beijing on 25 Nov
    ("2026-11-22T15:50", 3, "2026-11-25T16:00"),
    # 00:10 Beijing on 23 Nov (still 22 Nov in UTC): ends a day later
    ("2026-11-22T16:10", 3, "2026-11-26T16:00"),
    ("2026-11-22T15:59", 1, "2026-11-23T16:00"),
    ("2026-11-22T16:00", 1, "2026-11-24T16:00"),
    ("2026-12-31T17:00", 7, "2027-01-08T16:00"),   # across the new year
])
def test_deadline_days_ends_at_local_midnight(start_utc, days, due_utc):
    start = datetime.fromisoformat(start_utc).replace(tzinfo=UTC)
    assert clocks.deadline_days(start, days) == datetime.fromisoformat(due_utc).replace(tzinfo=UTC)


def test_deadline_hours_is_exact():
    start = datetime(2026, 11, 22, 15, 50, tzinfo=UTC)
    assert clocks.deadline_hours(start, 24) == start + timedelta(hours=24)


@pytest.mark.parametrize("now_offset_h,done_offset_h,state", [
    (-48, None, ClockState.RUNNING),
    (-24, None, ClockState.DUE_SOON),      # exactly 24 h left is due soon
    (-1, None, ClockState.DUE_SOON),
    (0, None, ClockState.DUE_SOON),        # at the deadline: not yet overdue
    (1, None, ClockState.OVERDUE),
    (5, -3, ClockState.MET),
    (5, 0, ClockState.MET),
    (5, 2, ClockState.MISSED),
])
def test_clock_state(now_offset_h, done_offset_h, state):
    due = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    now = due + timedelta(hours=now_offset_h)
    done = due + timedelta(hours=done_offset_h) if done_offset_h is not None else None
    assert clocks.state(due, now, done) is state


def test_hours_left():
    due = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert clocks.hours_left(due, due - timedelta(hours=5, minutes=30)) == 5
    assert clocks.hours_left(due, due + timedelta(hours=2)) == -2
