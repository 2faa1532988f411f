"""Retention: names are erased after [retention] personal_days; statistics stay."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shared.config import ConfigError
from shared.core import Core
from shared.models import Booking, TimelineEntry
from shared.reports.figures import day_report
from shared.reports.retention import audit_entries, mask_name, purge
from shared.reports.retention_settings import Retention, retention_settings
from tests.reports.helpers import drive_day

DAY = date(2026, 12, 1)


def names(core: Core) -> dict[str, str | None]:
    with core.db.read() as session:
        return {b.code: b.name for b in session.execute(select(Booking)).scalars()}


def test_settings_default_and_validation() -> None:
    assert retention_settings({}) == Retention(30)
    assert retention_settings({"personal_days": 7}).personal_days == 7
    for raw, key in (({"personal_days": "30"}, "retention.personal_days"),
                     ({"personal_days": 0}, "retention.personal_days"),
                     ({"personal_days": True}, "retention.personal_days"),
                     ({"personal_days": 99999}, "retention.personal_days"),
                     ({"names_days": 3}, "retention.names_days")):
        with pytest.raises(ConfigError) as info:
            retention_settings(raw)
        assert info.value.key == key


def test_mask_name() -> None:
    assert mask_name("Wira Pradnya") == "W*** P******"
    assert mask_name("  Ni   Luh ") == "N* L**"
    assert mask_name("A") == "A"
    assert mask_name("") == ""
    assert mask_name(None) is None


def test_purge_erases_old_names_and_keeps_statistics(core: Core) -> None:
    drive_day(core)
    before = day_report(core, "DPS", DAY)
    with core.db.read() as session:
        timeline_before = session.execute(select(TimelineEntry.id)).scalars().all()

    # 30 days later (2026-12-31 09:00 WITA) nothing booked on 2026-12-01 is older than 30 days
    nothing = purge(core, "cli", now=datetime(2026, 12, 30, 1, 0))
    assert nothing.names_erased == 0 and nothing.cutoffs == {"DPS": "2026-11-30"}
    assert names(core)["DAY-A-0001"] == "Wira Pradnya"

    result = purge(core, "cli", now=datetime(2026, 12, 31, 1, 0))
    assert result.names_erased == 5 and result.cutoffs == {"DPS": "2026-12-01"}
    assert set(names(core).values()) == {None}
    assert set(names(core)) == {"DAY-A-0001", "DAY-B-0002", "DAY-C-0003", "DAY-D-0004",
                                "DAY-E-0005"}  # booking codes stay

    after = day_report(core, "DPS", DAY, with_names=True)
    for key in ("totals", "stations", "arrivals_by_slot", "on_time", "counters", "officers",
                "quota", "volumes", "first_call_wait"):
        assert after[key] == before[key], key
    assert {t["name"] for t in after["tickets"]} == {None}
    with core.db.read() as session:
        assert session.execute(select(TimelineEntry.id)).scalars().all() == timeline_before

    entries = audit_entries(core)
    assert entries[0]["action"] == "purge" and entries[0]["staff"] == "cli"
    assert entries[0]["detail"]["names_erased"] == 5
    assert purge(core, "cli", now=datetime(2026, 12, 31, 1, 0)).names_erased == 0


def test_purge_uses_the_configured_days(core: Core) -> None:
    drive_day(core)
    core.config = replace(core.config, retention={"personal_days": 1})
    assert purge(core, "cli", now=datetime(2026, 12, 2, 1, 0)).names_erased == 5
    core.config = replace(core.config, retention={"personal_days": "soon"})
    with pytest.raises(ConfigError):
        purge(core, "cli")


def test_purge_erases_hold_reasons_with_the_names(core: Core) -> None:
    from shared import visits
    from shared.bookings import import_rows
    from tests.conftest import booking_row
    from tests.reports.helpers import at

    rows = [booking_row("HOLD-00001"), booking_row("HOLD-00002")]
    assert import_rows(core, enumerate(rows, start=1)).refused_count == 0
    at(core, "09:00")
    first = visits.check_in(core, "DPS", "HOLD-00001", "kiosk-1").ticket
    visits.check_in(core, "DPS", "HOLD-00002", "kiosk-1")
    assert visits.call_next(core, "DPS", "1", "ani") is not None
    visits.act(core, first["id"], "hold", "ani", None,
               {"reason": "Bu Made menjemput anaknya yang sakit"})
    called = visits.call_next(core, "DPS", "1", "ani")
    assert called is not None
    visits.act(core, called["id"], "hold", "ani", None, {})  # no reason given

    def hold_details() -> list[dict | None]:
        with core.db.read() as session:
            return list(session.execute(
                select(TimelineEntry.detail).where(TimelineEntry.action == "hold")
                .order_by(TimelineEntry.id)).scalars())

    assert hold_details()[0] == {"reason": "Bu Made menjemput anaknya yang sakit"}
    assert purge(core, "cli", now=datetime(2026, 12, 30, 1, 0)).reasons_erased == 0
    result = purge(core, "cli", now=datetime(2026, 12, 31, 1, 0))
    assert result.reasons_erased == 1 and result.names_erased == 2
    assert all(not (d or {}).get("reason") for d in hold_details())
    assert len(hold_details()) == 2  # the hold itself stays in the timeline
    assert audit_entries(core)[0]["detail"]["hold_reasons_erased"] == 1
    assert purge(core, "cli", now=datetime(2026, 12, 31, 1, 0)).reasons_erased == 0


def test_purge_forgets_stored_answers_after_a_day(core: Core) -> None:
    """Every call and counter action sent with an Idempotency-Key stores its answer for a
    repeat; the chores forget them after a day, so the table does not grow for ever."""
    from shared import visits
    from shared.models import IdempotencyKey

    drive_day(core)
    visits.call_next(core, "DPS", "1", "petugas", "call-after-the-day")
    with core.db.read() as session:
        stored = session.execute(select(func.count()).select_from(IdempotencyKey)).scalar()
    assert stored == 1
    assert purge(core, "cli", now=core.now() + timedelta(hours=23)).answers_forgotten == 0
    result = purge(core, "cli", now=core.now() + timedelta(hours=25))
    assert result.answers_forgotten == 1
    with core.db.read() as session:
        assert session.execute(select(func.count()).select_from(IdempotencyKey)).scalar() == 0
    assert audit_entries(core)[0]["detail"]["answers_forgotten"] == 1
