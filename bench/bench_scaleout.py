"""B6 scale-out: two `giliran serve` processes on one PostgreSQL database with Redis;
boards on process A, counters on process B (B1), kiosks on both (B2).

Run: .venv/bin/python bench/bench_scaleout.py [--seconds 30] [--bookings 2000] [--no-append]

Every `called` a board on A receives travelled: counter -> B -> PostgreSQL commit -> Redis
-> A -> board. PostgreSQL and Redis are private servers started for the run
(tests.services), so the figures include no network hop between machines.

Beside it, the same runs against the floor on the same stack (information): two
bench/floor_app.py processes on one PostgreSQL database whose emits go through Redis
(Flask-SocketIO's message queue), boards on A, counters on B, kiosks on both.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    CHECKIN_HEADER,
    POLL_HEADER,
    REALTIME_HEADER,
    CheckinRun,
    FloorServer,
    RealtimeRun,
    append_report,
    checkin_run,
    env_number,
    memory_kb,
    percentile,
    postgres_database,
    prepare_site,
    realtime_run,
    redis_url,
    rss_mb,
    save_figures,
    table,
    workdir,
    worker_pid,
)

SCENARIOS = {"office": (10, 40, 1.0), "stress": (100, 100, 20.0)}


@contextmanager
def running(first: Any, second: Any) -> Iterator[tuple[Any, Any]]:
    """Two servers (Giliran's or the floor's) started one after the other (each floor
    creates its table if missing), both stopped at the end."""
    first.start()
    try:
        second.start()
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def _floors(directory: Path, url: str, redis: str) -> tuple[FloorServer, FloorServer]:
    """Two floor processes on one PostgreSQL database, their emits through Redis."""
    return (FloorServer(directory / "a", database_url=url, redis_url=redis),
            FloorServer(directory / "b", database_url=url, redis_url=redis))


def realtime(name: str, seconds: float, redis: str) -> RealtimeRun:
    boards, counters, rate = SCENARIOS[name]
    calls = int(rate * seconds)
    with workdir(f"giliran-b6-{name}-") as directory, \
            postgres_database(f"bench_scaleout_{name}") as url:
        site = prepare_site(directory, url, counters=counters, displays=boards + 1, kiosks=0,
                            booking_count=calls + 20, checked_in=calls + 20)
        env = {"GILIRAN_REDIS_URL": redis}
        with running(site.server("a", env), site.server("b", env)) as (first, second):
            assert first.process is not None and second.process is not None
            pids = {"A (boards)": worker_pid(first.process.pid),
                    "B (counters)": worker_pid(second.process.pid)}
            return realtime_run(f"{name}, A->B", first.url, second.url, site, boards=boards,
                                counters=counters, rate=rate, seconds=seconds,
                                directory=directory,
                                memory_of=lambda: {k: memory_kb(p) for k, p in pids.items()})


def floor_realtime(name: str, seconds: float, redis: str) -> RealtimeRun:
    """The same run against two floor processes (PostgreSQL, emits through Redis)."""
    boards, counters, rate = SCENARIOS[name]
    with workdir(f"giliran-b6-floor-{name}-") as directory, \
            postgres_database(f"bench_scaleout_floor_{name}") as url:
        site = prepare_site(directory, f"sqlite:///{directory / 'unused.sqlite3'}",
                            counters=counters, displays=boards + 1, kiosks=0, booking_count=0,
                            checked_in=0)
        with running(*_floors(directory, url, redis)) as (first, second):
            return realtime_run(f"floor: {name}, A->B", first.url, second.url, site,
                                boards=boards, counters=counters, rate=rate, seconds=seconds,
                                directory=directory, memory_of=lambda: {})


def floor_checkin(count: int, redis: str) -> CheckinRun:
    with workdir("giliran-b6-floor-checkin-") as directory, \
            postgres_database("bench_scaleout_floor_checkin") as url:
        site = prepare_site(directory, f"sqlite:///{directory / 'unused.sqlite3'}", counters=0,
                            displays=0, kiosks=8, booking_count=0, checked_in=0)
        with running(*_floors(directory, url, redis)) as (first, second):
            return checkin_run("floor: postgresql, kiosks on A and B",
                               [first.url, second.url], site, count, check_database=False,
                               pids=_workers(first, second))


def checkin(count: int, redis: str) -> CheckinRun:
    with workdir("giliran-b6-checkin-") as directory, \
            postgres_database("bench_scaleout_checkin") as url:
        site = prepare_site(directory, url, counters=0, displays=0, kiosks=8,
                            booking_count=count, checked_in=0)
        env = {"GILIRAN_REDIS_URL": redis}
        with running(site.server("a", env), site.server("b", env)) as (first, second):
            return checkin_run("postgresql, kiosks on A and B", [first.url, second.url], site,
                               count, pids=_workers(first, second))


def _workers(*servers: Any) -> list[int]:
    """The gunicorn workers of these servers (Giliran's or the floor's)."""
    return [worker_pid(server.process.pid) for server in servers]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=env_number("BENCH_B6_SECONDS", 30.0))
    parser.add_argument("--bookings", type=int, default=int(env_number("BENCH_BOOKINGS", 2000)))
    parser.add_argument("--figures", help="merge headline figures into this JSON file")
    parser.add_argument("--no-append", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    with redis_url() as redis:
        runs = [realtime(name, args.seconds, redis) for name in ("office", "stress")]
        checkins = checkin(args.bookings, redis)
        floor_runs = [floor_realtime(name, args.seconds, redis) for name in ("office",)]
        floor_checkins = floor_checkin(args.bookings, redis)
    memory_rows = [[r.label, process, rss_mb(m["VmRSS"]), rss_mb(m["VmHWM"])]
                   for r in runs for process, m in r.memory.items()]
    body = "\n\n".join([
        f"### B6 scale-out: B1 with boards on A, counters on B ({args.seconds:g} s per run)",
        table(REALTIME_HEADER, [r.row() for r in runs + floor_runs]),
        "#### Polling boards on A",
        table(POLL_HEADER, [row for r in runs for row in r.poll_rows()]),
        "#### Memory of both processes at the end of each run",
        table(["run", "process", "RSS", "peak (VmHWM)"], memory_rows),
        "#### B2 across both processes (8 kiosks, 4 on each)",
        table(CHECKIN_HEADER, [checkins.row(), floor_checkins.row()]),
        "The floor rows: the same calls against two bench/floor_app.py processes on the "
        "same stack (PostgreSQL, emits through Redis), for information; the targets are "
        "judged against the one-process floor of bench_realtime.py and bench_checkin.py.",
    ])
    append_report("B6 scale-out (PostgreSQL + Redis, two processes)", body,
                  append=not args.no_append)
    figures: dict[str, dict[str, float]] = {}
    for name, r in zip(("office", "stress"), runs, strict=True):
        figures[f"b6.{name}"] = {
            "p50": percentile(r.result.latencies_ms, 0.5),
            "p99": percentile(r.result.latencies_ms, 0.99),
            "next_p99": percentile(r.calls.request_ms, 0.99), "calls": r.result.calls,
            "lost": r.result.lost, "dup": r.result.duplicated,
            "out_of_order": r.result.out_of_order}
    for name, r in zip(("office",), floor_runs, strict=True):
        figures[f"b6.floor.{name}"] = {
            "p50": percentile(r.result.latencies_ms, 0.5),
            "p99": percentile(r.result.latencies_ms, 0.99)}
    figures["b6.floor.checkin"] = {"rate": floor_checkins.scans / floor_checkins.seconds,
                                   "p99": percentile(floor_checkins.latencies_ms, 0.99)}
    figures["b6.checkin"] = {"rate": checkins.scans / checkins.seconds,
                             "p99": percentile(checkins.latencies_ms, 0.99),
                             "duplicates": checkins.duplicate_tickets,
                             "gapless": int(checkins.gapless)}
    save_figures(args.figures, figures)
    bad = [r for r in runs if r.result.lost or r.result.duplicated or r.result.out_of_order
           or r.result.join_errors or r.calls.errors]
    if bad or checkins.duplicate_tickets or not checkins.gapless or checkins.failures:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
