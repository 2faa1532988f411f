"""Done-when of the admin console: a change made in the browser on process A reaches a
board, a counter terminal and a kiosk on process B (PostgreSQL + Redis) without a
restart, survives a restart of B, and appears in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.live import LiveServer
from tests.scaleout.helpers import DAY, Board, bearer, device_token, pg_redis_pair, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def pair(postgres: object, redis_server: object, tmp_path: Path,
         request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from pg_redis_pair(postgres, redis_server, tmp_path, request, "adm_",
                            hardware=(False, False))


def booking(code: str, start: str, end: str) -> dict[str, str]:
    return {"code": code, "office": "DPS", "date": DAY, "slot_start": start, "slot_end": end,
            "service": "paspor-baru", "priority_group": "", "name": "Wayan Uji"}


def saved(page: Any, version: int) -> None:
    page.wait_for_function(f"document.getElementById('version').textContent === '{version}'")
    page.wait_for_selector("#message[data-kind=ok]:not([hidden])")


def test_browser_change_on_a_reaches_board_counter_and_kiosk_on_b(
        browser: Any, pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    a.staff("kepala", "pw", "admin")
    officer = bearer(b.staff("petugas", "pw"))
    kiosk = bearer(device_token(b, "kiosk", "kiosk-b"))
    a.add_bookings([booking("LIVE-00001", "10:00", "11:00"),
                    booking("LIVE-00002", "13:00", "14:00")])
    board = Board(b.url, device_token(b, "display", "papan-b")).connect()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{a.url}/admin/office/DPS")
        page.fill("input[name=username]", "kepala")
        page.fill("input[name=password]", "pw")
        page.click("form button[type=submit]")
        page.wait_for_url(f"{a.url}/admin/office/DPS")

        # The board on B: its next snapshot carries the new information lines.
        page.fill("#info", "Kantor tutup pukul 12.00 hari ini")
        page.click("form[data-kind=info] button[type=submit]")
        saved(page, 2)
        wait_for(lambda: (board.last_snapshot() or {}).get("info")
                 == ["Kantor tutup pukul 12.00 hari ini"], 10, "board on B kept the old info")

        # A counter terminal on B: the counter added on A calls at once.
        page.fill("form[data-kind=counter-add] input[name=id]", "9")
        page.fill("form[data-kind=counter-add] input[name=name]", "Loket 9")
        page.check("form[data-kind=counter-add] input[value=berkas]")
        page.click("form[data-kind=counter-add] button[type=submit]")
        saved(page, 3)
        checkin = requests.post(f"{b.url}/api/v1/checkin", json={"scan": "LIVE-00001"},
                                headers=kiosk, timeout=10)
        assert checkin.status_code == 201, checkin.text
        called = requests.post(f"{b.url}/api/v1/counters/9/next", headers=officer, timeout=10)
        assert called.status_code == 200, called.text
        assert called.json()["ticket"]["counter"] == "9"
        state = requests.get(f"{b.url}/api/v1/counters/9", headers=officer, timeout=10).json()
        assert state["counter"]["name"] == "Loket 9"

        # A kiosk on B: the 13:00 booking is too early at 10:00 with 120 minutes ...
        early = requests.post(f"{b.url}/api/v1/checkin", json={"scan": "LIVE-00002"},
                              headers=kiosk, timeout=10)
        assert early.status_code == 409 and early.json()["error"]["code"] == "too_early"
        # ... and welcome once the admin on A opens check-in 240 minutes before the slot.
        page.fill("input[name='policy.early_checkin_minutes']", "240")
        page.click("form[data-kind=office] button[type=submit]")
        saved(page, 4)
        accepted = requests.post(f"{b.url}/api/v1/checkin", json={"scan": "LIVE-00002"},
                                 headers=kiosk, timeout=10)
        assert accepted.status_code == 201, accepted.text
    finally:
        board.close()
        context.close()

    # A restart of B keeps all of it.
    b.stop()
    b.start()
    snapshot = requests.get(f"{b.url}/api/v1/board/DPS", headers=officer, timeout=10).json()
    assert snapshot["info"] == ["Kantor tutup pukul 12.00 hari ini"]
    assert requests.get(f"{b.url}/api/v1/counters/9", headers=officer,
                        timeout=10).status_code == 200

    # And the audit log (read on B) says who changed what.
    admin = bearer(a.staff("auditor", "pw", "admin"))
    entries = requests.get(f"{b.url}/api/v1/audit?office=DPS&who=kepala", headers=admin,
                           timeout=10).json()["audit"]
    assert [e["action"] for e in entries] == ["config.update", "counter.add", "info.update"]
    assert entries[0]["detail"]["changes"] == [
        {"path": "policy.early_checkin_minutes", "old": None, "new": 240}]
