"""B2 check-in: 8 concurrent kiosks scanning 2,000 bookings (10 % scanned twice) through
POST /api/v1/checkin of `giliran serve`, on SQLite and on PostgreSQL.

Run: .venv/bin/python bench/bench_checkin.py [--bookings 2000] [--only sqlite|postgresql]
     [--no-append]

Each kiosk is a thread with its own enrolled kiosk token. Reports check-ins per second
(every scan, first and repeated), request latency p50/p99, tickets and reprints, duplicate
tickets for one booking (must be 0) and whether numbers are gapless per letter, both in the
answers and in the database. The kiosk rate limit is raised for the run (a real kiosk scans
a few times a minute; the limit is tested in the test suite).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    CHECKIN_HEADER,
    MODELS,
    CheckinRun,
    FloorServer,
    append_report,
    checkin_run,
    env_number,
    percentile,
    postgres_database,
    prepare_site,
    ratio,
    save_figures,
    table,
    workdir,
    worker_pid,
)

KIOSKS = 8


def run(database: str, count: int, model: str) -> CheckinRun:
    with workdir(f"giliran-b2-{database}-") as directory:
        if database == "sqlite":
            return _run(directory, f"sqlite:///{directory / 'giliran.sqlite3'}", database, count,
                        model)
        with postgres_database("bench_checkin") as url:
            return _run(directory, url, database, count, model)


def _run(directory: Path, url: str, label: str, count: int, model: str) -> CheckinRun:
    site = prepare_site(directory, url, counters=0, displays=0, kiosks=KIOSKS,
                        booking_count=count, checked_in=0)
    server = site.server("server", MODELS[model])
    server.start()
    try:
        return checkin_run(f"{label}, {model}", [server.url], site, count, kiosks=KIOSKS,
                           pids=[worker_pid(server.process.pid)])
    finally:
        server.stop()


def floor(count: int, model: str, database: str = "sqlite") -> CheckinRun:
    """The same scans against bench/floor_app.py (one insert per check-in): on SQLite, the
    floor every B2 run is divided by; on PostgreSQL, the floor of the same stack as the
    PostgreSQL run, shown beside it."""
    with workdir("giliran-b2-floor-") as directory:
        site = prepare_site(directory, f"sqlite:///{directory / 'unused.sqlite3'}", counters=0,
                            displays=0, kiosks=KIOSKS, booking_count=0, checked_in=0)
        if database == "sqlite":
            return _floor(directory, site, count, model, None, "floor")
        with postgres_database("bench_floor") as url:
            return _floor(directory, site, count, model, url, "floor on postgresql")


def _floor(directory: Path, site: Any, count: int, model: str, url: str | None,
           label: str) -> CheckinRun:
    server = FloorServer(directory / "floor", model, database_url=url)
    server.start()
    try:
        assert server.process is not None
        return checkin_run(f"{label}, {model}", [server.url], site, count, kiosks=KIOSKS,
                           check_database=False, pids=[worker_pid(server.process.pid)])
    finally:
        server.stop()


def _figures(r: CheckinRun) -> dict[str, float]:
    return {"rate": r.scans / r.seconds, "p50": percentile(r.latencies_ms, 0.5),
            "p99": percentile(r.latencies_ms, 0.99), "duplicates": r.duplicate_tickets,
            "gapless": int(r.gapless), "failures": sum(r.failures.values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=int(env_number("BENCH_BOOKINGS", 2000)))
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument("--models", default=os.environ.get("BENCH_MODELS", "gevent"),
                        help="serving models, comma-separated: gevent,threading")
    parser.add_argument("--figures", help="merge headline figures into this JSON file")
    parser.add_argument("--no-append", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    names = [args.only] if args.only else ["sqlite", "postgresql"]
    runs: list[CheckinRun] = []
    floors: dict[str, CheckinRun] = {}
    pg_floors: dict[str, CheckinRun] = {}
    figures: dict[str, dict[str, float]] = {}
    for model in [m for m in args.models.split(",") if m]:
        floors[model] = floor(args.bookings, model)
        for name in names:
            runs.append(run(name, args.bookings, model))
            rate = runs[-1].scans / runs[-1].seconds
            floor_rate = floors[model].scans / floors[model].seconds
            print(f"B2 {runs[-1].label}: {rate:.0f}/s, floor {floor_rate:.0f}/s, "
                  f"{ratio(rate, floor_rate)}", flush=True)
            figures[f"b2.{name}.{model}"] = _figures(runs[-1])
        figures[f"b2.floor.{model}"] = _figures(floors[model])
        if "postgresql" in names:
            pg_floors[model] = floor(args.bookings, model, "postgresql")
            figures[f"b2.floor_postgresql.{model}"] = _figures(pg_floors[model])
    rows = []
    for r in runs:
        model = r.label.rsplit(", ", 1)[1]
        f = floors[model]
        same = pg_floors.get(model) if r.label.startswith("postgresql") else f
        rows.append(r.row() + [ratio(r.scans / r.seconds, f.scans / f.seconds),
                               ratio(r.scans / r.seconds, same.scans / same.seconds)
                               if same else "–"])
    rows += [f.row() + ["1", "1"] for f in floors.values()]
    rows += [f.row() + [ratio(f.scans / f.seconds, floors[model].scans / floors[model].seconds),
                        "1"] for model, f in pg_floors.items()]
    body = "\n\n".join([
        f"### B2 check-in ({KIOSKS} kiosks, {args.bookings} bookings, 10 % duplicate scans, "
        "`giliran serve`, beside the floor in the same run)",
        table(CHECKIN_HEADER + ["rate / floor (SQLite)", "rate / floor on its database"], rows),
        "Targets: >= 200 check-ins/s and >= 0.3x the floor, p99 <= 50 ms, no duplicate "
        "tickets, gapless numbers. (The floor numbers tickets by row id and checks nothing.) "
        "The target's floor is the SQLite one; the floor on PostgreSQL (the same app, its "
        "insert on one psycopg connection) shows what the database alone costs.",
    ])
    save_figures(args.figures, figures)
    append_report("B2 check-in", body, append=not args.no_append)
    bad = [r for r in runs if r.duplicate_tickets or not r.gapless or r.failures]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
