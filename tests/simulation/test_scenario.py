"""Scenario, bookings and arrivals files: loaded, or refused with a clear message."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from shared.simulation.scenario import (
    ScenarioError,
    load_arrivals,
    load_bookings,
    load_day,
    parse_scenario,
)

from .helpers import PEAK_TOML, SCENARIOS


def test_peak_day_loads() -> None:
    day = load_day(PEAK_TOML, SCENARIOS / "denpasar-peak-bookings.csv",
                   SCENARIOS / "denpasar-peak-arrivals.csv")
    assert day.scenario.counters == {"berkas": 2, "wawancara": 4, "sidik-jari": 2, "foto": 2}
    assert day.scenario.closes == time(16, 0)
    assert day.scenario.walk_to_counter_seconds == 30
    assert day.scenario.flow_for("percepatan") == day.scenario.flow_percepatan
    assert len(day.bookings) == 222 and len(day.arrivals) == 226
    assert sum(a.is_walkin for a in day.arrivals) == 14
    assert not day.notes


def test_scenario_errors_name_key_and_line() -> None:
    text = PEAK_TOML.read_text()
    with pytest.raises(ScenarioError, match=r"stations\[1\]\.counters: missing"):
        parse_scenario(text.replace("counters = 4\n", ""), "x.toml")
    with pytest.raises(ScenarioError, match=r"x.toml:\d+: opens: expected a time"):
        parse_scenario(text.replace('opens = "08:00"', 'opens = "8 pagi"'), "x.toml")
    with pytest.raises(ScenarioError, match="service_sd: must not be negative"):
        parse_scenario(text.replace("service_sd = 1.2", "service_sd = -1"), "x.toml")
    with pytest.raises(ScenarioError, match="unknown key"):
        parse_scenario(text + "\nspeed = 3\n", "x.toml")


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    bookings = tmp_path / "b.csv"
    bookings.write_text("code,office,date,slot_start,slot_end,service,priority_group,name\n"
                        "ABCDEF,DPS,2026-12-01,08:00,09:00,paspor-baru,,A\n"
                        "GHIJKL,DPS,2026-12-01,9am,10:00,paspor-baru,,B\n")
    with pytest.raises(ScenarioError, match=r"b.csv:3: slot_start"):
        load_bookings(bookings)
    arrivals = tmp_path / "a.csv"
    arrivals.write_text("code,arrive_at,behaviour,walkin_service,priority_group\n"
                        ",08:00:00,walk-in,,\n")
    with pytest.raises(ScenarioError, match=r"a.csv:2: a walk-in row needs walkin_service"):
        load_arrivals(arrivals)
    arrivals.write_text("code,arrive_at\nABCDEF,08:00\n")
    with pytest.raises(ScenarioError, match="header lacks column"):
        load_arrivals(arrivals)
