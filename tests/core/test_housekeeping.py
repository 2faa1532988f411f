"""The serving process purges expired personal data by itself."""

from __future__ import annotations

import time

from sqlalchemy import select

from shared.bookings import import_rows
from shared.core import Core
from shared.housekeeping import start_housekeeping
from shared.models import Booking
from tests.conftest import booking_row


def test_old_names_are_purged_in_the_background(core: Core) -> None:
    import_rows(core, enumerate([booking_row("OLD-000001", day="2026-09-01"),
                                 booking_row("NEW-000001")], start=1))
    stop = start_housekeeping(core, interval_seconds=0.05)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with core.db.read() as session:
                names = dict(session.execute(select(Booking.code, Booking.name)).all())
            if names["OLD-000001"] is None:
                break
            time.sleep(0.02)
    finally:
        stop.set()
    assert names == {"OLD-000001": None, "NEW-000001": "Made Lestari"}
