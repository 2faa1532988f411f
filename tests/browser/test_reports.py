"""The supervisor's day report in Chromium: log in, open /reports/day, charts are drawn.

Chart.js is served locally from /static/vendor/chart.umd.min.js (npm package chart.js).
A screenshot goes to tests/artifacts/reports-day.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.live import LiveServer

pytestmark = pytest.mark.browser

DAY = "2026-12-01"
VIEWPORT = {"width": 1440, "height": 1000}


def booking(code: str, start: str = "09:00", end: str = "10:00") -> dict[str, str]:
    return {"code": code, "office": "DPS", "date": DAY, "slot_start": start, "slot_end": end,
            "service": "paspor-baru", "priority_group": "", "name": "Ni Luh Putu Ayu"}


def prepare_day(live: LiveServer) -> None:
    """Three check-ins, two calls and one finished document check, through the API."""
    live.add_bookings([booking("LAPORAN-01"), booking("LAPORAN-02"),
                       booking("LAPORAN-03", "10:00", "11:00")])
    headers = {"Authorization": f"Bearer {live.staff('petugas', 'pw-petugas', 'officer')}"}
    api = f"{live.url}/api/v1"
    for code in ("LAPORAN-01", "LAPORAN-02", "LAPORAN-03"):
        answer = requests.post(f"{api}/checkin", json={"scan": code}, headers=headers,
                               timeout=5)
        assert answer.status_code == 201, answer.text
    called = requests.post(f"{api}/counters/1/next", headers=headers, timeout=5)
    assert called.status_code == 200, called.text
    finished = requests.post(f"{api}/tickets/{called.json()['ticket']['id']}/finish",
                             headers=headers, timeout=5)
    assert finished.status_code == 200, finished.text
    assert requests.post(f"{api}/counters/2/next", headers=headers, timeout=5).ok


def log_in(page: Any, live: LiveServer, username: str, password: str, target: str) -> None:
    page.goto(f"{live.url}/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_supervisor_sees_the_day_charts(live: LiveServer, browser: Any,
                                        artifacts: Path) -> None:
    prepare_day(live)
    live.staff("kepala", "pw-kepala", "supervisor")
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        log_in(page, live, "kepala", "pw-kepala", f"/reports/day?date={DAY}")
        page.wait_for_url(f"**/reports/day?date={DAY}")
        page.wait_for_selector("html[data-charts=ready]", timeout=10000)
        for canvas_id in ("chart-slots", "chart-stations", "chart-hours"):
            box = page.locator(f"#{canvas_id}").bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 100, canvas_id
            drawn = page.evaluate(
                """(id) => {
                    const chart = window.Chart.getChart(document.getElementById(id));
                    return chart ? {sets: chart.data.datasets.length,
                                    labels: chart.data.labels,
                                    width: chart.width, height: chart.height} : null;
                }""", canvas_id)
            assert drawn is not None and drawn["sets"] >= 3, canvas_id
            assert drawn["width"] > 0 and drawn["height"] > 0
        slots = page.evaluate("window.Chart.getChart(document.getElementById('chart-slots'))"
                              ".data.datasets.map(d => d.data)")
        assert slots[0] == [2, 1]  # booked per slot: 09-10, 10-11
        assert slots[1] == [2, 1]  # came
        assert page.locator("#stations").inner_text().count("Pemeriksaan Berkas") == 1
        assert errors == []
        page.screenshot(path=str(artifacts / "reports-day.png"), full_page=True)
    finally:
        context.close()


def test_officer_is_refused_the_reports(live: LiveServer, browser: Any) -> None:
    live.staff("petugas2", "pw-petugas", "officer")
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        log_in(page, live, "petugas2", "pw-petugas", "/reports/day")
        answer = page.goto(f"{live.url}/reports/day")
        assert answer is not None and answer.status == 403
    finally:
        context.close()
