"""Kiosk tickets print on the process that owns the printer, wherever the check-in
landed, and survive that process's crash: two `giliran serve` processes on PostgreSQL
with Redis, a network ESC/POS printer (tests/hardware/fake_printer.py) owned by A."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.hardware.fake_printer import FakeNetworkPrinter
from tests.live import LiveServer
from tests.scaleout.helpers import (
    bearer,
    bookings,
    config_with_counters,
    device_token,
    pg_redis_pair,
)
from tests.scaleout.helpers import wait_for as wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

KIOSK_PRINTER = 'id = "kiosk-1"\nurl = "dummy://"'


@pytest.fixture
def printer() -> Iterator[FakeNetworkPrinter]:
    fake = FakeNetworkPrinter("online")
    yield fake
    fake.close()


@pytest.fixture
def pair(postgres: object, redis_server: object, tmp_path: Path, printer: FakeNetworkPrinter,
         request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, LiveServer]]:
    config = config_with_counters(tmp_path, 0)
    text = config.read_text(encoding="utf-8")
    assert KIOSK_PRINTER in text
    config.write_text(text.replace(KIOSK_PRINTER, f'id = "kiosk-1"\nurl = "{printer.url}"'),
                      encoding="utf-8")
    yield from pg_redis_pair(postgres, redis_server, tmp_path, request, "pr_",
                            config_path=config)


def printed_numbers(printer: FakeNetworkPrinter, numbers: list[str]) -> list[str]:
    """The ticket numbers found in the printer's jobs, one entry per printed ticket."""
    found = []
    for job in list(printer.jobs):
        found += [number for number in numbers if number.encode() in job]
    return found


def check_in(server: LiveServer, token: str, code: str) -> dict[str, Any]:
    answer = requests.post(f"{server.url}/api/v1/checkin", json={"scan": code},
                           headers=bearer(token), timeout=10)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert body["print"]["status"] == "queued" and body["print"]["printer"] == "kiosk-1"
    return body


def job_status(server: LiveServer, token: str, job: str) -> str:
    answer = requests.get(f"{server.url}/api/v1/print-jobs/{job}", headers=bearer(token),
                          timeout=10)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["print"]["status"])


def test_checkin_on_b_prints_on_a_and_survives_a_crash_of_a(
        pair: tuple[LiveServer, LiveServer], printer: FakeNetworkPrinter) -> None:
    a, b = pair
    a.add_bookings(bookings(3, "PRINT"))
    kiosk = device_token(b, "kiosk", "kiosk-1")

    # 1. The check-in lands on B (no hardware); A owns kiosk-1's printer and prints it.
    first = check_in(b, kiosk, "PRINT-00000")
    numbers = [first["ticket"]["number"]]
    wait_until(lambda: printed_numbers(printer, numbers) == numbers, 15,
               f"A did not print {numbers}: {printer.jobs!r}")
    wait_until(lambda: job_status(b, kiosk, first["print"]["id"]) == "printed", 10,
               "B does not see the job printed")

    # 2. A is frozen, then killed, after B committed the check-in and before A printed:
    #    the event reached A's socket but A never ran it.
    a.send_signal(signal.SIGSTOP)  # the gunicorn master and its worker
    try:
        second = check_in(b, kiosk, "PRINT-00001")
        assert job_status(b, kiosk, second["print"]["id"]) == "queued"
    finally:
        a.stop(signal.SIGKILL)
    assert job_status(b, kiosk, second["print"]["id"]) == "queued"
    assert printed_numbers(printer, numbers) == numbers

    # 3. A restarts: the queued job prints, once.
    a.start()
    numbers.append(second["ticket"]["number"])
    wait_until(lambda: sorted(printed_numbers(printer, numbers)) == sorted(numbers), 20,
               f"A did not print {numbers} after restart: {printer.jobs!r}")
    # The bytes are out; the job is marked printed once the printer answered its status.
    wait_until(lambda: job_status(b, kiosk, second["print"]["id"]) == "printed", 10,
               "the job printed after the restart is not marked printed")

    # 4. Never twice: one more ticket prints (the positive signal that A's sweeps and
    #    events went round), and still every earlier ticket came out exactly once.
    third = check_in(b, kiosk, "PRINT-00002")
    numbers.append(third["ticket"]["number"])
    wait_until(lambda: third["ticket"]["number"] in printed_numbers(printer, numbers), 15,
               "the third ticket did not print")
    assert sorted(printed_numbers(printer, numbers)) == sorted(numbers)
    assert len(printer.jobs) == 3
