"""Check-in, reprint, walk-ins and the payment slip reach the printers through the print
outbox (shared.outbox): the request commits with the ticket, the printing process claims
it once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from shared import outbox, visits
from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.bookings import import_rows
from shared.core import Core
from shared.models import PrintJob
from tests.conftest import booking_row

COUNTER_PRINTER = """
[[printers]]
id = "counter-3"
url = "dummy://"
profile = "TM-T88V"
"""


@pytest.fixture
def wired(core: Core) -> Iterator[tuple[FlaskClient, Core, dict[str, str], dict[str, str]]]:
    app = create_app(core=core, start_hardware=True)
    _, kiosk = enrol_device(core, "kiosk-1", create_device(core, "kiosk", "kiosk-1"))
    officer = create_staff(core, "petugas", "pw", "officer", token=True)
    import_rows(core, enumerate([booking_row("PRINT-0001")], start=1))
    yield (app.test_client(), core, {"Authorization": f"Bearer {kiosk}"},
           {"Authorization": f"Bearer {officer}"})
    app.extensions["giliran_printing"].close()


def wait_job(client: FlaskClient, job: dict[str, Any], who: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/print-jobs/{job['id']}", headers=who).get_json()["print"]
        if state["status"] in ("printed", "failed"):
            return state  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError("print job did not finish")


def outputs(client: FlaskClient, printer: str) -> bytes:
    service = client.application.extensions["giliran_printing"]
    return b"".join(service.dummy_device(printer).outputs)


def test_checkin_prints_on_the_kiosk_printer(wired: Any) -> None:
    client, core, kiosk, officer = wired
    answer = client.post("/api/v1/checkin", json={"scan": "PRINT-0001"}, headers=kiosk)
    assert answer.status_code == 201
    job = answer.get_json()["print"]
    assert job["status"] == "queued" and job["printer"] == "kiosk-1"
    assert wait_job(client, job, kiosk)["status"] == "printed"
    output = outputs(client, "kiosk-1")
    assert output.count(b"B001") == 1 and b"/t/" in output
    ticket = answer.get_json()["ticket"]
    again = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", json={}, headers=officer)
    assert again.status_code == 200
    assert wait_job(client, again.get_json()["print"], officer)["status"] == "printed"
    assert outputs(client, "kiosk-1").count(b"B001") == 2
    actions = [e["action"] for e in visits.timeline(core, ticket["id"])]
    assert actions[-1] == "reprinted"
    preview = client.get(f"/api/v1{ticket['status_url']}/ticket.png")
    assert preview.status_code == 200 and preview.data.startswith(b"\x89PNG")


def test_reprint_without_a_printer_is_409_and_records_nothing(wired: Any) -> None:
    client, core, _kiosk, officer = wired
    ticket = visits.walk_in(core, "DPS", "paspor-baru", None, "petugas")
    answer = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", json={}, headers=officer)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "no_printer"
    assert [e["action"] for e in visits.timeline(core, ticket["id"])] == ["checked_in"]


def test_the_job_commits_with_the_ticket_and_is_claimed_once(core: Core) -> None:
    core.printers = frozenset({"kiosk-1"})
    import_rows(core, enumerate([booking_row("PRINT-0002")], start=1))
    result = visits.check_in(core, "DPS", "PRINT-0002", "kiosk-1")
    assert result.print is not None
    with core.db.read() as session:
        row = session.get(PrintJob, result.print["id"])
        assert row is not None and row.ticket_id == result.ticket["id"]
        assert row.payload["number"] == result.ticket["number"]
    assert [r.id for r in outbox.queued(core, {"kiosk-1"})] == [result.print["id"]]
    assert outbox.claim(core, result.print["id"], "process-a")
    assert not outbox.claim(core, result.print["id"], "process-b")
    # The printing process died while printing: the job fails, it is never taken again.
    assert outbox.fail_interrupted(core, {"kiosk-1"}, "process-a-restarted") == 1
    job = outbox.get(core, result.print["id"])
    assert job is not None and job["status"] == "failed" and "interrupted" in job["error"]
    assert outbox.queued(core, {"kiosk-1"}) == []


def test_a_kiosk_without_a_printer_queues_nothing(core: Core) -> None:
    core.printers = frozenset({"kiosk-1"})
    import_rows(core, enumerate([booking_row("PRINT-0003")], start=1))
    result = visits.check_in(core, "DPS", "PRINT-0003", "kiosk-9")
    assert result.print is None
    assert outbox.queued(core, {"kiosk-9", "kiosk-1"}) == []


@pytest.fixture
def counter_printer(config: Any, tmp_path: Any) -> Iterator[tuple[FlaskClient, Core, str]]:
    from pathlib import Path

    from shared.app import load_config
    from tests.conftest import ROOT, make_core

    path = Path(tmp_path) / "config.toml"
    path.write_text((ROOT / "config.toml").read_text() + COUNTER_PRINTER)
    core = make_core(load_config(path), f"sqlite:///{tmp_path / 'counter.sqlite3'}")
    app = create_app(core=core, start_hardware=True)
    officer = create_staff(core, "petugas", "pw", "officer", token=True)
    yield app.test_client(), core, officer
    app.extensions["giliran_printing"].close()
    core.bus.close()
    core.db.engine.dispose()


def test_walkin_at_a_counter_and_its_payment_slip_print_there(counter_printer: Any) -> None:
    client, core, officer = counter_printer
    who = {"Authorization": f"Bearer {officer}"}
    answer = client.post("/api/v1/walkins", json={"service": "paspor-baru", "counter": "3",
                               "priority_group": "lansia"},
                         headers=who)
    assert answer.status_code == 201, answer.get_json()
    assert wait_job(client, answer.get_json()["print"], who)["status"] == "printed"
    number = answer.get_json()["ticket"]["number"].encode()
    assert number in outputs(client, "counter-3")
    unknown = client.post("/api/v1/walkins", json={"service": "percepatan", "counter": "nope"},
                          headers=who)
    assert unknown.status_code == 422
    # Served to the end at counter 3: the slip prints on counter 3's printer.
    ticket = answer.get_json()["ticket"]
    flow = core.office("DPS").services["paspor-baru"].flow
    for _ in flow:
        called = client.post("/api/v1/counters/3/next", headers=who).get_json()["ticket"]
        assert called["id"] == ticket["id"]
        assert client.post(f"/api/v1/tickets/{ticket['id']}/finish", headers=who,
                           json={}).status_code == 200
    with core.db.read() as session:
        slips = [r.id for r in session.query(PrintJob).filter_by(document="slip")]
    assert len(slips) == 1
    assert wait_job(client, {"id": slips[0]}, who)["status"] == "printed"


def test_health_reports_printers(wired: Any) -> None:
    client, _core, _kiosk, _officer = wired
    health = client.get("/api/v1/health").get_json()
    assert "kiosk-1" in health["printers"]


def test_a_job_that_waited_too_long_is_not_printed_any_more(core: Core) -> None:
    """The printers' process was down when B001 checked in. When it comes back the next
    morning, yesterday's ticket does not come out of the kiosk into a stranger's hand:
    the job fails, and a job of a moment ago still prints."""
    from datetime import timedelta

    from hardware.printing import PrintService, parse_printers
    from hardware.wiring import PrintWorker
    from tests.hardware.test_device_health import eventually

    core.printers = frozenset({"kiosk-1"})
    import_rows(core, enumerate([booking_row("STALE-0001"), booking_row("FRESH-0001")],
                                start=1))
    stale = visits.check_in(core, "DPS", "STALE-0001", "kiosk-1").print
    core.clock.advance(outbox.EXPIRES + timedelta(seconds=1))
    fresh = visits.check_in(core, "DPS", "FRESH-0001", "kiosk-1").print
    assert stale is not None and fresh is not None
    service = PrintService(parse_printers([{"id": "kiosk-1", "url": "dummy://"}]))
    worker = PrintWorker(core, service, sweep_seconds=60)
    try:
        assert worker.sweep() == 1
        eventually(lambda: (outbox.get(core, fresh["id"]) or {}).get("status") == "printed",
                   timeout=10)
    finally:
        service.close()
    expired = outbox.get(core, stale["id"])
    assert expired is not None and expired["status"] == "failed"
    assert "not printed within 2 minutes" in expired["error"]
    printed = b"".join(service.dummy_device("kiosk-1").outputs)
    assert b"B002" in printed and b"B001" not in printed
