"""The counter terminal at 1366x768 (the common office laptop): every button, the hold
list's buttons included, is whole and inside the window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.test_board_counter import login
from tests.conftest import booking_row
from tests.live import LiveServer

pytestmark = pytest.mark.browser

CLIPPED_JS = """() => {
    const width = document.documentElement.clientWidth;
    const problems = [];
    for (const button of document.querySelectorAll("#terminal button")) {
        if (!button.getClientRects().length) continue;
        const box = button.getBoundingClientRect();
        const name = (button.dataset.action || button.dataset.rowAction || button.textContent)
            .trim().slice(0, 30);
        if (box.left < 0 || box.right > width + 0.5) {
            problems.push(`${name}: ${Math.round(box.left)}-${Math.round(box.right)} of ${width}`);
        }
        let parent = button.parentElement;
        while (parent && parent !== document.body) {
            const style = getComputedStyle(parent);
            if (style.overflowX !== "visible") {
                const outer = parent.getBoundingClientRect();
                if (box.right > outer.right + 0.5 || box.left < outer.left - 0.5) {
                    problems.push(`${name}: cut by ${parent.className || parent.tagName}`);
                }
            }
            parent = parent.parentElement;
        }
        if (button.scrollWidth > button.clientWidth + 1) problems.push(`${name}: text overflows`);
    }
    if (document.documentElement.scrollWidth > width + 1) problems.push("page scrolls sideways");
    return problems;
}"""


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    yield context
    context.close()


def test_terminal_fits_1366(context: Any, live: LiveServer, artifacts: Path) -> None:
    token = live.staff("petugas", "pw")
    headers = {"Authorization": f"Bearer {token}"}
    codes = [f"FIT-{i:06d}" for i in range(4)]
    live.add_bookings([booking_row(code) for code in codes])
    for code in codes:
        requests.post(f"{live.url}/api/v1/checkin", json={"scan": code}, headers=headers,
                      timeout=10).raise_for_status()
    # Two tickets on hold with long reasons, one missed: the list's buttons are shown.
    for reason in ("Menunggu anggota keluarga yang sedang memfotokopi dokumen",
                   "Dokumen belum lengkap: akta kelahiran asli tertinggal di rumah"):
        called = requests.post(f"{live.url}/api/v1/counters/1/next", headers=headers,
                               timeout=10).json()["ticket"]
        requests.post(f"{live.url}/api/v1/tickets/{called['id']}/hold", json={"reason": reason},
                      headers=headers, timeout=10).raise_for_status()
    page = context.new_page()
    login(page, live, "petugas", "pw", "/counter?c=1")
    page.wait_for_function("document.body.dataset.loaded === '1'")
    page.wait_for_selector("#parked button[data-row-action='resume']")
    page.click("#btn-next")
    page.wait_for_function("document.getElementById('current-number').textContent.trim()"
                           " !== '\u2014'")
    page.screenshot(path=str(artifacts / "counter-1366.png"), full_page=True)
    assert page.locator("#parked button[data-row-action='resume']").count() == 2
    problems = page.evaluate(CLIPPED_JS)
    assert problems == [], problems


def test_supervisor_shows_device_times_in_office_time(browser: Any, live: LiveServer) -> None:
    live.staff("kepala", "pw", role="supervisor")
    context = browser.new_context(viewport={"width": 1366, "height": 768},
                                  timezone_id="America/New_York")
    try:
        page = context.new_page()
        login(page, live, "kepala", "pw", "/counter/supervisor")
        # The simulated serial bus answers at start: its last_ack_at is a device time.
        page.wait_for_function("document.getElementById('health').textContent"
                               ".includes('last_ack_at')", timeout=15_000)
        text = page.locator("#health").inner_text()
        assert "WITA" in text
        assert "+00:00" not in text and "Z " not in text
        assert page.evaluate("window.giliranSupervisor.officeTime("
                             "'2026-12-01T01:05:09.123+00:00')") == "01-12-2026 09:05:09 WITA"
        assert page.evaluate("window.giliranSupervisor.officeTime('B012')") is None
    finally:
        context.close()
