"""Day simulator and capacity planner, on the ordering code the server runs.

    from shared.simulation import load_day, run_day, summarise
    day = load_day("bench/scenarios/denpasar-peak.toml", ".../bookings.csv", ".../arrivals.csv")
    result = run_day(day.scenario, day.bookings, day.arrivals, policy="slot", seed=1)
    print(summarise([result]))
"""

from shared.simulation.engine import DayResult, VisitRecord, run_day, run_days
from shared.simulation.metrics import CONTRACT_KEYS, day_figures, summarise
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
