"""Capacity planner: how many counters, or how small a quota, meets the service target.

The target (B4 of docs/benchmarks.md): at least `target` (default 95 %) of on-time applicants are
first called before their slot ends, and every ticket issued is finished by `closes` on
every simulated seed. ("Every ticket": an arrival the kiosk refuses after `last_checkin`
can never be finished, whatever the staffing, so it cannot count against a plan.)

- mode "counters": the fewest counters per station. Starting from the scenario's staffing,
  add one counter at a time where it helps most until the target is met, then take
  counters away one at a time wherever the target still holds. The answer is minimal in
  the sense that one counter fewer at any station misses the target (on the same seeds).
- mode "quota": the largest number of bookings per slot with the scenario's counters.
  A quota of q keeps the first q bookings of each slot in file order (booking order) and
  their arrivals; walk-ins stay. Found by bisection (assumes fewer bookings never hurt).

All candidates are simulated on the same seeds, and the engine draws service times per
applicant from the seed, so two staffings are compared on the same day (common random
numbers) and the search is repeatable.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from shared.groups import PREGNANT
from shared.simulation.engine import run_day
from shared.simulation.metrics import CONTRACT_KEYS, average, day_figures
from shared.simulation.scenario import MODES, Arrival, Booking, Scenario

ArrivalsFor = Callable[[int], Sequence[Arrival]]


@dataclass(frozen=True)
class Plan:
    mode: str
    target: float
    policy: str
    runs: int
    seed: int
    baseline_counters: dict[str, int]
    counters: dict[str, int]
    quota_per_slot: int | None
    largest_slot: int
    baseline: dict[str, Any]
    figures: dict[str, Any]
    met: bool
    evaluations: int
    tried: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def added(self) -> dict[str, int]:
        """Counters to add (+) or that can be spared (-) per station."""
        return {s: self.counters[s] - self.baseline_counters[s] for s in self.counters}

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "target": self.target,
            "policy": self.policy,
            "runs": self.runs,
            "seed": self.seed,
            "met": self.met,
            "counters": dict(self.counters),
            "baseline_counters": dict(self.baseline_counters),
            "quota_per_slot": self.quota_per_slot,
            "largest_slot": self.largest_slot,
            "baseline": {k: self.baseline[k] for k in CONTRACT_KEYS},
            "figures": {k: self.figures[k] for k in CONTRACT_KEYS},
            "tickets_finished_share_min": self.figures["checked_in_finished_share_min"],
            "evaluations": self.evaluations,
        }


def meets(figures: Mapping[str, Any], target: float) -> bool:
    return (figures["on_time_first_call_in_slot"] >= target - 1e-9
            and figures["checked_in_finished_share_min"] >= 1.0 - 1e-9)


def _score(figures: Mapping[str, Any]) -> tuple[float, float, float]:
    return (figures["on_time_first_call_in_slot"], figures["checked_in_finished_share"],
            -figures["mean_time_in_office_min"])


def evaluate(
    scenario: Scenario,
    bookings: Sequence[Booking],
    arrivals_for: ArrivalsFor,
    counters: Mapping[str, int],
    policy: str = "slot",
    seed: int = 1,
    runs: int = 5,
) -> dict[str, Any]:
    """Averaged figures (see metrics.summarise_all) of `runs` seeds with this staffing."""
    figures = [
        day_figures(run_day(scenario, bookings, arrivals_for(seed + k), policy, seed + k,
                            counters))
        for k in range(runs)
    ]
    return average(figures)


def slot_sizes(bookings: Sequence[Booking]) -> dict[tuple[time, time], int]:
    sizes: dict[tuple[time, time], int] = {}
    for b in bookings:
        sizes[(b.slot_start, b.slot_end)] = sizes.get((b.slot_start, b.slot_end), 0) + 1
    return sizes


def limit_quota(
    bookings: Sequence[Booking], arrivals: Sequence[Arrival], quota: int
) -> tuple[list[Booking], list[Arrival]]:
    """The first `quota` bookings of each slot (file order) and the arrivals that remain."""
    taken: dict[tuple[time, time], int] = {}
    kept: list[Booking] = []
    for b in bookings:
        key = (b.slot_start, b.slot_end)
        if taken.get(key, 0) < quota:
            taken[key] = taken.get(key, 0) + 1
            kept.append(b)
    codes = {b.code for b in kept}
    return kept, [a for a in arrivals if a.is_walkin or a.code in codes]


def _plan_counters(
    scenario: Scenario, bookings: Sequence[Booking], arrivals_for: ArrivalsFor,
    target: float, policy: str, seed: int, runs: int, max_per_station: int,
) -> tuple[dict[str, int], dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    cache: dict[tuple[int, ...], dict[str, Any]] = {}
    names = list(scenario.stations)

    def figures(counts: Mapping[str, int]) -> dict[str, Any]:
        key = tuple(counts[s] for s in names)
        if key not in cache:
            cache[key] = evaluate(scenario, bookings, arrivals_for, counts, policy, seed, runs)
        return cache[key]

    counts = dict(scenario.counters)
    while not meets(figures(counts), target):
        options = [{**counts, s: counts[s] + 1} for s in names if counts[s] < max_per_station]
        if not options:
            break
        counts = max(options, key=lambda c: _score(figures(c)))
    if meets(figures(counts), target):
        changed = True
        while changed:
            changed = False
            for s in sorted(names, key=lambda n: -counts[n]):
                if counts[s] <= 1:
                    continue
                fewer = {**counts, s: counts[s] - 1}
                if meets(figures(fewer), target):
                    counts = fewer
                    changed = True
    tried = [(", ".join(f"{s}={k}" for s, k in zip(names, key, strict=True)), fig)
             for key, fig in cache.items()]
    return counts, figures(counts), tried


def _provider(arrivals: Sequence[Arrival] | ArrivalsFor) -> ArrivalsFor:
    if callable(arrivals):
        return arrivals
    fixed = list(arrivals)

    def same_every_day(_seed: int) -> Sequence[Arrival]:
        return fixed

    return same_every_day


def plan(
    scenario: Scenario,
    bookings: Sequence[Booking],
    arrivals: Sequence[Arrival] | ArrivalsFor,
    *,
    target: float = 0.95,
    mode: str = "counters",
    policy: str = "slot",
    seed: int = 1,
    runs: int = 5,
    max_per_station: int = 30,
) -> Plan:
    """Recommend staffing (mode "counters") or a quota per slot (mode "quota")."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not 0 < target <= 1:
        raise ValueError("target is a share between 0 and 1")
    if runs < 1:
        raise ValueError("runs must be at least 1")
    arrivals_for = _provider(arrivals)
    baseline = evaluate(scenario, bookings, arrivals_for, scenario.counters, policy, seed, runs)
    sizes = slot_sizes(bookings)
    largest = max(sizes.values(), default=0)

    if mode == "counters":
        counts, figures, tried = _plan_counters(scenario, bookings, arrivals_for, target, policy,
                                                seed, runs, max_per_station)
        return Plan(mode, target, policy, runs, seed, dict(scenario.counters), counts, None,
                    largest, baseline, figures, meets(figures, target), len(tried) + 1, tried)

    cache: dict[int, dict[str, Any]] = {}

    def at_quota(q: int) -> dict[str, Any]:
        if q not in cache:
            def limited(s: int) -> Sequence[Arrival]:
                return limit_quota(bookings, arrivals_for(s), q)[1]
            kept, _ = limit_quota(bookings, [], q)
            cache[q] = evaluate(scenario, kept, limited, scenario.counters, policy, seed, runs)
        return cache[q]

    if meets(at_quota(largest), target):
        best = largest
    else:
        low, high = 0, largest  # meets(low) is assumed (no bookings); high fails
        while high - low > 1:
            middle = (low + high) // 2
            if meets(at_quota(middle), target):
                low = middle
            else:
                high = middle
        best = low
    figures = at_quota(best)
    tried = [(f"quota={q}", fig) for q, fig in sorted(cache.items())]
    return Plan(mode, target, policy, runs, seed, dict(scenario.counters),
                dict(scenario.counters), best, largest, baseline, figures,
                meets(figures, target), len(tried) + 1, tried)


@dataclass(frozen=True)
class ArrivalProfile:
    """How applicants arrive relative to their slot (minutes from slot start).

    Defaults from the Denpasar sample days (bench/scenarios): about 4.5 % no-shows, 26 %
    early (30-105 min before the slot), 9 % late (83-135 min after the slot start, i.e.
    demoted), the rest on time (15 min before to 40 min after the slot start); about ten
    express walk-ins between 08:00 and 11:30 and four priority walk-ins a day.
    """

    no_show: float = 0.045
    early: float = 0.26
    late: float = 0.09
    early_minutes: tuple[float, float] = (-105, -30)
    on_time_minutes: tuple[float, float] = (-15, 40)
    late_minutes: tuple[float, float] = (83, 135)
    express_walkins: int = 10
    express_window: tuple[time, time] = (time(8, 0), time(11, 30))
    express_service: str = "percepatan"
    priority_walkins: int = 4
    priority_window: tuple[time, time] = (time(8, 0), time(14, 0))
    priority_service: str = "paspor-baru"


def _clock(base: datetime, minutes: float) -> time:
    moment = base + timedelta(minutes=minutes)
    if moment.date() != base.date():
        return time(0, 0) if minutes < 0 else time(23, 59, 59)
    return moment.time().replace(microsecond=0)


def synthesise_arrivals(
    bookings: Sequence[Booking], seed: int, profile: ArrivalProfile | None = None
) -> list[Arrival]:
    """A plausible day of arrivals for bookings that have not happened yet."""
    p = profile or ArrivalProfile()
    rng = random.Random(seed)
    out: list[Arrival] = []
    for b in bookings:
        start = datetime.combine(b.date, b.slot_start)
        u = rng.random()
        if u < p.no_show:
            continue
        if u < p.no_show + p.early:
            behaviour, window = "early", p.early_minutes
        elif u < p.no_show + p.early + p.late:
            behaviour, window = "late", p.late_minutes
        else:
            behaviour, window = "on-time", p.on_time_minutes
        out.append(Arrival(b.code, _clock(start, rng.uniform(*window)), behaviour))
    midnight = datetime(2000, 1, 3)
    for count, (first, last), service, group in (
        (p.express_walkins, p.express_window, p.express_service, ""),
        (p.priority_walkins, p.priority_window, p.priority_service, PREGNANT),
    ):
        low = first.hour * 60 + first.minute
        high = last.hour * 60 + last.minute
        for _ in range(count):
            out.append(Arrival("", _clock(midnight, rng.uniform(low, high)), "walk-in",
                               service, group))
    out.sort(key=lambda a: a.arrive_at)
    return out


def plan_for_bookings(
    scenario: Scenario,
    bookings: Sequence[Booking],
    arrivals: Sequence[Arrival] | None = None,
    *,
    staff: Mapping[str, int] | None = None,
    target: float = 0.95,
    mode: str = "counters",
    runs: int = 5,
    seed: int = 1,
    profile: ArrivalProfile | None = None,
) -> Plan:
    """For the supervisor pages: "tomorrow's bookings with today's staff".

    `staff` is the counters per station on duty (default: the scenario's). Without
    `arrivals`, each seed draws a plausible arrival pattern for the bookings
    (`synthesise_arrivals`). The answer tells how many counters to open (mode "counters")
    or how many bookings per slot today's staff can take (mode "quota").
    """
    if staff:
        scenario = scenario.with_counters(staff)
    source: Sequence[Arrival] | ArrivalsFor
    if arrivals is not None:
        source = list(arrivals)
    else:
        def source(s: int) -> Sequence[Arrival]:
            return synthesise_arrivals(bookings, s, profile)
    return plan(scenario, bookings, source, target=target, mode=mode, runs=runs, seed=seed)


__all__ = [
    "ArrivalProfile",
    "Plan",
    "evaluate",
    "limit_quota",
    "meets",
    "plan",
    "plan_for_bookings",
    "synthesise_arrivals",
]
