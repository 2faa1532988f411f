"""A one-counter day checked by hand, and the engine's bookkeeping."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

import shared.simulation.engine as engine
from shared.ordering import estimate_wait_minutes, order_queue
from shared.simulation import day_figures, run_day, summarise
from shared.simulation.engine import lognormal_params, service_minutes
from shared.simulation.metrics import waits
from shared.simulation.scenario import StationSpec

from .helpers import DAY, arrival, booking, one_counter, walkin

BOOKINGS = [booking("AAAAAA", 8), booking("BBBBBB", 8), booking("CCCCCC", 9),
            booking("DDDDDD", 8)]
ARRIVALS = [
    arrival("CCCCCC", 7, 30, "early"),  # 09-10 slot, 90 min early
    arrival("AAAAAA", 7, 50),
    arrival("BBBBBB", 7, 55),
    walkin(8, 2),
    arrival("DDDDDD", 9, 30, "late"),  # after last_checkin 09:00: refused
]


def at(hh: int, mm: int) -> datetime:
    return datetime.combine(DAY, datetime.min.time()).replace(hour=hh, minute=mm)


def by_code(result: engine.DayResult) -> dict[str, engine.VisitRecord]:
    return {v.code or "walk-in": v for v in result.visits}


def test_slot_policy_one_counter_exact_waits() -> None:
    result = run_day(one_counter(), BOOKINGS, ARRIVALS, policy="slot", seed=7)
    visits = by_code(result)
    # 08:00 A (slot 08, checked in 07:50), 08:10 B, 08:20 the walk-in (place-key 08:02),
    # 08:30 C (slot 09 sorts after everything booked or walked in before 09:00).
    assert visits["AAAAAA"].first_call_at == at(8, 0)
    assert visits["BBBBBB"].first_call_at == at(8, 10)
    assert visits["walk-in"].first_call_at == at(8, 20)
    assert visits["CCCCCC"].first_call_at == at(8, 30)
    assert visits["CCCCCC"].finished_at == at(8, 40)
    assert visits["DDDDDD"].refusal == "closed" and visits["DDDDDD"].ticket_id is None

    figures = day_figures(result)
    assert figures["visits"] == 5
    assert figures["mean_wait_min"] == pytest.approx((10 + 15 + 18 + 60) / 4)
    assert figures["on_time_mean_wait_min"] == pytest.approx((10 + 15) / 2)  # A and B only
    assert figures["on_time_first_call_in_slot"] == 1.0
    assert figures["mean_time_in_office_min"] == pytest.approx((20 + 25 + 28 + 70) / 4)
    assert figures["finished_share"] == pytest.approx(4 / 5)
    assert figures["checked_in_finished_share"] == 1.0

    # Printed estimates: position in the server's order at check-in, 1 counter, 10 min.
    positions = {"CCCCCC": 0, "AAAAAA": 0, "BBBBBB": 1, "walk-in": 1}
    actual = {"CCCCCC": 60, "AAAAAA": 10, "BBBBBB": 15, "walk-in": 18}
    for code, position in positions.items():
        assert visits[code].position_at_checkin == position
        assert visits[code].estimate_minutes == pytest.approx(
            estimate_wait_minutes(position, 1, 10.0))
    # (everyone here checked in on arrival, so the wait from check-in is the wait)
    mae = np.mean([abs(estimate_wait_minutes(positions[c], 1, 10.0) - actual[c])
                   for c in positions])
    assert figures["estimate_mae_min"] == pytest.approx(mae)


def test_fifo_policy_one_counter_exact_waits() -> None:
    visits = by_code(run_day(one_counter(), BOOKINGS, ARRIVALS, policy="fifo", seed=7))
    assert [visits[c].first_call_at for c in ("CCCCCC", "AAAAAA", "BBBBBB", "walk-in")] == [
        at(8, 0), at(8, 10), at(8, 20), at(8, 30)]


def test_walk_to_counter_keeps_the_counter_busy() -> None:
    result = run_day(one_counter(walk_seconds=30), BOOKINGS[:2], ARRIVALS[1:3], "slot", 1)
    a, b = result.visits
    assert a.first_call_at == at(8, 0)
    assert a.finished_at == at(8, 10).replace(second=30)
    assert b.first_call_at == at(8, 10).replace(second=30)
    assert b.finished_at == at(8, 21)


def test_too_early_scans_again_at_retry_time_and_waits_from_first_arrival() -> None:
    scenario = one_counter(early_minutes=30)
    result = run_day(scenario, [booking("AAAAAA", 8)], [arrival("AAAAAA", 7, 0, "early")])
    visit = result.visits[0]
    assert visit.rescanned and visit.refusal is None
    assert visit.checked_in_at == at(7, 30)
    assert visit.first_call_at == at(8, 0)
    assert day_figures(result)["mean_wait_min"] == pytest.approx(60)


def test_nobody_called_before_opening_or_after_closing() -> None:
    bookings = [booking(f"CODE{i:03d}", 9) for i in range(20)]
    arrivals = [arrival(f"CODE{i:03d}", 7, 30 + i) for i in range(20)]
    result = run_day(one_counter(), bookings, arrivals)
    calls = [v.first_call_at for v in result.visits if v.first_call_at is not None]
    assert min(calls) == at(8, 0)
    assert max(calls) < at(10, 0)
    assert len(calls) == 12  # 08:00, 08:10, ..., 09:50
    figures = day_figures(result)
    assert figures["finished_share"] == pytest.approx(12 / 20)
    # a ticket never called waits until closing (a lower bound): 07:42 -> 10:00
    assert max(waits(result)) == pytest.approx(138)
    assert figures["checked_in_finished_share"] == pytest.approx(12 / 20)


def test_priority_group_goes_first() -> None:
    bookings = [booking("AAAAAA", 8), booking("PPPPPP", 8, "lansia")]
    arrivals = [arrival("AAAAAA", 7, 40), arrival("PPPPPP", 7, 50)]
    visits = by_code(run_day(one_counter(), bookings, arrivals))
    assert visits["PPPPPP"].first_call_at == at(8, 0)
    assert visits["AAAAAA"].first_call_at == at(8, 10)


def test_engine_picks_with_order_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def spy(waiting, now, rules, recent_calls=()):  # type: ignore[no-untyped-def]
        result = order_queue(waiting, now, rules, recent_calls)
        calls.append(len(result))
        return result

    monkeypatch.setattr(engine, "order_queue", spy)
    run_day(one_counter(), BOOKINGS, ARRIVALS)
    # one ordering per check-in (the estimate) and one per call
    assert len(calls) == 4 + 4


def test_lognormal_parameters_reproduce_mean_and_sd() -> None:
    mu, sigma = lognormal_params(6.0, 2.5)
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(6.0)
    assert math.sqrt((math.exp(sigma**2) - 1) * math.exp(2 * mu + sigma**2)) == pytest.approx(2.5)
    spec = StationSpec("x", 1, 6.0, 2.5)
    draws = [service_minutes(spec, z) for z in np.random.default_rng(3).standard_normal(20000)]
    assert np.mean(draws) == pytest.approx(6.0, rel=0.03)
    assert np.std(draws) == pytest.approx(2.5, rel=0.05)
    assert service_minutes(StationSpec("x", 1, 4.0, 0.0), 1.7) == 4.0


def test_same_seed_same_day_and_summary_keys() -> None:
    first = run_day(one_counter(), BOOKINGS, ARRIVALS, "slot", 3)
    second = run_day(one_counter(), BOOKINGS, ARRIVALS, "slot", 3)
    assert summarise([first]) == summarise([second])
    assert summarise([first])["policy"] == "slot"
