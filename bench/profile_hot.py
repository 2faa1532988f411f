"""CPU per request on the hot paths, in process: check-in, next, finish (SQLite or
PostgreSQL).

    .venv/bin/python bench/profile_hot.py [--count 300] [--profile checkin|next|finish]
        [--top 25] [--waiting 300] [--database sqlite|postgresql]

The real application (shared.app.create_app) with a Flask test client, on a fresh SQLite
database, or a private PostgreSQL cluster (tests.services), prepared as the benchmarks
prepare theirs (bench/harness.py). Each request is timed on its own; the event dispatcher
(board snapshot, counter updates) runs in its own thread meanwhile, and its CPU is counted
in "process CPU per request". With --profile, one path runs under cProfile and the top
entries by cumulative and own time are printed.
Not a benchmark script (run_all.py runs bench_*.py): a tool for finding where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from harness import (  # noqa: E402
    CLOCK,
    OFFICE,
    bookings,
    percentile,
    postgres_database,
    prepare_site,
)


def build(directory: Path, booking_count: int, waiting: int, url: str | None = None
          ) -> tuple[Any, Any, Any]:
    site = prepare_site(directory, url or f"sqlite:///{directory / 'giliran.sqlite3'}",
                        counters=40, displays=2, kiosks=1, booking_count=booking_count,
                        checked_in=waiting)
    os.environ["GILIRAN_CLOCK"] = CLOCK
    os.environ["GILIRAN_DATABASE_URL"] = site.database_url
    os.environ["GILIRAN_CONFIG"] = str(site.config_path)
    os.environ["GILIRAN_VAR"] = str(directory)
    from shared.app import create_app, load_config
    from shared.core import Core
    from shared.db import Database, make_engine
    from shared.events import EventBus

    config = load_config(site.config_path)
    core = Core(config, Database(make_engine(site.database_url)), bus=EventBus())
    app = create_app(config, core)
    if INLINE["on"]:
        # deliver events in the request's thread, so that a profile sees their cost too
        # (the deferred board snapshot included, built at once)
        bus = core.bus

        def defer_now(key: str, work: Any, delay: float, at_most: float) -> None:
            work()

        def deliver(event: Any) -> None:
            for subscriber in list(bus._subscribers):
                subscriber(event)

        setattr(bus, "publish", deliver)  # noqa: B010 (a method replaced on purpose)
        setattr(bus, "defer", defer_now)  # noqa: B010
    return app, core, site


TOOL = {"name": "cprofile"}
INLINE = {"on": False}


def timed(label: str, calls: list[Any], core: Any, profile: bool, top: int) -> dict[str, float]:
    profiler: Any = None
    if profile and TOOL["name"] == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
    elif profile:
        profiler = cProfile.Profile()
    wall: list[float] = []
    cpu_start = time.process_time()
    started = time.perf_counter()
    for call in calls:
        t0 = time.perf_counter()
        if profiler:
            (profiler.start if TOOL["name"] == "pyinstrument" else profiler.enable)()
        call()
        if profiler:
            (profiler.stop if TOOL["name"] == "pyinstrument" else profiler.disable)()
        wall.append((time.perf_counter() - t0) * 1000)
    core.bus.wait_idle(30)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_start
    result = {"n": len(calls), "p50": percentile(wall, 0.5), "p99": percentile(wall, 0.99),
              "cpu_ms": cpu * 1000 / len(calls), "wall_ms": elapsed * 1000 / len(calls)}
    print(f"{label:8s} n={result['n']:4d} request p50 {result['p50']:.2f} ms "
          f"p99 {result['p99']:.2f} ms; process CPU per request {result['cpu_ms']:.2f} ms "
          f"(wall incl. events {result['wall_ms']:.2f} ms)", flush=True)
    if profiler and TOOL["name"] == "pyinstrument":
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    elif profiler:
        if os.environ.get("PROFILE_DUMP"):
            profiler.dump_stats(f"{os.environ['PROFILE_DUMP']}.{label}")
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
            print(out.getvalue())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--waiting", type=int, default=300,
                        help="tickets already waiting when the run starts")
    parser.add_argument("--profile", choices=["checkin", "next", "finish"], action="append",
                        default=[])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-board", action="store_true",
                        help="no board joined (events build no snapshot)")
    parser.add_argument("--inline-events", action="store_true",
                        help="deliver events in the request thread (profiles include them)")
    parser.add_argument("--tool", choices=["cprofile", "pyinstrument"], default="cprofile")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    TOOL["name"] = args.tool
    INLINE["on"] = args.inline_events
    with ExitStack() as stack:
        url = None
        if args.database == "postgresql":
            url = stack.enter_context(postgres_database("profile_hot"))
        raw = stack.enter_context(tempfile.TemporaryDirectory(prefix="giliran-profile-"))
        return _run(args, Path(raw), url)


def _run(args: Any, directory: Path, url: str | None) -> int:
    app, core, site = build(directory, args.waiting + args.count, args.waiting, url)
    client = app.test_client()
    staff = {"Authorization": f"Bearer {site.officer}"}
    kiosk_name, kiosk_token = site.kiosks[0]
    kiosk = {"Authorization": f"Bearer {kiosk_token}"}
    codes = [row["code"] for row in bookings(args.waiting + args.count)][args.waiting:]

    def checkin(code: str) -> Any:
        def go() -> None:
            answer = client.post("/api/v1/checkin", json={"scan": code, "kiosk": kiosk_name},
                                 headers=kiosk)
            assert answer.status_code == 201, answer.get_data(as_text=True)
        return go

    current: dict[int, int] = {}

    def call(index: int) -> Any:
        def go() -> None:
            answer = client.post(f"/api/v1/counters/B{index % 40 + 1}/next", headers=staff)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            current[index] = answer.get_json()["ticket"]["id"]
        return go

    def finish(index: int) -> Any:
        def go() -> None:
            answer = client.post(f"/api/v1/tickets/{current[index]}/finish", headers=staff)
            assert answer.status_code == 200, answer.get_data(as_text=True)
        return go

    board = None
    if not args.no_board:
        # one board joined to the office, so that every event builds its snapshot
        from shared.realtime import socketio

        board = socketio.test_client(app, namespace="/display",
                                     headers={"Authorization": f"Bearer {site.displays[0]}"})
        assert board.emit("join", {"office": OFFICE}, namespace="/display",
                          callback=True)["ok"]
    client.get("/api/v1/health")
    results = {}
    results["checkin"] = timed("checkin", [checkin(c) for c in codes], core,
                               "checkin" in args.profile, args.top)
    n = min(args.count, args.waiting)
    # next and finish alternate per counter as the benchmark does: finish then next
    # (40 counters each holding one ticket at most)
    nexts = [call(i) for i in range(n)]
    finishes = [finish(i) for i in range(n)]
    batches = [(nexts[i:i + 40], finishes[i:i + 40]) for i in range(0, n, 40)]
    next_calls: list[Any] = []
    finish_calls: list[Any] = []
    for calls, ends in batches:
        next_calls += calls
        finish_calls += ends
    # run batch by batch: 40 nexts, then their 40 finishes
    agg: dict[str, list[dict[str, float]]] = {"next": [], "finish": []}
    for calls, ends in batches:
        agg["next"].append(timed("next", calls, core, "next" in args.profile and
                                 calls is batches[0][0], args.top))
        agg["finish"].append(timed("finish", ends, core, "finish" in args.profile and
                                   ends is batches[0][1], args.top))
    for kind, parts in agg.items():
        total = sum(p["n"] for p in parts)
        cpu = sum(p["cpu_ms"] * p["n"] for p in parts) / total
        print(f"{kind}: mean process CPU per request {cpu:.2f} ms over {total}")
    if board is not None:
        board.disconnect(namespace="/display")
    core.bus.close()
    core.db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
