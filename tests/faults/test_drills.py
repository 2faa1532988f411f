"""Fault drills: a server killed under load, PostgreSQL restarted under load, Redis down,
and the day boundary."""

from __future__ import annotations

import signal
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from shared import visits
from shared.bookings import import_rows
from shared.config import Config
from shared.models import OfficeRow, Ticket, TimelineEntry
from tests.conftest import booking_row, make_core
from tests.live import LiveServer
from tests.scaleout.helpers import (
    CLOCK,
    Board,
    bearer,
    bookings,
    config_with_counters,
    device_token,
    wait_for,
)


class Load:
    """Kiosks checking in and counters calling next until stopped; keeps what was answered."""

    def __init__(self, server: LiveServer, codes: list[str], kiosk: str, officer: str,
                 counters: list[str]) -> None:
        self.server, self.codes, self.kiosk, self.officer = server, codes, kiosk, officer
        self.counters = counters
        self.checked_in: dict[str, int] = {}      # code -> ticket id, from 200/201 answers
        self.called: dict[int, str] = {}          # ticket id -> counter, from 200 answers
        self.statuses: dict[int, int] = defaultdict(int)
        self.bodies: list[Any] = []
        # What a worker thread found wrong: an assert there could not fail the test, so
        # the main thread checks this list (assert_consistent).
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._kiosk, args=(i,)) for i in range(3)]
        self.threads += [threading.Thread(target=self._counter, args=(c,)) for c in counters]

    def start(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
            if thread.is_alive():
                self.errors.append(f"{thread.name} did not stop")

    def refused(self) -> int:
        """Requests that found no server (connection refused or reset)."""
        with self.lock:
            return self.statuses[0]

    def _post(self, path: str, token: str, **kwargs: Any) -> requests.Response | None:
        try:
            answer = requests.post(f"{self.server.url}/api/v1{path}", headers=bearer(token),
                                   timeout=10, **kwargs)
        except requests.RequestException:
            with self.lock:
                self.statuses[0] += 1
            time.sleep(0.05)
            return None
        with self.lock:
            self.statuses[answer.status_code] += 1
            if answer.status_code >= 500:
                self.bodies.append(answer.json())
        return answer

    def _kiosk(self, index: int) -> None:
        pending = self.codes[index::3]
        while pending and not self.stop.is_set():
            code = pending[0]
            answer = self._post("/checkin", self.kiosk, json={"scan": code})
            if answer is not None and answer.status_code in (200, 201):
                with self.lock:
                    ticket_id = answer.json()["ticket"]["id"]
                    first = self.checked_in.setdefault(code, ticket_id)
                    if first != ticket_id:
                        self.errors.append(f"{code} answered with tickets {first} and "
                                           f"{ticket_id}")
                pending.pop(0)
            else:
                time.sleep(0.05)

    def _counter(self, counter: str) -> None:
        current: int | None = None
        while not self.stop.is_set():
            if current is not None:
                answer = self._post(f"/tickets/{current}/finish", self.officer)
                if answer is None or answer.status_code not in (200, 409):
                    continue
                current = None
            answer = self._post(f"/counters/{counter}/next", self.officer)
            if answer is not None and answer.status_code == 200:
                ticket_id = answer.json()["ticket"]["id"]
                with self.lock:
                    self.called[ticket_id] = counter
                current = ticket_id
            elif answer is not None and answer.status_code == 409:
                # A call committed whose answer was lost: the counter is busy with it.
                busy = requests.get(f"{self.server.url}/api/v1/counters/{counter}",
                                    headers=bearer(self.officer), timeout=10)
                if busy.status_code == 200 and busy.json()["current"]:
                    current = busy.json()["current"]["id"]
            else:
                time.sleep(0.05)


def committed(server: LiveServer) -> tuple[dict[int, Ticket], dict[int, list[str]], int]:
    core = server.core()
    try:
        with core.db.read() as session:
            tickets = {t.id: t for t in session.execute(select(Ticket)).scalars()}
            timeline: dict[int, list[str]] = defaultdict(list)
            for entry in session.execute(select(TimelineEntry).order_by(TimelineEntry.id)
                                         ).scalars():
                timeline[entry.ticket_id].append(entry.action)
            version = session.execute(select(OfficeRow.version)).scalar_one()
        return tickets, timeline, version
    finally:
        core.db.engine.dispose()


def assert_consistent(load: Load, server: LiveServer) -> None:
    assert not load.errors, load.errors
    tickets, timeline, _ = committed(server)
    for code, ticket_id in load.checked_in.items():
        assert ticket_id in tickets, f"answered ticket of {code} is gone"
        assert timeline[ticket_id][0] == "checked_in"
    for ticket_id in load.called:
        assert "called" in timeline[ticket_id], f"answered call of {ticket_id} is gone"
    booked = [t.booking_id for t in tickets.values() if t.booking_id is not None]
    assert len(booked) == len(set(booked)), "a booking got two tickets"
    by_letter: dict[str, list[int]] = defaultdict(list)
    for ticket in tickets.values():
        by_letter[ticket.number[0]].append(int(ticket.number[1:]))
    for letter, values in by_letter.items():
        assert sorted(values) == list(range(1, len(values) + 1)), letter


def server_on(tmp_path: Path, url: str, **env: str) -> LiveServer:
    server = LiveServer(var=tmp_path, clock=CLOCK, database_url=url,
                        config_path=config_with_counters(tmp_path, 4, checkin_rate=100_000),
                        extra_env=env)
    server.prepare()
    return server


def test_kill_9_under_load_loses_nothing_answered(tmp_path: Path) -> None:
    server = server_on(tmp_path, f"sqlite:///{tmp_path / 'giliran.sqlite3'}")
    rows = bookings(150, "KILL")
    server.add_bookings(rows)
    kiosk = device_token(server, "kiosk", "kiosk-1")
    officer = server.staff("petugas", "pw")
    board_token = device_token(server, "display", "papan-1")
    server.start()
    board = Board(server.url, board_token).connect()
    load = Load(server, [r["code"] for r in rows], kiosk, officer, ["C1", "C2", "C3"]).start()
    try:
        wait_for(lambda: len(load.checked_in) >= 30 and len(load.called) >= 5, 20, "no load")
        refused = load.refused()
        server.stop(signal.SIGKILL)
        # The load finds the server gone before it comes back.
        wait_for(lambda: load.refused() > refused, 10, "the load never found the server gone")
        server.start()
        wait_for(lambda: len(load.checked_in) >= 80, 30, "no load after restart")
    finally:
        load.finish()
    try:
        assert_consistent(load, server)
        # The board reconnected by itself; its newest snapshot is the truth.
        _, _, version = committed(server)
        board.client.emit("snapshot", {"office": "DPS"}, namespace="/display")
        wait_for(lambda: (board.last_snapshot() or {}).get("version") == version, 10,
                 "board has no current snapshot after the restart")
        assert board.joins >= 2
        live = requests.get(f"{server.url}/api/v1/board/DPS", headers=bearer(board_token),
                            timeout=10).json()
        assert board.last_snapshot()["now_serving"] == live["now_serving"]  # type: ignore[index]
    finally:
        board.close()
        server.stop()


@pytest.mark.postgres
def test_postgresql_restart_under_load(postgres: object, tmp_path: Path) -> None:
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    server = server_on(tmp_path, postgres.create_database("fault_pg_restart"))
    rows = bookings(200, "PGDOWN")
    server.add_bookings(rows)
    kiosk = device_token(server, "kiosk", "kiosk-1")
    officer = server.staff("petugas", "pw")
    server.start()
    load = Load(server, [r["code"] for r in rows], kiosk, officer, ["C1", "C2"]).start()
    try:
        wait_for(lambda: len(load.checked_in) >= 20, 20, "no load")
        postgres.stop_server()
        try:
            started = time.monotonic()
            down = requests.post(f"{server.url}/api/v1/counters/C3/next",
                                 headers=bearer(officer), timeout=20)
            assert time.monotonic() - started < 10, "a request hung while the database was down"
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "internal"
            assert set(down.json()["error"]["message"]) == {"id", "en"}
            # The load meets the database down too before it comes back.
            wait_for(lambda: load.statuses[503] > 0, 10, "the load never met the database down")
        finally:
            postgres.start_server()
        wait_for(lambda: len(load.checked_in) >= 120, 40, "no recovery after the restart")
    finally:
        load.finish()
        server.stop()
    assert load.statuses[503] > 0 and load.statuses[500] == 0
    assert all(body["error"]["code"] == "internal" for body in load.bodies)
    assert_consistent(load, server)


@pytest.mark.postgres
@pytest.mark.redis
def test_redis_down_a_process_keeps_its_own_boards(postgres: object, tmp_path: Path) -> None:
    from tests.services import Postgres, Redis

    assert isinstance(postgres, Postgres)
    redis = Redis.start()
    server = server_on(tmp_path, postgres.create_database("fault_redis_down"),
                       GILIRAN_REDIS_URL=redis.url)
    server.add_bookings(bookings(3, "NOREDIS"))
    kiosk = bearer(device_token(server, "kiosk", "kiosk-1"))
    officer = bearer(server.staff("petugas", "pw"))
    server.start()
    board = Board(server.url, device_token(server, "display", "papan-1")).connect()
    try:
        for i in range(3):
            assert requests.post(f"{server.url}/api/v1/checkin",
                                 json={"scan": f"NOREDIS-{i:05d}"}, headers=kiosk,
                                 timeout=10).status_code == 201
        first = requests.post(f"{server.url}/api/v1/counters/C1/next", headers=officer,
                              timeout=10)
        wait_for(lambda: len(board.numbers()) == 1, 10, "no call with Redis up")
        redis.stop()
        answer = requests.post(f"{server.url}/api/v1/counters/C2/next", headers=officer,
                               timeout=10)
        assert answer.status_code == 200
        wait_for(lambda: len(board.numbers()) == 2, 10, "board silent with Redis down")
        assert board.numbers() == [first.json()["ticket"]["number"],
                                   answer.json()["ticket"]["number"]]
    finally:
        board.close()
        server.stop()
        if redis.process.poll() is None:
            redis.stop()


def test_numbers_restart_at_midnight_office_time(config: Config, tmp_path: Path) -> None:
    # The day and its sequences follow office time: 00:02 WITA on the 2nd is 16:02 UTC on
    # the 1st. (The day's walk-ins are issued before the office closes at 16:00: none
    # after it, shared.visits.walk_in.)
    core = make_core(config, f"sqlite:///{tmp_path / 'giliran.sqlite3'}",
                     at="2026-12-01T15:58")
    import_rows(core, enumerate([booking_row("PAGI-00001", "08:00", "09:00",
                                             day="2026-12-02")], start=1))
    first = visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")
    second = visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")
    assert (first["number"], second["number"]) == ("W001", "W002")
    core.clock.advance(timedelta(hours=8, minutes=4))   # 00:02 WITA on the 2nd
    assert core.today(core.office("DPS")).isoformat() == "2026-12-02"
    assert visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")["number"] == "W001"
    core.clock.advance(timedelta(hours=7))              # 07:02: the 08:00 slot may check in
    ticket = visits.check_in(core, "DPS", "PAGI-00001", "kiosk-1").ticket
    assert ticket["number"] == "A001"
    with core.db.read() as session:
        days = dict(session.execute(select(Ticket.service_day, func.count())
                                    .group_by(Ticket.service_day)).all())  # type: ignore[arg-type]
    assert {d.isoformat(): n for d, n in days.items()} == {"2026-12-01": 2, "2026-12-02": 2}
    assert datetime.fromisoformat(ticket["issued_at"]).utcoffset() == timedelta(hours=8)
    core.bus.close()
    core.db.engine.dispose()
