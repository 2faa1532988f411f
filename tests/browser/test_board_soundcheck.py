"""A supervisor's remote sound check: the real board plays the chime and the test phrase
and reports back; /api/v1/health shows the board's sound state."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.live import LiveServer

pytestmark = pytest.mark.browser


def _board(live: LiveServer) -> dict[str, Any]:
    body = requests.get(f"{live.url}/api/v1/health", timeout=10).json()
    return body["devices"].get("boards", {}).get("board-1", {})  # type: ignore[no-any-return]


def _until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_remote_sound_check_plays_on_the_board_and_reports(live: LiveServer,
                                                            browser: Any) -> None:
    token = live.staff("kepala", "pw", role="supervisor")
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = context.new_page()
        page.goto(live.enrol_url("display", "board-1"))
        page.wait_for_function("window.giliranBoard && window.giliranBoard.joined")
        # Chromium runs with --autoplay-policy=no-user-gesture-required, as docs/devices.md
        # says a TV must: nobody touched the screen, yet the sound is on.
        page.wait_for_function("window.GiliranAnnouncer && !window.GiliranAnnouncer.locked")
        _until(lambda: _board(live).get("sound") == "unlocked")
        assert _board(live)["status"] == "connected"

        answer = requests.post(f"{live.url}/api/v1/offices/DPS/sound-check",
                               headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 202 and answer.json()["boards"] == ["board-1"]
        check = answer.json()["check"]
        page.wait_for_function(
            "(id) => window.GiliranAnnouncer.log.some(e => e.number === `sound-check ${id}`"
            " && e.ended_at && e.clips === 7)", arg=check, timeout=30_000)
        last = _until(lambda: (_board(live).get("last_check") or {}).get("answered_at")
                      and _board(live)["last_check"])
        assert last["id"] == check and last["played"] is True
    finally:
        context.close()
    _until(lambda: _board(live).get("status") == "disconnected")
