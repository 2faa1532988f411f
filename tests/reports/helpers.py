"""A hand-computed office day, driven through the service layer with the frozen clock.

Local times (WITA). Bookings: A, B, D, E for 09-10, C for 10-11; D never comes.

    09:00 A checks in (B001)              09:50 C checks in (C001); F1 calls B
    09:02 B checks in (B002)              09:52 counter 1 (ani) calls C
    09:05 counter 1 (ani) calls A         09:55 B finishes at foto: done
    09:06 counter 2 (budi) calls B        09:58 E checks in (B003); ani recalls C
    09:07 A start                         09:59 C marked no-show
    09:12 A finishes berkas -> wawancara  10:02 counter 2 (budi) calls E
    09:14 B finishes berkas -> wawancara  10:05 S1 (gita) calls A; 10:06 start
    09:15 W1 (citra) calls A              10:08 E finishes berkas -> wawancara
    09:20 walk-in lansia P001 (ani)       10:10 A finishes sidik-jari -> foto
    09:21 counter 3 (dewi) calls P001     10:12 F1 (fani) calls A
    09:25 A -> sidik-jari; P001 -> waw.   10:20 A finishes foto: done
    09:31 W2 (eka) calls P001 (priority)
    09:40 W1 (citra) calls B
    09:45 B transferred to foto (citra)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared import visits
from shared.bookings import import_rows
from shared.core import Core
from tests.conftest import DAY, booking_row

NAMES = {"A": "Wira Pradnya", "B": "Ni Luh Sari", "C": "Ketut Arya", "D": "Made Dana",
         "E": "Putu Ayu"}


def at(core: Core, hhmm: str, day: str = DAY) -> None:
    core.clock.freeze(datetime.fromisoformat(f"{day}T{hhmm}") - timedelta(hours=8))


def call(core: Core, counter: str, staff: str) -> dict[str, Any]:
    called = visits.call_next(core, "DPS", counter, staff)
    assert called is not None
    return called


def drive_day(core: Core) -> dict[str, int]:
    """Play the day above; returns the ticket ids by letter (A, B, C, E, P)."""
    rows = [booking_row("DAY-A-0001", "09:00", "10:00", name=NAMES["A"]),
            booking_row("DAY-B-0002", "09:00", "10:00", name=NAMES["B"]),
            booking_row("DAY-C-0003", "10:00", "11:00", name=NAMES["C"]),
            booking_row("DAY-D-0004", "09:00", "10:00", name=NAMES["D"]),
            booking_row("DAY-E-0005", "09:00", "10:00", name=NAMES["E"])]
    summary = import_rows(core, enumerate(rows, start=1))
    assert summary.refused_count == 0, summary.refused
    ids: dict[str, int] = {}

    def act(letter: str, action: str, staff: str, body: dict[str, Any] | None = None) -> None:
        visits.act(core, ids[letter], action, staff, None, body)

    at(core, "09:00")
    ids["A"] = visits.check_in(core, "DPS", "DAY-A-0001", "kiosk-1").ticket["id"]
    at(core, "09:02")
    ids["B"] = visits.check_in(core, "DPS", "DAY-B-0002", "kiosk-1").ticket["id"]
    at(core, "09:05")
    assert call(core, "1", "ani")["id"] == ids["A"]
    at(core, "09:06")
    assert call(core, "2", "budi")["id"] == ids["B"]
    at(core, "09:07")
    act("A", "start", "ani")
    at(core, "09:12")
    act("A", "finish", "ani")
    at(core, "09:14")
    act("B", "finish", "budi")
    at(core, "09:15")
    assert call(core, "W1", "citra")["id"] == ids["A"]
    at(core, "09:20")
    ids["P"] = visits.walk_in(core, "DPS", "paspor-baru", "lansia", "ani")["id"]
    at(core, "09:21")
    assert call(core, "3", "dewi")["id"] == ids["P"]
    at(core, "09:25")
    act("A", "finish", "citra")
    act("P", "finish", "dewi")
    at(core, "09:31")
    assert call(core, "W2", "eka")["id"] == ids["P"]
    at(core, "09:40")
    assert call(core, "W1", "citra")["id"] == ids["B"]
    at(core, "09:45")
    act("B", "transfer", "citra", {"station": "foto"})
    at(core, "09:50")
    ids["C"] = visits.check_in(core, "DPS", "DAY-C-0003", "kiosk-1").ticket["id"]
    assert call(core, "F1", "fani")["id"] == ids["B"]
    at(core, "09:52")
    assert call(core, "1", "ani")["id"] == ids["C"]
    at(core, "09:55")
    act("B", "finish", "fani")
    at(core, "09:58")
    ids["E"] = visits.check_in(core, "DPS", "DAY-E-0005", "kiosk-1").ticket["id"]
    act("C", "recall", "ani")
    at(core, "09:59")
    act("C", "no-show", "ani")
    at(core, "10:02")
    assert call(core, "2", "budi")["id"] == ids["E"]
    at(core, "10:05")
    assert call(core, "S1", "gita")["id"] == ids["A"]
    at(core, "10:06")
    act("A", "start", "gita")
    at(core, "10:08")
    act("E", "finish", "budi")
    at(core, "10:10")
    act("A", "finish", "gita")
    at(core, "10:12")
    assert call(core, "F1", "fani")["id"] == ids["A"]
    at(core, "10:20")
    act("A", "finish", "fani")
    return ids
