"""Two `giliran serve` processes on one PostgreSQL database, events through Redis."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
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
    yield from pg_redis_pair(postgres, redis_server, tmp_path, request, "so_",
                            hardware=(True, True),
                            config_path=config_with_counters(tmp_path, 12))


def test_board_on_a_gets_each_call_made_on_b_once_in_order(
        pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    a.add_bookings(bookings(12, "SCALE"))
    officer = bearer(b.staff("petugas-b", "pw"))
    kiosk = bearer(device_token(b, "kiosk", "kiosk-b"))
    for i in range(12):
        answer = requests.post(f"{b.url}/api/v1/checkin", json={"scan": f"SCALE-{i:05d}"},
                               headers=kiosk, timeout=10)
        assert answer.status_code == 201, answer.text
    board = Board(a.url, device_token(a, "display", "papan-a")).connect()
    try:
        called = []
        for i in range(1, 13):
            answer = requests.post(f"{b.url}/api/v1/counters/C{i}/next", headers=officer,
                                   timeout=10)
            assert answer.status_code == 200, answer.text
            called.append(answer.json()["ticket"]["number"])
        wait_for(lambda: len(board.numbers()) >= 12, 10, f"board saw {board.numbers()}")
        assert board.numbers() == called
        versions = board.versions()
        # Twelve calls and nothing else in between: one version each, no gap.
        assert versions == list(range(versions[0], versions[0] + 12))
    finally:
        board.close()


def test_checkin_race_across_processes(pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    rows = bookings(240, "RACE")
    a.add_bookings(rows)
    codes = [row["code"] for row in rows]
    scans = codes + random.Random(3).sample(codes, 40)
    random.Random(4).shuffle(scans)
    kiosks = [(server, f"kiosk-{i}", device_token(a, "kiosk", f"kiosk-{i}"))
              for i, server in enumerate([a, b] * 4)]
    tickets: dict[str, set[int]] = defaultdict(set)
    numbers: dict[int, str] = {}
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(kiosks))

    def scan(index: int) -> None:
        server, name, token = kiosks[index]
        session = requests.Session()
        barrier.wait()
        for code in scans[index::len(kiosks)]:
            answer = session.post(f"{server.url}/api/v1/checkin",
                                  json={"scan": code, "kiosk": name}, headers=bearer(token),
                                  timeout=20)
            with lock:
                statuses.append(answer.status_code)
                if answer.status_code in (200, 201):
                    ticket = answer.json()["ticket"]
                    tickets[code].add(ticket["id"])
                    numbers[ticket["id"]] = ticket["number"]

    threads = [threading.Thread(target=scan, args=(i,)) for i in range(len(kiosks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [200, 201]
    assert statuses.count(201) == 240 and statuses.count(200) == 40
    assert len(tickets) == 240 and all(len(ids) == 1 for ids in tickets.values())
    by_letter: dict[str, list[int]] = defaultdict(list)
    for number in numbers.values():
        by_letter[number[0]].append(int(number[1:]))
    for letter, values in by_letter.items():
        assert sorted(values) == list(range(1, len(values) + 1)), letter


def test_every_board_on_both_processes_gets_every_call_once(
        pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    a.add_bookings(bookings(10, "EVERY"))
    officer = a.staff("petugas", "pw")
    kiosk = bearer(device_token(a, "kiosk", "kiosk-1"))
    for i in range(10):
        assert requests.post(f"{a.url}/api/v1/checkin", json={"scan": f"EVERY-{i:05d}"},
                             headers=kiosk, timeout=10).status_code == 201
    boards = [Board(server.url, device_token(a, "display", f"papan-{name}-{i}")).connect()
              for name, server in (("a", a), ("b", b)) for i in range(3)]
    try:
        called = []
        for i in range(1, 11):
            server = (a, b)[i % 2]   # calls made on both processes
            answer = requests.post(f"{server.url}/api/v1/counters/C{i}/next",
                                   headers=bearer(officer), timeout=10)
            assert answer.status_code == 200, answer.text
            called.append(answer.json()["ticket"]["number"])
        for board in boards:
            wait_for(lambda board=board: len(board.numbers()) >= 10, 10,  # type: ignore[misc]
                     f"a board saw {board.numbers()}")
        for board in boards:
            assert board.numbers() == called
            versions = board.versions()
            assert versions == sorted(set(versions))
    finally:
        for board in boards:
            board.close()
