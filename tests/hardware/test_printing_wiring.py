"""Check-in, reprint and the payment slip reach the printers through the web layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from hardware.wiring import start_printing
from shared import visits
from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.bookings import import_rows
from shared.core import Core
from tests.conftest import booking_row


@pytest.fixture
def wired(core: Core) -> Iterator[tuple[FlaskClient, Core, dict[str, str], dict[str, str]]]:
    app = create_app(core=core)
    service = start_printing(app, core)
    _, kiosk = enrol_device(core, "kiosk-1", create_device(core, "kiosk", "kiosk-1"))
    officer = create_staff(core, "petugas", "pw", "officer", token=True)
    import_rows(core, enumerate([booking_row("PRINT-0001")], start=1))
    yield (app.test_client(), core, {"Authorization": f"Bearer {kiosk}"},
           {"Authorization": f"Bearer {officer}"})
    service.close()


def wait_job(client: FlaskClient, job: dict[str, Any], who: dict[str, str]) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/print-jobs/{job['id']}", headers=who).get_json()["print"]
        if state["status"] in ("printed", "failed"):
            return state  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError("print job did not finish")


def test_checkin_prints_on_the_kiosk_printer(wired: Any) -> None:
    client, core, kiosk, officer = wired
    answer = client.post("/api/v1/checkin", json={"scan": "PRINT-0001"}, headers=kiosk)
    assert answer.status_code == 201
    job = answer.get_json()["print"]
    assert wait_job(client, job, kiosk)["status"] == "printed"
    output = b"".join(core.printing.dummy_device("kiosk-1").outputs)
    assert b"B001" in output and b"/t/" in output
    ticket = answer.get_json()["ticket"]
    again = client.post(f"/api/v1/tickets/{ticket['id']}/reprint", json={}, headers=officer)
    assert again.status_code == 200
    assert wait_job(client, again.get_json()["print"], officer)["status"] == "printed"
    actions = [e["action"] for e in visits.timeline(core, ticket["id"])]
    assert actions[-1] == "reprinted"
    preview = client.get(f"/api/v1{ticket['status_url']}/ticket.png")
    assert preview.status_code == 200 and preview.data.startswith(b"\x89PNG")


def test_health_reports_printers(wired: Any) -> None:
    client, _core, _kiosk, _officer = wired
    health = client.get("/api/v1/health").get_json()
    assert "kiosk-1" in health["printers"]
