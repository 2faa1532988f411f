"""A first check-in on PostgreSQL holds the office's lock for one round trip (the booking
is read before the lock): still one ticket per booking, gapless numbers, no version
without an event, and check-in times that never go back in commit order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared import visits
from shared.bookings import cancel, import_rows
from shared.core import Core
from shared.models import OfficeRow, Ticket, TimelineEntry
from tests.conftest import booking_row

pytestmark = pytest.mark.postgres


def _waits_inside_the_lock(core: Core, tmp_path: Path, scan: str, kiosk: str) -> int:
    """The round trips (libpq's Sync or Query messages) sent while the office's lock was
    held during one check-in."""
    from psycopg import pq
    from sqlalchemy import event

    path = tmp_path / "libpq.trace"
    trace = path.open("w")
    marks: list[int] = []

    def traced(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.pgconn.trace(trace.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    def mark() -> None:
        trace.flush()
        marks.append(len(path.read_text()))

    office_lock = core.db.office_lock

    @contextmanager
    def watched(office_id: str) -> Iterator[None]:
        with office_lock(office_id):
            mark()
            yield
            mark()

    event.listen(core.db.engine, "checkout", traced)
    core.db.office_lock = watched  # type: ignore[assignment,method-assign]
    try:
        visits.check_in(core, "DPS", scan, kiosk)
    finally:
        core.db.office_lock = office_lock  # type: ignore[method-assign]
        event.remove(core.db.engine, "checkout", traced)
        with core.db.engine.connect() as connection:  # the pool's one connection
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.pgconn.untrace()
        trace.close()
    start, end = marks
    sent = path.read_text()[start:end]
    return len([line for line in sent.splitlines()
                if line.startswith("F") and line.split("\t")[2:3] in (["Sync"], ["Query"])])


@pytest.mark.parametrize("printing", [False, True])
def test_a_first_check_in_holds_the_lock_for_one_round_trip(
        postgres_core: Core, tmp_path: Path, printing: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a printer: BEGIN, the lock, the ticket and COMMIT in one wait. With one,
    the print job and COMMIT follow in a second. A repeated scan: BEGIN, the lock and its
    ticket's row, then its timeline entry, its position's count and COMMIT; with a
    printer the entry and the count one by one, then the job and COMMIT."""
    core = postgres_core
    # the estimate's mean service time stays cached (no read of it in the lock)
    monkeypatch.setattr(visits, "SERVICE_MEAN_SECONDS", 3600.0)
    if printing:
        core.printers = frozenset({"kiosk-1"})
    import_rows(core, enumerate([booking_row(f"ONCE-{i:02d}") for i in range(3)], start=1))
    visits.check_in(core, "DPS", "ONCE-00", "kiosk-1")  # warm: statements compiled
    assert _waits_inside_the_lock(core, tmp_path, "ONCE-01", "kiosk-1") == (
        2 if printing else 1)
    assert _waits_inside_the_lock(core, tmp_path, "ONCE-01", "kiosk-1") == (
        4 if printing else 2)  # the reprint


def test_a_booking_checked_in_meanwhile_is_reprinted_not_issued_twice(
        postgres_core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race the early booking read opens: another check-in of the same booking
    commits between that read and the lock. The ticket's INSERT then fails on the
    booking's unique ticket, nothing of that transaction stays (no number, no version),
    and the scan is answered as a repeated one."""
    core = postgres_core
    import_rows(core, enumerate([booking_row("RACE-01"), booking_row("RACE-02")], start=1))
    at_once = visits._check_in_at_once
    raced: list[dict[str, Any]] = []

    def after_a_rival(core_: Core, office: Any, booking: Any, kiosk: str | None) -> Any:
        core_.db._pipelines = False  # the rival goes the usual way, under the lock
        try:
            raced.append(visits.check_in(core_, "DPS", "RACE-01", "kiosk-2").ticket)
        finally:
            core_.db._pipelines = True
        before = core_.office_version("DPS")
        assert at_once(core_, office, booking, kiosk) is None
        assert core_.office_version("DPS") == before
        return None

    monkeypatch.setattr(visits, "_check_in_at_once", after_a_rival)
    result = visits.check_in(core, "DPS", "RACE-01", "kiosk-1")
    monkeypatch.undo()
    assert result.reprint and result.ticket["id"] == raced[0]["id"]
    second = visits.check_in(core, "DPS", "RACE-02", "kiosk-1")
    assert not second.reprint
    assert [raced[0]["number"][-3:], second.ticket["number"][-3:]] == ["001", "002"]
    with core.db.read() as session:
        assert len(session.scalars(select(Ticket.id)).all()) == 2


def test_check_in_times_never_go_back_in_commit_order(postgres_core: Core) -> None:
    """A check-in whose clock reads earlier than the last one committed (read before the
    lock, or on a host whose clock is behind) gets that last time: it lands behind the
    ticket committed first, whose printed position therefore stays right."""
    core = postgres_core
    import_rows(core, enumerate([booking_row("TIME-01"), booking_row("TIME-02")], start=1))
    first = visits.check_in(core, "DPS", "TIME-01", "kiosk-1").ticket
    core.clock.advance(timedelta(seconds=-2))
    second = visits.check_in(core, "DPS", "TIME-02", "kiosk-1").ticket
    with core.db.read() as session:
        times = dict(session.execute(select(Ticket.id, Ticket.checked_in_at)).all())
        entered = dict(session.execute(select(Ticket.id, Ticket.entered_station_at)).all())
        recorded = dict(session.execute(select(TimelineEntry.ticket_id, TimelineEntry.at)
                                        .where(TimelineEntry.action == "checked_in")).all())
        last = session.execute(select(OfficeRow.last_issued_at)
                               .where(OfficeRow.id == "DPS")).scalar_one()
    assert times[second["id"]] == times[first["id"]] == last
    assert entered == times and recorded == times
    assert second["position"] == first["position"] + 1
    assert visits.call_next(core, "DPS", "1", "petugas") is not None
    office = core.office("DPS")
    with core.db.read() as session:
        order = visits.ordered_waiting_ids(core, session, office, ("berkas",))
    assert order == [second["id"]]


def test_a_place_taken_from_the_clock_moves_with_the_check_in_time(
        postgres_core: Core) -> None:
    """A late arrival queues from its arrival (its place-key is the check-in time): when
    that time is raised to the last one committed, so is its place, and it lands behind
    the late arrival committed first."""
    core = postgres_core
    late = [booking_row(f"LATE-0{i}", "07:00", "08:00") for i in (1, 2)]
    import_rows(core, enumerate(late, start=1))
    first = visits.check_in(core, "DPS", "LATE-01", "kiosk-1").ticket
    core.clock.advance(timedelta(seconds=-2))
    second = visits.check_in(core, "DPS", "LATE-02", "kiosk-1").ticket
    assert first["demoted"] and second["demoted"]
    with core.db.read() as session:
        keys = dict(session.execute(select(Ticket.id, Ticket.place_key)).all())
        office = core.office("DPS")
        order = visits.ordered_waiting_ids(core, session, office, ("berkas",))
    assert keys[second["id"]] == keys[first["id"]]
    assert order == [first["id"], second["id"]]
    assert second["position"] == first["position"] + 1


@pytest.mark.parametrize("change", ["moved", "cancelled"])
def test_a_booking_changed_after_it_was_read_is_decided_again(postgres_core: Core,
                                                              change: str) -> None:
    """An import or a cancellation between the early read and the lock: the ticket's
    statement issues nothing (no number used, no version claimed), and the scan is
    decided again from the booking as it is now."""
    core = postgres_core
    import_rows(core, enumerate([booking_row("MOVE-01"), booking_row("MOVE-02")], start=1))
    office = core.office("DPS")
    (read,) = core.db.lookup((visits._BOOKING_AND_TICKET, {"office": "DPS", "code": "MOVE-01",
                                                           "day": date(2026, 12, 1)}))
    core.clock.advance(timedelta(seconds=1))
    if change == "moved":
        import_rows(core, enumerate([booking_row("MOVE-01", day="2026-12-02")], start=1))
    else:
        cancel(core, "DPS", "MOVE-01")
    version = core.office_version("DPS")
    assert visits._check_in_at_once(core, office, read, "kiosk-1") is None
    assert core.office_version("DPS") == version
    with pytest.raises(visits.Refusal) as refused:
        visits.check_in(core, "DPS", "MOVE-01", "kiosk-1")
    assert refused.value.code == ("wrong_day" if change == "moved" else "cancelled")
    other = visits.check_in(core, "DPS", "MOVE-02", "kiosk-1").ticket
    assert other["number"].endswith("001")


def test_a_clock_that_jumped_ahead_once_does_not_hold_later_tickets(
        postgres_core: Core) -> None:
    """The office's last check-in time is taken only when it is at most a few seconds
    ahead: after a clock set an hour ahead is put right, tickets get the right time."""
    core = postgres_core
    import_rows(core, enumerate([booking_row(f"JUMP-0{i}") for i in (1, 2, 3)], start=1))
    core.clock.advance(timedelta(hours=1))
    ahead = visits.check_in(core, "DPS", "JUMP-01", "kiosk-1").ticket
    core.clock.advance(timedelta(hours=-1))
    right = visits.check_in(core, "DPS", "JUMP-02", "kiosk-1").ticket
    core.clock.advance(timedelta(seconds=1))
    after = visits.check_in(core, "DPS", "JUMP-03", "kiosk-1").ticket
    with core.db.read() as session:
        times = dict(session.execute(select(Ticket.id, Ticket.checked_in_at)).all())
    assert times[right["id"]] == core.now() - timedelta(seconds=1)
    assert times[ahead["id"]] - times[right["id"]] == timedelta(hours=1)
    assert times[after["id"]] == core.now()


def test_every_shape_of_the_ticket_statement_keeps_psycopg_s_cache() -> None:
    """psycopg converts a query's placeholders once and caches it only for a query of
    at most MAX_CACHED_STATEMENT_LENGTH characters and MAX_CACHED_STATEMENT_PARAMS
    parameters; past that every check-in converts it again (docs/benchmarks.md)."""
    from itertools import product

    from psycopg import _queries
    from sqlalchemy import create_engine

    dialect = create_engine("postgresql+psycopg://giliran@localhost/giliran").dialect
    for shape in product([False, True], repeat=5):
        compiled = visits._issue_statement(*shape).compile(dialect=dialect)
        assert len(str(compiled).encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH, shape
        assert len(compiled.params) <= _queries.MAX_CACHED_STATEMENT_PARAMS, shape
