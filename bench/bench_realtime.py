"""B1 call -> board latency, and B5 memory, against `giliran serve` on SQLite.

Run: .venv/bin/python bench/bench_realtime.py [--seconds 30] [--only office|stress] [--no-append]

Each scenario gets a fresh database and a fresh server (tests.live.LiveServer, i.e. the
`giliran serve` command as deployed without a proxy). Boards are python-socketio clients
in subprocesses, joined to one office over websocket; counters press next through REST
at a fixed total rate, each finishing its previous ticket first. Latency is from sending
POST /counters/<id>/next to each board receiving `called` for that number. Two more boards
poll GET /api/v1/board/<office> every 2 s and every 5 s; their staleness is the time from
sending a call to the poll that first shows it. B5: VmRSS/VmHWM of the server process idle
(started, nobody connected) and at the end of the run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    POLL_HEADER,
    REALTIME_HEADER,
    RealtimeRun,
    append_report,
    memory_kb,
    prepare_site,
    realtime_run,
    rss_mb,
    table,
    workdir,
)

SCENARIOS = {
    # name: boards, counters, calls per second
    "office": (10, 40, 1.0),
    "stress": (100, 100, 20.0),
}


def run(name: str, seconds: float) -> tuple[RealtimeRun, dict[str, int]]:
    boards, counters, rate = SCENARIOS[name]
    calls = int(rate * seconds)
    with workdir(f"giliran-b1-{name}-") as directory:
        site = prepare_site(directory, f"sqlite:///{directory / 'giliran.sqlite3'}",
                            counters=counters, displays=boards + 1, kiosks=0,
                            booking_count=calls + 20, checked_in=calls + 20)
        server = site.server("server")
        server.start()
        try:
            assert server.process is not None
            pid = server.process.pid
            time.sleep(2)
            idle = memory_kb(pid)
            result = realtime_run(name, server.url, server.url, site, boards=boards,
                                  counters=counters, rate=rate, seconds=seconds,
                                  directory=directory,
                                  memory_of=lambda: {"server": memory_kb(pid)})
        finally:
            server.stop()
    return result, idle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--only", choices=sorted(SCENARIOS), default=None)
    parser.add_argument("--no-append", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    names = [args.only] if args.only else ["office", "stress"]
    runs = [run(name, args.seconds) for name in names]
    memory_rows = [[r.label, rss_mb(idle["VmRSS"]), rss_mb(idle["VmHWM"]),
                    rss_mb(r.memory["server"]["VmRSS"]), rss_mb(r.memory["server"]["VmHWM"])]
                   for r, idle in runs]
    body = "\n\n".join([
        f"### B1 call -> board (`giliran serve`, SQLite, {args.seconds:g} s per run)",
        table(REALTIME_HEADER, [r.row() for r, _ in runs]),
        "Targets: office p99 <= 20 ms, stress p99 <= 100 ms; zero lost, duplicated, "
        "out of order. `next` = the counter's REST request.",
        "#### Polling boards in the same runs (GET /api/v1/board every 2 s / 5 s)",
        table(POLL_HEADER, [row for r, _ in runs for row in r.poll_rows()]),
        "#### B5 memory of the `giliran serve` process (targets: idle <= 150 MB, "
        "stress <= 300 MB)",
        table(["run", "idle RSS", "idle peak (VmHWM)", "end RSS", "peak (VmHWM)"], memory_rows),
    ])
    append_report("B1/B5 realtime and memory", body, append=not args.no_append)
    bad = [r for r, _ in runs if r.result.lost or r.result.duplicated or r.result.out_of_order
           or r.result.join_errors or r.calls.errors]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
