"""Shared pieces of the load benchmarks (B1, B2, B5, B6): servers, data, boards, reports.

Not a benchmark itself (run_all.py runs bench/bench_*.py only). Also the entry point of a
board swarm subprocess: `python bench/harness.py boards URL OFFICE TOKENS.json OUT.json`
connects one python-socketio client per token, joins the office, prints `ready`, records
every `called` and `snapshot` with `time.monotonic()` (one clock for every process of the
machine) until a line arrives on stdin, and writes what it saw to OUT.json. Boards live in
their own processes so that 100 clients do not share the GIL with the counters that time
the calls.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAY = "2026-12-01"                 # a Tuesday; the benchmark's office day
CLOCK = f"{DAY}T10:00"            # WITA; slots 08:00-12:00 may all check in
OFFICE = "DPS"
PY = sys.executable
SNAPSHOT_VERSION = re.compile(r'"version":\s*(\d+)')


# --- numbers and reports ------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return "–" if value != value else f"{value:.1f}"


def _run(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, cwd=ROOT,
                              check=False).stdout.strip()
    except OSError:
        return "?"


def machine() -> str:
    memory = _run(["free", "-h"]).splitlines()
    total = memory[1].split()[1] if len(memory) > 1 else "?"
    return (f"Machine: {platform.node() or '?'}, nproc {_run(['nproc'])}, memory {total}, "
            f"Python {platform.python_version()}; commit "
            f"{_run(['git', 'rev-parse', '--short', 'HEAD'])}.")


def append_report(title: str, body: str, append: bool = True) -> None:
    """Print the section and append it to docs/benchmarks.md (append only)."""
    stamp = time.strftime("%Y-%m-%d %H:%M")
    text = f"\n## {title}, {stamp}\n\n{machine()}\n\n{body.strip()}\n"
    print(text)
    if append:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as handle:
            handle.write(text)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- configuration and data ---------------------------------------------------------------
def bench_config(directory: Path, counters: int, checkin_rate: int = 100_000) -> Path:
    """config.toml with `counters` extra counters B1..Bn at `berkas`, a kiosk rate limit
    high enough for a benchmark (a real kiosk scans a few times a minute) and room for
    every benchmark connection from the one local address."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^checkin_rate_per_minute\s*=.*$",
                  f"checkin_rate_per_minute = {checkin_rate}", text)
    # Every benchmark client comes from 127.0.0.1 (real boards each have their own
    # address): lift the per-address cap on open connections above 1,000 idle boards.
    text = re.sub(r"(?m)^max_connections_per_address\s*=.*$",
                  "max_connections_per_address = 5000", text)
    extra = "".join(
        f'\n[[offices.counters]]\nid = "B{i}"\nname = "Loket B{i}"\nstations = ["berkas"]\n'
        for i in range(1, counters + 1)
    )
    path = directory / "config.toml"
    path.write_text(text + extra, encoding="utf-8")
    from shared.config import load_config

    load_config(path)  # fail here, not in the server, if the file is wrong
    return path


def bookings(count: int, prefix: str = "BEN") -> list[dict[str, str]]:
    """Bookings spread over the four morning slots (letters A-D)."""
    rows = []
    for i in range(count):
        hour = 8 + i % 4
        rows.append({"code": f"{prefix}-{i:05d}", "office": OFFICE, "date": DAY,
                     "slot_start": f"{hour:02d}:00", "slot_end": f"{hour + 1:02d}:00",
                     "service": "paspor-baru", "priority_group": "",
                     "name": f"Pemohon Uji {i}"})
    return rows


@dataclass
class Site:
    """One benchmark office: a database, a config, and tokens for its devices and staff."""

    directory: Path
    database_url: str
    config_path: Path
    officer: str = ""
    displays: list[str] = field(default_factory=list)
    kiosks: list[tuple[str, str]] = field(default_factory=list)

    def server(self, name: str, extra_env: dict[str, str] | None = None) -> Any:
        from tests.live import LiveServer

        var = self.directory / name
        var.mkdir(parents=True, exist_ok=True)
        return LiveServer(var=var, clock=CLOCK, database_url=self.database_url,
                          config_path=self.config_path, extra_env=extra_env or {})


def prepare_site(directory: Path, database_url: str, *, counters: int, displays: int,
                 kiosks: int, booking_count: int, checked_in: int) -> Site:
    """Migrate, add staff, devices and bookings, and check in the first `checked_in`."""
    from shared import visits
    from shared.auth import create_device, create_staff, enrol_device
    from shared.bookings import import_rows
    from tests.live import LiveServer

    config_path = bench_config(directory, counters)
    site = Site(directory, database_url, config_path)
    server = LiveServer(var=directory, clock=CLOCK, database_url=database_url,
                        config_path=config_path)
    server.prepare()
    core = server.core()
    token = create_staff(core, "bench-officer", "x", "officer", token=True)
    assert token
    site.officer = token
    for i in range(displays):
        device = f"bench-board-{i}"
        site.displays.append(enrol_device(core, device, create_device(core, "display",
                                                                       device, OFFICE))[1])
    for i in range(kiosks):
        device = f"bench-kiosk-{i}"
        site.kiosks.append((device, enrol_device(core, device, create_device(core, "kiosk",
                                                                              device,
                                                                              OFFICE))[1]))
    rows = bookings(booking_count)
    summary = import_rows(core, enumerate(rows, start=1))
    assert summary.refused_count == 0, summary.refused[:3]
    for row in rows[:checked_in]:
        visits.check_in(core, OFFICE, row["code"], "bench")
    core.db.engine.dispose()
    return site


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A private PostgreSQL cluster (tests.services) with one database."""
    from tests.services import Postgres

    server = Postgres.start()
    try:
        yield server.create_database(name)
    finally:
        server.stop()


@contextmanager
def redis_url() -> Iterator[str]:
    from tests.services import Redis

    server = Redis.start()
    try:
        yield server.url
    finally:
        server.stop()


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as raw:
        yield Path(raw)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- boards in subprocesses ---------------------------------------------------------------
class BoardSwarm:
    """Board clients in `processes` subprocesses, all joined to one office."""

    def __init__(self, url: str, tokens: list[str], directory: Path, per_process: int = 50):
        self.procs: list[tuple[subprocess.Popen[str], Path]] = []
        for start in range(0, len(tokens), per_process):
            chunk = tokens[start:start + per_process]
            tokens_file = directory / f"boards-{start}.json"
            out_file = directory / f"boards-{start}-out.json"
            tokens_file.write_text(json.dumps(chunk))
            proc = subprocess.Popen([PY, str(Path(__file__)), "boards", url, OFFICE,
                                     str(tokens_file), str(out_file)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.procs.append((proc, out_file))
        for proc, _ in self.procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"board swarm did not start: {line!r}")

    def finish(self) -> list[dict[str, Any]]:
        boards: list[dict[str, Any]] = []
        for proc, _ in self.procs:
            assert proc.stdin is not None
            proc.stdin.write("stop\n")
            proc.stdin.flush()
        for proc, out_file in self.procs:
            proc.wait(timeout=60)
            boards.extend(json.loads(out_file.read_text()))
        return boards


def _board(url: str, office: str, token: str, record: dict[str, Any],
           joined: threading.Barrier, stop: threading.Event) -> None:
    """One board speaking Socket.IO 5 / Engine.IO 4 over a plain websocket.

    python-socketio's threaded client starts a thread for every message it receives; a
    hundred of them cost more CPU than the server they measure on a 2-core machine, so
    the swarm speaks the (small) wire protocol itself: one thread per board."""
    import websocket

    prefix = "42/display,"
    ws_url = url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
    # websocket-client checks UTF-8 in pure Python unless told not to: slower than the server.
    sock = websocket.create_connection(ws_url, header=[f"Authorization: Bearer {token}"],
                                       timeout=20, skip_utf8_validation=True)
    arrived = False
    try:
        sock.recv()                      # Engine.IO open packet
        sock.send("40/display,")         # connect to the namespace
        sock.settimeout(0.5)
        while not stop.is_set():
            try:
                message = sock.recv()
            except websocket.WebSocketTimeoutException:
                continue
            at = time.monotonic()
            if not isinstance(message, str) or not message:
                continue
            if message == "2":           # ping: answer pong
                sock.send("3")
            elif message.startswith(prefix + '["called"'):
                data = json.loads(message[len(prefix):])[1]
                record["called"].append([at, data["version"], data["number"], data["recall"]])
            elif message.startswith(prefix + '["snapshot"'):
                # A snapshot of a busy office is large; the version is all we keep.
                found = SNAPSHOT_VERSION.search(message)
                record["snapshots"].append([at, int(found.group(1)) if found else -1])
            elif message.startswith("40/display,"):
                sock.send(prefix + "1" + json.dumps(["join", {"office": office}]))
            elif message.startswith("43/display,1"):
                if not json.loads(message[len("43/display,1"):])[0].get("ok"):
                    record["errors"] += 1
                arrived = True
                joined.wait()
            elif message.startswith("44/display,") or message.startswith("1"):
                record["errors"] += 1
                break
    except (OSError, websocket.WebSocketException):
        record["errors"] += 1
    finally:
        if not arrived:
            joined.abort()
        sock.close()


def _swarm_main(url: str, office: str, tokens_file: str, out_file: str) -> None:
    tokens = json.loads(Path(tokens_file).read_text())
    records: list[dict[str, Any]] = [{"called": [], "snapshots": [], "errors": 0}
                                     for _ in tokens]
    joined = threading.Barrier(len(tokens) + 1)
    stop = threading.Event()
    threads = [threading.Thread(target=_board, args=(url, office, token, record, joined, stop),
                                daemon=True) for token, record in zip(tokens, records,
                                                                      strict=True)]
    for thread in threads:
        thread.start()
    try:
        joined.wait(timeout=60)
        print("ready", flush=True)
    except threading.BrokenBarrierError:
        print("join failed", flush=True)
    sys.stdin.readline()
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    Path(out_file).write_text(json.dumps(records))


# --- counters and pollers -----------------------------------------------------------------
@dataclass
class CallLog:
    sent: dict[str, float] = field(default_factory=dict)    # number -> monotonic send time
    request_ms: list[float] = field(default_factory=list)
    empty: int = 0
    errors: Tally[str] = field(default_factory=Tally)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_counters(url: str, token: str, counters: int, rate: float, seconds: float) -> CallLog:
    """`counters` counters, together pressing next `rate` times a second for `seconds`.

    Call k goes to counter k mod M; each counter finishes its previous ticket just before
    its next call (both through REST, as a terminal does), so every call is also a move."""
    import requests

    log = CallLog()
    inboxes: list[list[float]] = [[] for _ in range(counters)]
    conditions = [threading.Condition() for _ in range(counters)]
    done = threading.Event()
    start = time.monotonic() + 0.5

    def counter(index: int) -> None:
        session = requests.Session()
        session.headers.update(bearer(token))
        current: int | None = None
        base = f"{url}/api/v1"
        while True:
            with conditions[index]:
                while not inboxes[index] and not done.is_set():
                    conditions[index].wait(0.5)
                if not inboxes[index]:
                    return
                inboxes[index].pop(0)
            if current is not None:
                answer = session.post(f"{base}/tickets/{current}/finish", timeout=30)
                if answer.status_code != 200:
                    with log.lock:
                        log.errors[f"finish {answer.status_code}"] += 1
                current = None
            sent = time.monotonic()
            answer = session.post(f"{base}/counters/B{index + 1}/next",
                                  headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=30)
            took = (time.monotonic() - sent) * 1000
            with log.lock:
                log.request_ms.append(took)
                if answer.status_code == 200:
                    ticket = answer.json()["ticket"]
                    log.sent[ticket["number"]] = sent
                    current = ticket["id"]
                elif answer.status_code == 204:
                    log.empty += 1
                else:
                    log.errors[f"next {answer.status_code}"] += 1

    threads = [threading.Thread(target=counter, args=(i,), daemon=True) for i in range(counters)]
    for thread in threads:
        thread.start()
    total = int(rate * seconds)
    for k in range(total):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        index = k % counters
        with conditions[index]:
            inboxes[index].append(time.monotonic())
            conditions[index].notify()
    done.set()
    for thread in threads:
        thread.join(timeout=60)
    return log


#: Calls made (and finished) before a realtime run is measured, on either server: the
#: first requests of a fresh process fill caches (SQL compilation, imports on first use)
#: and say nothing about an office that has been open for an hour.
WARM_UP_CALLS = 5


def warm_up(url: str, token: str, counters: int) -> None:
    """One call and its finish on each of the first `counters` counters, not measured;
    the boards see these calls too (they are not in the measured run's `sent`)."""
    import requests

    session = requests.Session()
    session.headers.update(bearer(token))
    for index in range(counters):
        answer = session.post(f"{url}/api/v1/counters/B{index + 1}/next", timeout=30)
        if answer.status_code == 200:
            ticket = answer.json()["ticket"]["id"]
            session.post(f"{url}/api/v1/tickets/{ticket}/finish", timeout=30)
    time.sleep(0.5)  # the last warm-up call's snapshot and writes are done


class Poller:
    """A board that polls GET /board/<office> every `interval` seconds (FQM, ZMS)."""

    def __init__(self, url: str, token: str, interval: float) -> None:
        self.url, self.token, self.interval = url, token, interval
        self.seen: dict[str, float] = {}        # number -> first time it was on the board
        self.request_ms: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        import requests

        session = requests.Session()
        session.headers.update(bearer(self.token))
        while not self._stop.is_set():
            sent = time.monotonic()
            try:
                answer = session.get(f"{self.url}/api/v1/board/{OFFICE}", timeout=30)
                got = time.monotonic()
                self.request_ms.append((got - sent) * 1000)
                if answer.status_code != 200:
                    self.errors += 1
                else:
                    board = answer.json()
                    for row in board["now_serving"] + board["recent"]:
                        self.seen.setdefault(row["number"], got)
            except requests.RequestException:
                self.errors += 1
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - sent)))


# --- analysis ------------------------------------------------------------------------------
@dataclass
class BoardResult:
    latencies_ms: list[float]
    lost: int
    duplicated: int
    out_of_order: int
    join_errors: int
    boards: int
    calls: int


def analyse_boards(boards: list[dict[str, Any]], sent: dict[str, float]) -> BoardResult:
    latencies: list[float] = []
    lost = duplicated = out_of_order = errors = 0
    for board in boards:
        errors += board["errors"]
        counts = Tally(number for _, _, number, recall in board["called"] if not recall)
        lost += sum(1 for number in sent if counts[number] == 0)
        duplicated += sum(count - 1 for count in counts.values() if count > 1)
        versions = [version for _, version, _, _ in board["called"]]
        out_of_order += sum(1 for a, b in zip(versions, versions[1:], strict=False) if b <= a)
        first: dict[str, float] = {}
        for at, _, number, _ in board["called"]:
            first.setdefault(number, at)
        latencies += [(first[n] - t) * 1000 for n, t in sent.items() if n in first]
    return BoardResult(latencies, lost, duplicated, out_of_order, errors, len(boards),
                       len(sent))


def poll_staleness(poller: Poller, sent: dict[str, float]) -> list[float]:
    return [(poller.seen[n] - t) * 1000 for n, t in sent.items() if n in poller.seen]


# --- one B1 run ---------------------------------------------------------------------------
@dataclass
class RealtimeRun:
    label: str
    boards: int
    counters: int
    rate: float
    seconds: float
    result: BoardResult
    calls: CallLog
    polls: dict[float, tuple[list[float], Poller]]
    memory: dict[str, dict[str, int]]

    def row(self) -> list[str]:
        r = self.result
        lat = r.latencies_ms
        return [self.label, str(self.boards), str(self.counters), f"{self.rate:g}",
                f"{r.calls}", ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)),
                ms(max(lat) if lat else float("nan")),
                str(r.lost), str(r.duplicated), str(r.out_of_order),
                ms(percentile(self.calls.request_ms, 0.5)),
                ms(percentile(self.calls.request_ms, 0.99)),
                ", ".join(f"{k}: {v}" for k, v in self.calls.errors.items()) or "0"]

    def poll_rows(self) -> list[list[str]]:
        rows = []
        for interval, (stale, poller) in sorted(self.polls.items()):
            rows.append([self.label, f"{interval:g} s", str(len(stale)),
                         ms(percentile(stale, 0.5)), ms(percentile(stale, 0.99)),
                         ms(max(stale) if stale else float("nan")),
                         ms(percentile(poller.request_ms, 0.5)),
                         ms(percentile(poller.request_ms, 0.99)), str(poller.errors)])
        return rows


REALTIME_HEADER = ["run", "boards", "counters", "calls/s", "calls", "p50 ms", "p99 ms",
                   "max ms", "lost", "dup", "out of order", "next p50 ms", "next p99 ms",
                   "errors"]
POLL_HEADER = ["run", "poll every", "calls seen", "staleness p50 ms", "p99 ms", "max ms",
               "GET p50 ms", "GET p99 ms", "errors"]


def realtime_run(label: str, board_url: str, counter_url: str, site: Site, *, boards: int,
                 counters: int, rate: float, seconds: float, directory: Path,
                 memory_of: Callable[[], dict[str, dict[str, int]]]) -> RealtimeRun:
    """Boards on `board_url`, counters (and pollers) calling through `counter_url`."""
    swarm = BoardSwarm(board_url, site.displays[:boards], directory)
    pollers = {interval: Poller(board_url, site.displays[-1], interval)
               for interval in (2.0, 5.0)}
    warm_up(counter_url, site.officer, min(WARM_UP_CALLS, counters))
    for poller in pollers.values():
        poller.start()
    calls = run_counters(counter_url, site.officer, counters, rate, seconds)
    time.sleep(5.5)  # the slowest poller sees the last call
    for poller in pollers.values():
        poller.stop()
    memory = memory_of()
    seen = swarm.finish()
    result = analyse_boards(seen, calls.sent)
    polls = {i: (poll_staleness(p, calls.sent), p) for i, p in pollers.items()}
    return RealtimeRun(label, boards, counters, rate, seconds, result, calls, polls, memory)


# --- one B2 run ---------------------------------------------------------------------------
@dataclass
class CheckinRun:
    label: str
    scans: int
    seconds: float
    latencies_ms: list[float]
    created: int
    reprints: int
    failures: Tally[str]
    duplicate_tickets: int
    gapless: bool
    # False for the floor: it numbers tickets by row id (a PostgreSQL sequence skips the ids
    # of inserts that met a conflict), so "gapless" says nothing about it.
    numbered: bool = True
    # The servers' CPU (all their processes) per scan, in ms: steadier from run to run
    # than the rate on a machine whose load varies, so it shows what a change saved.
    cpu_ms_per_scan: float | None = None

    def row(self) -> list[str]:
        gapless = ("yes" if self.gapless else "**no**") if self.numbered else "–"
        cpu = "–" if self.cpu_ms_per_scan is None else f"{self.cpu_ms_per_scan:.2f}"
        return [self.label, str(self.scans), f"{self.scans / self.seconds:.0f}",
                ms(percentile(self.latencies_ms, 0.5)), ms(percentile(self.latencies_ms, 0.99)),
                cpu, str(self.created), str(self.reprints), str(self.duplicate_tickets),
                gapless, ", ".join(f"{k}: {v}" for k, v in self.failures.items()) or "0"]


CHECKIN_HEADER = ["run", "scans", "check-ins/s", "p50 ms", "p99 ms", "server CPU ms/scan",
                  "tickets", "reprints", "duplicate tickets", "gapless per letter",
                  "failures"]


def checkin_run(label: str, urls: list[str], site: Site, booking_count: int,
                duplicate_share: float = 0.1, kiosks: int = 8,
                check_database: bool = True, pids: list[int] | None = None) -> CheckinRun:
    """`kiosks` kiosks (spread over `urls`) scanning every booking once and a share twice.
    `pids`: the serving processes (gunicorn workers), whose CPU per scan is measured."""
    import random

    import requests

    codes = [row["code"] for row in bookings(booking_count)]
    rng = random.Random(2)
    scans = codes + rng.sample(codes, int(booking_count * duplicate_share))
    rng.shuffle(scans)
    latencies: list[float] = []
    failures: Tally[str] = Tally()
    tickets: dict[str, set[int]] = {}
    numbers: dict[int, str] = {}
    created = reprints = 0
    lock = threading.Lock()
    barrier = threading.Barrier(kiosks)

    def kiosk(index: int) -> None:
        nonlocal created, reprints
        name, token = site.kiosks[index]
        session = requests.Session()
        session.headers.update(bearer(token))
        url = urls[index % len(urls)]
        barrier.wait()
        for scan in scans[index::kiosks]:
            sent = time.perf_counter()
            answer = session.post(f"{url}/api/v1/checkin", json={"scan": scan, "kiosk": name},
                                  timeout=30)
            took = (time.perf_counter() - sent) * 1000
            with lock:
                latencies.append(took)
                if answer.status_code in (200, 201):
                    ticket = answer.json()["ticket"]
                    tickets.setdefault(scan, set()).add(ticket["id"])
                    numbers[ticket["id"]] = ticket["number"]
                    if answer.status_code == 201:
                        created += 1
                    else:
                        reprints += 1
                else:
                    failures[str(answer.status_code)] += 1

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(kiosks)]
    cpu_before = sum(cpu_seconds(pid) for pid in pids or [])
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    cpu_ms = ((sum(cpu_seconds(pid) for pid in pids) - cpu_before) * 1000 / len(scans)
              if pids else None)
    duplicates = sum(len(ids) - 1 for ids in tickets.values())
    by_letter: dict[str, list[int]] = {}
    for number in numbers.values():
        by_letter.setdefault(number[0], []).append(int(number[1:]))
    gapless = all(sorted(v) == list(range(1, len(v) + 1)) for v in by_letter.values())
    if check_database:  # the floor has no Giliran schema; its answers are checked above
        gapless = gapless and _gapless_in_database(site)
    gapless = gapless and created == booking_count
    return CheckinRun(label, len(scans), seconds, latencies, created, reprints, failures,
                      duplicates, gapless, numbered=check_database, cpu_ms_per_scan=cpu_ms)


def _gapless_in_database(site: Site) -> bool:
    """Every ticket of the day, per letter, numbered 1..n, and one ticket per booking."""
    from sqlalchemy import create_engine, func, select

    from shared.models import Ticket

    url = site.database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Ticket.number, Ticket.booking_id)
                .where(Ticket.service_day == date.fromisoformat(DAY))
            ).all()
            per_booking = connection.execute(
                select(func.count()).select_from(
                    select(Ticket.booking_id).where(Ticket.booking_id.is_not(None))
                    .group_by(Ticket.booking_id).having(func.count() > 1).subquery())
            ).scalar_one()
    finally:
        engine.dispose()
    by_letter: dict[str, list[int]] = {}
    for number, _ in rows:
        by_letter.setdefault(number[0], []).append(int(number[1:]))
    return per_booking == 0 and all(sorted(v) == list(range(1, len(v) + 1))
                                    for v in by_letter.values())


def rss_mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


# --- serving model, the floor, idle boards ---------------------------------------------------
def worker_pid(pid: int) -> int:
    """The gunicorn worker under an arbiter (`giliran serve` execs gunicorn), else `pid`."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pid
    return int(children[0]) if children else pid


#: Serving models compared: gunicorn's gevent worker (what `giliran serve` runs) and its
#: gthread worker with Flask-SocketIO in threading mode (what it ran before).
MODELS: dict[str, dict[str, str]] = {
    "gevent": {"GILIRAN_WORKER_CLASS": "gevent"},
    "threading": {"GILIRAN_WORKER_CLASS": "gthread", "GILIRAN_THREADS": "400"},
}


class FloorServer:
    """B0, bench/floor_app.py, under gunicorn with the same model as Giliran's server."""

    def __init__(self, directory: Path, model: str = "gevent",
                 database_url: str | None = None, redis_url: str | None = None) -> None:
        from tests.live import free_port

        self.directory = directory
        self.port = free_port()
        self.model = model
        self.database_url = database_url  # PostgreSQL; None: SQLite in the directory
        self.redis_url = redis_url  # emits through Redis to every floor process (B6)
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        import requests

        worker = MODELS[self.model]
        args = [str(Path(PY).parent / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{self.port}",
                "-k", worker["GILIRAN_WORKER_CLASS"], "--worker-connections", "2000",
                "--threads", worker.get("GILIRAN_THREADS", "1"), "--no-control-socket",
                "--graceful-timeout", "3", "--chdir", str(ROOT / "bench"), "floor_app:app"]
        env = dict(os.environ, FLOOR_DB=str(self.directory / "floor.sqlite3"))
        if self.database_url:
            env["FLOOR_DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["FLOOR_REDIS_URL"] = self.redis_url
        log = (self.directory / "floor.log").open("ab")
        self.process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.directory / "floor.log").read_text()[-3000:])
            try:
                requests.get(f"{self.url}/api/v1/health", timeout=0.5)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the floor did not start")

    def stop(self) -> None:
        import signal

        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


class IdleBoards:
    """bench/idle_boards.py: many authenticated board connections that only answer pings."""

    def __init__(self, url: str, tokens: list[str], directory: Path) -> None:
        tokens_file = directory / "idle-tokens.json"
        tokens_file.write_text(json.dumps(tokens))
        self.proc = subprocess.Popen([PY, str(ROOT / "bench" / "idle_boards.py"), url,
                                      str(tokens_file)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "ready":
            raise RuntimeError(f"idle boards did not start: {line!r}")
        self.connected, self.refused = int(line[1]), int(line[2])
        self.dropped = 0

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().split()
        self.dropped = int(line[1]) if len(line) == 2 else -1
        self.proc.wait(timeout=30)


def save_figures(path: str | None, figures: dict[str, Any]) -> None:
    """Merge this script's headline figures into a JSON file (run_all.py's summary)."""
    if not path:
        return
    target = Path(path)
    known = json.loads(target.read_text()) if target.exists() else {}
    known.update(figures)
    target.write_text(json.dumps(known, indent=1))


def env_number(name: str, default: float) -> float:
    """A duration or count from the environment (BENCH_*), for shorter runs."""
    raw = os.environ.get(name)
    return float(raw) if raw else default


def ratio(value: float, floor: float) -> str:
    """Giliran's figure against the floor's, as `2.1×`."""
    if value != value or floor != floor or floor == 0:
        return "–"
    return f"{value / floor:.2f}×"


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "boards":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    _swarm_main(*sys.argv[2:])
