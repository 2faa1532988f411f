"""The board speaks a burst of calls one after another, whole and in order."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_three_quick_calls_are_announced_in_order_without_overlap(live: LiveServer,
                                                                   browser: Any) -> None:
    token = live.staff("petugas", "pw")
    headers = {"Authorization": f"Bearer {token}"}
    codes = [f"VOICE-00{i}" for i in range(3)]
    live.add_bookings([{"code": code, "office": "DPS", "date": "2026-12-01",
                        "slot_start": "09:00", "slot_end": "10:00", "service": "paspor-baru",
                        "priority_group": "", "name": "X"} for code in codes])
    for code in codes:
        requests.post(f"{live.url}/api/v1/checkin", json={"scan": code}, headers=headers,
                      timeout=10).raise_for_status()
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(live.enrol_url("display", "board-1"))
    page.mouse.click(960, 540)  # the first touch unlocks audio, as on a real TV
    page.wait_for_function("window.GiliranAnnouncer && !window.GiliranAnnouncer.locked")
    page.wait_for_timeout(800)  # joined and holding the first snapshot
    called = []
    for counter in ("1", "2", "W1"):
        if counter == "W1":  # the third call: counter 1 finishes, then calls again
            current = requests.get(f"{live.url}/api/v1/counters/1", headers=headers,
                                   timeout=10).json()["current"]
            requests.post(f"{live.url}/api/v1/tickets/{current['id']}/finish",
                          headers=headers, timeout=10).raise_for_status()
            counter = "1"
        answer = requests.post(f"{live.url}/api/v1/counters/{counter}/next", headers=headers,
                               timeout=10)
        called.append(answer.json()["ticket"]["number"])
    # each announcement (chime, Indonesian, English) lasts about 11 s
    page.wait_for_function("window.GiliranAnnouncer.log.filter(e => e.ended_at).length >= 3",
                           timeout=60000)
    log = page.evaluate("window.GiliranAnnouncer.log.map(e => "
                        "({number: e.number, start: e.started_at, end: e.ended_at}))")
    context.close()
    assert [entry["number"] for entry in log] == called
    for before, after in zip(log, log[1:], strict=False):
        assert before["end"] <= after["start"]  # one announcement at a time
    assert all(entry["end"] - entry["start"] > 1000 for entry in log)  # whole sentences
