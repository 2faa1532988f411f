"""The applicant's status page on a network that lets no websocket through (some phone
and office Wi-Fi proxies): the page stays current by polling, so it does not keep saying
"no connection" at every failed try of the push connection. It says so once the server
cannot be reached at all."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.browser.test_kiosk import PHONE_VIEWPORT, WAIT_MS
from tests.conftest import booking_row
from tests.live import LiveServer

pytestmark = pytest.mark.browser

OFFLINE_SHOWN = "!document.getElementById('status-offline').hidden"


def test_no_connection_is_said_only_when_polling_fails_too(browser: Any,
                                                           live: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {live.staff('made', 'rahasia-456')}"}
    live.add_bookings([booking_row("DPS-NOWS01")])
    answer = requests.post(f"{live.url}/api/v1/checkin", json={"scan": "DPS-NOWS01"},
                           headers=headers, timeout=10)
    status_url = answer.json()["ticket"]["status_url"]
    phone = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # Every websocket is refused, as by a proxy that does not pass them.
        page.route_web_socket("**/socket.io/**", lambda ws: ws.close())
        page.clock.install()
        page.goto(f"{live.url}{status_url}")
        page.wait_for_function("document.getElementById('status').dataset.ready === 'true'",
                               timeout=WAIT_MS)
        shown = []
        for _ in range(12):  # two minutes: the push connection tries again and again
            page.clock.run_for(10_000)
            page.wait_for_timeout(50)
            shown.append(page.evaluate(OFFLINE_SHOWN))
        assert page.evaluate("window.ticketStatus.polls") >= 3
        assert page.evaluate("window.ticketStatus.connected") is False
        assert shown == [False] * 12, shown

        # Now the server cannot be reached at all: after a failed poll, it says so.
        page.route("**/api/v1/t/**", lambda route: route.abort())
        for _ in range(8):
            page.clock.run_for(10_000)
            page.wait_for_timeout(50)
        assert page.evaluate(OFFLINE_SHOWN)
        text = " ".join(str(page.locator("#status-offline").text_content()).split())
        assert "Tidak ada koneksi" in text and "No connection" in text
        assert not errors, errors
    finally:
        phone.close()
