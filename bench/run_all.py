"""`make bench`: the load benchmarks beside the floor, then one summary table.

Runs bench_ticket.py (B3), bench_realtime.py (B1 office, B1 with 1,000 idle boards, B1
stress; B5 memory), bench_checkin.py (B2 on SQLite and PostgreSQL) and bench_scaleout.py
(B6: two processes, PostgreSQL and Redis), each beside bench/floor_app.py where it has a
floor, and prints every headline figure as an absolute and as a ratio to the floor
measured in the same run. Exit status non-zero if a script failed (lost, duplicated or
out-of-order calls, duplicate tickets, gaps), never because the machine was slow.

Durations (environment; the defaults keep `make bench` to about ten minutes on 2 cores):
  BENCH_OFFICE_CALLS=60     calls in B1 office and idle (1 call/s; the issue's run: 200)
  BENCH_STRESS_SECONDS=30   B1 stress at 20 calls/s (the issue's run: 60)
  BENCH_IDLE=1000           idle board connections held during the idle run
  BENCH_BOOKINGS=1000       B2 bookings per run (the issue's run: 2000)
  BENCH_B6_SECONDS=20       B6 realtime runs
  BENCH_MODELS=gevent       serving models: gevent,threading compares both
  BENCH_APPEND=0            1: each script also appends its tables to docs/benchmarks.md
  BENCH_ALL=0               1: also run bench_simulation.py (B4, a few minutes more)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULTS = {"BENCH_OFFICE_CALLS": "60", "BENCH_STRESS_SECONDS": "30", "BENCH_IDLE": "1000",
            "BENCH_BOOKINGS": "1000", "BENCH_B6_SECONDS": "20", "BENCH_MODELS": "gevent"}


def fmt(value: Any, unit: str = "") -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.1f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def ratio(value: Any, floor: Any) -> str:
    if value is None or floor is None or value != value or floor != floor or not floor:
        return "–"
    return f"{value / floor:.2f}×"


def summary(figures: dict[str, dict[str, float]], models: list[str]) -> str:
    """One row per headline figure: Giliran, the floor, the ratio, the target."""
    rows: list[list[str]] = []

    def add(name: str, ours: Any, floor: Any, unit: str, target: str, met: bool | None) -> None:
        rows.append([name, fmt(ours, unit), fmt(floor, unit), ratio(ours, floor), target,
                     "–" if met is None else ("yes" if met else "**no**")])

    for model in models:
        def b1(scenario: str, server: str, model: str = model) -> dict[str, float]:
            return figures.get(f"b1.{scenario}.{model}.{server}", {})

        for scenario, label in (("office", "B1 office"), ("idle", "B1 office + idle boards"),
                                ("stress", "B1 stress")):
            ours, floor = b1(scenario, "giliran"), b1(scenario, "floor")
            if not ours:
                continue
            p99, fp99 = ours.get("p99"), floor.get("p99")
            bad = ours.get("lost", 0) + ours.get("dup", 0) + ours.get("out_of_order", 0)
            if scenario == "stress":
                add(f"{label} call→board p99 ({model})", p99, fp99, " ms", "≤ 100 ms",
                    p99 is not None and p99 <= 100 and not bad)
                add(f"{label} next p99 ({model})", ours.get("next_p99"),
                    floor.get("next_p99"), " ms", "≤ 50 ms",
                    ours.get("next_p99", 1e9) <= 50)
            else:
                ok = (p99 is not None and fp99 is not None and p99 <= 16.7
                      and p99 <= 1.5 * fp99 and not bad)
                add(f"{label} call→board p99 ({model})", p99, fp99, " ms",
                    "≤ 16.7 ms and ≤ 1.5× floor", ok)
                add(f"{label} next p99 ({model})", ours.get("next_p99"),
                    floor.get("next_p99"), " ms", "–", None)
            if scenario == "idle":
                add(f"{label}: worker peak RSS, {int(ours.get('idle_connected', 0))} idle "
                    f"boards ({model})", ours.get("rss_mb"), floor.get("rss_mb"), " MB",
                    "≤ 300 MB", ours.get("rss_mb", 1e9) <= 300)
            rows.append([f"{label}: lost / dup / out of order ({model})",
                         f"{int(ours.get('lost', 0))} / {int(ours.get('dup', 0))} / "
                         f"{int(ours.get('out_of_order', 0))}", "", "", "0 / 0 / 0",
                         "yes" if not bad else "**no**"])
        floor_b2 = figures.get(f"b2.floor.{model}", {})
        for database in ("sqlite", "postgresql"):
            found = figures.get(f"b2.{database}.{model}")
            if not found:
                continue
            ours = found
            rate, frate = ours.get("rate"), floor_b2.get("rate")
            add(f"B2 check-ins/s, {database} ({model})", rate, frate, "/s",
                "≥ 200/s and ≥ 0.3× floor",
                rate is not None and frate is not None and rate >= 200 and rate >= 0.3 * frate
                and not ours.get("duplicates") and bool(ours.get("gapless")))
            add(f"B2 p99, {database} ({model})", ours.get("p99"), floor_b2.get("p99"), " ms",
                "≤ 50 ms", ours.get("p99", 1e9) <= 50)
            same = figures.get(f"b2.floor_{database}.{model}")
            if same:  # the floor on PostgreSQL too: what the database alone costs
                add(f"B2 check-ins/s, {database} ({model}), beside the floor on {database}",
                    rate, same.get("rate"), "/s", "(information)", None)
    floor_office = figures.get(f"b1.office.{models[0]}.floor", {})
    floor_b2 = figures.get(f"b2.floor.{models[0]}", {})
    if "b6.office" in figures:
        office = figures["b6.office"]
        add("B6 office call→board p99 (A→B, PG+Redis)", office.get("p99"),
            floor_office.get("p99"), " ms", "≤ 16.7 ms and ≤ 1.5× floor",
            office.get("p99", 1e9) <= 16.7 and office.get("p99", 1e9)
            <= 1.5 * floor_office.get("p99", 0))
        stress = figures.get("b6.stress", {})
        add("B6 stress call→board p99", stress.get("p99"), None, " ms", "≤ 100 ms",
            stress.get("p99", 1e9) <= 100)
        checkin = figures.get("b6.checkin", {})
        rate, frate = checkin.get("rate"), floor_b2.get("rate")
        add("B6 check-ins/s, kiosks on both", rate, frate, "/s", "≥ 200/s and ≥ 0.3× floor",
            rate is not None and frate is not None and rate >= 200 and rate >= 0.3 * frate)
        same = figures.get("b6.floor.office")
        if same:  # the floor on the same stack: two processes, PostgreSQL, Redis
            add("B6 office call→board p99, beside the two-process floor", office.get("p99"),
                same.get("p99"), " ms", "(information)", None)
        same = figures.get("b6.floor.checkin")
        if same:
            add("B6 check-ins/s, beside the two-process floor", rate, same.get("rate"), "/s",
                "(information)", None)
    header = ["figure", "Giliran", "floor (same run)", "ratio", "target", "met"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    env = dict(os.environ)
    for key, value in DEFAULTS.items():
        env.setdefault(key, value)
    append = env.get("BENCH_APPEND", "0") == "1"
    scripts = ["bench_ticket.py", "bench_realtime.py", "bench_checkin.py", "bench_scaleout.py"]
    if env.get("BENCH_ALL", "0") == "1":
        scripts.append("bench_simulation.py")
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="giliran-bench-") as raw:
        figures_file = Path(raw) / "figures.json"
        for script in scripts:
            args = [sys.executable, str(HERE / script)]
            if script not in ("bench_ticket.py", "bench_simulation.py"):
                args += ["--figures", str(figures_file)]
            if not append and script != "bench_ticket.py":  # B3 only prints
                args.append("--no-append")
            print(f"\n=== {script} ===", flush=True)
            started = time.monotonic()
            code = subprocess.run(args, cwd=HERE.parent, env=env).returncode
            print(f"=== {script}: exit {code} in {time.monotonic() - started:.0f} s ===",
                  flush=True)
            if code != 0:
                failed.append(script)
        figures = json.loads(figures_file.read_text()) if figures_file.exists() else {}
    models = [m for m in env["BENCH_MODELS"].split(",") if m]
    print("\n## Summary: Giliran beside the floor, same run\n")
    print(", ".join(f"{k}={env[k]}" for k in DEFAULTS))
    print()
    print(summary(figures, models))
    if figures:
        print("\nFigures (JSON):\n" + json.dumps(figures, indent=1))
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    print(f"\nall {len(scripts)} benchmarks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
