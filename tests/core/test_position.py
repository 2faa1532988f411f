"""A waiting ticket's position by counting in SQL equals its place in the whole ordering."""

from __future__ import annotations

import dataclasses
import random
import secrets
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shared import visits
from shared.bookings import import_rows
from shared.config import Config
from shared.core import Core
from shared.models import NumberSequence, Ticket, TimelineEntry
from tests.conftest import booking_row


def _fill(core: Core, seed: int) -> None:
    """Sixty waiting tickets at two stations: slots, early and late arrivals, priority
    groups, tickets that moved stations long ago (overdue), and some recent calls."""
    rng = random.Random(seed)
    office = core.office("DPS")
    now = core.now()
    today = core.today(office)
    with core.db.write() as session:
        for i in range(60):
            slot = now.replace(minute=0, second=0, microsecond=0) + timedelta(
                hours=rng.randint(-3, 2))
            checked_in = now - timedelta(minutes=rng.randint(0, 200))
            entered = checked_in + timedelta(minutes=rng.randint(0, 30))
            if entered > now:
                entered = now
            # Equal place-keys on purpose: the tie-breakers must agree too.
            place = rng.choice([slot, slot, checked_in])
            ticket = Ticket(
                office_id=office.id, booking_id=None, service_day=today,
                number=f"X{i:03d}", kind="walkin", service="paspor-baru",
                priority_group=rng.choice([None, None, None, "lansia"]), status="waiting",
                station=rng.choice(["berkas", "berkas", "foto"]), flow_position=0,
                counter=None, slot_start=None, slot_end=None, demoted=False,
                place_key=place, checked_in_at=checked_in, entered_station_at=entered,
                call_count=0, public_token=secrets.token_urlsafe(12), issued_by=None)
            session.add(ticket)
        session.flush()
        for i in range(3):
            called = session.get(Ticket, i + 1)
            assert called is not None
            session.add(TimelineEntry(ticket_id=called.id, office_id=office.id, at=now,
                                      action="called", status="called", station="berkas",
                                      counter="1", staff=None,
                                      detail={"priority": bool(i % 2)}))


@pytest.mark.parametrize("priority", ["first", "1:3", "2:5"])
@pytest.mark.parametrize("max_wait", [90, 20, None])
@pytest.mark.parametrize("seed", [1, 2])
def test_counted_position_is_the_ordered_position(config: Config, core: Core, priority: str,
                                                  max_wait: int | None, seed: int) -> None:
    policy = dataclasses.replace(config.policy, priority=priority, max_wait_minutes=max_wait)
    core.config = dataclasses.replace(config, policy=policy)
    _fill(core, seed)
    office = core.office("DPS")
    with core.db.read() as session:
        for station in ("berkas", "foto"):
            order = visits.ordered_waiting_ids(core, session, office, (station,))
            assert len(order) > 5
            for index, ticket_id in enumerate(order):
                ticket = session.get(Ticket, ticket_id)
                assert ticket is not None
                assert visits.waiting_position(core, session, office, ticket) == index + 1


@pytest.mark.postgres
def test_counted_position_on_postgresql(config: Config, postgres_core: Core) -> None:
    policy = dataclasses.replace(config.policy, priority="1:3", max_wait_minutes=20)
    postgres_core.config = dataclasses.replace(config, policy=policy)
    _fill(postgres_core, 3)
    office = postgres_core.office("DPS")
    with postgres_core.db.read() as session:
        order = visits.ordered_waiting_ids(postgres_core, session, office, ("berkas",))
        positions = [visits.waiting_position(postgres_core, session, office,
                                             session.get(Ticket, ticket_id))  # type: ignore[arg-type]
                     for ticket_id in order]
        head = visits.first_waiting(postgres_core, session, office, ("berkas",))
    assert positions == list(range(1, len(order) + 1))
    # the lanes' heads in one UNION ALL, as PostgreSQL runs it
    assert head is not None and head.id == order[0]


@pytest.mark.parametrize("priority", ["first", "1:3"])
@pytest.mark.parametrize("max_wait", [90, 20, None])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_first_waiting_is_the_head_of_the_order(config: Config, core: Core, priority: str,
                                                max_wait: int | None, seed: int) -> None:
    """What call_next takes with LIMIT 1 queries is what the whole ordering puts first,
    also after calls have eaten into the queue."""
    policy = dataclasses.replace(config.policy, priority=priority, max_wait_minutes=max_wait)
    core.config = dataclasses.replace(config, policy=policy)
    _fill(core, seed)
    office = core.office("DPS")
    for stations, only in ((("berkas",), False), (("foto",), False),
                           (("berkas", "foto"), False), (("berkas",), True)):
        with core.db.write() as session:
            for _ in range(4):
                order = visits.ordered_waiting_ids(core, session, office, stations, only)
                first = visits.first_waiting(core, session, office, stations, only)
                head = None if first is None else first.id
                assert head == (order[0] if order else None)
                if head is None:
                    break
                ticket = session.get(Ticket, head)
                assert ticket is not None
                ticket.status = "called"
                session.add(TimelineEntry(ticket_id=head, office_id=office.id, at=core.now(),
                                          action="called", status="called",
                                          station=ticket.station, counter="1", staff=None,
                                          detail={"priority": ticket.priority_group
                                                  is not None}))
                session.flush()


def _issue_and_compare(core: Core, seed: int, fill: bool = True) -> list[str]:
    """Walk-ins and check-ins (both lanes, slots before, at and after now) issued into a
    filled queue, or an empty one (each new ticket often the last of its lane): the
    position each one is printed with is its place in the whole ordering right after it
    was issued. Returns the numbers handed out."""
    rng = random.Random(seed)
    if fill:
        _fill(core, seed)
    office = core.office("DPS")
    slots = [("08:00", "09:00"), ("09:00", "10:00"), ("10:00", "11:00")]
    rows = [booking_row(f"ISSUE-{i:03d}", *slots[i % 3], group=rng.choice(["", "", "lansia"]))
            for i in range(12)]
    import_rows(core, enumerate(rows, start=1))
    numbers = []
    for i, row in enumerate(rows):
        if i % 3 == 2:
            ticket = visits.walk_in(core, "DPS", "paspor-baru",
                                    rng.choice([None, "disabilitas"]), "petugas")
        else:
            ticket = visits.check_in(core, "DPS", row["code"], "kiosk-1").ticket
        with core.db.read() as session:
            order = visits.ordered_waiting_ids(core, session, office, (ticket["station"],))
        assert ticket["position"] == order.index(ticket["id"]) + 1, (i, ticket)
        numbers.append(ticket["number"])
    return numbers


@pytest.mark.parametrize("priority", ["first", "1:3"])
@pytest.mark.parametrize("max_wait", [90, 20])
@pytest.mark.parametrize("fill", [True, False])
def test_issued_position_is_the_ordered_position(config: Config, core: Core, priority: str,
                                                  max_wait: int, fill: bool) -> None:
    policy = dataclasses.replace(config.policy, priority=priority, max_wait_minutes=max_wait)
    core.config = dataclasses.replace(config, policy=policy)
    _issue_and_compare(core, 5, fill)


@pytest.mark.postgres
@pytest.mark.parametrize("priority", ["first", "1:3"])
@pytest.mark.parametrize("fill", [True, False])
def test_issued_position_on_postgresql(config: Config, postgres_core: Core,
                                       priority: str, fill: bool) -> None:
    """On PostgreSQL the number, the ticket, its timeline entry and the count of the
    tickets ahead are one statement (visits._issue_statement): the same places, numbers
    and timeline as on SQLite."""
    policy = dataclasses.replace(config.policy, priority=priority, max_wait_minutes=20)
    postgres_core.config = dataclasses.replace(config, policy=policy)
    numbers = _issue_and_compare(postgres_core, 5, fill)
    by_letter: dict[str, list[int]] = {}
    for number in numbers:
        by_letter.setdefault(number[0], []).append(int(number[1:]))
    assert all(found == list(range(1, len(found) + 1)) for found in by_letter.values())
    with postgres_core.db.read() as session:
        recorded = session.execute(select(TimelineEntry.action, TimelineEntry.detail)
                                   .where(TimelineEntry.action == "checked_in")
                                   .order_by(TimelineEntry.id)).all()
    assert len(recorded) == 12
    assert recorded[0].detail == {"kiosk": "kiosk-1", "demoted": False}
    assert {"walkin": True} in [row.detail for row in recorded]


@pytest.mark.postgres
def test_numbers_past_999_on_postgresql(postgres_core: Core) -> None:
    """The number is written in SQL there: at least three digits, as next_number does."""
    office = postgres_core.office("DPS")
    with postgres_core.db.write() as session:
        session.add(NumberSequence(office_id=office.id, day=postgres_core.today(office),
                                   letter="W", last=998))
    numbers = [visits.walk_in(postgres_core, "DPS", "paspor-baru", None, "petugas")["number"]
               for _ in range(2)]
    assert numbers == ["W999", "W1000"]
    first = visits.walk_in(postgres_core, "DPS", "paspor-baru", "lansia", "petugas")
    assert first["number"] == "P001"


def test_the_queue_is_read_from_its_covering_index(core: Core) -> None:
    """The position count and the lanes' heads read only the index ix_ticket_waiting (its
    columns are all they need, in the order of the base key): no table row per waiting
    ticket inside the office's lock. The heads' own rows (one per lane, for the call that
    follows) are then read by their ids."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []
    event.listen(core.db.engine, "before_cursor_execute",
                 lambda _c, _cu, statement, parameters, *_: seen.append((statement, parameters)))
    visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")
    visits.walk_in(core, "DPS", "paspor-baru", "lansia", "petugas")  # counted among two
    office = core.office("DPS")
    with core.db.read() as session:
        visits.first_waiting(core, session, office, ("berkas",))
    queue_reads = [(s, p) for s, p in seen if "FILTER (WHERE" in s or "UNION ALL" in s]
    assert len(queue_reads) >= 2
    with core.db.engine.connect() as connection:
        for statement, parameters in queue_reads:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                              parameters).all()
            details = [row[-1] for row in plan if "tickets" in row[-1]]
            queue = [d for d in details if "USING INTEGER PRIMARY KEY" not in d]
            assert queue and all("COVERING INDEX ix_ticket_waiting" in d for d in queue), \
                (statement, details)
            by_id = [d for d in details if "USING INTEGER PRIMARY KEY" in d]
            assert len(by_id) <= 3, details  # the heads' rows: one per lane at most


def test_the_lanes_heads_on_postgresql_read_the_index_then_the_rows_by_id(
        postgres_core: Core) -> None:
    """PostgreSQL's plan of a call's read, with 3,000 regular tickets and one priority
    ticket waiting at the station: each lane's head comes from an index scan that stops
    at the first match (the priority lane's from its own partial index, migration 0010),
    never the whole table, and the heads' rows are then fetched by primary key. Before
    0010 the priority lane's head was a sequential scan of every ticket, inside the
    office's lock at every call."""
    import json

    from sqlalchemy import event, text

    core = postgres_core
    visits.walk_in(core, "DPS", "paspor-baru", "lansia", "petugas")
    visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")
    with core.db.write() as session:  # 3,000 more regular tickets, as a busy day's queue
        session.execute(text(
            "INSERT INTO tickets (office_id, service_day, number, kind, service, status,"
            " station, flow_position, demoted, place_key, checked_in_at, entered_station_at,"
            " call_count, public_token)"
            " SELECT office_id, service_day, 'Q' || n, kind, service, status, station,"
            " flow_position, demoted, place_key + n * interval '1 second',"
            " checked_in_at + n * interval '1 second', entered_station_at, call_count,"
            " public_token || n FROM tickets, generate_series(1, 3000) AS n"
            " WHERE priority_group IS NULL"))
        session.execute(text("ANALYZE tickets"))
    seen: list[tuple[str, Any]] = []
    listener = (lambda _c, _cu, statement, parameters, *_:  # noqa: E731
                seen.append((statement, parameters)))
    event.listen(core.db.engine, "before_cursor_execute", listener)
    office = core.office("DPS")
    with core.db.read() as session:
        head = visits.first_waiting(core, session, office, ("berkas",))
    event.remove(core.db.engine, "before_cursor_execute", listener)
    assert head is not None and head.priority_group == "lansia"
    statement, parameters = next((s, p) for s, p in seen if "UNION ALL" in s)
    with core.db.engine.connect() as connection:
        found = connection.exec_driver_sql("EXPLAIN (FORMAT JSON, ANALYZE) " + statement,
                                           parameters).scalar_one()
    plan = json.loads(found) if isinstance(found, str) else found

    def nodes(node: dict[str, Any]) -> Any:
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    every = list(nodes(plan[0]["Plan"]))
    tickets = [n for n in every if n.get("Relation Name") == "tickets"]
    assert tickets and not [n for n in tickets if n["Node Type"] == "Seq Scan"], tickets
    # an index scan, or a bitmap scan of a few rows (as the planner may choose for the
    # small partial index)
    indexes = {n.get("Index Name") for n in every if "Index" in n["Node Type"]}
    assert {"ix_ticket_waiting", "ix_ticket_waiting_priority", "tickets_pkey"} <= indexes, \
        every
    assert indexes <= {"ix_ticket_waiting", "ix_ticket_waiting_priority", "tickets_pkey"}, \
        every
    # every lane stops at its first match; the rows by id: one per head found
    assert all(n["Actual Rows"] * n["Actual Loops"] <= 3 for n in tickets), tickets
