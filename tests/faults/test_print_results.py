"""PostgreSQL restarts while a kiosk ticket is being printed: the paper comes out while
the database is away, and the job's result must still be recorded once it is back."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.hardware.fake_printer import FakeNetworkPrinter
from tests.live import LiveServer
from tests.scaleout.helpers import CLOCK, bearer, bookings, config_with_counters, device_token
from tests.scaleout.helpers import wait_for as wait_until

KIOSK_PRINTER = 'id = "kiosk-1"\nurl = "dummy://"'


def job_status(server: LiveServer, token: str, job: str) -> str:
    answer = requests.get(f"{server.url}/api/v1/print-jobs/{job}", headers=bearer(token),
                          timeout=10)
    return str(answer.json()["print"]["status"]) if answer.status_code == 200 else "?"


@pytest.mark.postgres
def test_a_ticket_printed_while_postgresql_restarts_is_recorded_printed(
        postgres: object, tmp_path: Path) -> None:
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    printer = FakeNetworkPrinter("online")
    printer.answer_delay = 1.0  # a slow printer: the database goes away while it prints
    config = config_with_counters(tmp_path, 0)
    text = config.read_text(encoding="utf-8")
    assert KIOSK_PRINTER in text
    text = text.replace(KIOSK_PRINTER, f'id = "kiosk-1"\nurl = "{printer.url}"')
    # Time enough for the slow printer's status answers (a sixth of it each).
    config.write_text(text.replace("timeout_seconds = 3\n", "timeout_seconds = 30\n", 1),
                      encoding="utf-8")
    server = LiveServer(var=tmp_path, clock=CLOCK, config_path=config,
                        database_url=postgres.create_database("fault_print_result"))
    server.prepare()
    server.add_bookings(bookings(1, "PAPER"))
    kiosk = device_token(server, "kiosk", "kiosk-1")
    server.start()
    try:
        answer = requests.post(f"{server.url}/api/v1/checkin", json={"scan": "PAPER-00000"},
                               headers=bearer(kiosk), timeout=10)
        assert answer.status_code == 201, answer.text
        job = answer.json()["print"]["id"]
        # Claimed (printing) and talking to the printer: now the database goes away.
        wait_until(lambda: printer.status_queries > 0, 15, "the printer was never asked")
        postgres.stop_server()
        try:
            wait_until(lambda: len(printer.jobs) == 1, 20, "the ticket did not print")
            wait_until(lambda: server.log_says("result not recorded yet"), 20,
                       "the worker never tried to record the result")
        finally:
            postgres.start_server()
        wait_until(lambda: job_status(server, kiosk, job) == "printed", 20,
                   f"the printed ticket stays {job_status(server, kiosk, job)!r}")
        assert len(printer.jobs) == 1
    finally:
        server.stop()
        printer.close()
