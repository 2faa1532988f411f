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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    CHECKIN_HEADER,
    CheckinRun,
    append_report,
    checkin_run,
    postgres_database,
    prepare_site,
    table,
    workdir,
)

KIOSKS = 8


def run(database: str, count: int) -> CheckinRun:
    with workdir(f"giliran-b2-{database}-") as directory:
        if database == "sqlite":
            return _run(directory, f"sqlite:///{directory / 'giliran.sqlite3'}", database, count)
        with postgres_database("bench_checkin") as url:
            return _run(directory, url, database, count)


def _run(directory: Path, url: str, label: str, count: int) -> CheckinRun:
    site = prepare_site(directory, url, counters=0, displays=0, kiosks=KIOSKS,
                        booking_count=count, checked_in=0)
    server = site.server("server")
    server.start()
    try:
        return checkin_run(label, [server.url], site, count, kiosks=KIOSKS)
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument("--no-append", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args()
    names = [args.only] if args.only else ["sqlite", "postgresql"]
    runs = [run(name, args.bookings) for name in names]
    body = "\n\n".join([
        f"### B2 check-in ({KIOSKS} kiosks, {args.bookings} bookings, 10 % duplicate scans, "
        "`giliran serve`)",
        table(CHECKIN_HEADER, [r.row() for r in runs]),
        "Targets: >= 200 check-ins/s, p99 <= 50 ms, no duplicate tickets, gapless numbers.",
    ])
    append_report("B2 check-in", body, append=not args.no_append)
    bad = [r for r in runs if r.duplicate_tickets or not r.gapless or r.failures]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
