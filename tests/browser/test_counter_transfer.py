"""The transfer dialog says where no open counter would call the ticket: before, it
listed every station alike, and a ticket sent to a station whose counters were all closed
waited there, unseen, until somebody opened one."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.browser.test_board_counter import login
from tests.conftest import booking_row
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_the_transfer_dialog_marks_stations_without_an_open_counter(
        browser: Any, live: LiveServer) -> None:
    officer = {"Authorization": f"Bearer {live.staff('petugas', 'pw')}"}
    admin = {"Authorization": f"Bearer {live.staff('kepala-kantor', 'pw', 'admin')}"}
    live.add_bookings([booking_row("PINDAH-0001")])
    requests.post(f"{live.url}/api/v1/checkin", json={"scan": "PINDAH-0001"},
                  headers=officer, timeout=10).raise_for_status()
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        login(page, live, "petugas", "pw", "/counter?c=1")
        page.wait_for_function("document.body.dataset.loaded === '1'")
        page.click("#btn-next")
        page.wait_for_function("document.getElementById('current-number').textContent.trim()"
                               " !== '\u2014'")
        # Both photo counters close after the page loaded; only the priority-only counter
        # 3 still serves photos, and it never calls a regular ticket.
        for counter in ("F1", "F2"):
            closed = requests.patch(f"{live.url}/api/v1/offices/DPS/counters/{counter}",
                                    headers=admin, json={"open": False}, timeout=5)
            assert closed.status_code == 200, closed.text
        state = requests.get(f"{live.url}/api/v1/counters/1", headers=officer,
                             timeout=5).json()
        assert state["open_counters"]["foto"] == {"regular": 0, "priority": 1}
        assert state["open_counters"]["wawancara"] == {"regular": 4, "priority": 5}

        page.click("button[data-action='transfer']")
        page.wait_for_selector("#dlg-transfer[open]")
        photo = page.locator("#dlg-transfer button[value='foto']")
        assert "no-counter" in str(photo.get_attribute("class")).split()
        text = " ".join(str(photo.text_content()).split())
        assert "Tidak ada loket buka yang memanggil tiket ini" in text
        assert "No open counter calls this ticket here" in text
        interview = page.locator("#dlg-transfer button[value='wawancara']")
        assert "no-counter" not in str(interview.get_attribute("class")).split()
        assert "Tidak ada loket" not in str(interview.text_content())
        # Still a choice: the ticket goes there, to wait for a counter to open.
        photo.click()
        page.wait_for_function("document.getElementById('current-number').textContent.trim()"
                               " === '\u2014'")
        waiting = requests.get(f"{live.url}/api/v1/stations/foto/queue", headers=officer,
                               timeout=5).json()["waiting"]
        assert len(waiting) == 1
    finally:
        context.close()
