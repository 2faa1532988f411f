"""Day and range figures, computed from the ticket timeline only.

Every duration comes from `TimelineEntry` rows (append-only), never from counters kept on
the side. Definitions:

- A ticket *enters a station's queue* when it checks in (`checked_in` at that station), is
  sent there (`moved` / `transfer`, destination in `detail["to_station"]`), or is put back
  in the queue of its station (`resume` after a `hold`, `reinstate` after a `no_show`).
  One such stay is a *stint*; a `hold` or a `no_show` ends it, and the time held or
  missed until the `resume` / `reinstate` is neither wait nor service.
- **Wait** at a station: from entering its queue to the first `called` there in that stint
  (a ticket held or reinstated waits again, and each wait counts).
- **Service** at a station: from the first `called` (or `start`, if no call came first) of
  the stint to the `moved` / `finished` that ends it at that station, plus the parts of
  earlier stints there that a `hold` ended (from their call to the hold): the time the
  applicant spent at the station's counters, one service per `moved` / `finished`,
  credited to the counter and officer who completed it. A stint that ends otherwise
  (transfer, no-show, cancel, a hold never resumed) has a wait but no service time; a
  no-show's call is no service either.
- **On time**: a booked applicant who checked in between 15 minutes before the slot start
  and the slot end; the share counts those whose first call anywhere came by slot end.
- Slot columns: *booked* (bookings, cancelled excluded), *arrived* (their tickets),
  *served* (tickets that finished the last station), *no_show* (booked, never arrived, and
  the slot end plus the office's `late_grace_minutes` (its own `policy` table, else
  [policy]) has passed: until then they may still come, even demoted), *expected*
  (booked, not arrived, that moment not yet passed),
  *missed* (called, marked no-show and not reinstated).
- Percentiles interpolate linearly between ranks (as numpy's default does).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import lifecycle
from shared.clock import local_to_utc, to_local
from shared.config import Office
from shared.core import Core
from shared.models import Booking, Ticket, TimelineEntry
from shared.reports.retention import mask_name

ON_TIME_EARLY = timedelta(minutes=15)
# The longest range one report covers, both ends included (a leap year): the web export
# and `giliran report range` alike.
MAX_RANGE_DAYS = 366
QUEUE_ENTRIES = lifecycle.QUEUE_ENTRIES
SERVICE_ENDS = lifecycle.SERVICE_ENDS
# A hold ends the service at the counter; resume (after a hold) and reinstate (after a
# no-show) put the ticket back in its station's queue: a new stint there.
HOLD = lifecycle.transition("hold").timeline
REQUEUES = (lifecycle.transition("resume").timeline, lifecycle.transition("reinstate").timeline)


# --- small statistics ----------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0-1) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, Any]:
    """count, mean, p50, p90 and max in minutes (two decimals); None when empty."""
    if not values:
        return {"count": 0, "mean": None, "p50": None, "p90": None, "max": None}
    return {
        "count": len(values),
        "mean": round(sum(values) / len(values), 2),
        "p50": round(percentile(values, 0.5), 2),
        "p90": round(percentile(values, 0.9), 2),
        "max": round(max(values), 2),
    }


def minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- one ticket's timeline --------------------------------------------------------------------
@dataclass
class Stint:
    """One stay of a ticket in a station's queue."""

    station: str
    entered: datetime
    first_called: datetime | None = None
    service_start: datetime | None = None
    ended: datetime | None = None
    counter: str | None = None
    staff: str | None = None
    # Minutes served at this station in earlier stints that a hold ended.
    served_before: float = 0.0

    @property
    def wait(self) -> float | None:
        return minutes(self.first_called, self.entered) if self.first_called else None

    @property
    def service(self) -> float | None:
        if self.ended is None or self.service_start is None:
            return None
        return self.served_before + minutes(self.ended, self.service_start)


@dataclass
class Visit:
    """What the timeline says about one ticket."""

    ticket: Ticket
    checked_in: datetime | None = None
    first_called: datetime | None = None
    finished: datetime | None = None
    status: str = lifecycle.WAITING
    stints: list[Stint] = field(default_factory=list)
    entries: list[TimelineEntry] = field(default_factory=list)


def read_visit(ticket: Ticket, entries: Iterable[TimelineEntry]) -> Visit:
    visit = Visit(ticket, entries=list(entries))
    open_stint: Stint | None = None
    # The stint a hold or a no-show ended, and what was served in it (a hold only), until
    # the resume or reinstate that puts the ticket back in that station's queue.
    paused: Stint | None = None
    carried = 0.0
    for entry in visit.entries:
        visit.status = entry.status
        station = entry.station or ""
        if entry.action == lifecycle.CHECKED_IN:
            visit.checked_in = visit.checked_in or entry.at
            open_stint = Stint(station, entry.at)
            visit.stints.append(open_stint)
            continue
        if entry.action in REQUEUES:
            before = paused.served_before if paused and paused.station == station else 0.0
            open_stint = Stint(station, entry.at, served_before=before + carried)
            visit.stints.append(open_stint)
            paused, carried = None, 0.0
            continue
        if entry.action in (HOLD, lifecycle.NO_SHOW):
            if open_stint is not None and open_stint.station == station \
                    and open_stint.ended is None:
                carried = (minutes(entry.at, open_stint.service_start)
                           if entry.action == HOLD and open_stint.service_start else 0.0)
                paused, open_stint = open_stint, None
            continue
        if entry.action in lifecycle.SERVICE_STARTS and open_stint is not None \
                and open_stint.station == station:
            if entry.action == lifecycle.CALL and open_stint.first_called is None:
                open_stint.first_called = entry.at
            if open_stint.service_start is None:
                open_stint.service_start = entry.at
        if entry.action == lifecycle.CALL and visit.first_called is None:
            visit.first_called = entry.at
        if entry.action in SERVICE_ENDS and open_stint is not None \
                and open_stint.station == station and open_stint.ended is None:
            open_stint.ended = entry.at
            open_stint.counter = entry.counter
            open_stint.staff = entry.staff
        if entry.action == lifecycle.FINISHED:
            visit.finished = entry.at
        if entry.action in QUEUE_ENTRIES:
            target = (entry.detail or {}).get("to_station")
            open_stint = Stint(str(target), entry.at) if target else None
            if open_stint is not None:
                visit.stints.append(open_stint)
            paused, carried = None, 0.0
    return visit


# --- the report ---------------------------------------------------------------------------
def _slot_label(start: time, end: time) -> str:
    return f"{start.strftime('%H:%M')}-{end.strftime('%H:%M')}"


def _local_hhmm(moment: datetime | None, office: Office) -> str | None:
    return to_local(moment, office.tz).strftime("%H:%M") if moment else None


def _local_iso(moment: datetime | None, office: Office) -> str | None:
    return to_local(moment, office.tz).isoformat(timespec="seconds") if moment else None


def load(session: Session, office_id: str, start: date, end: date
         ) -> tuple[list[Booking], list[Visit], dict[int, Booking]]:
    """Bookings of the days, and the visits (tickets with their timelines) of the days."""
    bookings = list(session.execute(
        select(Booking).where(Booking.office_id == office_id, Booking.date >= start,
                              Booking.date <= end).order_by(Booking.id)
    ).scalars())
    tickets = list(session.execute(
        select(Ticket).where(Ticket.office_id == office_id, Ticket.service_day >= start,
                             Ticket.service_day <= end).order_by(Ticket.id)
    ).scalars())
    entries: dict[int, list[TimelineEntry]] = defaultdict(list)
    for entry in session.execute(
        select(TimelineEntry).join(Ticket, Ticket.id == TimelineEntry.ticket_id)
        .where(Ticket.office_id == office_id, Ticket.service_day >= start,
               Ticket.service_day <= end)
        .order_by(TimelineEntry.id)
    ).scalars():
        entries[entry.ticket_id].append(entry)
    by_id = {b.id: b for b in bookings}
    missing = {t.booking_id for t in tickets if t.booking_id and t.booking_id not in by_id}
    if missing:
        for booking in session.execute(select(Booking).where(Booking.id.in_(missing))).scalars():
            by_id[booking.id] = booking
    return bookings, [read_visit(t, entries[t.id]) for t in tickets], by_id


def compute(office: Office, start: date, end: date, bookings: Sequence[Booking],
            visits: Sequence[Visit], bookings_by_id: dict[int, Booking],
            with_names: bool = False, now: datetime | None = None,
            late_grace: timedelta = timedelta(minutes=15)) -> dict[str, Any]:
    """Every figure of the report, as plain JSON-ready data.

    ``now`` (naive UTC, as stored) decides which absent bookings are no-shows yet: only
    those whose slot end plus ``late_grace`` has passed. None: every day is over.
    """
    slots: dict[str, dict[str, Any]] = {}

    def slot_row(label: str) -> dict[str, Any]:
        return slots.setdefault(label, {"slot": label, "booked": 0, "cancelled": 0,
                                        "arrived": 0, "served": 0, "no_show": 0, "missed": 0,
                                        "expected": 0})

    def still_may_come(booking: Booking) -> bool:
        if now is None:
            return False
        return now <= local_to_utc(booking.date, booking.slot_end, office.tz) + late_grace

    arrived_bookings = {v.ticket.booking_id for v in visits if v.ticket.booking_id}
    for booking in bookings:
        row = slot_row(_slot_label(booking.slot_start, booking.slot_end))
        if booking.cancelled:
            row["cancelled"] += 1
            continue
        row["booked"] += 1
        if booking.id not in arrived_bookings:
            row["expected" if still_may_come(booking) else "no_show"] += 1
    for visit in visits:
        own = bookings_by_id.get(visit.ticket.booking_id or 0)
        if own is None:
            continue
        row = slot_row(_slot_label(own.slot_start, own.slot_end))
        row["arrived"] += 1
        row["served"] += visit.finished is not None
        row["missed"] += visit.status == lifecycle.MISSED
    slot_rows = [slots[k] for k in sorted(slots)]
    quota = [{"slot": r["slot"], "bookings": r["booked"], "tickets": r["arrived"],
              "use": share(r["arrived"], r["booked"])} for r in slot_rows]
    lanes = Counter(v.ticket.kind if not v.ticket.priority_group else "priority"
                    for v in visits if v.ticket.booking_id is None)

    hours: dict[str, dict[str, Any]] = {}
    for visit in visits:
        if visit.checked_in is None:
            continue
        hour = to_local(visit.checked_in, office.tz).strftime("%H:00")
        row = hours.setdefault(hour, {"hour": hour, "booked": 0, "walkin": 0, "express": 0,
                                      "priority": 0, "total": 0})
        row[visit.ticket.kind if visit.ticket.kind in row else "walkin"] += 1
        row["priority"] += visit.ticket.priority_group is not None
        row["total"] += 1

    station_waits: dict[str, list[float]] = defaultdict(list)
    station_services: dict[str, list[float]] = defaultdict(list)
    counters: dict[str, dict[str, Any]] = {}
    officers: dict[str, dict[str, Any]] = {}

    def worker(table: dict[str, dict[str, Any]], key: str, label: str) -> dict[str, Any]:
        return table.setdefault(key, {label: key, "calls": 0, "served": 0, "no_shows": 0,
                                      "_service": []})

    for visit in visits:
        for stint in visit.stints:
            if stint.wait is not None:
                station_waits[stint.station].append(stint.wait)
            if stint.service is not None:
                station_services[stint.station].append(stint.service)
                for table, key, label in ((counters, stint.counter, "counter"),
                                          (officers, stint.staff, "staff")):
                    if key:
                        row = worker(table, key, label)
                        row["served"] += 1
                        row["_service"].append(stint.service)
        for entry in visit.entries:
            if entry.action in (lifecycle.CALL, lifecycle.NO_SHOW):
                field_name = "calls" if entry.action == lifecycle.CALL else "no_shows"
                for table, key, label in ((counters, entry.counter, "counter"),
                                          (officers, entry.staff, "staff")):
                    if key:
                        worker(table, key, label)[field_name] += 1

    def finish_workers(table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for key in sorted(table):
            row = dict(table[key])
            services = row.pop("_service")
            row["service_mean"] = summary(services)["mean"]
            rows.append(row)
        return rows

    counter_rows = finish_workers(counters)
    for row in counter_rows:
        configured = office.counters.get(row["counter"])
        row["name"] = configured.name if configured else row["counter"]

    known = [s for s in office.stations if s in station_waits or s in station_services]
    others = sorted((set(station_waits) | set(station_services)) - set(office.stations))
    stations = []
    for station_id in known + others:
        station_cfg = office.stations.get(station_id)
        stations.append({
            "station": station_id,
            "name": ({"id": station_cfg.name_id, "en": station_cfg.name_en} if station_cfg
                     else {"id": station_id, "en": station_id}),
            "wait": summary(station_waits.get(station_id, [])),
            "service": summary(station_services.get(station_id, [])),
        })

    on_time = in_slot = 0
    for visit in visits:
        t = visit.ticket
        if t.booking_id is None or t.slot_start is None or t.slot_end is None \
                or visit.checked_in is None:
            continue
        if t.slot_start - ON_TIME_EARLY <= visit.checked_in <= t.slot_end:
            on_time += 1
            in_slot += visit.first_called is not None and visit.first_called <= t.slot_end

    first_waits = [minutes(v.first_called, v.checked_in) for v in visits
                   if v.first_called and v.checked_in]
    statuses = Counter(v.status for v in visits)
    kinds = Counter(v.ticket.kind for v in visits)
    groups = Counter(v.ticket.priority_group for v in visits if v.ticket.priority_group)
    booked_total = sum(r["booked"] for r in slot_rows)

    days = []
    day = start
    while day <= end:
        of_day = [v for v in visits if v.ticket.service_day == day]
        waits = [minutes(v.first_called, v.checked_in) for v in of_day
                 if v.first_called and v.checked_in]
        day_booked = sum(1 for b in bookings if b.date == day and not b.cancelled)
        days.append({
            "date": day.isoformat(), "booked": day_booked,
            "arrived": sum(1 for v in of_day if v.ticket.booking_id),
            "walkins": sum(1 for v in of_day if v.ticket.booking_id is None),
            "served": sum(1 for v in of_day if v.finished is not None),
            "mean_wait": summary(waits)["mean"],
        })
        day += timedelta(days=1)

    tickets = []
    for visit in visits:
        t = visit.ticket
        source = bookings_by_id.get(t.booking_id or 0)
        name = source.name if source else None
        tickets.append({
            "date": t.service_day.isoformat(), "number": t.number, "kind": t.kind,
            "service": t.service, "priority_group": t.priority_group,
            "booking_code": source.code if source else None,
            "name": name if with_names else mask_name(name),
            "slot": (_slot_label(source.slot_start, source.slot_end) if source else None),
            "checked_in": _local_hhmm(visit.checked_in, office),
            "first_called": _local_hhmm(visit.first_called, office),
            "finished": _local_hhmm(visit.finished, office),
            "wait_first_call": (round(minutes(visit.first_called, visit.checked_in), 2)
                                if visit.first_called and visit.checked_in else None),
            "status": visit.status,
        })

    return {
        "office": office.id,
        "office_name": office.name,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "names": "full" if with_names else "masked",
        "totals": {
            "bookings": booked_total,
            "cancelled_bookings": sum(r["cancelled"] for r in slot_rows),
            "tickets": len(visits),
            "arrived_booked": sum(r["arrived"] for r in slot_rows),
            "no_show": sum(r["no_show"] for r in slot_rows),
            "expected": sum(r["expected"] for r in slot_rows),
            "walkin": kinds.get("walkin", 0),
            "express": kinds.get("express", 0),
            "priority": sum(groups.values()),
            "served": sum(1 for v in visits if v.finished is not None),
            "missed": statuses.get(lifecycle.MISSED, 0),
            "cancelled": statuses.get(lifecycle.CANCELLED, 0),
            "still_open": sum(statuses.get(s, 0) for s in lifecycle.ACTIVE),
        },
        "first_call_wait": summary(first_waits),
        "on_time": {"on_time": on_time, "first_called_in_slot": in_slot,
                    "share": share(in_slot, on_time)},
        "arrivals_by_slot": slot_rows,
        "arrivals_by_hour": [hours[k] for k in sorted(hours)],
        "stations": stations,
        "counters": counter_rows,
        "officers": finish_workers(officers),
        "volumes": {"kinds": dict(sorted(kinds.items())),
                    "priority_groups": dict(sorted(groups.items())),
                    "lanes_without_booking": dict(sorted(lanes.items()))},
        "quota": quota,
        "days": days,
        "tickets": tickets,
    }


def range_report(core: Core, office_id: str, start: date, end: date,
                 with_names: bool = False) -> dict[str, Any]:
    """The figures of the office-local days start..end (inclusive)."""
    if end < start:
        raise ValueError("the range ends before it starts")
    office = core.office(office_id)
    with core.db.read() as session:
        bookings, visits, by_id = load(session, office.id, start, end)
        grace = core.config.policy_for(office.id).late_grace_minutes
        report = compute(office, start, end, bookings, visits, by_id, with_names,
                         now=core.now().replace(tzinfo=None),
                         late_grace=timedelta(minutes=grace))
    report["generated_at"] = _local_iso(core.now(), office)
    return report


def day_report(core: Core, office_id: str, day: date, with_names: bool = False
               ) -> dict[str, Any]:
    """The figures of one office-local day."""
    report = range_report(core, office_id, day, day, with_names)
    report["date"] = day.isoformat()
    return report
