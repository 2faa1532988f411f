"""Discrete-event replay of one office day on the server's own rules.

The engine owns only time and counters. Who may check in, and where they queue, comes from
`shared.checkin_rules.decide_checkin`; who a free counter calls comes from
`shared.ordering.order_queue` (through `queue_order` / `select_next` below, which do nothing
but call it); the wait printed on each ticket comes from `shared.ordering.estimate_wait_minutes`.
So the simulator cannot drift from what the server does.

Model (documented in docs/simulation.md):
- An arrival scans at the kiosk at `arrive_at`. After `last_checkin` the kiosk refuses
  (`closed`). A booked scan goes through `decide_checkin`; `too_early` makes the applicant
  scan again at `retry_at` (the ticket is issued then, the wait still counts from the first
  arrival); `too_late` under `late_policy = "refuse"` sends them home; a demoted late
  arrival queues as booked at its arrival time. Walk-ins queue at their arrival time.
- Kiosks work before `opens`; nobody is called before `opens` and nobody after `closes`.
  An applicant already called at `closes` is served to the end.
- A call takes `walk_to_counter_seconds` (the counter waits for the applicant), then a
  lognormal service time. A finished applicant joins the next station of the flow at once,
  keeping the place-key; after the last station the visit is done.
- Service times are drawn per (arrival, step of the flow) from the seed before the day
  starts, so two policies, or two staffings, replay the same applicants with the same
  service times (common random numbers).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic

import numpy as np

from shared.checkin_rules import decide_checkin
from shared.green import cooperate
from shared.ordering import Rules, Waiting, estimate_wait_minutes, order_queue
from shared.simulation.scenario import Arrival, Booking, Scenario, StationSpec

POLICIES = ("slot", "fifo")
# How many recent services at a station the ticket's wait estimate averages
# (config.toml [policy] service_time_window).
SERVICE_TIME_WINDOW = 20

_DONE, _OPEN, _ARRIVE = 0, 1, 2  # same instant: counters free up first, then the day opens
# A replay is pure Python: on the server (the supervisor's plan page, under gevent) it would
# hold the one hub, and with it every board, kiosk and terminal of the process, for the
# whole plan (seconds for an ordinary day, minutes for a large one, and gunicorn kills a
# worker whose hub is silent for 30 s). The day's loop lets the others run this often
# (shared.green.cooperate).
COOPERATE_SECONDS = 0.02


@dataclass(slots=True)
class VisitRecord:
    """One arrival row and what became of it."""

    index: int
    code: str
    behaviour: str
    service: str
    priority: bool
    arrived_at: datetime
    slot_start: datetime | None = None
    slot_end: datetime | None = None
    flow: tuple[str, ...] = ()
    ticket_id: int | None = None
    checked_in_at: datetime | None = None
    place_key: datetime | None = None
    demoted: bool = False
    rescanned: bool = False
    refusal: str | None = None
    estimate_minutes: float | None = None
    position_at_checkin: int | None = None
    first_call_at: datetime | None = None
    finished_at: datetime | None = None
    calls: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    @property
    def booked(self) -> bool:
        return bool(self.code)

    @property
    def on_time(self) -> bool:
        """Arrived between 15 minutes before the slot and its end (docs/api.md §11)."""
        if self.slot_start is None or self.slot_end is None:
            return False
        return self.slot_start - timedelta(minutes=15) <= self.arrived_at <= self.slot_end


@dataclass
class DayResult:
    scenario: Scenario
    policy: str
    seed: int
    day: date
    opens: datetime
    closes: datetime
    visits: list[VisitRecord]
    # per station: (minutes since midnight, tickets waiting) at every change
    queue_series: dict[str, list[tuple[float, int]]]


def rules_for(scenario: Scenario, policy: str) -> Rules:
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    return Rules(
        max_wait_minutes=scenario.max_wait_minutes,
        priority_ratio=scenario.priority_ratio,
        policy=policy,
    )


def queue_order(
    waiting: Iterable[Waiting], now: datetime, rules: Rules, recent_calls: Sequence[bool] = ()
) -> list[Waiting]:
    """The station's waiting tickets in calling order: exactly the server's `order_queue`."""
    return order_queue(waiting, now, rules, recent_calls)


def select_next(
    waiting: Iterable[Waiting], now: datetime, rules: Rules, recent_calls: Sequence[bool] = ()
) -> Waiting | None:
    """The ticket a free counter calls now, or None when nobody waits."""
    ordered = queue_order(waiting, now, rules, recent_calls)
    return ordered[0] if ordered else None


def lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the underlying normal for a lognormal with this mean and sd."""
    if mean <= 0:
        raise ValueError("mean must be positive")
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def service_minutes(spec: StationSpec, z: float) -> float:
    """A service time for the standard-normal draw `z` (sd = 0 gives the mean exactly)."""
    if spec.service_sd == 0:
        return spec.service_mean
    mu, sigma = lognormal_params(spec.service_mean, spec.service_sd)
    return math.exp(mu + sigma * z)


class _Station:
    def __init__(self, spec: StationSpec) -> None:
        self.spec = spec
        self.free = spec.counters
        self.waiting: dict[int, Waiting] = {}
        self.recent_calls: deque[bool] = deque(maxlen=64)
        self.recent_service: deque[float] = deque(maxlen=SERVICE_TIME_WINDOW)
        self.series: list[tuple[float, int]] = []

    def mean_service(self, walk_minutes: float) -> float:
        """What the server would average: call-to-finish minutes of recent services."""
        if self.recent_service:
            return sum(self.recent_service) / len(self.recent_service)
        return self.spec.service_mean + walk_minutes


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock)


def _minutes(moment: datetime) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60 + moment.microsecond / 6e7


def scenario_day(bookings: Sequence[Booking]) -> date:
    return bookings[0].date if bookings else date(2000, 1, 3)


def run_day(
    scenario: Scenario,
    bookings: Sequence[Booking],
    arrivals: Sequence[Arrival],
    policy: str = "slot",
    seed: int = 1,
    counters: Mapping[str, int] | None = None,
) -> DayResult:
    """Replay one day. `counters` overrides the scenario's staffing per station."""
    if counters:
        scenario = scenario.with_counters(counters)
    rules = rules_for(scenario, policy)
    day = scenario_day(bookings)
    opens = _at(day, scenario.opens)
    closes = _at(day, scenario.closes)
    last_checkin = _at(day, scenario.last_checkin)
    walk = timedelta(seconds=scenario.walk_to_counter_seconds)
    walk_minutes = scenario.walk_to_counter_seconds / 60
    by_code = {b.code: b for b in bookings}
    stations = {sid: _Station(spec) for sid, spec in scenario.stations.items()}

    longest_flow = max(len(scenario.flow), len(scenario.flow_percepatan))
    draws = np.random.default_rng(seed).standard_normal((len(arrivals), longest_flow))

    visits: list[VisitRecord] = []
    events: list[tuple[datetime, int, int, int, str]] = []
    sequence = 0

    def push(moment: datetime, kind: int, subject: int, station: str = "") -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (moment, kind, sequence, subject, station))

    for index, arrival in enumerate(arrivals):
        booking = by_code.get(arrival.code) if arrival.code else None
        service = arrival.walkin_service if arrival.is_walkin else (
            booking.service if booking else "")
        group = arrival.priority_group or (booking.priority_group if booking else "")
        visit = VisitRecord(
            index=index,
            code=arrival.code,
            behaviour=arrival.behaviour,
            service=service,
            priority=bool(group),
            arrived_at=_at(day, arrival.arrive_at),
            slot_start=_at(day, booking.slot_start) if booking else None,
            slot_end=_at(day, booking.slot_end) if booking else None,
            flow=scenario.flow_for(service) if service else (),
        )
        visits.append(visit)
        push(visit.arrived_at, _ARRIVE, index)
    push(opens, _OPEN, -1)

    def record(station: _Station, now: datetime) -> None:
        station.series.append((_minutes(now), len(station.waiting)))

    def dispatch(sid: str, now: datetime) -> None:
        if now < opens or now >= closes:
            return
        station = stations[sid]
        while station.free > 0 and station.waiting:
            chosen = select_next(station.waiting.values(), now, rules, tuple(station.recent_calls))
            assert chosen is not None
            del station.waiting[chosen.ticket_id]
            station.free -= 1
            station.recent_calls.append(chosen.priority)
            visit = ticket_visit[chosen.ticket_id]
            if visit.first_call_at is None:
                visit.first_call_at = now
            step = len(visit.calls)
            minutes = service_minutes(station.spec, float(draws[visit.index, step]))
            done = now + walk + timedelta(minutes=minutes)
            visit.calls.append((sid, now, done))
            push(done, _DONE, visit.index, sid)
            record(station, now)

    def enter(visit: VisitRecord, sid: str, now: datetime) -> None:
        assert visit.ticket_id is not None and visit.place_key is not None
        assert visit.checked_in_at is not None
        station = stations[sid]
        station.waiting[visit.ticket_id] = Waiting(
            ticket_id=visit.ticket_id,
            place_key=visit.place_key,
            checked_in_at=visit.checked_in_at,
            entered_at=now,
            priority=visit.priority,
        )
        record(station, now)

    ticket_visit: dict[int, VisitRecord] = {}

    def check_in(visit: VisitRecord, now: datetime) -> None:
        if now > last_checkin:
            visit.refusal = "closed"
            return
        if visit.booked:
            if visit.slot_start is None or visit.slot_end is None:
                visit.refusal = "unknown_booking"
                return
            decision = decide_checkin(
                visit.slot_start, visit.slot_end, now,
                scenario.early_checkin_minutes, scenario.late_grace_minutes,
                scenario.late_policy,
            )
            if not decision.accepted:
                if decision.refusal == "too_early" and decision.retry_at is not None:
                    visit.rescanned = True
                    push(decision.retry_at, _ARRIVE, visit.index)
                    return
                visit.refusal = decision.refusal or "refused"
                return
            visit.demoted = decision.demoted
            visit.place_key = decision.place_key or now
        else:
            visit.place_key = now
        if not visit.flow:
            visit.refusal = "unknown_service"
            return
        visit.refusal = None
        visit.ticket_id = len(ticket_visit) + 1
        visit.checked_in_at = now
        ticket_visit[visit.ticket_id] = visit
        first = visit.flow[0]
        enter(visit, first, now)
        station = stations[first]
        ordered = queue_order(station.waiting.values(), now, rules, tuple(station.recent_calls))
        position = next(i for i, w in enumerate(ordered) if w.ticket_id == visit.ticket_id)
        visit.position_at_checkin = position
        visit.estimate_minutes = estimate_wait_minutes(
            position, station.spec.counters, station.mean_service(walk_minutes))
        dispatch(first, now)

    last_yield = monotonic()
    while events:
        if monotonic() - last_yield >= COOPERATE_SECONDS:
            cooperate()
            last_yield = monotonic()
        now, kind, _, subject, sid = heapq.heappop(events)
        if kind == _OPEN:
            for name in stations:
                dispatch(name, now)
        elif kind == _ARRIVE:
            check_in(visits[subject], now)
        else:
            visit = visits[subject]
            station = stations[sid]
            station.free += 1
            _, called, _ = visit.calls[-1]
            station.recent_service.append((now - called).total_seconds() / 60)
            if len(visit.calls) < len(visit.flow):
                following = visit.flow[len(visit.calls)]
                enter(visit, following, now)
                dispatch(following, now)
            else:
                visit.finished_at = now
            dispatch(sid, now)

    return DayResult(
        scenario=scenario,
        policy=policy,
        seed=seed,
        day=day,
        opens=opens,
        closes=closes,
        visits=visits,
        queue_series={sid: st.series for sid, st in stations.items()},
    )


def run_days(
    scenario: Scenario,
    bookings: Sequence[Booking],
    arrivals: Sequence[Arrival],
    policy: str = "slot",
    seed: int = 1,
    runs: int = 1,
    counters: Mapping[str, int] | None = None,
) -> list[DayResult]:
    """`runs` days on seeds seed, seed+1, ..."""
    return [run_day(scenario, bookings, arrivals, policy, seed + k, counters) for k in range(runs)]
