"""The visit service layer: one function per use case, one transaction each.

Every function takes the `Core`, runs inside `core.change(office)` (which serialises the
office's writers and publishes the events after commit), appends to the ticket's
timeline and raises `Refusal` for anything a client may not do.
"""

from __future__ import annotations

import json
import logging
import secrets
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, make_transient_to_detached

from shared import driver, lifecycle, live_config, outbox
from shared.checkin_rules import decide_checkin
from shared.clock import local_to_utc, to_local
from shared.config import PRIORITY_GROUPS, Counter, Office
from shared.core import Change, Core
from shared.db import Read
from shared.errors import Refusal
from shared.models import (
    Booking,
    ConfigDocument,
    IdempotencyKey,
    NumberSequence,
    OfficeRow,
    Ticket,
    TimelineEntry,
)
from shared.ordering import (
    Rules,
    Waiting,
    due_since,
    estimate_wait_minutes,
    is_overdue,
    order_queue,
    position_from_counts,
    waited,
)
from shared.scan import ScanError, parse_scan

log = logging.getLogger(__name__)

ACTIVE = lifecycle.ACTIVE
DEFAULT_SERVICE_MINUTES = 5.0
CHECK_IN = lifecycle.transition("check_in")
CALL = lifecycle.transition("call")
REPRINT = lifecycle.transition("reprint")

# The hot paths' queries are built once per shape and run with bound values: building a
# SQLAlchemy expression and its cache key cost more than running the query on SQLite
# (bench/profile_hot.py). Plain table columns (Core), so no ORM objects are loaded.
_TICKETS = cast(Table, Ticket.__table__)
_T = _TICKETS.c
_TL = TimelineEntry.__table__.c
_B = Booking.__table__.c
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _statement(key: tuple[Any, ...], build: Any) -> Any:
    found = _STATEMENTS.get(key)
    if found is None:
        found = _STATEMENTS[key] = build()
    return found


def _queue_where(stations: int) -> list[Any]:
    return [_T.office_id == bindparam("office"), _T.service_day == bindparam("day", type_=Date),
            _T.status == bindparam("status"), _stations_in(_T.station, stations)]


def _stations_in(column: Any, count: int) -> Any:
    """`column IN (:station_0, ...)`: one bound value per station, not an expanding list,
    so the statement's SQL is fixed for a number of stations and compiled once
    (shared.driver runs it without SQLAlchemy rendering the list at every execution)."""
    return column.in_([bindparam(f"station_{i}") for i in range(count)])


def _station_values(stations: Sequence[str]) -> dict[str, str]:
    return {f"station_{i}": station for i, station in enumerate(stations)}


# --- reading -----------------------------------------------------------------------------
def _recent_priority_read(office: Office, stations: tuple[str, ...], window: int,
                          day: date) -> Read | None:
    """The read of today's last calls at these stations that the priority ratio looks at
    (None when the window needs none). Yesterday's last calls do not decide today's
    first: a day starts with no history."""
    if window <= 1:
        return None
    statement = _statement(("recent_priority", len(stations)), lambda: (
        select(_TL.detail)
        .where(_TL.office_id == bindparam("office"), _TL.action == lifecycle.CALL,
               _stations_in(_TL.station, len(stations)),
               _TL.at >= bindparam("since", type_=DateTime))
        .order_by(_TL.id.desc())
        .limit(bindparam("window", type_=Integer))))
    since = local_to_utc(day, clock_time(0), office.tz)
    return statement, {"office": office.id, **_station_values(stations), "window": window - 1,
                       "since": since}


def _recent_from_rows(rows: list[Any]) -> list[bool]:
    """Whether each of the recent calls (oldest first) was of a priority ticket."""
    return [bool((detail or {}).get("priority")) for (detail,) in reversed(rows)]


def _recent_priority_calls(core: Core, session: Session, office: Office,
                           stations: tuple[str, ...], window: int) -> list[bool]:
    read = _recent_priority_read(office, stations, window, core.today(office))
    return _recent_from_rows(driver.rows(session, *read)) if read is not None else []


def ordered_waiting(core: Core, session: Session, office: Office, stations: tuple[str, ...],
                    priority_only: bool = False) -> list[Ticket]:
    """The waiting tickets of these stations today, in the order they will be called."""
    ids = ordered_waiting_ids(core, session, office, stations, priority_only)
    if not ids:
        return []
    tickets = {t.id: t for t in session.execute(select(Ticket).where(Ticket.id.in_(ids)))
               .scalars()}
    return [tickets[ticket_id] for ticket_id in ids]


def ordered_waiting_ids(core: Core, session: Session, office: Office,
                        stations: tuple[str, ...], priority_only: bool = False) -> list[int]:
    """The ids of the waiting tickets of these stations today, in calling order.

    Reads only the columns the ordering needs: calling next and a new ticket's position
    need the order of the whole queue but only one ticket of it, and building hundreds
    of ORM objects under the office's write lock cost most of a call."""
    items = waiting_items(core, session, office, stations, priority_only)
    ratio = core.config.policy_for(office.id).priority_ratio
    recent = _recent_priority_calls(core, session, office, stations, ratio[1]) if ratio else []
    rules = core.rules(office=office.id)
    return [item.ticket_id for item in order_queue(items, core.now(), rules, recent)]


def waiting_items(core: Core, session: Session, office: Office, stations: tuple[str, ...],
                  priority_only: bool = False) -> list[Waiting]:
    """The waiting tickets of these stations today, as the ordering sees them."""
    query = select(Ticket.id, Ticket.place_key, Ticket.checked_in_at,
                   Ticket.entered_station_at, Ticket.priority_group).where(
        Ticket.office_id == office.id,
        Ticket.service_day == core.today(office),
        Ticket.status == lifecycle.WAITING,
        Ticket.station.in_(stations),
    )
    if priority_only:
        query = query.where(Ticket.priority_group.is_not(None))
    return [Waiting(ticket_id=row.id, place_key=row.place_key,
                    checked_in_at=row.checked_in_at, entered_at=row.entered_station_at,
                    priority=row.priority_group is not None)
            for row in session.execute(query)]


def longest_waiting(core: Core, session: Session, office: Office,
                    station: str) -> tuple[int, timedelta] | None:
    """The station's ticket that has waited longest as the counters' ordering counts a
    wait (shared.ordering.waited: since it became due here), and that wait."""
    now = core.now()
    items = waiting_items(core, session, office, (station,))
    if not items:
        return None
    longest = max(items, key=lambda item: (waited(item, now), -item.ticket_id))
    return longest.ticket_id, waited(longest, now)


def first_waiting(core: Core, session: Session, office: Office, stations: tuple[str, ...],
                  priority_only: bool = False, heads_rows: list[Any] | None = None) -> Any:
    """The row of the ticket `order_queue` puts first (None when nobody waits), found with
    `LIMIT 1` queries.

    Calling next needs one ticket, not the order of the whole queue: the longest-overdue
    ticket if any (rule 1), else the head of the lane the priority rule picks (rule 2),
    by the base key (rules 3-4). The database sorts in C on its queue index instead of
    Python building and sorting a row per waiting ticket under the office's lock.
    tests/core/test_position.py checks it against `ordered_waiting_ids`.
    """
    rules = core.rules(office=office.id)
    if heads_rows is None:  # not read already (in the office lock's round trip)
        heads_rows = driver.rows(session, *heads_read(core, office, stations, priority_only))
    heads = {row.lane: row for row in heads_rows}
    if "overdue" in heads:
        return heads["overdue"]
    head_priority, head_regular = heads.get("priority"), heads.get("regular")
    if rules.priority_ratio is None or head_priority is None:
        return head_priority if head_priority is not None else head_regular
    if head_regular is None:
        return head_priority
    share, window = rules.priority_ratio
    recent = _recent_priority_calls(core, session, office, stations, window)
    history = recent[-(window - 1):] if window > 1 else []
    return head_priority if sum(history) < share else head_regular


def heads_read(core: Core, office: Office, stations: tuple[str, ...],
               priority_only: bool = False) -> Read:
    """The head of every lane in one statement (each a LIMIT 1 on the queue index): the
    read first_waiting decides from, as (statement, values)."""
    rules = core.rules(office=office.id)
    fifo = rules.policy == "fifo"
    params: dict[str, Any] = {"office": office.id, "day": core.today(office),
                              "status": lifecycle.WAITING, **_station_values(stations)}
    has_cutoff = rules.max_wait_minutes is not None
    if has_cutoff:
        assert rules.max_wait_minutes is not None
        params["cutoff"] = core.now() - timedelta(minutes=rules.max_wait_minutes)
    count = len(stations)
    statement = _statement(("heads", fifo, has_cutoff, priority_only, count),
                           lambda: _heads_statement(fifo, has_cutoff, priority_only, count))
    return statement, params


def _heads_statement(fifo: bool, has_cutoff: bool, priority_only: bool, stations: int) -> Any:
    """Each lane's head, its lane and its row: `_first_statement` for every lane, as one
    query (a call knows the whole row of whom it calls before it writes)."""
    lanes = ("overdue", "priority", "regular") if has_cutoff else ("priority", "regular")
    heads = [_first_statement(fifo, has_cutoff, priority_only, lane, stations).subquery(lane)
             for lane in lanes]
    # each head found on the queue's index alone, then its row by its id (one per lane)
    found = union_all(*(select(literal(lane).label("lane"), head.c.id)
                        for lane, head in zip(lanes, heads, strict=True))).subquery("heads")
    return select(found.c.lane, *_T).join_from(found, _TICKETS, _T.id == found.c.id)


def _first_statement(fifo: bool, has_cutoff: bool, priority_only: bool, lane: str,
                     stations: int) -> Any:
    """`SELECT ... ORDER BY <the lane's key> LIMIT 1` for first_waiting: lane
    "overdue" (rule 1), else the head of the "priority" or "regular" lane not overdue."""
    where = _queue_where(stations)
    prio = _T.priority_group.is_not(None)
    if priority_only:
        where.append(prio)
    key = (_T.checked_in_at, _T.id) if fifo else (_T.place_key, _T.checked_in_at, _T.id)
    order: tuple[Any, ...] = key
    if has_cutoff:
        cutoff = bindparam("cutoff", type_=DateTime)
        late = and_(_T.entered_station_at < cutoff, _T.place_key < cutoff)
        if lane == "overdue":
            due = case((_T.entered_station_at > _T.place_key, _T.entered_station_at),
                       else_=_T.place_key)
            where.append(late)
            order = (due, *key)
        else:
            where.append(not_(late))
    if lane == "priority":
        where.append(prio)
    elif lane == "regular":
        where.append(not_(prio))
    return select(_T.id).where(*where).order_by(*order).limit(1)


def waiting_position(core: Core, session: Session, office: Office, ticket: Ticket) -> int | None:
    """A waiting ticket's 1-based place in its station's calling order, by counting.

    One aggregate query counts the tickets that come before it (overdue ones, the other
    lane, its own lane by the base key) and `position_from_counts` applies the same rules
    as `order_queue`, so the answer equals the ticket's index in `ordered_waiting_ids`
    without loading and sorting the whole queue (17 ms with 1,000 waiting, now a
    fraction of a millisecond plus one indexed query).

    Exact under races: check-in counts inside its own write transaction, which holds
    the office's lock (and on PostgreSQL its row lock), so no other change of the office
    can land between the count and the commit; the printed position is the ticket's place
    at the moment it was issued. (Later changes move it, as they move every ticket.)
    """
    found = _position_read(core, office, ticket)
    if found is None:
        return None
    count, read = found
    return count.position(session, driver.rows(session, *read)[0], counts_me=True)


def _position_read(core: Core, office: Office, ticket: Ticket
                   ) -> tuple[_PositionCount, Read] | None:
    """The count of the tickets ahead of a waiting ticket (waiting_position), as a read
    to run; None when the ticket is not waiting today."""
    if ticket.status != lifecycle.WAITING or ticket.service_day != core.today(office):
        return None
    count = _PositionCount.of(core, office, ticket.station, ticket.service_day,
                              place_key=ticket.place_key, checked_in_at=ticket.checked_in_at,
                              entered_at=ticket.entered_station_at,
                              priority=ticket.priority_group is not None)
    params = {**count.params, "my_id": ticket.id, "my_in": ticket.checked_in_at,
              "my_place": ticket.place_key}
    statement = _statement(("position", *count.shape),
                           lambda: _position_statement(*count.shape))
    return count, (statement, params)


@dataclass(frozen=True)
class _PositionCount:
    """What waiting_position's aggregate needs for one ticket, and how its row becomes a
    place: the statement's shape (fifo, cutoff, overdue, priority lane), the bound values
    other than the ticket's own key, and the rules to apply to the counts."""

    office: Office
    station: str
    shape: tuple[bool, bool, bool, bool]
    params: dict[str, Any]
    rules: Rules
    day: date

    @classmethod
    def of(cls, core: Core, office: Office, station: str, day: date, *, place_key: datetime,
           checked_in_at: datetime, entered_at: datetime, priority: bool) -> _PositionCount:
        rules = core.rules(office=office.id)
        now = core.now()
        me = Waiting(ticket_id=0, place_key=place_key, checked_in_at=checked_in_at,
                     entered_at=entered_at, priority=priority)
        has_cutoff = rules.max_wait_minutes is not None
        overdue = is_overdue(me, now, rules)
        params: dict[str, Any] = {"office": office.id, "day": day, "status": lifecycle.WAITING,
                                  **_station_values((station,))}
        if has_cutoff:
            assert rules.max_wait_minutes is not None
            params["cutoff"] = now - timedelta(minutes=rules.max_wait_minutes)
        if overdue:
            params["my_due"] = due_since(me)
        return cls(office, station, (rules.policy == "fifo", has_cutoff, overdue, priority),
                   params, rules, day)

    def recent_read(self) -> Read | None:
        """The read of the recent calls position() needs (the priority ratio), or None."""
        ratio = self.rules.priority_ratio
        if not ratio or self.shape[2]:  # no ratio, or the ticket is overdue
            return None
        return _recent_priority_read(self.office, (self.station,), ratio[1], self.day)

    def position(self, session: Session, row: Any, counts_me: bool,
                 recent: list[bool] | None = None) -> int:
        """The 1-based place from the aggregate's row. `counts_me`: the ticket itself was
        in the counted table (an existing ticket); a ticket inserted by the same statement
        is not (a statement sees the table as it was when it started), so it is added to
        its own lane's size here. `recent`: the recent calls, when they were read already
        (inside the office's lock, as the counts were)."""
        _, _, overdue, priority = self.shape
        priority_total, regular_total = int(row.priority_total), int(row.regular_total)
        if not overdue and not counts_me:
            if priority:
                priority_total += 1
            else:
                regular_total += 1
        if recent is None:
            read = self.recent_read()
            recent = _recent_from_rows(driver.rows(session, *read)) if read else []
        return 1 + position_from_counts(
            overdue=overdue, overdue_ahead=int(row.overdue_ahead), priority=priority,
            lane_ahead=int(row.lane_ahead), priority_total=priority_total,
            regular_total=regular_total, rules=self.rules, recent_calls=recent)


def _position_statement(fifo: bool, has_cutoff: bool, overdue: bool, priority: bool,
                        my_id: Any = None, my_in: Any = None, my_place: Any = None
                        ) -> Any:
    """One aggregate over a station's waiting tickets for waiting_position: the overdue
    tickets ahead (when the ticket itself is overdue), else the overdue ones, those of its
    own lane ahead by the base key, and the two lanes' sizes. The ticket's own key comes
    from bound values; its id may instead be `my_id`, the id column of a ticket inserted
    by the same statement (_issue_statement), and its check-in time `my_in` and place-key
    `my_place` those that statement gave it."""
    key = (tuple_(_T.checked_in_at, _T.id) if fifo
           else tuple_(_T.place_key, _T.checked_in_at, _T.id))
    if my_id is None:
        my_id = bindparam("my_id", type_=Integer)
    if my_in is None:
        my_in = bindparam("my_in", type_=DateTime)
    if my_place is None:
        my_place = bindparam("my_place", type_=DateTime)
    my_key = tuple_(my_in, my_id) if fifo else tuple_(my_place, my_in, my_id)
    if has_cutoff:
        cutoff = bindparam("cutoff", type_=DateTime)
        late: Any = and_(_T.entered_station_at < cutoff, _T.place_key < cutoff)
    else:
        late = false()
    prio = _T.priority_group.is_not(None)
    mine = prio if priority else _T.priority_group.is_(None)

    def count(condition: Any) -> Any:
        return func.count().filter(condition)

    if overdue:
        due = case((_T.entered_station_at > _T.place_key, _T.entered_station_at),
                   else_=_T.place_key)
        my_due = bindparam("my_due", type_=DateTime)
        ahead = and_(late, or_(due < my_due, and_(due == my_due, key < my_key)))
        columns = [count(ahead), literal(0), literal(0), literal(0)]
    else:
        columns = [count(late), count(and_(not_(late), mine, key < my_key)),
                   count(and_(not_(late), prio)), count(and_(not_(late), not_(prio)))]
    names = ("overdue_ahead", "lane_ahead", "priority_total", "regular_total")
    return select(*(column.label(name) for column, name in zip(columns, names, strict=True))
                  ).where(*_queue_where(1))


def mean_service_minutes(core: Core, session: Session, office_id: str, station: str) -> float:
    """Rolling mean of the latest service times at a station, from the timeline.

    A service is the time at the station's counters, as the day report counts it
    (shared.reports.figures): from a call to the move or finish, plus the part before a
    hold; the time held, a call that ended in a no-show, and an earlier visit to the same
    station (a ticket transferred back) are not service."""
    window = core.config.policy_for(office_id).service_time_window
    latest = _statement(("service_ends",), lambda: (
        select(_TL.id, _TL.ticket_id, _TL.at)
        .where(_TL.office_id == bindparam("office"), _TL.station == bindparam("station"),
               _TL.action.in_(lifecycle.SERVICE_ENDS))
        .order_by(_TL.id.desc())
        .limit(bindparam("window", type_=Integer))))
    finishes = driver.rows(session, latest, {"office": office_id, "station": station,
                                             "window": window})
    if not finishes:
        return DEFAULT_SERVICE_MINUTES
    steps = _statement(("service_steps",), lambda: (
        select(_TL.id, _TL.ticket_id, _TL.at, _TL.action)
        .where(_TL.ticket_id.in_(bindparam("ids", expanding=True)),
               _TL.station == bindparam("station"), _TL.action.in_(_SERVICE_STEPS))
        .order_by(_TL.id)))
    by_ticket: dict[int, list[Any]] = {}
    for row in driver.rows(session, steps, {"ids": [row.ticket_id for row in finishes],
                                            "station": station}):
        by_ticket.setdefault(row.ticket_id, []).append(row)
    durations = [minutes for end in finishes
                 if (minutes := _served_minutes(by_ticket.get(end.ticket_id, []), end))
                 is not None]
    return statistics.fmean(durations) if durations else DEFAULT_SERVICE_MINUTES


_HOLD = lifecycle.transition("hold").timeline
#: The timeline entries at a station that open, pause or close a service there.
_SERVICE_STEPS = (lifecycle.CALL, _HOLD, lifecycle.NO_SHOW, lifecycle.TRANSFER,
                  *lifecycle.SERVICE_ENDS)


def _served_minutes(steps: list[Any], end: Any) -> float | None:
    """The minutes of service that `end` (a move or finish) closed, from the ticket's
    steps at that station; None when no call opened it."""
    served = 0.0
    opened: datetime | None = None
    called = False
    for step in steps:
        if step.id >= end.id:
            break
        if step.action in lifecycle.SERVICE_ENDS or step.action == lifecycle.TRANSFER:
            served, opened, called = 0.0, None, False  # an earlier visit to this station
        elif step.action == lifecycle.CALL:
            opened = opened or step.at
            called = True
        elif step.action == _HOLD and opened is not None:
            served += (step.at - opened).total_seconds() / 60
            opened = None
        elif step.action == lifecycle.NO_SHOW:
            opened = None  # a call nobody answered serves nobody
    if not called:
        return None
    if opened is not None:
        served += (end.at - opened).total_seconds() / 60
    return served


def counters_for(office: Office, station: str) -> list[Counter]:
    """The open counters that serve everyone at a station (the wait estimate's divisor)."""
    return [c for c in office.counters.values()
            if station in c.stations and not c.priority_only and c.open]


def ticket_flow(office: Office, ticket: Ticket) -> tuple[str, ...]:
    """The stations of the ticket's visit: the flow it was issued with (a later change of
    the service's flow leaves tickets already in the office on their way)."""
    if ticket.flow:
        return tuple(ticket.flow)
    service = office.services.get(ticket.service)
    return service.flow if service else ()


def _refuse_closed_day(core: Core, office: Office) -> None:
    if office.is_closed_on(core.today(office)):
        raise Refusal(409, "closed", "The office is closed today.")


#: How long a process reuses a station's mean service time for the estimate printed at
#: check-in. A finish or a move in this process drops it at once (Core.change); one in
#: another process is seen within this time. The position beside it is always counted.
SERVICE_MEAN_SECONDS = 5.0


def estimate_for(core: Core, session: Session, office: Office, station: str,
                    ahead: int) -> int:
    """The wait estimate for a ticket with `ahead` tickets before it, from the station's
    mean service time cached for a few seconds (and forgotten when a service ends in this
    process): a burst of check-ins, or a finish that moves a ticket on, does not read the
    timeline twice per ticket inside the office's lock."""
    key = (office.id, station)
    cached = core.service_means.get(key)
    now = time.monotonic()
    if cached is None or now - cached[1] > SERVICE_MEAN_SECONDS:
        try:
            cached = (mean_service_minutes(core, session, office.id, station), now)
        except SQLAlchemyError:
            if not session.info.get(driver.COMMITTED):
                raise
            # Read after the change's commit (commit_with): the change stands, and an
            # estimate is no reason to fail it. The last known mean, or the default.
            log.warning("service times of %s at %s unreadable after commit", office.id,
                        station, exc_info=True)
            cached = (cached[0] if cached else DEFAULT_SERVICE_MINUTES, now)
        else:
            core.service_means[key] = cached
    counters = max(len(counters_for(office, station)), 1)
    return round(estimate_wait_minutes(ahead, counters, cached[0]))


def _hhmm(moment: datetime | None, office: Office) -> str | None:
    return to_local(moment, office.tz).strftime("%H:%M") if moment else None


def ticket_dict(core: Core, session: Session, ticket: Ticket, position: int | None = None,
                estimate: int | None = None) -> dict[str, Any]:
    """The Ticket object (docs/api.md section 1). A waiting ticket's position is counted
    (exact inside the issuing transaction: waiting_position) and its estimate uses the
    station's cached mean service time (estimate_for). A caller that already knows the
    position (and estimate) passes them, so a queue list orders its station once."""
    office = core.office(ticket.office_id)
    if ticket.status == lifecycle.WAITING:
        if position is None:
            position = waiting_position(core, session, office, ticket)
        if position is not None and estimate is None:
            estimate = estimate_for(core, session, office, ticket.station, position - 1)
    else:
        position = None
    slot = None
    booked_slot = None
    if ticket.slot_start and ticket.slot_end:
        slot = {"start": _hhmm(ticket.slot_start, office), "end": _hhmm(ticket.slot_end, office)}
        booked_slot = slot
    if ticket.demoted and ticket.place_key is not None:
        # Queued as booked at its arrival: show that slot, the one its letter names, so the
        # letter never contradicts the slot; the missed booking stays in booked_slot.
        start, end = slot_bounds(core, to_local(ticket.place_key, office.tz))
        slot = {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
    return {
        "id": ticket.id,
        "number": ticket.number,
        "office": ticket.office_id,
        "service": ticket.service,
        "slot": slot,
        "priority_group": ticket.priority_group,
        "status": ticket.status,
        "station": ticket.station,
        "counter": ticket.counter,
        "position": position,
        "estimated_wait_minutes": estimate or 0,
        "status_url": f"/t/{ticket.public_token}",
        "issued_at": to_local(ticket.checked_in_at, office.tz).isoformat(timespec="seconds"),
        "kind": ticket.kind,
        "call_count": ticket.call_count,
        "demoted": ticket.demoted,
        "booked_slot": booked_slot,
    }


def get_ticket(core: Core, ticket_id: int, office_ids: tuple[str, ...] | None) -> dict[str, Any]:
    with core.db.read() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or (office_ids is not None and ticket.office_id not in office_ids):
            raise Refusal(404, "not_found", "No such ticket.")
        return ticket_dict(core, session, ticket)


def get_ticket_by_token(core: Core, token: str) -> dict[str, Any]:
    with core.db.read() as session:
        ticket = session.execute(
            select(Ticket).where(Ticket.public_token == token)
        ).scalar_one_or_none()
        if ticket is None:
            raise Refusal(404, "not_found", "No such ticket.")
        return ticket_dict(core, session, ticket)


def reprint(core: Core, ticket_id: int, staff: str, printer: Any,
            office_ids: tuple[str, ...] | None) -> Issued:
    """Print a ticket again: on `printer`, by default on the kiosk that issued it.

    The print job and the timeline entry commit together; 409 when no such printer."""
    if printer is not None and not isinstance(printer, str):
        raise Refusal(400, "invalid_request", "printer must be text.")
    with core.db.read() as reader:
        found = reader.get(Ticket, ticket_id)
        if found is None or (office_ids is not None and found.office_id not in office_ids):
            raise Refusal(404, "not_found", "No such ticket.")
        office_id = found.office_id
    with core.change(office_id) as change:
        session = change.session
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        target = printer or _kiosk_printer(ticket.issued_by)
        data = ticket_dict(core, session, ticket)
        job = outbox.request(change, target, "ticket", data, ticket.id)
        if job is None:
            raise Refusal(409, "no_printer", "No printer is available for this ticket.")
        _record(change, ticket, REPRINT.timeline, staff=staff, printer=target)
        change.emit(REPRINT.event, _ticket_for_event(ticket), staff=staff)
        return Issued(data, job)


def timeline(core: Core, ticket_id: int) -> list[dict[str, Any]]:
    with core.db.read() as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise Refusal(404, "not_found", "No such ticket.")
        office = core.office(ticket.office_id)
        return [
            {"at": to_local(e.at, office.tz).isoformat(timespec="seconds"), "action": e.action,
             "status": e.status, "station": e.station, "counter": e.counter, "staff": e.staff,
             "detail": e.detail}
            for e in ticket.timeline
        ]


def station_queue(core: Core, office_id: str, station: str) -> list[dict[str, Any]]:
    """The waiting list of one station, in call order, with positions and estimates."""
    office = core.office(office_id)
    if station not in office.stations:
        raise Refusal(404, "unknown_station", "Unknown station {station}.", station=station)
    with core.db.read() as session:
        queue = ordered_waiting(core, session, office, (station,))
        counters = max(len(counters_for(office, station)), 1)
        mean = mean_service_minutes(core, session, office.id, station)
        return [
            ticket_dict(core, session, ticket, position=index + 1,
                        estimate=round(estimate_wait_minutes(index, counters, mean)))
            for index, ticket in enumerate(queue)
        ]


# --- numbering ---------------------------------------------------------------------------
def next_number(session: Session, office_id: str, day: date, letter: str) -> str:
    """Allocate the next number of a letter for a day, inside the caller's transaction."""
    params = {"seq_office": office_id, "seq_day": day, "seq_letter": letter}
    last = driver.scalar(session, _statement(("number_bump",), _bump_statement), params)
    if last is None:  # the letter's first number today (the office's writer lock is held)
        last = 1
        session.execute(insert(_SEQ_TABLE).values(office_id=office_id, day=day, letter=letter,
                                                  last=last))
    return f"{letter}{last:03d}"


_SEQ_TABLE = cast(Table, NumberSequence.__table__)


def _bump_statement() -> Any:
    seq = _SEQ_TABLE.c
    return (update(_SEQ_TABLE)
            .where(seq.office_id == bindparam("seq_office"),
                   seq.day == bindparam("seq_day", type_=Date),
                   seq.letter == bindparam("seq_letter"))
            .values(last=seq.last + 1)
            .returning(seq.last))


def _slot_index(core: Core, local_start: datetime) -> tuple[int, datetime]:
    numbering = core.config.numbering
    first = local_start.replace(hour=numbering.first_slot.hour, minute=numbering.first_slot.minute,
                                second=0, microsecond=0)
    index = int((local_start - first).total_seconds() // (numbering.slot_minutes * 60))
    return min(max(index, 0), len(numbering.slot_letters) - 1), first


def slot_letter(core: Core, local_start: datetime) -> str:
    index, _ = _slot_index(core, local_start)
    return core.config.numbering.slot_letters[index]


def slot_bounds(core: Core, local_moment: datetime) -> tuple[datetime, datetime]:
    """Start and end (local) of the numbering slot whose letter a ticket at this moment gets."""
    index, first = _slot_index(core, local_moment)
    length = timedelta(minutes=core.config.numbering.slot_minutes)
    return first + index * length, first + (index + 1) * length


# --- writing helpers ---------------------------------------------------------------------
def _record(change: Change, ticket: Ticket, action: str, staff: str | None = None,
            counter: str | None = None, station: str | None = None, **detail: Any) -> None:
    """Append to the timeline: `station` is where the action happened, `status` the state
    after it (a move to another station names that station in detail["to_station"])."""
    # One INSERT now (Core), not an ORM object for the unit of work to flush later.
    driver.rows(change.session, _INSERT_TIMELINE,
                _timeline_values(change, ticket, action, staff, counter, station, **detail))


def _timeline_values(change: Change, ticket: Ticket, action: str, staff: str | None = None,
                     counter: str | None = None, station: str | None = None,
                     **detail: Any) -> dict[str, Any]:
    """The timeline row _record inserts (for a caller that sends the INSERT itself)."""
    if action in lifecycle.SERVICE_ENDS:
        change.service_ended = True
    return {"ticket_id": ticket.id, "office_id": ticket.office_id, "at": change.now,
            "action": action, "status": ticket.status, "station": station or ticket.station,
            "counter": counter if counter is not None else ticket.counter, "staff": staff,
            "detail": detail or None}


_TIMELINE_TABLE = cast(Table, TimelineEntry.__table__)
_INSERT_TIMELINE = insert(_TIMELINE_TABLE)


@dataclass
class CheckinResult:
    ticket: dict[str, Any]
    reprint: bool
    print: dict[str, Any] | None = None  # the print job queued with it (shared.outbox)


@dataclass
class Issued:
    """A ticket handed out, and its print job when a printer was asked for."""

    ticket: dict[str, Any]
    print: dict[str, Any] | None = None


def _kiosk_printer(kiosk: str | None) -> str | None:
    return outbox.kiosk_printer(kiosk) if kiosk else None


def _ticket_for_event(ticket: Ticket) -> dict[str, Any]:
    """The part of a ticket that may travel in events: no names, no tokens."""
    return {"id": ticket.id, "number": ticket.number, "status": ticket.status,
            "station": ticket.station, "counter": ticket.counter, "service": ticket.service,
            "priority": ticket.priority_group is not None, "call_count": ticket.call_count}


# --- issuing ----------------------------------------------------------------------------
def _issue(core: Core, change: Change, office: Office, letter: str, fields: dict[str, Any],
           staff: str | None, detail: dict[str, Any], last: bool = False,
           booking: Any = None) -> tuple[Ticket, dict[str, Any]]:
    """Number, insert and record a new waiting ticket inside the office's write
    transaction; returns it and its Ticket object (docs/api.md) with the position counted
    there (exact: no other change of the office can land before the commit).

    On PostgreSQL all of it is one statement (_issue_statement), because every round trip
    inside the office's lock is time every other kiosk of the office waits; with `last`
    (the change writes nothing after the ticket) that statement, the read of the recent
    calls the position needs, and COMMIT travel in one round trip (Change.commit_with):
    both reads still ran under the office's lock, so the position is as exact. On SQLite
    the statements run in process, one after the other. `booking`: the row a check-in
    decided from (_BOOKING_AND_TICKET)."""
    session = change.session
    day = core.today(office)
    values = _new_ticket(office, day, fields, change.now)
    if core.db.is_sqlite:
        ticket = cast(Ticket, driver.rows(session, _INSERT_TICKET, dict(
            values, number=next_number(session, office.id, day, letter)))[0])
        _record(change, ticket, CHECK_IN.timeline, staff=staff, **detail)
        return ticket, ticket_dict(core, session, ticket)
    count, reads = _issue_reads(core, office, day, letter, values, staff, detail, booking)
    return _issued(core, session, values, count, change.run(reads, last=last))


def _new_ticket(office: Office, day: date, fields: dict[str, Any], now: datetime
                ) -> dict[str, Any]:
    """The columns of a new waiting ticket but its id and number."""
    return dict(fields, office_id=office.id, service_day=day, status=CHECK_IN.target,
                flow_position=0, counter=None, checked_in_at=now, entered_station_at=now,
                call_count=0, last_called_at=None, public_token=secrets.token_urlsafe(24))


def _issue_reads(core: Core, office: Office, day: date, letter: str, values: dict[str, Any],
                 staff: str | None, detail: dict[str, Any], booking: Any = None
                 ) -> tuple[_PositionCount, list[Read]]:
    """PostgreSQL: the new ticket's statement (_issue_statement) and, when the position
    needs it, the read of the recent calls, to run in that order under the office's
    lock; and the count that turns their rows into a position (_issued). With the
    `booking` row a check-in decided from, the statement issues nothing unless the
    booking is still as read."""
    now = values["checked_in_at"]
    count = _PositionCount.of(core, office, values["station"], day,
                              place_key=values["place_key"], checked_in_at=now,
                              entered_at=now, priority=values["priority_group"] is not None)
    booked = booking is not None
    statement = _statement(("issue", *count.shape, booked),
                           lambda: _issue_statement(*count.shape, booked))
    reads: list[Read] = [(statement, {
        **count.params, "letter": letter, "now": now, "slack": now + ISSUE_CLOCK_SLACK,
        "action": CHECK_IN.timeline, "staff": staff, "detail": detail,
        **{f"new_{name}": value for name, value in values.items()
           if name not in _ISSUE_TIMES},
        # the place-key taken from the clock moves with the check-in time
        "new_place_key": None if values["place_key"] == now else values["place_key"],
        **({"booked_at": booking.updated_at} if booked else {}),
    })]
    recent_read = count.recent_read()
    if recent_read is not None:
        reads.append(recent_read)
    return count, reads


def _issued(core: Core, session: Session, values: dict[str, Any], count: _PositionCount,
            results: list[list[Any]]) -> tuple[Ticket, dict[str, Any]]:
    """The ticket _issue_reads' statements made, from their rows, and its Ticket object
    with its position."""
    row = results[0][0]
    # The row as inserted: the values given, and the id, number, check-in time and
    # place-key the statement made (plain attributes: no ORM object to build for a row
    # nobody loads).
    values = dict(values, place_key=row.place_key,
                  **{name: row.checked_in_at for name in _ISSUE_TIMES})
    ticket = cast(Ticket, SimpleNamespace(id=row.id, number=row.number, **values))
    recent = _recent_from_rows(results[1]) if len(results) > 1 else []
    position = count.position(session, row, counts_me=False, recent=recent)
    return ticket, ticket_dict(core, session, ticket, position=position)


#: The columns _issue gives a new ticket: all but its id and number, which come from the
#: database, its check-in time (_ISSUE_TIMES) and its place-key, which the statement sets.
_ISSUE_TIMES = ("checked_in_at", "entered_station_at")
_ISSUED = tuple(column.name for column in _TICKETS.columns
                if column.name not in ("id", "number", "place_key", *_ISSUE_TIMES))
_OFFICES = cast(Table, OfficeRow.__table__)


def _issue_statement(fifo: bool, has_cutoff: bool, overdue: bool, priority: bool,
                     booked: bool) -> Any:
    """PostgreSQL: a new ticket in one statement. The letter's number is raised (or
    started at 1), the ticket inserted with it, its check-in recorded in the timeline, and
    the tickets ahead of it counted, all against the same snapshot (which does not hold
    the new ticket: _PositionCount.position adds it to its lane).

    Its check-in time is `now`, or the office's `last_issued_at` if that is later (by at
    most ISSUE_CLOCK_SLACK: a clock that jumped forward once does not hold every later
    ticket), which it raises. So a ticket's time is never earlier than that of a ticket
    committed before it, even when the clock was read before the office's lock or on
    another host, and a ticket never lands ahead of one whose position was already
    printed. A place in the queue taken from the clock (a late arrival, a walk-in: its
    place-key is `now`) moves with it. Both are returned with the id and number.

    `booked`: a check-in, whose booking was read before the lock. The number is raised
    only if the booking is still as read (not updated since: an import or a cancellation
    sets `updated_at`); if not, the number comes out NULL, the ticket's INSERT fails and
    nothing of the transaction stays (shared.visits._check_in_at_once then goes the
    usual way).

    Kept short on purpose: psycopg caches the conversion of a query of at most 4,096
    characters and 50 parameters, so the statement returns only what the database chose
    and names the other values once."""
    seq = _SEQ_TABLE.c
    office_row = _OFFICES.c
    now = bindparam("now", type_=DateTime)
    last = office_row.last_issued_at
    clock = (update(_OFFICES).where(office_row.id == bindparam("office"))
             .values(last_issued_at=case(
                 (and_(last > now, last <= bindparam("slack", type_=DateTime)), last),
                 else_=now))
             .returning(office_row.last_issued_at.label("at"))
             .cte("clock"))
    issued_at = select(clock.c.at).scalar_subquery()
    # NULL: the place-key is the check-in time (_issue_reads)
    place = func.coalesce(bindparam("new_place_key", type_=DateTime), issued_at)
    first: Any = select(bindparam("office"), bindparam("day", type_=Date),
                        bindparam("letter", type_=String), literal(1))
    if booked:
        first = first.where(select(_B.id).where(
            _B.id == bindparam("new_booking_id", type_=Integer), not_(_B.cancelled),
            _B.updated_at == bindparam("booked_at", type_=DateTime)).exists())
    bumped = (pg_insert(_SEQ_TABLE)
              .from_select(["office_id", "day", "letter", "last"], first)
              .on_conflict_do_update(index_elements=[seq.office_id, seq.day, seq.letter],
                                     set_={"last": seq.last + 1})
              .returning(seq.last)
              .cte("bumped"))
    digits = sql_cast(bumped.c.last, String)
    # f"{letter}{last:03d}", as next_number writes it: three digits at least.
    number = select(bindparam("letter", type_=String)
                    + case((bumped.c.last < 1000, func.lpad(digits, 3, "0")), else_=digits)
                    ).scalar_subquery()
    new = (insert(_TICKETS)
           .values({**{name: bindparam(f"new_{name}", type_=_T[name].type) for name in _ISSUED},
                    **{name: issued_at for name in _ISSUE_TIMES}, "place_key": place,
                    "number": number})
           .returning(_T.id, _T.number, _T.checked_in_at, _T.place_key)
           .cte("new"))
    recorded = (insert(_TIMELINE_TABLE)
                .from_select(["ticket_id", "office_id", "at", "action", "status", "station",
                              "staff", "detail"],
                             select(new.c.id, bindparam("office"), new.c.checked_in_at,
                                    bindparam("action", type_=String),
                                    bindparam("new_status", type_=String),
                                    bindparam("new_station", type_=String),
                                    bindparam("staff", type_=String),
                                    bindparam("detail", type_=_TL.detail.type)))
                .cte("recorded"))
    ahead = _position_statement(fifo, has_cutoff, overdue, priority, my_id=new.c.id,
                                my_in=new.c.checked_in_at, my_place=new.c.place_key
                                ).lateral("ahead")
    return (select(new.c.id, new.c.number, new.c.checked_in_at, new.c.place_key, ahead)
            .select_from(new.join(ahead, true())).add_cte(recorded))


#: How far ahead of a process's clock the office's last check-in time may be and still be
#: taken as a new ticket's (_issue_statement): far more than the wait for the office's
#: lock or the clocks of two hosts differ, far less than a clock set wrong.
ISSUE_CLOCK_SLACK = timedelta(seconds=5)


# --- check-in ----------------------------------------------------------------------------
def check_in(core: Core, office_id: str, scan: Any, kiosk: str | None) -> CheckinResult:
    """Turn a kiosk scan into a ticket whose place follows the booked slot.

    A second scan of the same booking gives the same ticket (`reprint`), never a second.
    """
    office = core.office(office_id)
    if not isinstance(scan, str):
        raise Refusal(400, "invalid_scan", "The code could not be read. Please scan again.")
    try:
        scanned = parse_scan(scan, core.config.kiosk.code_pattern, core.config.security.qr_hmac_key)
    except ScanError as exc:
        if exc.reason == "bad_signature":
            raise Refusal(400, "invalid_scan",
                          "This QR code is not a valid booking. Please ask an officer.") from None
        raise Refusal(400, "invalid_scan",
                      "The code could not be read. Please scan again.") from None
    if scanned.office and scanned.office != office.id:
        # The signed token names its office: the applicant reads its name, not its id.
        other = core.config.offices.get(scanned.office)
        raise Refusal(409, "wrong_office", "This booking is for another office ({office}).",
                      office=other.name if other is not None else scanned.office)

    read = (_BOOKING_AND_TICKET, {"office": office.id, "code": scanned.code,
                                  "day": core.today(office)})
    if core.db.pipelines:
        # PostgreSQL: the booking read first, outside the office's lock, so that a first
        # check-in holds the lock for one round trip (_check_in_at_once).
        found = core.db.lookup(read)
        booking = _booking_or_refuse(found[0] if found else None)
        if booking.ticket_id is None:
            issued = _check_in_at_once(core, office, booking, kiosk)
            if issued is not None:
                return issued
        else:
            # A repeated scan: its ticket read with the lock (a ticket never changes
            # booking), the same as below without the booking read under the lock.
            ticket_read = (_TICKET_ROW, {"ticket": booking.ticket_id})
            with core.change(office.id, first=ticket_read) as change:
                return _reprint(core, change, change.first_rows[0], kiosk)
        # Another check-in of this booking committed meanwhile, or it changed: as below,
        # under the lock.

    # The booking and its ticket, if it has one, read right after the office's lock (on
    # PostgreSQL in the same round trip as BEGIN and the lock).
    with core.change(office.id, first=read) as change:
        session = change.session
        booking = _booking_or_refuse(change.first_rows[0] if change.first_rows else None)
        existing_id = booking.ticket_id
        if existing_id is not None:  # a repeated scan: the same ticket, printed again
            existing = driver.rows(session, _TICKET_ROW, {"ticket": existing_id})[0]
            return _reprint(core, change, existing, kiosk)
        letter, fields, detail = _booked_ticket(core, office, booking, change.now, kiosk)
        printer = _kiosk_printer(kiosk)
        # The ticket's statement, or else its print job, is the transaction's last write:
        # on PostgreSQL COMMIT goes with it (the event uses the version the lock claimed).
        ticket, data = _issue(core, change, office, letter, fields, staff=None, detail=detail,
                              last=not outbox.prints(change.printers, printer),
                              booking=booking)
        job = outbox.request(change, printer, "ticket", data, ticket.id, last=True)
        change.emit(CHECK_IN.event, _ticket_for_event(ticket), station=ticket.station)
        return CheckinResult(data, reprint=False, print=job)


def _reprint(core: Core, change: Change, existing: Any, kiosk: str | None) -> CheckinResult:
    """A repeated scan, inside the office's lock: the same ticket (its row as read there),
    printed again, its position counted now and its estimate from the cached mean service
    time, as for a new ticket. The timeline entry, the position's reads and COMMIT travel
    together (Change.run), or the print job does with COMMIT."""
    ticket = cast(Ticket, existing)
    office = core.office(ticket.office_id)
    # A visit of today that ended: no paper saying "position 0, soon", but what happened.
    if ticket.status == lifecycle.MISSED:
        raise Refusal(409, "missed", "Number {number} was called and you were not there.",
                      number=ticket.number)
    if ticket.status == lifecycle.CANCELLED:
        raise Refusal(409, "cancelled", "Ticket {number} was cancelled.", number=ticket.number)
    if ticket.status == lifecycle.DONE:
        raise Refusal(409, "visit_done", "Your visit of today is complete (ticket {number}).",
                      number=ticket.number)
    reads: list[Read] = [(_INSERT_TIMELINE, _timeline_values(
        change, ticket, REPRINT.timeline, counter=None, kiosk=kiosk))]
    found = _position_read(core, office, ticket)  # None unless it waits
    recent_read = found[0].recent_read() if found is not None else None
    if found is not None:
        reads.append(found[1])
        if recent_read is not None:
            reads.append(recent_read)
    printer = _kiosk_printer(kiosk)
    rows = change.run(reads, last=not outbox.prints(change.printers, printer))
    position = None
    if found is not None:
        recent = _recent_from_rows(rows[2]) if recent_read is not None else []
        position = found[0].position(change.session, rows[1][0], counts_me=True,
                                     recent=recent)
    data = ticket_dict(core, change.session, ticket, position=position)
    job = outbox.request(change, printer, "ticket", data, ticket.id, last=True)
    change.emit(REPRINT.event, _ticket_for_event(ticket))
    return CheckinResult(data, reprint=True, print=job)


def _booking_or_refuse(booking: Any) -> Any:
    """The booking row a scan found; refused if there is none or it was cancelled."""
    if booking is None:
        # A bare code of another office's booking is "not found" here: telling a code
        # guesser that it exists elsewhere would confirm a valid code (a signed token,
        # in check_in, names its own office, so it may say so).
        raise Refusal(404, "unknown_booking",
                      "Booking code not found. Please check the code or ask an officer.")
    if booking.cancelled:
        raise Refusal(409, "cancelled", "This booking was cancelled.")
    return booking


def _booked_ticket(core: Core, office: Office, booking: Any, now: datetime, kiosk: str | None
                   ) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Whether a booking without a ticket may check in at `now`, and if so its ticket's
    letter, columns and timeline detail; a Refusal otherwise."""
    today = core.today(office)
    _refuse_closed_day(core, office)
    if booking.date != today:
        raise Refusal(409, "wrong_day",
                      "This booking is for {date}, not today.",
                      date=booking.date.strftime("%d-%m-%Y"))
    local_now = to_local(now, office.tz)
    if local_now.time() > office.last_checkin:
        raise Refusal(409, "closed",
                      "Check-in has closed for today (last check-in {time}).",
                      time=office.last_checkin.strftime("%H:%M"))
    slot_start = local_to_utc(booking.date, booking.slot_start, office.tz)
    slot_end = local_to_utc(booking.date, booking.slot_end, office.tz)
    policy = core.config.policy_for(office.id)
    decision = decide_checkin(slot_start, slot_end, now, policy.early_checkin_minutes,
                              policy.late_grace_minutes, policy.late_policy)
    if decision.refusal == "too_early":
        assert decision.retry_at is not None
        retry = _hhmm(decision.retry_at, office)
        raise Refusal(409, "too_early",
                      "Your slot is {start}-{end}. Please come back at {retry_at}.",
                      start=booking.slot_start.strftime("%H:%M"),
                      end=booking.slot_end.strftime("%H:%M"), retry_at=retry)
    if decision.refusal == "too_late":
        raise Refusal(409, "too_late",
                      "Your slot {start}-{end} has passed. Please ask an officer.",
                      start=booking.slot_start.strftime("%H:%M"),
                      end=booking.slot_end.strftime("%H:%M"))
    service = office.services.get(booking.service)
    if service is None:
        raise Refusal(409, "unknown_booking",
                      "This booking's service is not offered here. Please ask an officer.")
    numbering = core.config.numbering
    assert decision.place_key is not None
    if booking.priority_group:
        letter = numbering.priority_letter
    elif service.express:
        letter = numbering.express_letter
    else:
        letter = slot_letter(core, to_local(decision.place_key, office.tz))
    fields = dict(
        booking_id=booking.id, kind="booked", service=service.id,
        priority_group=booking.priority_group, station=service.flow[0],
        slot_start=slot_start, slot_end=slot_end, demoted=decision.demoted,
        place_key=decision.place_key, issued_by=kiosk, flow=list(service.flow))
    return letter, fields, {"kiosk": kiosk, "demoted": decision.demoted}


def _check_in_at_once(core: Core, office: Office, booking: Any, kiosk: str | None
                      ) -> CheckinResult | None:
    """PostgreSQL: the first check-in of `booking` (read just before, outside the lock),
    holding the office's lock for one round trip: BEGIN, the lock, the ticket's statement
    (_issue_statement), the read of the recent calls the position needs, and COMMIT. With
    a printer, its job and COMMIT follow in a second round trip (the job holds the
    position, counted by the first).

    Still exact: the statement counts the tickets ahead after the lock was granted, and
    its check-in time is never earlier than that of a ticket committed before it (the
    clock was read before the lock). None when another check-in of this booking committed
    in between: the ticket's INSERT meets the booking's unique ticket, nothing of the
    transaction stays (no number used, no version), and the caller goes the usual way,
    which finds that ticket. The same when the booking changed in between (an import
    moved or cancelled it): the ticket's statement issues nothing unless the booking is
    still as read, and the usual way decides again from what it is now."""
    now = core.now()
    letter, fields, detail = _booked_ticket(core, office, booking, now, kiosk)
    day = core.today(office)
    values = _new_ticket(office, day, fields, now)
    count, reads = _issue_reads(core, office, day, letter, values, None, detail, booking)
    printer = _kiosk_printer(kiosk)
    try:
        with core.change(office.id, first=reads[0], then=reads[1] if len(reads) > 1 else None,
                         commit=not outbox.prints(core.printers, printer)) as change:
            rows = [change.first_rows, change.then_rows][:len(reads)]
            ticket, data = _issued(core, change.session, values, count, rows)
            job = outbox.request(change, printer, "ticket", data, ticket.id, last=True)
            change.emit(CHECK_IN.event, _ticket_for_event(ticket), station=ticket.station)
            return CheckinResult(data, reprint=False, print=job)
    except IntegrityError:
        # The booking's ticket committed meanwhile, or the booking changed (no number:
        # the ticket's INSERT failed), or another constraint failed: the usual way meets
        # it again and answers as it always did.
        return None


def walk_in(core: Core, office_id: str, service_id: Any, priority_group: Any,
            staff: str | None) -> dict[str, Any]:
    """A ticket without a booking: priority groups, percepatan, and other walk-ins."""
    return issue_walk_in(core, office_id, service_id, priority_group, staff).ticket


def issue_walk_in(core: Core, office_id: str, service_id: Any, priority_group: Any,
                  staff: str | None, printer: str | None = None,
                  idempotency_key: str | None = None) -> Issued:
    """A walk-in ticket, printed on `printer` (a kiosk's, or `counter-<id>`) if it exists.

    A repeated `idempotency_key` (the officer's form sent again after its answer was lost)
    issues nothing: it answers with the ticket, and print job, of the first request.
    Without one, the applicant would get two numbers and the queue a ghost."""
    office = core.office(office_id)
    if not isinstance(service_id, str) or service_id not in office.services:
        raise Refusal(422, "invalid_request", "Unknown service.")
    if priority_group in ("", None):
        priority_group = None
    elif priority_group not in PRIORITY_GROUPS:
        raise Refusal(422, "invalid_request", "Unknown priority group.")
    service = office.services[service_id]
    _refuse_closed_day(core, office)
    stored = (_STORED_BODY, {"office": office.id, "scope": WALK_IN_SCOPE,
                             "key": idempotency_key}) if idempotency_key else None
    with core.change(office.id, first=stored) as change:
        if stored is not None and change.first_rows:  # issued already: the same answer
            first = json.loads(change.first_rows[0].body)
            return Issued(first["ticket"], first.get("print"))
        now = change.now
        local_now = to_local(now, office.tz).time()
        if local_now > office.closes:
            # Nobody would call it: the ticket would wait until the day's end and count as
            # a no-show. (Before opening, staff may issue numbers to an early queue.)
            raise Refusal(409, "closed", "The office has closed for today (closes {time}).",
                          time=office.closes.strftime("%H:%M"))
        if service.express and (
            (service.walkin_from and local_now < service.walkin_from)
            or (service.walkin_until and local_now > service.walkin_until)
        ):
            raise Refusal(409, "closed",
                          "Express service takes applicants from {start} to {end}.",
                          start=(service.walkin_from or office.opens).strftime("%H:%M"),
                          end=(service.walkin_until or office.last_checkin).strftime("%H:%M"))
        numbering = core.config.numbering
        if priority_group:
            letter = numbering.priority_letter
        elif service.express:
            letter = numbering.express_letter
        else:
            letter = numbering.walkin_letter
        ticket, data = _issue(core, change, office, letter, dict(
            booking_id=None, kind="express" if service.express else "walkin",
            service=service.id, priority_group=priority_group, station=service.flow[0],
            slot_start=None, slot_end=None, demoted=False, place_key=now, issued_by=staff,
            flow=list(service.flow),
        ), staff=staff, detail={"walkin": True})
        job = outbox.request(change, printer, "ticket", data, ticket.id)
        if idempotency_key:
            change.run([(_REMEMBER_ANSWER, {
                "office_id": office.id, "scope": WALK_IN_SCOPE, "key": idempotency_key,
                "status_code": 201, "body": json.dumps({"ticket": data, "print": job}),
                "created_at": now})], last=False)
        change.emit(CHECK_IN.event, _ticket_for_event(ticket), station=ticket.station,
                    staff=staff)
        return Issued(data, job)


# --- calling -----------------------------------------------------------------------------
def _counter(office: Office, counter_id: str) -> Counter:
    counter = office.counters.get(counter_id)
    if counter is None:
        raise Refusal(404, "unknown_counter", "Unknown counter {counter}.", counter=counter_id)
    return counter


def return_to_queue(change: Change, ticket: Ticket, staff: str | None) -> None:
    """A called or serving ticket goes back to its station's queue at its own place (its
    counter was closed): waiting again, with its place key and station unchanged."""
    counter = ticket.counter
    ticket.status = "waiting"
    ticket.counter = None
    ticket.call_count = 0
    _record(change, ticket, "returned", staff=staff, counter=counter)
    change.emit("returned", _ticket_for_event(ticket), counter=counter, station=ticket.station,
                staff=staff)


COUNTER_TICKET_CHOICES = ("return", "transfer")


def release_counter(core: Core, change: Change, office: Office, counter_id: str,
                    choice: Any, station: Any, staff: str | None) -> None:
    """Before a counter closes or goes: its called or serving ticket returns to the queue
    at its place (`return`) or moves to another station (`transfer`). Without a choice,
    409 `counter_has_ticket` with the choices."""
    ticket = change.session.execute(
        select(Ticket).where(Ticket.office_id == office.id, Ticket.counter == counter_id,
                             Ticket.service_day == core.today(office),
                             Ticket.status.in_(lifecycle.AT_COUNTER))
    ).scalars().first()
    if ticket is None:
        return
    if choice not in COUNTER_TICKET_CHOICES:
        raise Refusal(409, "counter_has_ticket",
                      "Counter {counter} has called {number}. Return the ticket to the queue "
                      "or transfer it first.", counter=counter_id, number=ticket.number,
                      ticket=ticket.number, choices=list(COUNTER_TICKET_CHOICES))
    if choice == "return":
        return_to_queue(change, ticket, staff)
        return
    station_before = ticket.station
    outcome, detail = _apply(core, office, ticket, "transfer", {"station": station}, change.now)
    step = lifecycle.transition("transfer", outcome)
    if step.target is not None:
        ticket.status = step.target
    _record(change, ticket, step.timeline, staff=staff, counter=counter_id,
            station=station_before, **detail)
    change.emit(step.event, _ticket_for_event(ticket), counter=counter_id,
                station=ticket.station, staff=staff, detail=detail)


class _StaleConfig(Exception):
    """The office's configuration changed in the database after this process loaded it."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def call_next(core: Core, office_id: str, counter_id: str, staff: str | None,
              idempotency_key: str | None = None) -> dict[str, Any] | None:
    """Call the first waiting ticket for this counter; None when nobody waits.

    A repeated `idempotency_key` replays the first answer and calls nobody new. A counter
    that still has a called or serving ticket must finish, hold or release it first, so a
    double click on "next" cannot call two people to one counter.

    The counter (open, its stations) is taken from the process's configuration, checked
    against the stored one under the office's lock: a change committed since (a counter
    closed a moment ago, its ticket sent back to the queue) is loaded and the call decided
    again, so that ticket is not called straight back to the closed counter.
    """
    try:
        return _call_next(core, office_id, counter_id, staff, idempotency_key)
    except _StaleConfig as stale:
        live_config.refresh(core, live_config.office_scope(office_id), stale.version)
        return _call_next(core, office_id, counter_id, staff, idempotency_key,
                          check_config=False)


def _call_next(core: Core, office_id: str, counter_id: str, staff: str | None,
               idempotency_key: str | None, check_config: bool = True
               ) -> dict[str, Any] | None:
    office = core.office(office_id)
    counter = _counter(office, counter_id)
    if not counter.open:
        raise Refusal(409, "counter_closed", "Counter {counter} is closed.", counter=counter.name)
    scope = f"next:{counter.id}"
    # The stored answer of a repeated key and what the counter still has, in one read
    # (scalar subqueries; NULL when there is none) right after the office's lock (on
    # PostgreSQL in the same round trip as BEGIN and the lock).
    config_scope = live_config.office_scope(office.id)
    known_version = live_config.versions(core).get(config_scope, 0)
    read = (_BEFORE_CALL, {"office": office.id, "scope": scope, "key": idempotency_key or "",
                           "counter": counter.id, "day": core.today(office),
                           "config_scope": config_scope})
    # And the lanes' heads, in the same round trip (a cutoff for overdue tickets from the
    # clock before the lock: the wait for it is milliseconds).
    heads = heads_read(core, office, counter.stations, counter.priority_only)
    with core.change(office.id, first=read, then=heads) as change:
        session = change.session
        now = change.now
        before = change.first_rows[0]
        if check_config and (before.config_version or 0) > known_version:
            raise _StaleConfig(before.config_version)  # nothing written: rolled back
        if idempotency_key and before.status_code is not None:
            if before.status_code == 204:
                return None
            return json.loads(before.body)  # type: ignore[no-any-return]
        if before.busy is not None:
            raise Refusal(409, "counter_busy",
                          "Counter is still serving {number}. Finish, hold or mark it "
                          "no-show first.", number=before.busy)
        head = first_waiting(core, session, office, counter.stations,
                             priority_only=counter.priority_only, heads_rows=change.then_rows)
        result: dict[str, Any] | None = None
        ticket: Ticket | None = None
        writes: list[Read] = []
        if head is not None:
            ticket, writes = _call(core, change, head, counter.id, staff)
            result = ticket_dict(core, session, ticket)
        if idempotency_key:
            answer = {"office_id": office.id, "scope": scope, "key": idempotency_key,
                      "status_code": 200 if result else 204,
                      "body": json.dumps(result) if result else "", "created_at": now}
            # With a call, stored only if the call was written (it is, under the lock).
            writes.append((_REMEMBER_CALLED, {**answer, "ticket": head.id,
                                              "to_counter": counter.id})
                          if head is not None else (_REMEMBER_ANSWER, answer))
        # The call (known before it is written) and its stored answer go together; with a
        # call they are the last writes: on PostgreSQL COMMIT goes with them. Without one
        # (nobody waits) the lock's version is given back instead.
        rows = change.run(writes, last=result is not None)
        if ticket is not None:
            if not rows[0]:  # its RETURNING row: the ticket was still waiting
                raise RuntimeError(f"ticket {ticket.id} was not waiting under the lock")
            change.emit(CALL.event, _ticket_for_event(ticket), counter=counter.id,
                        counter_name=counter.name, station=ticket.station, staff=staff)
        return result


def _call(core: Core, change: Change, head: Any, counter_id: str, staff: str | None
          ) -> tuple[Ticket, list[Read]]:
    """The waiting ticket `head` (its row, read under the office's lock) as a call to the
    counter leaves it, and the writes that make it so, for the caller to send with its
    own: one UPDATE ... RETURNING the called row and the timeline's INSERT (on PostgreSQL
    one statement). A call sets these four columns and nothing else, so the ticket and
    the answer built from it are known before the writes go out; the first write's
    RETURNING row is the check that it was still waiting."""
    ticket = cast(Ticket, SimpleNamespace(**{
        **{column.name: getattr(head, column.name) for column in _TICKETS.columns},
        "status": lifecycle.CALLED, "counter": counter_id, "call_count": 1,
        "last_called_at": change.now}))
    values = {"ticket": ticket.id, "to_counter": counter_id, "now": change.now}
    if core.db.is_sqlite:
        return ticket, [(_CALL_TICKET, values), (_INSERT_TIMELINE, _timeline_values(
            change, ticket, CALL.timeline, staff=staff,
            priority=ticket.priority_group is not None))]
    return ticket, [(_CALL_AND_RECORD, {**values, "staff": staff})]


_INSERT_TICKET = insert(_TICKETS).returning(*_T)
_BOOKING_AND_TICKET = select(
    _B.id, _B.cancelled, _B.date, _B.slot_start, _B.slot_end, _B.service, _B.priority_group,
    # today's ticket of the booking: one moved to another day checks in again there, and a
    # scan on another day is refused as such, not answered with an earlier day's ticket
    _B.updated_at, select(_T.id).where(_T.booking_id == _B.id,
                                       _T.service_day == bindparam("day", type_=Date))
    .scalar_subquery().label("ticket_id"),
).where(_B.office_id == bindparam("office"), _B.code == bindparam("code"))
_TICKET_ROW = select(*_T).where(_T.id == bindparam("ticket"))
_IK = cast(Table, IdempotencyKey.__table__)
_STORED = (_IK.c.office_id == bindparam("office"), _IK.c.scope == bindparam("scope"),
           _IK.c.key == bindparam("key"))
_BEFORE_CALL = select(
    select(_IK.c.status_code).where(*_STORED).scalar_subquery().label("status_code"),
    select(_IK.c.body).where(*_STORED).scalar_subquery().label("body"),
    # today's only: a ticket left called at closing time does not hold the counter for
    # good (it stays in its own day's figures as it was left)
    select(_T.number).where(_T.office_id == bindparam("office"),
                            _T.service_day == bindparam("day", type_=Date),
                            _T.counter == bindparam("counter"),
                            # not IN: it travels in the lock's pipeline (Database.write)
                            or_(*(_T.status == status for status in lifecycle.AT_COUNTER)))
    .limit(1)
    .scalar_subquery().label("busy"),
    select(ConfigDocument.version).where(ConfigDocument.scope == bindparam("config_scope"))
    .scalar_subquery().label("config_version"),
)
_REMEMBER_ANSWER = insert(_IK)
# A ticket action's key, if it was used before (act: the action is not repeated).
_STORED_ACTION = select(_IK.c.status_code).where(*_STORED)
# A walk-in's key: the answer it was given (issue_walk_in).
_STORED_BODY = select(_IK.c.body).where(*_STORED)
WALK_IN_SCOPE = "walkin"
# A call's answer, written only if the call before it in the same transaction was.
_REMEMBER_CALLED = insert(_IK).from_select(
    ["office_id", "scope", "key", "status_code", "body", "created_at"],
    select(*(bindparam(name, type_=_IK.c[name].type)
             for name in ("office_id", "scope", "key", "status_code", "body", "created_at")))
    .where(select(_T.id).where(_T.id == bindparam("ticket", type_=Integer),
                               _T.status == lifecycle.CALLED,
                               _T.counter == bindparam("to_counter", type_=String)).exists()))
# The ticket is waiting (first_waiting read it inside the same office lock).
_CALL_TICKET = (update(_TICKETS)
                .where(_T.id == bindparam("ticket"), _T.status == lifecycle.WAITING)
                .values(status=lifecycle.CALLED, counter=bindparam("to_counter"), call_count=1,
                        last_called_at=bindparam("now"))
                .returning(*_T))
# PostgreSQL: the call and its timeline entry in one statement (as _record writes it).
_CALLED = _CALL_TICKET.cte("called")
_CALL_AND_RECORD = select(*_CALLED.c).add_cte(
    insert(_TIMELINE_TABLE).from_select(
        ["ticket_id", "office_id", "at", "action", "status", "station", "counter", "staff",
         "detail"],
        select(_CALLED.c.id, _CALLED.c.office_id, bindparam("now", type_=DateTime),
               literal(CALL.timeline), _CALLED.c.status, _CALLED.c.station,
               _CALLED.c.counter, bindparam("staff", type_=String),
               func.json_build_object("priority", _CALLED.c.priority_group.isnot(None))
               .cast(_TL.detail.type))).cte("recorded"))


def act(core: Core, ticket_id: int, action: str, staff: str | None,
        office_ids: tuple[str, ...] | None, body: dict[str, Any] | None = None,
        idempotency_key: str | None = None) -> dict[str, Any]:
    """Apply one counter action to a ticket (shared.lifecycle); 409 when its state forbids
    it.

    A repeated `idempotency_key` (a request sent again after its answer was lost) acts no
    more: it answers with the ticket as it is now. Without one, a `finish` sent twice
    would finish the ticket at its next station too, the one another counter has just
    called it to.

    `body["counter"]` (optional) is the counter the action comes from: a ticket called or
    served at another counter now is refused (409 `not_at_counter`). A terminal whose
    picture is a moment old (its socket reconnecting) would otherwise recall, finish or
    mark as a no-show the applicant another counter has just called."""
    if action not in lifecycle.ACTIONS:
        raise Refusal(404, "unknown_action", "Unknown action {action}.", action=action)
    body = body or {}
    from_counter = body.get("counter")
    if from_counter is not None and (not isinstance(from_counter, str)
                                     or not 0 < len(from_counter) <= 64):
        raise Refusal(422, "invalid_request", "Unknown counter.")
    office_id = _office_of_ticket(core, ticket_id)
    if office_id is None or (office_ids is not None and office_id not in office_ids):
        raise Refusal(404, "not_found", "No such ticket.")
    office = core.office(office_id)
    # The ticket is read right after the office's lock (on PostgreSQL in the lock's round
    # trip) and handed to the session as loaded, so its changes flush as usual.
    scope = f"act:{ticket_id}"
    stored = (_STORED_ACTION, {"office": office.id, "scope": scope, "key": idempotency_key}) \
        if idempotency_key else None
    with core.change(office.id, first=(_TICKET_ROW, {"ticket": ticket_id}),
                     then=stored) as change:
        session = change.session
        now = change.now
        if not change.first_rows:  # no such ticket (any more)
            raise Refusal(404, "not_found", "No such ticket.")
        ticket = Ticket(**change.first_rows[0]._asdict())
        make_transient_to_detached(ticket)
        session.add(ticket)
        if idempotency_key and change.then_rows:  # done already: the ticket as it is now
            return ticket_dict(core, session, ticket,
                               position=waiting_position(core, session, office, ticket))
        if ticket.service_day != core.today(office) and action != "cancel":
            # Left unfinished on an earlier day: moving it on would put it in that day's
            # queues, which nobody calls any more. It may only be closed.
            raise Refusal(409, "earlier_day",
                          "Ticket {number} is from {date}; it can no longer be changed, "
                          "only cancelled.", number=ticket.number,
                          date=ticket.service_day.strftime("%d-%m-%Y"))
        if (from_counter is not None and ticket.counter not in (None, from_counter)
                and ticket.status in (lifecycle.CALLED, lifecycle.SERVING)):
            raise Refusal(409, "not_at_counter",
                          "Ticket {number} is now at counter {counter}, not at this one.",
                          number=ticket.number, counter=ticket.counter)
        if ticket.status not in lifecycle.sources_of(action):
            raise Refusal(409, "invalid_state",
                          "Ticket {number} is {state}; '{action}' is not possible now.",
                          number=ticket.number, state=ticket.status, action=action)
        counter_before = ticket.counter
        station_before = ticket.station
        outcome, detail = _apply(core, office, ticket, action, body, now)
        step = lifecycle.transition(action, outcome)
        if step.target is not None:
            ticket.status = step.target
        session.flush()  # the ticket's UPDATE
        # Then its timeline entry, the count of the tickets ahead of it (a ticket that
        # waits again, at its next station), the recent calls that count needs, and the
        # slip's print job: the last statements, after which (on PostgreSQL) COMMIT goes
        # in the same round trip; all of them still run under the office's lock.
        reads: list[Read] = [(_INSERT_TIMELINE, _timeline_values(
            change, ticket, step.timeline, staff=staff, counter=counter_before,
            station=station_before, **detail))]
        counted = _position_read(core, office, ticket)
        recent_read = counted[0].recent_read() if counted is not None else None
        reads += [read for read in (counted[1] if counted else None, recent_read) if read]
        slip = None
        if ticket.status == lifecycle.DONE and counter_before:
            printer = outbox.counter_printer(change.printers, office.id, counter_before)
            slip = outbox.prepare(change, printer, "slip",
                                  _slip(office, ticket, now), ticket.id)
            if slip is not None:
                reads.append(outbox.insert(slip))
        if idempotency_key:
            reads.append((_REMEMBER_ANSWER, {
                "office_id": office.id, "scope": scope, "key": idempotency_key,
                "status_code": 200, "body": "", "created_at": now}))
        results = change.run(reads, last=True)
        position = None
        if counted is not None:
            recent = _recent_from_rows(results[2]) if recent_read is not None else []
            position = counted[0].position(session, results[1][0], counts_me=True,
                                           recent=recent)
        # The estimate reads the service times after the commit on PostgreSQL (an
        # estimate need not be exact; the position is).
        data = ticket_dict(core, session, ticket, position=position)
        if slip is not None:
            outbox.added(change, slip)
        counter_cfg = office.counters.get(counter_before or "")
        change.emit(step.event, _ticket_for_event(ticket), counter=counter_before,
                    counter_name=counter_cfg.name if counter_cfg else None,
                    station=ticket.station, staff=staff, detail=detail)
        return data


def _office_of_ticket(core: Core, ticket_id: int) -> str | None:
    """The office of a ticket (read before its office's write lock is taken). A ticket
    never changes office and its id is never reused, so each process remembers the
    answers it read (a bounded map; the ticket itself is read again under the lock)."""
    known = core.ticket_offices.get(ticket_id)
    if known is not None:
        return known
    statement = _statement(("office_of_ticket",),
                           lambda: select(_T.office_id).where(_T.id == bindparam("ticket")))
    with core.db.connect() as connection:
        found = connection.execute(statement, {"ticket": ticket_id}).scalar_one_or_none()
    if found is None:
        return None
    if len(core.ticket_offices) >= TICKET_OFFICES_KEPT:
        core.ticket_offices.clear()
    core.ticket_offices[ticket_id] = office_id = str(found)
    return office_id


#: How many tickets' offices a process remembers (a busy office issues ~1,000 a day).
TICKET_OFFICES_KEPT = 20_000


def _slip(office: Office, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """What the payment slip prints: the number, the service and the day it was served."""
    return {"office": office.id, "number": ticket.number, "service": ticket.service,
            "date": to_local(now, office.tz).date().isoformat()}


def _apply(core: Core, office: Office, ticket: Ticket, action: str, body: dict[str, Any],
           now: datetime) -> tuple[str | None, dict[str, Any]]:
    """The action's effect besides the state (which the lifecycle table sets): the outcome
    (for an action with several) and the timeline entry's detail."""
    policy = core.config.policy_for(office.id)
    if action == "recall":
        if ticket.last_called_at and now - ticket.last_called_at < timedelta(
            seconds=policy.recall_cooldown_seconds
        ):
            raise Refusal(409, "too_soon", "{number} was just called. Wait a moment.",
                          number=ticket.number)
        ticket.call_count += 1
        ticket.last_called_at = now
        return None, {"calls": ticket.call_count}
    if action == "start":
        return None, {}
    if action == "finish":
        flow = ticket_flow(office, ticket)
        position = ticket.flow_position + 1
        ticket.counter = None
        if position < len(flow):
            ticket.flow_position = position
            ticket.station = flow[position]
            ticket.entered_station_at = now
            ticket.call_count = 0
            return lifecycle.NEXT_STATION, {"to_station": ticket.station}
        return lifecycle.LAST_STATION, {}
    if action == "no-show":
        if ticket.call_count < policy.no_show_after_calls:
            raise Refusal(409, "call_again",
                          "Call {number} {times} time(s) before marking a no-show.",
                          number=ticket.number, times=policy.no_show_after_calls)
        ticket.counter = None
        return None, {}
    if action == "hold":
        reason = body.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
            raise Refusal(422, "invalid_request", "The reason must be a short text.")
        ticket.counter = None
        return None, {"reason": reason} if reason else {}
    if action in ("resume", "reinstate"):
        ticket.call_count = 0
        return None, {}
    if action == "transfer":
        station = body.get("station")
        if not isinstance(station, str) or station not in office.stations:
            raise Refusal(422, "invalid_request", "Unknown station.")
        flow = ticket_flow(office, ticket)
        if station in flow:
            ticket.flow_position = flow.index(station)
        ticket.station = station
        ticket.counter = None
        ticket.entered_station_at = now
        ticket.call_count = 0
        return None, {"to_station": station}
    if action == "cancel":
        ticket.counter = None
        return None, {}
    raise Refusal(404, "unknown_action", "Unknown action {action}.", action=action)


def counter_state(core: Core, office_id: str, counter_id: str) -> dict[str, Any]:
    """The counter's current ticket (called or serving) and its stations' queue lengths."""
    office = core.office(office_id)
    counter = _counter(office, counter_id)
    with core.db.read() as session:
        current = session.execute(
            select(Ticket).where(Ticket.office_id == office.id, Ticket.counter == counter.id,
                                 Ticket.service_day == core.today(office),
                                 Ticket.status.in_(lifecycle.AT_COUNTER))
        ).scalars().first()
        waiting = dict(session.execute(
            select(Ticket.station, func.count()).where(
                Ticket.office_id == office.id, Ticket.service_day == core.today(office),
                Ticket.status == lifecycle.WAITING, Ticket.station.in_(counter.stations))
            .group_by(Ticket.station)
        ).all())  # type: ignore[arg-type]
        return {
            "counter": {"id": counter.id, "name": counter.name, "stations": list(counter.stations),
                        "priority_only": counter.priority_only, "open": counter.open},
            "current": ticket_dict(core, session, current) if current else None,
            "waiting": {s: waiting.get(s, 0) for s in counter.stations},
            "open_counters": open_counters(office),
        }


def open_counters(office: Office) -> dict[str, dict[str, int]]:
    """Per station of the office, how many open counters would call a regular ticket
    there and how many a priority one (a priority-only counter calls only those): a
    ticket transferred where nobody would call it waits until a counter opens, and the
    terminal says so before the officer sends it there."""
    found: dict[str, dict[str, int]] = {
        station: {"regular": 0, "priority": 0} for station in office.stations}
    for counter in office.counters.values():
        if not counter.open:
            continue
        for station in counter.stations:
            if station in found:
                found[station]["priority"] += 1
                if not counter.priority_only:
                    found[station]["regular"] += 1
    return found
