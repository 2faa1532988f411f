"""The visit service layer: check-in, ordering by slot, the station flow, actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from shared import visits
from shared.bookings import import_rows
from shared.core import Core
from shared.errors import Refusal
from shared.events import TicketEvent
from shared.scan import sign_token
from tests.conftest import DAY, booking_row


def add(core: Core, *rows: dict[str, str]) -> None:
    summary = import_rows(core, enumerate(rows, start=1))
    assert summary.refused_count == 0, summary.refused


def at(core: Core, hhmm: str) -> None:
    core.clock.freeze(datetime.fromisoformat(f"{DAY}T{hhmm}") - timedelta(hours=8))


def refusal(fn: Any, *args: Any) -> Refusal:
    with pytest.raises(Refusal) as info:
        fn(*args)
    return info.value


def test_checkin_numbers_follow_the_booked_slot_not_arrival(core: Core) -> None:
    add(core, booking_row("LATE-SLOT-1", "13:00", "14:00"), booking_row("EARLY-SLOT", "09:00",
                                                                        "10:00"))
    at(core, "11:30")
    later = visits.check_in(core, "DPS", "LATE-SLOT-1", "kiosk-1").ticket
    at(core, "09:20")  # the clock is frozen; order of check-in is what matters
    earlier = visits.check_in(core, "DPS", "EARLY-SLOT", "kiosk-1").ticket
    assert later["number"] == "F001" and earlier["number"] == "B001"
    queue = visits.station_queue(core, "DPS", "berkas")
    assert [t["number"] for t in queue] == ["B001", "F001"]
    assert queue[0]["position"] == 1 and queue[1]["position"] == 2
    assert later["slot"] == {"start": "13:00", "end": "14:00"}
    assert later["status_url"].startswith("/t/")


def test_second_scan_is_a_reprint_of_the_same_ticket(core: Core) -> None:
    add(core, booking_row("REPRINT-01"))
    first = visits.check_in(core, "DPS", "REPRINT-01", "kiosk-1")
    again = visits.check_in(core, "DPS", "https://m-paspor.example/b?code=REPRINT-01", "kiosk-2")
    assert not first.reprint and again.reprint
    assert again.ticket["id"] == first.ticket["id"]


def test_refusals_name_the_reason(core: Core) -> None:
    add(core, booking_row("AFTERNOON-1", "13:00", "14:00"),
        booking_row("TOMORROW-1", day="2026-12-02"))
    at(core, "09:00")
    early = refusal(visits.check_in, core, "DPS", "AFTERNOON-1", "k")
    assert early.code == "too_early" and early.extra["retry_at"] == "11:00"
    assert "11:00" in early.message["id"] and "11:00" in early.message["en"]
    assert refusal(visits.check_in, core, "DPS", "TOMORROW-1", "k").code == "wrong_day"
    assert refusal(visits.check_in, core, "DPS", "NOPE-NOPE-1", "k").code == "unknown_booking"
    assert refusal(visits.check_in, core, "DPS", "<script>", "k").code == "invalid_scan"
    assert refusal(visits.check_in, core, "DPS", 12, "k").code == "invalid_scan"
    forged = sign_token("AFTERNOON-1", "DPS", DAY, "13:00", "not-the-key")
    assert refusal(visits.check_in, core, "DPS", forged, "k").code == "invalid_scan"
    other = sign_token("AFTERNOON-1", "JKT", DAY, "13:00", core.config.security.qr_hmac_key)
    assert refusal(visits.check_in, core, "DPS", other, "k").code == "wrong_office"
    at(core, "15:30")
    assert refusal(visits.check_in, core, "DPS", "AFTERNOON-1", "k").code == "closed"


def test_signed_token_checks_in(core: Core) -> None:
    add(core, booking_row("SIGNED-001"))
    token = sign_token("SIGNED-001", "DPS", DAY, "09:00", core.config.security.qr_hmac_key)
    assert visits.check_in(core, "DPS", token, "k").ticket["number"] == "B001"


def test_late_arrival_is_demoted_to_its_arrival_time(core: Core) -> None:
    add(core, booking_row("MISSED-SLOT", "08:00", "09:00"), booking_row("ON-TIME-10", "10:00",
                                                                        "11:00"))
    at(core, "10:05")
    on_time = visits.check_in(core, "DPS", "ON-TIME-10", "k").ticket
    late = visits.check_in(core, "DPS", "MISSED-SLOT", "k").ticket
    assert late["demoted"] and late["number"] == "C002"  # queued in the 10-11 group
    queue = [t["number"] for t in visits.station_queue(core, "DPS", "berkas")]
    assert queue == [on_time["number"], late["number"]]


def test_late_arrival_refused_under_refuse_policy(core: Core) -> None:
    from dataclasses import replace

    core.config = replace(core.config, policy=replace(core.config.policy, late_policy="refuse"))
    add(core, booking_row("MISSED-SLOT", "08:00", "09:00"))
    at(core, "10:05")
    assert refusal(visits.check_in, core, "DPS", "MISSED-SLOT", "k").code == "too_late"


def test_priority_and_walkin_lanes_have_their_letters(core: Core) -> None:
    add(core, booking_row("PRIORITY-1", group="lansia"), booking_row("REGULAR-01"))
    regular = visits.check_in(core, "DPS", "REGULAR-01", "k").ticket
    elder = visits.check_in(core, "DPS", "PRIORITY-1", "k").ticket
    walk = visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")
    express = visits.walk_in(core, "DPS", "percepatan", None, "petugas")
    pregnant = visits.walk_in(core, "DPS", "paspor-baru", "hamil", "petugas")
    assert [regular["number"], elder["number"], walk["number"], express["number"],
            pregnant["number"]] == ["B001", "P001", "W001", "X001", "P002"]
    order = [t["number"] for t in visits.station_queue(core, "DPS", "berkas")]
    assert order[:2] == ["P001", "P002"]


def test_flow_moves_through_every_station_keeping_the_place_key(core: Core) -> None:
    add(core, booking_row("FLOW-00001"))
    ticket = visits.check_in(core, "DPS", "FLOW-00001", "k").ticket
    stations = []
    counters = {"berkas": "1", "wawancara": "W1", "sidik-jari": "S1", "foto": "F1"}
    for station, counter in counters.items():
        called = visits.call_next(core, "DPS", counter, "petugas")
        assert called is not None and called["id"] == ticket["id"]
        assert called["station"] == station and called["status"] == "called"
        visits.act(core, ticket["id"], "start", "petugas", None)
        done = visits.act(core, ticket["id"], "finish", "petugas", None)
        stations.append(done["station"])
    assert done["status"] == "done"
    actions = [e["action"] for e in visits.timeline(core, ticket["id"])]
    assert actions == ["checked_in"] + ["called", "start", "moved"] * 3 + [
        "called", "start", "finished"]


def test_call_next_idempotency_and_busy_counter(core: Core) -> None:
    add(core, booking_row("IDEM-00001"), booking_row("IDEM-00002"))
    visits.check_in(core, "DPS", "IDEM-00001", "k")
    visits.check_in(core, "DPS", "IDEM-00002", "k")
    first = visits.call_next(core, "DPS", "1", "petugas", "click-1")
    again = visits.call_next(core, "DPS", "1", "petugas", "click-1")
    assert first == again
    busy = refusal(visits.call_next, core, "DPS", "1", "petugas", "click-2")
    assert busy.code == "counter_busy"
    assert len([t for t in visits.station_queue(core, "DPS", "berkas")]) == 1


def test_actions_follow_the_state_machine(core: Core) -> None:
    add(core, booking_row("STATE-0001"))
    ticket = visits.check_in(core, "DPS", "STATE-0001", "k").ticket
    tid = ticket["id"]
    assert refusal(visits.act, core, tid, "start", "p", None).status == 409
    visits.call_next(core, "DPS", "1", "p")
    assert refusal(visits.act, core, tid, "no-show", "p", None).code == "call_again"
    assert refusal(visits.act, core, tid, "recall", "p", None).code == "too_soon"
    core.clock.advance(timedelta(seconds=30))
    assert visits.act(core, tid, "recall", "p", None)["call_count"] == 2
    assert visits.act(core, tid, "no-show", "p", None)["status"] == "missed"
    assert visits.act(core, tid, "reinstate", "p", None)["status"] == "waiting"
    visits.call_next(core, "DPS", "1", "p")
    held = visits.act(core, tid, "hold", "p", None, {"reason": "fotokopi KK"})
    assert held["status"] == "held" and held["counter"] is None
    assert visits.act(core, tid, "resume", "p", None)["status"] == "waiting"
    moved = visits.act(core, tid, "transfer", "p", None, {"station": "foto"})
    assert moved["station"] == "foto" and moved["status"] == "waiting"
    assert refusal(visits.act, core, tid, "transfer", "p", None, {"station": "x"}).status == 422
    assert visits.act(core, tid, "cancel", "p", None)["status"] == "cancelled"
    assert refusal(visits.act, core, tid, "resume", "p", None).code == "invalid_state"
    assert refusal(visits.act, core, tid, "explode", "p", None).code == "unknown_action"


def test_priority_only_counter_calls_only_priority(core: Core) -> None:
    add(core, booking_row("REGULAR-02"))
    visits.check_in(core, "DPS", "REGULAR-02", "k")
    assert visits.call_next(core, "DPS", "3", "p") is None
    visits.walk_in(core, "DPS", "paspor-baru", "disabilitas", "p")
    called = visits.call_next(core, "DPS", "3", "p")
    assert called is not None and called["number"] == "P001"


def test_events_published_after_commit_with_rising_versions(core: Core) -> None:
    seen: list[TicketEvent] = []
    core.bus.subscribe(seen.append)
    add(core, booking_row("EVENT-0001"))
    visits.check_in(core, "DPS", "EVENT-0001", "k")
    visits.call_next(core, "DPS", "1", "p")
    core.bus.wait_idle()
    assert [e.kind for e in seen] == ["checked_in", "called"]
    assert seen[1].version == seen[0].version + 1
    assert seen[1].counter == "1" and seen[1].counter_name == "Loket 1"
    assert "name" not in seen[1].ticket


def test_refused_change_publishes_nothing(core: Core) -> None:
    seen: list[TicketEvent] = []
    core.bus.subscribe(seen.append)
    version = core.office_version("DPS")
    refusal(visits.call_next, core, "DPS", "404", "p")
    refusal(visits.check_in, core, "DPS", "UNKNOWN-99", "k")
    core.bus.wait_idle()
    assert seen == [] and core.office_version("DPS") == version


def test_wait_estimate_uses_recent_service_times(core: Core) -> None:
    add(core, *[booking_row(f"EST-0000{i}") for i in range(5)])
    tickets = [visits.check_in(core, "DPS", f"EST-0000{i}", "k").ticket for i in range(5)]
    # nobody served yet: the default 5 minutes per applicant over 2 document counters;
    # the first in line still waits for a counter to free (5 / 3 minutes)
    assert [t["estimated_wait_minutes"] for t in tickets] == [2, 4, 7, 9, 12]
    called = visits.call_next(core, "DPS", "1", "p")
    assert called is not None
    core.clock.advance(timedelta(minutes=10))
    visits.act(core, called["id"], "finish", "p", None)
    queue = visits.station_queue(core, "DPS", "berkas")
    # one service took 10 minutes: that is now the rolling mean
    assert [t["estimated_wait_minutes"] for t in queue] == [3, 8, 13, 18]


def test_checkin_estimate_follows_a_finish_without_reading_the_timeline_each_time(
        core: Core) -> None:
    """The estimate printed at check-in reuses the station's mean service time (cached
    per process, dropped when a service ends), and stays equal to the counted one."""
    from sqlalchemy import event

    add(core, *[booking_row(f"EMC-0000{i}") for i in range(6)])
    timeline_reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "ticket_timeline" in statement:
            timeline_reads.append(statement)

    event.listen(core.db.engine, "before_cursor_execute", seen)
    first = visits.check_in(core, "DPS", "EMC-00000", "k").ticket
    reads_for_first = len(timeline_reads)
    second = visits.check_in(core, "DPS", "EMC-00001", "k").ticket
    assert len(timeline_reads) == reads_for_first, "the mean was read again"
    assert [first["estimated_wait_minutes"], second["estimated_wait_minutes"]] == [2, 4]
    called = visits.call_next(core, "DPS", "1", "p")
    assert called is not None
    core.clock.advance(timedelta(minutes=10))
    visits.act(core, called["id"], "finish", "p", None)
    third = visits.check_in(core, "DPS", "EMC-00002", "k").ticket
    # one service took 10 minutes: the new mean, at once, as the counted estimate has it
    assert third["estimated_wait_minutes"] == visits.get_ticket(
        core, third["id"], None)["estimated_wait_minutes"] == 8


def test_a_reprint_and_a_move_read_no_timeline_inside_the_lock(core: Core) -> None:
    """The estimate printed again, or shown for a ticket moved to its next station, takes
    the station's mean service time from the short cache: a repeated scan or a finish
    does not read the timeline while it holds the office's lock."""
    from sqlalchemy import event

    add(core, booking_row("MEAN-0001"), booking_row("MEAN-0002"))
    at(core, "09:10")
    first = visits.check_in(core, "DPS", "MEAN-0001", "kiosk-1").ticket  # warms the cache
    visits.check_in(core, "DPS", "MEAN-0002", "kiosk-1")
    called = visits.call_next(core, "DPS", "1", "petugas")
    assert called is not None and called["id"] == first["id"]
    visits.act(core, first["id"], "start", "petugas", None)
    for station in core.office("DPS").stations:  # a fresh mean for each, then reused
        with core.db.read() as session:
            visits.estimate_for(core, session, core.office("DPS"), station, 0)
    reads: list[str] = []

    def watch(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "ticket_timeline" in statement:
            reads.append(statement)

    event.listen(core.db.engine, "before_cursor_execute", watch)
    try:
        again = visits.check_in(core, "DPS", "MEAN-0002", "kiosk-2")
        moved = visits.act(core, first["id"], "finish", "petugas", None)
    finally:
        event.remove(core.db.engine, "before_cursor_execute", watch)
    assert again.reprint and again.ticket["position"] == 1
    assert moved["status"] == "waiting" and moved["station"] != "berkas"
    assert moved["estimated_wait_minutes"] >= 0
    assert reads == []


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                             marks=pytest.mark.postgres)])
def test_an_action_on_a_ticket_removed_meanwhile_is_not_found(
        backend: str, request: pytest.FixtureRequest) -> None:
    """A ticket's office is remembered after the first action (it never changes); a
    ticket removed since (the retention purge) is then found missing under the office's
    lock: 404, not an error."""
    core: Core = request.getfixturevalue("core" if backend == "sqlite" else "postgres_core")
    add(core, booking_row("GONE-0001"))
    ticket = visits.check_in(core, "DPS", "GONE-0001", "kiosk-1").ticket
    visits.act(core, ticket["id"], "transfer", "petugas", None, {"station": "foto"})
    assert core.ticket_offices[ticket["id"]] == "DPS"
    from sqlalchemy import delete

    from shared.models import PrintJob, Ticket, TimelineEntry
    with core.db.write() as session:
        for model, column in ((TimelineEntry, TimelineEntry.ticket_id),
                              (PrintJob, PrintJob.ticket_id), (Ticket, Ticket.id)):
            session.execute(delete(model).where(column == ticket["id"]))
    moved = {"station": "berkas"}
    assert refusal(visits.act, core, ticket["id"], "transfer", "petugas", None,
                   moved).code == "not_found"
    assert refusal(visits.act, core, 999_999, "transfer", "petugas", None,
                   moved).code == "not_found"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                             marks=pytest.mark.postgres)])
def test_a_ticket_left_at_a_counter_overnight_does_not_hold_it_the_next_day(
        backend: str, request: pytest.FixtureRequest) -> None:
    """The last applicant of the day was called and never finished. The next morning the
    counter calls as usual, shows no current ticket, and yesterday's ticket can only be
    cancelled: finishing it would move it into yesterday's queue, which nobody calls."""
    core: Core = request.getfixturevalue("core" if backend == "sqlite" else "postgres_core")
    add(core, booking_row("ROLL-0001", "15:00", "16:00"),
        booking_row("ROLL-0003", "15:00", "16:00"),
        booking_row("ROLL-0002", "08:00", "09:00", day="2026-12-02"))
    at(core, "14:50")
    visits.check_in(core, "DPS", "ROLL-0001", "kiosk-1")
    visits.check_in(core, "DPS", "ROLL-0003", "kiosk-1")
    left = visits.call_next(core, "DPS", "1", "petugas")
    also_left = visits.call_next(core, "DPS", "2", "petugas")
    assert left is not None and also_left is not None
    core.clock.freeze(datetime(2026, 12, 2, 8, 5) - timedelta(hours=8))
    assert visits.counter_state(core, "DPS", "1")["current"] is None
    visits.check_in(core, "DPS", "ROLL-0002", "kiosk-1")
    called = visits.call_next(core, "DPS", "1", "petugas")
    assert called is not None and called["number"] == "A001" and called["id"] != left["id"]
    assert visits.counter_state(core, "DPS", "1")["current"]["id"] == called["id"]
    for action in ("finish", "no-show", "hold", "start"):
        refused = refusal(visits.act, core, left["id"], action, "petugas", None)
        assert refused.code == "earlier_day" and refused.status == 409
        assert "01-12-2026" in refused.message["en"]
    assert visits.act(core, left["id"], "cancel", "petugas", None)["status"] == "cancelled"
    # Closing a counter asks only about today's ticket: counter 2 has none today.
    with core.change("DPS") as change:
        visits.release_counter(core, change, core.office("DPS"), "2", None, None, "admin")
    with pytest.raises(Refusal) as info, core.change("DPS") as change:
        visits.release_counter(core, change, core.office("DPS"), "1", None, None, "admin")
    assert info.value.code == "counter_has_ticket"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                             marks=pytest.mark.postgres)])
def test_a_booking_moved_to_another_day_checks_in_again_there(
        backend: str, request: pytest.FixtureRequest) -> None:
    """Sent home for a missing document, an applicant reschedules in M-Paspor (the code
    stays) and comes back: a new ticket on the new day, in its queue, not the old day's
    slip. A booking not moved, scanned the next day, is for another day."""
    core: Core = request.getfixturevalue("core" if backend == "sqlite" else "postgres_core")
    add(core, booking_row("RESCHED-01"), booking_row("STAYED-01"))
    at(core, "09:10")
    first = visits.check_in(core, "DPS", "RESCHED-01", "kiosk-1").ticket
    visits.check_in(core, "DPS", "STAYED-01", "kiosk-1")
    visits.act(core, first["id"], "cancel", "petugas", None)
    add(core, booking_row("RESCHED-01", "10:00", "11:00", day="2026-12-02"))
    core.clock.freeze(datetime(2026, 12, 2, 10, 5) - timedelta(hours=8))
    again = visits.check_in(core, "DPS", "RESCHED-01", "kiosk-1")
    assert not again.reprint and again.ticket["id"] != first["id"]
    assert again.ticket["status"] == "waiting" and again.ticket["position"] == 1
    assert [t["number"] for t in visits.station_queue(core, "DPS", "berkas")] == \
        [again.ticket["number"]]
    repeated = visits.check_in(core, "DPS", "RESCHED-01", "kiosk-2")
    assert repeated.reprint and repeated.ticket["id"] == again.ticket["id"]
    stayed = refusal(visits.check_in, core, "DPS", "STAYED-01", "kiosk-1")
    assert stayed.code == "wrong_day" and "01-12-2026" in stayed.message["en"]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                             marks=pytest.mark.postgres)])
def test_an_action_sent_again_with_its_key_is_not_done_twice(
        backend: str, request: pytest.FixtureRequest) -> None:
    """Counter 1's finish reached the server but its answer was lost; meanwhile the
    interview room called the applicant. The finish sent again with the same key answers
    with the ticket as it is now and finishes nothing at the interview."""
    core: Core = request.getfixturevalue("core" if backend == "sqlite" else "postgres_core")
    add(core, booking_row("RETRY-0001"))
    at(core, "09:10")
    ticket = visits.check_in(core, "DPS", "RETRY-0001", "kiosk-1").ticket
    visits.call_next(core, "DPS", "1", "petugas")
    moved = visits.act(core, ticket["id"], "finish", "petugas", None, None, "finish-7f3a")
    assert (moved["status"], moved["station"]) == ("waiting", "wawancara")
    assert moved["position"] == 1
    again = visits.act(core, ticket["id"], "finish", "petugas", None, None, "finish-7f3a")
    assert (again["status"], again["station"], again["position"]) == \
        ("waiting", "wawancara", 1)
    called = visits.call_next(core, "DPS", "W1", "pewawancara")
    assert called is not None and called["id"] == ticket["id"]
    late = visits.act(core, ticket["id"], "finish", "petugas", None, None, "finish-7f3a")
    assert (late["status"], late["station"], late["counter"]) == ("called", "wawancara", "W1")
    assert visits.counter_state(core, "DPS", "W1")["current"]["id"] == ticket["id"]
    # The key belongs to that ticket: the same words on another ticket act as usual.
    other = visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")
    assert visits.act(core, other["id"], "cancel", "petugas", None, None,
                      "finish-7f3a")["status"] == "cancelled"


def test_next_at_a_counter_closed_by_another_process_is_refused(core: Core,
                                                                 tmp_path: Any) -> None:
    """An admin closes counter 1 in one process while it serves B001 (sent back to the
    queue). The officer's next reaches another process that has not heard of the change
    yet: it is refused there too, and B001 is not called back to the closed counter."""
    from shared import live_config
    from tests.conftest import make_core

    add(core, booking_row("RACE-0001"), booking_row("RACE-0002"))
    at(core, "09:10")
    for code in ("RACE-0001", "RACE-0002"):
        visits.check_in(core, "DPS", code, "kiosk-1")
    other = make_core(core.config, str(core.db.engine.url))  # another process, same database
    at(other, "09:10")
    assert visits.call_next(other, "DPS", "1", "petugas")["number"] == "B001"
    assert other.config.offices["DPS"].counters["1"].open

    def close(document: dict[str, Any]) -> None:
        for counter in document["counters"]:
            if counter["id"] == "1":
                counter["open"] = False

    def send_back(_session: Any, change: Any, config: Any) -> None:
        visits.release_counter(core, change, config.offices["DPS"], "1", "return", None,
                               "admin")

    live_config.update(core, live_config.office_scope("DPS"), close, "admin",
                       "counter.update", None, send_back)
    refused = refusal(visits.call_next, other, "DPS", "1", "petugas")
    assert refused.code == "counter_closed"
    assert not other.config.offices["DPS"].counters["1"].open
    queue = visits.station_queue(other, "DPS", "berkas")
    assert [t["number"] for t in queue] == ["B001", "B002"]
    assert visits.call_next(other, "DPS", "2", "petugas")["number"] == "B001"
    other.close()


def test_the_priority_ratio_starts_each_day_afresh(core: Core) -> None:
    """With one priority call in every two, yesterday's last call (a priority one) does not
    decide this morning's first: the elderly applicant waiting at opening is called
    first, and the printed position said so."""
    from dataclasses import replace

    core.config = replace(core.config, policy=replace(core.config.policy, priority="1:2"))
    add(core, booking_row("ELDER-0001", "14:00", "15:00", group="lansia"),
        booking_row("EARLY-0001", "08:00", "09:00", day="2026-12-02"),
        booking_row("ELDER-0002", "08:00", "09:00", day="2026-12-02", group="lansia"))
    at(core, "14:10")
    visits.check_in(core, "DPS", "ELDER-0001", "kiosk-1")
    assert visits.call_next(core, "DPS", "1", "petugas")["number"] == "P001"
    core.clock.freeze(datetime(2026, 12, 2, 8, 5) - timedelta(hours=8))
    visits.check_in(core, "DPS", "EARLY-0001", "kiosk-1")
    elder = visits.check_in(core, "DPS", "ELDER-0002", "kiosk-1").ticket
    assert elder["position"] == 1
    assert [t["number"] for t in visits.station_queue(core, "DPS", "berkas")] == \
        ["P001", "A001"]
    assert visits.call_next(core, "DPS", "2", "petugas")["number"] == "P001"


def test_a_scan_after_the_visit_ended_says_so_instead_of_printing_position_0(
        core: Core) -> None:
    """Scanned again after being marked absent, cancelled or served: a refusal that says
    what happened (and, at the kiosk, what to do next), not a fresh paper ticket saying
    "position 0, soon". A scan while called still reprints, without a position."""
    core.printers = frozenset({"kiosk-1"})
    add(core, booking_row("GONE-00001"), booking_row("CANC-00001"), booking_row("HERE-00001"))
    at(core, "09:10")
    for code in ("GONE-00001", "CANC-00001", "HERE-00001"):
        visits.check_in(core, "DPS", code, "kiosk-1")
    gone = visits.call_next(core, "DPS", "1", "petugas")
    for _ in range(3):  # called, and called again, until it may be marked absent
        core.clock.advance(timedelta(minutes=3))
        try:
            visits.act(core, gone["id"], "no-show", "petugas", None)
            break
        except Refusal:
            visits.act(core, gone["id"], "recall", "petugas", None)
    cancelled = visits.call_next(core, "DPS", "2", "petugas")
    visits.act(core, cancelled["id"], "cancel", "petugas", None)
    for code, expected in (("GONE-00001", "missed"), ("CANC-00001", "cancelled")):
        refused = refusal(visits.check_in, core, "DPS", code, "kiosk-1")
        assert refused.code == expected and refused.status == 409
        assert refused.message["id"] != refused.message["en"]
    called = visits.call_next(core, "DPS", "1", "petugas")
    again = visits.check_in(core, "DPS", "HERE-00001", "kiosk-1")
    assert again.reprint and again.ticket["id"] == called["id"] and again.print is not None
    assert again.ticket["position"] is None


def test_the_mean_service_time_leaves_out_holds_no_shows_and_earlier_visits(
        core: Core) -> None:
    """The wait estimates (and the capacity plan) learn a station's service time as the
    day report counts it: 09:10-09:12 and 09:50-09:55 around a 28-minute hold is 7 minutes,
    not 45; a ticket sent back to the station later is timed from its new call."""
    add(core, booking_row("HOLD-00001"), booking_row("BACK-00001"))
    at(core, "09:05")
    held = visits.check_in(core, "DPS", "HOLD-00001", "kiosk-1").ticket
    back = visits.check_in(core, "DPS", "BACK-00001", "kiosk-1").ticket
    at(core, "09:10")
    assert visits.call_next(core, "DPS", "1", "petugas")["id"] == held["id"]
    at(core, "09:11")
    assert visits.call_next(core, "DPS", "2", "petugas")["id"] == back["id"]
    at(core, "09:12")
    visits.act(core, held["id"], "hold", "petugas", None, {"reason": "fotokopi KK"})
    at(core, "09:14")
    visits.act(core, back["id"], "finish", "petugas", None)  # 3 minutes
    at(core, "09:40")
    visits.act(core, held["id"], "resume", "petugas", None)
    at(core, "09:50")
    assert visits.call_next(core, "DPS", "1", "petugas")["id"] == held["id"]
    at(core, "09:55")
    visits.act(core, held["id"], "finish", "petugas", None)  # 2 + 5 minutes
    with core.db.read() as session:
        assert visits.mean_service_minutes(core, session, "DPS", "berkas") == 5.0
    at(core, "10:30")
    visits.act(core, back["id"], "transfer", "petugas", None, {"station": "berkas"})
    at(core, "10:31")
    assert visits.call_next(core, "DPS", "2", "petugas")["id"] == back["id"]
    at(core, "10:35")
    visits.act(core, back["id"], "finish", "petugas", None)  # 4 minutes, not 54
    with core.db.read() as session:
        assert visits.mean_service_minutes(core, session, "DPS", "berkas") == \
            pytest.approx((3 + 7 + 4) / 3)


def test_no_walk_in_after_the_office_closes(core: Core) -> None:
    """Before: at 17:00 an officer could still issue a walk-in. Nobody would call it; it
    waited until the day's end and counted as a no-show. Before opening an early queue may
    still get its numbers."""
    at(core, "07:30")
    early = visits.walk_in(core, "DPS", "paspor-baru", "lansia", "petugas")
    assert early["number"].startswith("P")
    at(core, "16:00")
    visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")  # at the closing minute
    at(core, "16:01")
    for group in (None, "lansia"):
        with pytest.raises(Refusal) as refused:
            visits.walk_in(core, "DPS", "paspor-baru", group, "petugas")
        assert refused.value.code == "closed" and refused.value.status == 409
        assert refused.value.message == {
            "id": "Kantor sudah tutup untuk hari ini (tutup pukul 16:00).",
            "en": "The office has closed for today (closes 16:00)."}
