"""Failure paths of two `giliran serve` processes on one PostgreSQL database and Redis:
calls made on both processes at once, a Redis server that hangs or restarts."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.live import LiveServer
from tests.scaleout.helpers import (
    Board,
    bearer,
    bookings,
    config_with_counters,
    device_token,
    pg_redis_pair,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def pair(postgres: object, redis_server: object, tmp_path: Path,
         request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from pg_redis_pair(postgres, redis_server, tmp_path, request, "fp_",
                             hardware=(False, False),
                             config_path=config_with_counters(tmp_path, 12))


def test_calls_made_at_once_on_both_processes_reach_a_board_in_order(
        pair: tuple[LiveServer, LiveServer]) -> None:
    """Counters on A and on B call at the same moment: the office's row lock passes from
    one process to the other, and a board on A gets B's calls through Redis and A's own
    directly. It must still get every call once, in the order of their versions."""
    a, b = pair
    total = 60
    a.add_bookings(bookings(total, "ORDER"))
    officer = a.staff("petugas", "pw")
    kiosk = bearer(device_token(a, "kiosk", "kiosk-1"))
    for i in range(total):
        assert requests.post(f"{a.url}/api/v1/checkin", json={"scan": f"ORDER-{i:05d}"},
                             headers=kiosk, timeout=10).status_code == 201
    board = Board(a.url, device_token(a, "display", "papan-a")).connect()
    called: list[str] = []
    lock = threading.Lock()

    def counter(server: LiveServer, name: str) -> None:
        session = requests.Session()
        while True:
            answer = session.post(f"{server.url}/api/v1/counters/{name}/next",
                                  headers=bearer(officer), timeout=20)
            if answer.status_code == 204:
                return
            assert answer.status_code == 200, answer.text
            ticket = answer.json()["ticket"]
            with lock:
                called.append(ticket["number"])
            finish = session.post(f"{server.url}/api/v1/tickets/{ticket['id']}/finish",
                                  headers=bearer(officer), timeout=20)
            assert finish.status_code == 200, finish.text

    threads = [threading.Thread(target=counter, args=(server, f"C{i}"))
               for i, server in enumerate([a, b] * 4, start=1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(called) == total
        wait_for(lambda: len(board.numbers()) >= total, 10,
                 f"the board saw {len(board.numbers())} calls of {total}")
        versions = board.versions()
        assert sorted(board.numbers()) == sorted(called)
        assert versions == sorted(versions), versions
    finally:
        board.close()


@pytest.fixture
def own_redis() -> Iterator[object]:
    """A Redis of this test's own, to stop, freeze and start again."""
    from tests.services import Redis

    server = Redis.start()
    yield server
    if server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


@pytest.fixture
def pair_own_redis(postgres: object, own_redis: object, tmp_path: Path,
                   request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from pg_redis_pair(postgres, own_redis, tmp_path, request, "fr_",
                             hardware=(False, False),
                             config_path=config_with_counters(tmp_path, 4))


def _shows(board: Board, number: str, version: int) -> bool:
    snapshot = board.last_snapshot() or {}
    return snapshot.get("version") == version and number in [
        entry["number"] for entry in snapshot.get("now_serving", [])]


def _office_version(server: LiveServer) -> int:
    core = server.core()
    try:
        return core.office_version("DPS")
    finally:
        core.db.engine.dispose()


def test_a_hung_redis_holds_up_no_request_and_boards_catch_up_when_it_answers(
        pair_own_redis: tuple[LiveServer, LiveServer], own_redis: object) -> None:
    """Redis stops answering (frozen, or its network gone: connections open, no reply).
    A request that publishes an event must not wait for Redis (it used to wait the
    client's 2 s socket timeout per event, inside the office's lock, so a queue of
    kiosks waited 2 s per person); this process's own board still gets the call at
    once; and once Redis answers again, a board on the other process shows the calls it
    missed without waiting for another change."""
    from tests.services import Redis

    assert isinstance(own_redis, Redis)
    a, b = pair_own_redis
    officer = bearer(a.staff("petugas", "pw"))
    board_a = Board(a.url, device_token(a, "display", "papan-a")).connect()
    board_b = Board(b.url, device_token(a, "display", "papan-b")).connect()
    try:
        os.kill(own_redis.process.pid, signal.SIGSTOP)
        for _ in range(3):
            started = time.monotonic()
            answer = requests.post(f"{b.url}/api/v1/walkins", json={"service": "paspor-baru"},
                                   headers=officer, timeout=20)
            assert answer.status_code == 201, answer.text
            assert time.monotonic() - started < 1.0, "a walk-in waited for a hung Redis"
        started = time.monotonic()
        called = requests.post(f"{b.url}/api/v1/counters/C1/next", headers=officer,
                               timeout=20)
        assert called.status_code == 200, called.text
        assert time.monotonic() - started < 1.0, "a call waited for a hung Redis"
        number = called.json()["ticket"]["number"]
        wait_for(lambda: board_b.numbers() == [number], 2, "B's own board missed the call")
        # what B published meanwhile timed out (the resync after it is what is tested)
        wait_for(lambda: b.log_says("redis publish failed"), 10,
                 "B's publisher never gave up on the hung Redis")
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    try:
        version = _office_version(b)
        wait_for(lambda: _shows(board_a, number, version), 5,
                 f"the board on A never caught up: {board_a.last_snapshot()}")
    finally:
        board_a.close()
        board_b.close()


def test_after_a_redis_restart_a_board_shows_what_it_missed_without_another_change(
        pair_own_redis: tuple[LiveServer, LiveServer], own_redis: object) -> None:
    """Redis restarts (an upgrade, a crash) while B calls: a board on A missed that call.
    It must show it within seconds of Redis being back, not at the office's next change
    (a quiet afternoon may have none for many minutes)."""
    from tests.services import Redis

    assert isinstance(own_redis, Redis)
    a, b = pair_own_redis
    officer = bearer(a.staff("petugas", "pw"))
    assert requests.post(f"{b.url}/api/v1/walkins", json={"service": "paspor-baru"},
                         headers=officer, timeout=10).status_code == 201
    board = Board(a.url, device_token(a, "display", "papan-a")).connect()
    try:
        own_redis.stop()
        called = requests.post(f"{b.url}/api/v1/counters/C1/next", headers=officer,
                               timeout=10)
        assert called.status_code == 200, called.text
        number = called.json()["ticket"]["number"]
        restarted = Redis.start(own_redis.port)
        own_redis.process = restarted.process
        version = _office_version(b)
        wait_for(lambda: _shows(board, number, version), 5,
                 f"the board on A never showed {number}: {board.last_snapshot()}")
    finally:
        board.close()
