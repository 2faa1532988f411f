"""The Content-Security-Policy blocks nothing of the product's own pages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_pages_run_under_the_policy(live: LiveServer, browser: Any) -> None:
    live.staff("supervisor", "pw", "supervisor")
    live.add_bookings([{"code": "CSP-000001", "office": "DPS", "date": "2026-12-01",
                        "slot_start": "09:00", "slot_end": "10:00",
                        "service": "paspor-baru", "priority_group": "", "name": "X"}])
    context = browser.new_context(bypass_csp=False)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(live.enrol_url("kiosk", "kiosk-1"))
    page.keyboard.type("CSP-000001")
    page.keyboard.press("Enter")
    page.wait_for_selector("#kiosk[data-state=ticket]", timeout=10000)
    status_url = page.evaluate("window.kioskState && window.kioskState.ticket "
                               "&& window.kioskState.ticket.status_url")
    page.goto(live.enrol_url("display", "board-1"))
    page.wait_for_selector("#board", timeout=10000)
    page.wait_for_load_state("networkidle")
    page.goto(f"{live.url}/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    for path in ("/counter?c=1", "/counter/supervisor", "/reports/day", "/reports/skm",
                 "/sim/serial/", status_url or "/"):
        page.goto(f"{live.url}{path}")
        # Scripts, styles and images are loaded (the positive signal): a blocked one has
        # been reported by then.
        page.wait_for_load_state("networkidle")
    context.close()
    assert violations == []
