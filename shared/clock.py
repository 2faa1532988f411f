"""The one clock of the product.

`GILIRAN_CLOCK` (an ISO local date-time in the office's time zone) starts the office clock
at that moment and lets it run on: training days, drills and acceptance tests use it.
Everything stored is UTC without tzinfo; conversion to office time happens at the edges.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utcnow_real() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Clock:
    """UTC 'now' with an optional offset, settable in tests."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, tz: ZoneInfo) -> Clock:
        raw = os.environ.get("GILIRAN_CLOCK")
        clock = cls()
        if raw:
            clock.start_at_local(datetime.fromisoformat(raw), tz)
        return clock

    def start_at_local(self, local: datetime, tz: ZoneInfo) -> None:
        """Make the clock read `local` (office time) now, and run on from there."""
        if local.tzinfo is None:
            local = local.replace(tzinfo=tz)
        target = local.astimezone(UTC).replace(tzinfo=None)
        with self._lock:
            self._offset = target - utcnow_real()
            self._frozen = None

    def freeze(self, utc: datetime) -> None:
        """Stop the clock at a UTC instant (tests)."""
        with self._lock:
            self._frozen = utc

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    def now(self) -> datetime:
        """Naive UTC."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return utcnow_real() + self._offset


def to_local(utc: datetime, tz: ZoneInfo) -> datetime:
    return utc.replace(tzinfo=UTC).astimezone(tz)


def local_date(utc: datetime, tz: ZoneInfo) -> date:
    return to_local(utc, tz).date()


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


#: The days an office can have: a date outside them (typed in a report's address, a
#: booking file's row) is refused as unreadable rather than reaching date arithmetic that
#: overflows at the calendar's ends (year 1, year 9999).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date between FIRST_DAY and LAST_DAY; ValueError otherwise."""
    if len(text) != 10:
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    day = date.fromisoformat(text)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day} is outside {FIRST_DAY.year}-{LAST_DAY.year}")
    return day
