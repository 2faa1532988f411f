"""Small hand-made days for the simulator tests."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

from shared.simulation.scenario import Arrival, Booking, Scenario, StationSpec

SCENARIOS = Path(__file__).resolve().parents[2] / "bench" / "scenarios"
PEAK_TOML = SCENARIOS / "denpasar-peak.toml"
DAY = date(2026, 12, 1)


def one_counter(walk_seconds: float = 0, early_minutes: int = 120,
                last_checkin: time = time(9, 0)) -> Scenario:
    return Scenario(
        office="T",
        timezone="Asia/Makassar",
        opens=time(8, 0),
        last_checkin=last_checkin,
        closes=time(10, 0),
        flow=("loket",),
        flow_percepatan=("loket",),
        stations={"loket": StationSpec("loket", 1, 10.0, 0.0)},
        early_checkin_minutes=early_minutes,
        late_grace_minutes=15,
        walk_to_counter_seconds=walk_seconds,
        name="one-counter",
    )


def booking(code: str, start: int, group: str = "") -> Booking:
    return Booking(code, DAY, time(start, 0), time(start + 1, 0), "paspor-baru", group)


def arrival(code: str, hh: int, mm: int, behaviour: str = "on-time") -> Arrival:
    return Arrival(code, time(hh, mm), behaviour)


def walkin(hh: int, mm: int, service: str = "percepatan", group: str = "") -> Arrival:
    return Arrival("", time(hh, mm), "walk-in", service, group)
