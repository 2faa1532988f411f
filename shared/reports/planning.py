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

import threading
import time as timer
from collections import OrderedDict
from datetime import date, time
from typing import Any

from shared.core import Core
from shared.simulation.office import bookings_for_day, scenario_for_office, service_history
from shared.simulation.planner import MODES, Plan, plan_for_bookings
from shared.simulation.scenario import Booking, Scenario

RUNS = 5
SEED = 1
TARGET = 0.95
CACHE_SIZE = 32

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
    started = timer.perf_counter()
    result = plan_for_bookings(scenario, bookings, staff=scenario.counters, target=TARGET,
                               mode=mode, runs=RUNS, seed=SEED)
    entry = (result, timer.perf_counter() - started)
    with _lock:
        _cache[key] = entry
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return entry


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
    scenario = scenario_for_office(core, office.id)
    history = service_history(core, office.id)
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
    })
    return page


__all__ = ["FIGURES", "capacity_plan"]
