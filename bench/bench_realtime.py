"""B1 call -> board latency and B5 memory, Giliran beside the floor (B0) in the same run.

Run: .venv/bin/python bench/bench_realtime.py [--office-calls 200] [--stress-seconds 60]
     [--idle 1000] [--models gevent,threading] [--only office|idle|stress] [--no-append]

Each scenario runs on a fresh database against `giliran serve` (tests.live.LiveServer:
gunicorn, one worker, gevent unless --models says otherwise), then against
bench/floor_app.py on the same serving model. Boards are websocket clients in
subprocesses joined to one office; counters press next through REST at a fixed total
rate, each finishing its previous ticket first. Latency: from sending POST
/counters/<id>/next to each board receiving `called`. `idle`: the office scenario while
a second process holds 1,000 more authenticated board connections (connected, no room),
to measure memory and whether the office still meets its target. Memory is the worker's
VmRSS/VmHWM. Every figure is printed with its ratio to the floor's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    MODELS,
    FloorServer,
    IdleBoards,
    RealtimeRun,
    append_report,
    env_number,
    memory_kb,
    ms,
    percentile,
    prepare_site,
    ratio,
    realtime_run,
    rss_mb,
    save_figures,
    table,
    workdir,
    worker_pid,
)

# name: boards, counters, calls per second
SCENARIOS = {"office": (10, 40, 1.0), "idle": (10, 40, 1.0), "stress": (100, 100, 20.0)}
TARGETS = {"office": "p99 <= 16.7 ms and <= 1.5x the floor",
           "idle": "RSS <= 300 MB; office p99 <= 16.7 ms",
           "stress": "p99 <= 100 ms, next p99 <= 50 ms"}


class Result:
    def __init__(self, scenario: str, server: str, model: str, run: RealtimeRun,
                 idle: dict[str, int], idle_boards: IdleBoards | None) -> None:
        self.scenario, self.server, self.model, self.run = scenario, server, model, run
        self.idle_memory = idle
        self.idle_boards = idle_boards

    @property
    def p99(self) -> float:
        return percentile(self.run.result.latencies_ms, 0.99)

    @property
    def next_p99(self) -> float:
        return percentile(self.run.calls.request_ms, 0.99)

    @property
    def rss(self) -> int:
        return self.run.memory["server"]["VmHWM"]

    def bad(self) -> bool:
        r = self.run.result
        return bool(r.lost or r.duplicated or r.out_of_order or r.join_errors
                    or self.run.calls.errors)


def run_one(scenario: str, server_kind: str, model: str, seconds: float,
            idle_count: int) -> Result:
    boards, counters, rate = SCENARIOS[scenario]
    calls = int(rate * seconds)
    idle_count = idle_count if scenario == "idle" else 0
    with workdir(f"giliran-b1-{scenario}-{server_kind}-") as directory:
        site = prepare_site(directory, f"sqlite:///{directory / 'giliran.sqlite3'}",
                            counters=counters, displays=boards + 1 + idle_count, kiosks=0,
                            booking_count=calls + 20, checked_in=calls + 20)
        idle_tokens = site.displays[boards + 1:]
        site.displays = site.displays[:boards + 1]
        if server_kind == "giliran":
            server = site.server("server", MODELS[model])
        else:
            server = FloorServer(directory / "floor", model)
        server.start()
        holder: IdleBoards | None = None
        try:
            assert server.process is not None
            time.sleep(2)
            pid = worker_pid(server.process.pid)
            idle_memory = memory_kb(pid)
            if idle_tokens:
                holder = IdleBoards(server.url, idle_tokens, directory)
            run = realtime_run(scenario, server.url, server.url, site, boards=boards,
                               counters=counters, rate=rate, seconds=seconds,
                               directory=directory,
                               memory_of=lambda: {"server": memory_kb(pid)})
            if holder is not None:
                holder.close()
        finally:
            server.stop()
    return Result(scenario, server_kind, model, run, idle_memory, holder)


HEADER = ["run", "server", "model", "boards", "calls", "p50 ms", "p99 ms", "max ms",
          "p99 / floor", "lost", "dup", "out of order", "next p50 ms", "next p99 ms",
          "next p99 / floor", "idle RSS", "peak RSS", "errors"]


def row(result: Result, floor: Result | None) -> list[str]:
    r = result.run.result
    lat = r.latencies_ms
    calls = result.run.calls
    boards = str(result.run.boards)
    if result.idle_boards is not None:
        h = result.idle_boards
        boards += f" + {h.connected} idle"
        if h.refused or h.dropped:
            boards += f" ({h.refused} refused, {h.dropped} dropped)"
    return [result.scenario, result.server, result.model, boards, str(r.calls),
            ms(percentile(lat, 0.5)), ms(result.p99), ms(max(lat) if lat else float("nan")),
            ratio(result.p99, floor.p99) if floor and floor is not result else "1",
            str(r.lost), str(r.duplicated), str(r.out_of_order),
            ms(percentile(calls.request_ms, 0.5)), ms(result.next_p99),
            ratio(result.next_p99, floor.next_p99) if floor and floor is not result else "1",
            rss_mb(result.idle_memory["VmRSS"]), rss_mb(result.rss),
            ", ".join(f"{k}: {v}" for k, v in calls.errors.items()) or "0"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--office-calls", type=int,
                        default=int(env_number("BENCH_OFFICE_CALLS", 200)))
    parser.add_argument("--stress-seconds", type=float,
                        default=env_number("BENCH_STRESS_SECONDS", 60.0))
    parser.add_argument("--idle", type=int, default=int(env_number("BENCH_IDLE", 1000)),
                        help="idle boards in the idle run")
    parser.add_argument("--figures", help="merge headline figures into this JSON file")
    parser.add_argument("--models", default=os.environ.get("BENCH_MODELS", "gevent"),
                        help="serving models to run, comma-separated: gevent,threading")
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--no-append", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    scenarios = args.only or ["office", "idle", "stress"]
    models = [m for m in args.models.split(",") if m]
    rows: list[list[str]] = []
    results: list[Result] = []
    for scenario in scenarios:
        seconds = args.stress_seconds if scenario == "stress" else float(args.office_calls)
        for model in models:
            if scenario == "idle" and model == "threading":
                # a gthread worker holds a thread per websocket: 1,000 idle boards do not fit
                print("idle run skipped for threading (a thread per websocket)", flush=True)
                continue
            giliran = run_one(scenario, "giliran", model, seconds, args.idle)
            floor = run_one(scenario, "floor", model, seconds, args.idle)
            results += [giliran, floor]
            rows += [row(giliran, floor), row(floor, floor)]
            print(table(HEADER, rows[-2:]), flush=True)
    body = "\n\n".join([
        "### B1 call -> board and B5 memory: `giliran serve` beside the floor, same run",
        table(HEADER, rows),
        "Targets: " + "; ".join(f"{k}: {v}" for k, v in TARGETS.items() if k in scenarios)
        + ". Zero lost, duplicated, out of order. `next` = the counter's REST request "
        "(a finish precedes each). RSS of the gunicorn worker.",
    ])
    append_report("B1/B5 realtime and memory, beside the floor", body,
                  append=not args.no_append)
    figures: dict[str, dict[str, float]] = {}
    for result in results:
        r = result.run.result
        figures[f"b1.{result.scenario}.{result.model}.{result.server}"] = {
            "p50": percentile(r.latencies_ms, 0.5), "p99": result.p99,
            "next_p50": percentile(result.run.calls.request_ms, 0.5),
            "next_p99": result.next_p99, "rss_mb": result.rss / 1024,
            "calls": r.calls, "lost": r.lost, "dup": r.duplicated,
            "out_of_order": r.out_of_order, "errors": sum(result.run.calls.errors.values()),
            "idle_connected": result.idle_boards.connected if result.idle_boards else 0,
            "idle_dropped": result.idle_boards.dropped if result.idle_boards else 0,
        }
    save_figures(args.figures, figures)
    return 1 if any(r.bad() for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
