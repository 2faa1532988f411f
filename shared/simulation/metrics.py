"""Figures of a simulated day, and their average over several seeds.

Definitions (docs/api.md section 11 "Simulation"; docs/simulation.md gives the details):
- visits: arrival rows of the day (walk-ins included, people refused at the kiosk included).
- wait: from the applicant's first arrival at the office to the first call at the first
  station. An early arrival's wait counts from arrival; someone refused as too early and
  back at `retry_at` also counts from the first arrival (they were there). Someone who
  got a ticket but was never called waits until `closes` (a lower bound: they were sent
  home). People refused at the kiosk never queued and have no wait.
- on-time: a booked applicant who arrived between 15 minutes before the slot and its end.
- on_time_first_call_in_slot: share of on-time applicants first called by their slot's end.
- time in office: from first arrival to the end of the last service, or to `closes` for a
  ticket not finished by then (refused people are left out).
- finished_share: share of all visits whose last service ended by `closes`.
- estimate_mae_min: mean |wait printed on the ticket - actual minutes from check-in to the
  first call| over called tickets.
A series of seeds is summarised by the mean of each day's figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from shared.simulation.engine import DayResult

CONTRACT_KEYS = (
    "policy",
    "visits",
    "mean_wait_min",
    "p90_wait_min",
    "on_time_mean_wait_min",
    "on_time_p90_wait_min",
    "on_time_first_call_in_slot",
    "mean_time_in_office_min",
    "finished_share",
    "estimate_mae_min",
)

# Labels for people: Bahasa Indonesia first, English second.
LABELS: dict[str, str] = {
    "policy": "Kebijakan urutan / Ordering policy",
    "visits": "Kedatangan / Visits",
    "mean_wait_min": "Rata-rata tunggu, semua (menit) / Mean wait, all (min)",
    "p90_wait_min": "P90 tunggu, semua (menit) / P90 wait, all (min)",
    "on_time_mean_wait_min": "Rata-rata tunggu, tepat waktu / Mean wait, on-time (min)",
    "on_time_p90_wait_min": "P90 tunggu, tepat waktu / P90 wait, on-time (min)",
    "on_time_first_call_in_slot": "Dipanggil dalam jadwal / First call within slot",
    "mean_time_in_office_min": "Rata-rata lama di kantor / Mean time in office (min)",
    "finished_share": "Selesai sebelum tutup / Finished by closing",
    "estimate_mae_min": "Galat estimasi tiket / Ticket estimate MAE (min)",
    "checked_in": "Mendapat tiket / Got a ticket",
    "refused": "Ditolak kiosk / Refused at kiosk",
    "checked_in_finished_share": "Tiket selesai sebelum tutup / Tickets finished by closing",
    "never_called": "Tidak sempat dipanggil / Never called",
    "on_time_visits": "Pemohon tepat waktu / On-time applicants",
}
SHARES = {"on_time_first_call_in_slot", "finished_share", "checked_in_finished_share"}


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else 0.0


def _p90(values: Sequence[float]) -> float:
    return float(np.percentile(values, 90)) if len(values) else 0.0


def waits(result: DayResult, on_time_only: bool = False) -> list[float]:
    """Minutes from first arrival to first call of every ticket (censored at closes)."""
    out: list[float] = []
    for v in result.visits:
        if v.ticket_id is None or (on_time_only and not v.on_time):
            continue
        called = v.first_call_at if v.first_call_at is not None else max(result.closes,
                                                                        v.arrived_at)
        out.append(_minutes(called, v.arrived_at))
    return out


def day_figures(result: DayResult) -> dict[str, Any]:
    """Every figure of one day: the contract's keys and a few more for people."""
    visits = result.visits
    ticketed = [v for v in visits if v.ticket_id is not None]
    on_time = [v for v in ticketed if v.on_time]
    all_waits = waits(result)
    on_time_waits = waits(result, on_time_only=True)
    in_slot = [
        v for v in on_time
        if v.first_call_at is not None and v.slot_end is not None and v.first_call_at <= v.slot_end
    ]
    on_time_arrivals = [v for v in visits if v.on_time]
    finished = [v for v in visits if v.finished_at is not None and v.finished_at <= result.closes]
    in_office = [
        _minutes(v.finished_at if v.finished_at is not None else max(result.closes, v.arrived_at),
                 v.arrived_at)
        for v in ticketed
    ]
    errors = [
        abs(v.estimate_minutes - _minutes(v.first_call_at, v.checked_in_at))
        for v in ticketed
        if v.estimate_minutes is not None and v.first_call_at is not None
        and v.checked_in_at is not None
    ]
    return {
        "policy": result.policy,
        "visits": len(visits),
        "mean_wait_min": _mean(all_waits),
        "p90_wait_min": _p90(all_waits),
        "on_time_mean_wait_min": _mean(on_time_waits),
        "on_time_p90_wait_min": _p90(on_time_waits),
        "on_time_first_call_in_slot": len(in_slot) / len(on_time_arrivals)
        if on_time_arrivals else 1.0,
        "mean_time_in_office_min": _mean(in_office),
        "finished_share": len(finished) / len(visits) if visits else 1.0,
        "estimate_mae_min": _mean(errors),
        "checked_in": len(ticketed),
        "refused": len(visits) - len(ticketed),
        "checked_in_finished_share": (
            sum(1 for v in ticketed if v.finished_at is not None
                and v.finished_at <= result.closes) / len(ticketed)) if ticketed else 1.0,
        "never_called": sum(1 for v in ticketed if v.first_call_at is None),
        "on_time_visits": len(on_time_arrivals),
    }


def average(figures: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean of each numeric figure over days; `policy` kept; `visits` an int when constant.
    Adds `runs` and `checked_in_finished_share_min` (the worst day)."""
    if not figures:
        raise ValueError("no days to summarise")
    policies = {f["policy"] for f in figures}
    out: dict[str, Any] = {"policy": figures[0]["policy"] if len(policies) == 1
                           else "+".join(sorted(policies))}
    for key in figures[0]:
        if key == "policy":
            continue
        values = [float(f[key]) for f in figures]
        mean = float(np.mean(values))
        out[key] = int(values[0]) if key in ("visits", "checked_in", "refused", "on_time_visits") \
            and len(set(values)) == 1 else mean
    out["runs"] = len(figures)
    out["checked_in_finished_share_min"] = min(f["checked_in_finished_share"] for f in figures)
    return out


def summarise_all(results: Sequence[DayResult]) -> dict[str, Any]:
    """Averaged figures over days, with the extra keys for people."""
    return average([day_figures(r) for r in results])


def summarise(results: Sequence[DayResult]) -> dict[str, Any]:
    """The contract's JSON object for one policy: averaged over the given days."""
    full = summarise_all(results)
    return {key: full[key] for key in CONTRACT_KEYS}
