"""The supervisor's capacity plan: a day's bookings simulated with today's staff.

`capacity_plan` builds the scenario from the office config and timeline
(`shared.simulation.office`), reads the day's bookings from the database and runs
`plan_for_bookings` (arrivals drawn per seed from the Denpasar arrival profile). The
result is a plain dict for the page. Plans are kept in a small in-process cache keyed by
the scenario, the bookings and the mode, so switching between the two modes or reloading
the page does not simulate the same day again; any new booking, cancellation or change in
service times gives a new key.
"""

from __future__ import annotations

import dataclasses
import threading
import time as timer
from collections import OrderedDict
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from shared.core import Core
from shared.models import Booking as BookingRow
from shared.simulation.office import (
    SD_FACTOR,
    WALK_TO_COUNTER_SECONDS,
    bookings_for_day,
    scenario_for_office,
    service_history,
)
from shared.simulation.scenario import MODES, Booking, Scenario, StationSpec

if TYPE_CHECKING:
    from shared.simulation.planner import Plan

RUNS = 5
SEED = 1
TARGET = 0.95
CACHE_SIZE = 32
# Service times are learned from the office's own timeline only from this many recent
# services per station; fewer (five quick clicks while trying the system) would advise
# closing counters. Below that, or when the learned mean is under MIN_MEAN_MINUTES, the
# station's configured `service_minutes` is used, and the page says so.
MIN_SERVICES = 10
MIN_MEAN_MINUTES = 0.5
# How far ahead the page looks for the next day with bookings when no date is given.
LOOKAHEAD_DAYS = 60

# The simulated figures the page shows, in order (the template holds their labels).
FIGURES: tuple[tuple[str, str], ...] = (
    ("on_time_first_call_in_slot", "share"),
    ("finished_share", "share"),
    ("mean_wait_min", "minutes"),
    ("p90_wait_min", "minutes"),
    ("mean_time_in_office_min", "minutes"),
    ("visits", "count"),
)

_cache: OrderedDict[tuple[Any, ...], tuple[Plan, float]] = OrderedDict()
_lock = threading.Lock()


def _cache_key(scenario: Scenario, bookings: list[Booking], mode: str) -> tuple[Any, ...]:
    return (repr(scenario), tuple(bookings), mode, RUNS, SEED, TARGET)


def _plan(scenario: Scenario, bookings: list[Booking], mode: str) -> tuple[Plan, float]:
    """The plan and the seconds it took to simulate (cached)."""
    key = _cache_key(scenario, bookings, mode)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    # The simulator needs numpy: imported here, on the first plan, not at the server's start.
    from shared.simulation.planner import plan_for_bookings

    started = timer.perf_counter()
    result = plan_for_bookings(scenario, bookings, staff=scenario.counters, target=TARGET,
                               mode=mode, runs=RUNS, seed=SEED)
    entry = (result, timer.perf_counter() - started)
    with _lock:
        _cache[key] = entry
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return entry


def next_day_with_bookings(core: Core, office_id: str, after: date) -> date | None:
    """The first day after ``after`` (within LOOKAHEAD_DAYS) with a booking not cancelled."""
    with core.db.read() as session:
        found = session.execute(
            select(func.min(BookingRow.date)).where(
                BookingRow.office_id == office_id, BookingRow.date > after,
                BookingRow.date <= after + timedelta(days=LOOKAHEAD_DAYS),
                BookingRow.cancelled.is_(False))
        ).scalar_one_or_none()
    return found if isinstance(found, date) else None


def trusted_service_times(core: Core, office_id: str, scenario: Scenario,
                          history: dict[str, int]) -> tuple[Scenario, dict[str, str]]:
    """The scenario with learned service times only where enough services back them.

    Returns the scenario to simulate and, per station, where its mean comes from:
    "learned", "too_few" (fewer than MIN_SERVICES recorded) or "implausible" (a learned
    mean under MIN_MEAN_MINUTES); the last two use the configured `service_minutes`.
    """
    office = core.office(office_id)
    walk_minutes = WALK_TO_COUNTER_SECONDS / 60
    sources: dict[str, str] = {}
    stations: dict[str, StationSpec] = {}
    for station_id, spec in scenario.stations.items():
        if history.get(station_id, 0) < MIN_SERVICES:
            sources[station_id] = "too_few"
        elif spec.service_mean < MIN_MEAN_MINUTES:
            sources[station_id] = "implausible"
        else:
            sources[station_id] = "learned"
            stations[station_id] = spec
            continue
        configured = office.stations[station_id].service_minutes
        mean = max(configured - walk_minutes, configured / 2)
        stations[station_id] = dataclasses.replace(
            spec, service_mean=round(mean, 3), service_sd=round(SD_FACTOR * mean, 3))
    return dataclasses.replace(scenario, stations=stations), sources


def _hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")


def capacity_plan(core: Core, office_id: str, day: date, mode: str) -> dict[str, Any]:
    """Everything the plan page shows; `bookings` is 0 (and `plan` None) for an empty day."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    office = core.office(office_id)
    bookings = bookings_for_day(core, office.id, day)
    page: dict[str, Any] = {
        "office": office.id,
        "office_name": office.name,
        "date": day.isoformat(),
        "mode": mode,
        "bookings": len(bookings),
        "target": TARGET,
        "runs": RUNS,
        "plan": None,
    }
    if not bookings:
        return page
    history = service_history(core, office.id)
    scenario, sources = trusted_service_times(
        core, office.id, scenario_for_office(core, office.id), history)
    result, seconds = _plan(scenario, bookings, mode)
    data = result.as_dict()
    stations = []
    for station_id, spec in scenario.stations.items():
        station = office.stations[station_id]
        now = data["baseline_counters"][station_id]
        recommended = data["counters"][station_id]
        stations.append({
            "id": station_id,
            "name": {"id": station.name_id, "en": station.name_en},
            "now": now,
            "recommended": recommended,
            "change": recommended - now,
            "service_mean": spec.service_mean,
            "history": history.get(station_id, 0),
            "source": sources[station_id],
        })
    figures = []
    for key, kind in FIGURES:
        figures.append({"key": key, "kind": kind,
                        "baseline": data["baseline"][key], "plan": data["figures"][key]})
    slots: dict[tuple[time, time], int] = {}
    for booking in bookings:
        slot = (booking.slot_start, booking.slot_end)
        slots[slot] = slots.get(slot, 0) + 1
    page.update({
        "plan": data,
        "met": data["met"],
        "stations": stations,
        "figures": figures,
        "slots": [{"slot": f"{_hhmm(start)}–{_hhmm(end)}", "booked": count}
                  for (start, end), count in sorted(slots.items())],
        "largest_slot": data["largest_slot"],
        "quota": data["quota_per_slot"],
        "added": sum(max(s["change"], 0) for s in stations),
        "spared": sum(max(-s["change"], 0) for s in stations),
        "seconds": round(seconds, 2),
        "configured_times": sorted(k for k, v in sources.items() if v != "learned"),
        "min_services": MIN_SERVICES,
    })
    return page


__all__ = ["FIGURES", "MIN_SERVICES", "capacity_plan", "next_day_with_bookings",
           "trusted_service_times"]
