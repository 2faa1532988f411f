"""B4 scheduling quality: `giliran simulate` on the Denpasar days, slot against FIFO.

    .venv/bin/python bench/bench_simulation.py [--seeds 20] [--no-append]

Prints markdown tables: our figures next to an independent reference (`REFERENCE`
below, 20 seeds, mean), a sensitivity check of the modelling choices where the two differ, and
for the busy day the capacity planner's recommendations (counters, and quota) re-run on
the same seeds. Appends the output, with date, machine and commit, to docs/benchmarks.md.
This is a benchmark, not a test: it never fails because of the figures.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time as clock
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.simulation.engine import run_day  # noqa: E402
from shared.simulation.metrics import average, day_figures  # noqa: E402
from shared.simulation.planner import limit_quota, plan  # noqa: E402
from shared.simulation.scenario import DayData, Scenario, load_day  # noqa: E402

SCENARIOS = ROOT / "bench" / "scenarios"
TOML = SCENARIOS / "denpasar-peak.toml"
DAYS = {"denpasar-peak": "denpasar-peak", "denpasar-busy": "denpasar-busy"}

# The independent reference for B4: on-time mean wait, on-time p90 wait (min), on-time
# first call within slot, all finished by 16:00 (shares).
REFERENCE: dict[tuple[str, str], tuple[float, float, float, float]] = {
    ("denpasar-peak", "fifo"): (22.5, 37.6, 0.875, 0.991),
    ("denpasar-peak", "slot"): (12.5, 25.5, 1.000, 0.991),
    ("denpasar-busy", "fifo"): (77.3, 118.7, 0.236, 0.912),
    ("denpasar-busy", "slot"): (65.3, 99.0, 0.299, 0.912),
}
REF_KEYS = ("on_time_mean_wait_min", "on_time_p90_wait_min", "on_time_first_call_in_slot",
            "finished_share")


def load(name: str) -> DayData:
    return load_day(TOML, SCENARIOS / f"{name}-bookings.csv", SCENARIOS / f"{name}-arrivals.csv")


def simulate(scenario: Scenario, day: DayData, policy: str, seeds: int,
             counters: dict[str, int] | None = None, bookings: Sequence[Any] | None = None,
             arrivals: Sequence[Any] | None = None) -> tuple[dict[str, Any], float]:
    """Averaged figures over seeds 1..N and the median seconds per simulated day."""
    figures, seconds = [], []
    for seed in range(1, seeds + 1):
        started = clock.perf_counter()
        result = run_day(scenario, bookings if bookings is not None else day.bookings,
                         arrivals if arrivals is not None else day.arrivals, policy, seed,
                         counters)
        seconds.append(clock.perf_counter() - started)
        figures.append(day_figures(result))
    return average(figures), statistics.median(seconds)


def pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def diff(ours: float, ref: float) -> str:
    if ref == 0:
        return "n/a"
    change = (ours - ref) / ref * 100
    flag = " **!**" if abs(change) > 10 else ""
    return f"{change:+.0f} %{flag}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--plan-runs", type=int, default=20, help="seeds per planner candidate")
    parser.add_argument("--noise-seeds", type=int, default=200,
                        help="seeds for the seed-noise table (blocks of --seeds)")
    parser.add_argument("--no-append", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args(argv)
    out: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    say(f"### B4 scheduling quality ({args.seeds} seeds, mean; reference in brackets)")
    say()
    say("| scenario | policy | on-time: mean wait | on-time: p90 wait | on-time: first call "
        "within slot | all: finished by 16:00 | all: mean wait | mean time in office | "
        "ticket estimate MAE | s/day |")
    say("|---|---|---|---|---|---|---|---|---|---|")
    days = {name: load(name) for name in DAYS}
    largest_gap: list[str] = []
    for name, day in days.items():
        for policy in ("fifo", "slot"):
            fig, per_day = simulate(day.scenario, day, policy, args.seeds)
            ref = REFERENCE[(name, policy)]
            cells = []
            for key, reference in zip(REF_KEYS, ref, strict=True):
                ours = fig[key]
                shown = pct(ours) if "share" in key or "slot" in key else f"{ours:.1f} min"
                ref_shown = pct(reference) if "share" in key or "slot" in key \
                    else f"{reference:.1f}"
                d = diff(ours, reference)
                cells.append(f"{shown} ({ref_shown}; {d})")
                if "!" in d:
                    largest_gap.append(f"{name}/{policy}/{key}")
            say(f"| {name} ({len(day.bookings)} bookings) | {policy} | " + " | ".join(cells)
                + f" | {fig['mean_wait_min']:.1f} min | {fig['mean_time_in_office_min']:.1f} min"
                f" | {fig['estimate_mae_min']:.1f} min | {per_day:.3f} |")
    say()
    say("Differences over 10 % from the reference: "
        + (", ".join(largest_gap) if largest_gap else "none"))
    say()

    say("#### Modelling choices where the reference may differ (same seeds)")
    say()
    say("| scenario | policy | variant | on-time: mean wait | on-time: p90 | within slot "
        "| finished by 16:00 |")
    say("|---|---|---|---|---|---|---|")
    for name, day in days.items():
        base = day.scenario
        variants = {
            "ours (check-in until 15:00, max-wait 90 min, call = counter calls)": base,
            "check-in accepted until 16:00": replace(base, last_checkin=time(16, 0)),
            "no max-wait rule (pure FIFO / pure slot)": replace(base, max_wait_minutes=None),
            "both of the above": replace(base, last_checkin=time(16, 0), max_wait_minutes=None),
        }
        for policy in ("fifo", "slot"):
            for label, scenario in variants.items():
                fig, _ = simulate(scenario, day, policy, args.seeds)
                say(f"| {name} | {policy} | {label} | {fig['on_time_mean_wait_min']:.1f} | "
                    f"{fig['on_time_p90_wait_min']:.1f} | {pct(fig['on_time_first_call_in_slot'])}"
                    f" | {pct(fig['finished_share'])} |")
    say()

    say(f"#### Seed noise: {args.noise_seeds} seeds in blocks of {args.seeds} "
        "(on-time waits, min)")
    say()
    say("| scenario | policy | rules | mean wait: all seeds | mean wait: range of block means "
        "| p90: all seeds | p90: range of block means |")
    say("|---|---|---|---|---|---|---|")
    for name, day in days.items():
        for policy, label, scenario in (
            ("fifo", "ours", day.scenario),
            ("fifo", "pure FIFO (no max-wait)", replace(day.scenario, max_wait_minutes=None)),
            ("slot", "ours", day.scenario),
        ):
            per_seed = [day_figures(run_day(scenario, day.bookings, day.arrivals, policy, seed))
                        for seed in range(1, args.noise_seeds + 1)]
            row = [f"| {name} | {policy} | {label}"]
            for key in ("on_time_mean_wait_min", "on_time_p90_wait_min"):
                values = [f[key] for f in per_seed]
                blocks = [statistics.fmean(values[i:i + args.seeds])
                          for i in range(0, len(values) - args.seeds + 1, args.seeds)]
                row.append(f"{statistics.fmean(values):.1f} | {min(blocks):.1f} - "
                           f"{max(blocks):.1f}")
            say(" | ".join(row) + " |")
    say()

    busy = days["denpasar-busy"]
    say(f"#### Capacity planner on denpasar-busy (target 95 %, {args.plan_runs} seeds per "
        "candidate)")
    say()
    started = clock.perf_counter()
    by_counters = plan(busy.scenario, busy.bookings, busy.arrivals, target=0.95,
                       runs=args.plan_runs, mode="counters")
    counters_seconds = clock.perf_counter() - started
    started = clock.perf_counter()
    by_quota = plan(busy.scenario, busy.bookings, busy.arrivals, target=0.95,
                    runs=args.plan_runs, mode="quota")
    quota_seconds = clock.perf_counter() - started
    now = ", ".join(f"{s} {n}" for s, n in busy.scenario.counters.items())
    rec = ", ".join(f"{s} {n}" for s, n in by_counters.counters.items())
    say(f"- counters: now {now}; recommended **{rec}** "
        f"({by_counters.evaluations} candidates, {counters_seconds:.1f} s)")
    say(f"- quota with today's counters: **{by_quota.quota_per_slot} bookings per slot** "
        f"(the file has up to {by_quota.largest_slot}; {by_quota.evaluations} candidates, "
        f"{quota_seconds:.1f} s)")
    say()
    say("Re-run with the recommendation (seeds 1..N, both policies):")
    say()
    say("| staffing | policy | on-time: mean wait | on-time: p90 | within slot | finished by "
        "16:00 (all arrivals) | tickets finished by 16:00 |")
    say("|---|---|---|---|---|---|---|")
    kept_bookings, kept_arrivals = limit_quota(busy.bookings, busy.arrivals,
                                               by_quota.quota_per_slot or 0)
    for label, counters, bookings, arrivals in (
        ("today's counters", None, None, None),
        (f"recommended counters ({rec})", by_counters.counters, None, None),
        (f"quota {by_quota.quota_per_slot}/slot, today's counters", None, kept_bookings,
         kept_arrivals),
    ):
        for policy in ("fifo", "slot"):
            fig, _ = simulate(busy.scenario, busy, policy, args.seeds, counters, bookings,
                              arrivals)
            say(f"| {label} | {policy} | {fig['on_time_mean_wait_min']:.1f} min | "
                f"{fig['on_time_p90_wait_min']:.1f} min | "
                f"{pct(fig['on_time_first_call_in_slot'])} | {pct(fig['finished_share'])} | "
                f"{pct(fig['checked_in_finished_share'])} |")
    say()

    if not args.no_append:
        append(out)
    return 0


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def append(lines: list[str]) -> None:
    memory = _run(["free", "-h"]).splitlines()
    header = [
        "",
        f"## B4 simulation, {datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"Machine: {platform.node() or '?'}, nproc {_run(['nproc'])}, "
        f"memory {memory[1].split()[1] if len(memory) > 1 else '?'}, Python "
        f"{platform.python_version()}; commit {_run(['git', 'rev-parse', '--short', 'HEAD'])}"
        f"{' (dirty tree)' if _run(['git', 'status', '--porcelain', '--', 'shared']) else ''}.",
        "",
    ]
    path = ROOT / "docs" / "benchmarks.md"
    path.parent.mkdir(exist_ok=True)
    if not path.exists():
        path.write_text("# Benchmarks\n\nFigures appended by `make bench` (bench/*.py).\n",
                        encoding="utf-8")
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(header + lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
