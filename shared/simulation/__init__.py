"""Day simulator and capacity planner, on the ordering code the server runs.

    from shared.simulation import load_day, run_day, summarise
    day = load_day("bench/scenarios/denpasar-peak.toml", ".../bookings.csv", ".../arrivals.csv")
    result = run_day(day.scenario, day.bookings, day.arrivals, policy="slot", seed=1)
    print(summarise([result]))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from shared.simulation.scenario import (
    Arrival,
    Booking,
    DayData,
    Scenario,
    ScenarioError,
    StationSpec,
    load_arrivals,
    load_bookings,
    load_day,
    load_scenario,
)

if TYPE_CHECKING:
    from shared.simulation.engine import DayResult, VisitRecord, run_day, run_days
    from shared.simulation.metrics import CONTRACT_KEYS, day_figures, summarise

# The engine and its metrics need numpy: they are imported when first asked for, so that
# a server, which imports the scenarios for the supervisor's plan page, does not load
# numpy (about 0.15 s and 10 MB) until somebody opens that page.
_LAZY = {
    "DayResult": "engine", "VisitRecord": "engine", "run_day": "engine", "run_days": "engine",
    "CONTRACT_KEYS": "metrics", "day_figures": "metrics", "summarise": "metrics",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"shared.simulation.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'shared.simulation' has no attribute {name!r}")


__all__ = [
    "CONTRACT_KEYS",
    "Arrival",
    "Booking",
    "DayData",
    "DayResult",
    "Scenario",
    "ScenarioError",
    "StationSpec",
    "VisitRecord",
    "day_figures",
    "load_arrivals",
    "load_bookings",
    "load_day",
    "load_scenario",
    "run_day",
    "run_days",
    "summarise",
]
