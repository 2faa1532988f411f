"""Printer and board sound states across processes (PostgreSQL + Redis): the printer is
known only in the process that owns it (A, with hardware), the board's sound only in the
process its socket is connected to (B); the devices list of either process shows both,
and a sound check asked of A plays on the board connected to B."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from shared import __version__
from tests.live import LiveServer
from tests.scaleout.helpers import Board, bearer, device_token, pg_redis_pair, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def pair(postgres: object, redis_server: object, tmp_path: Path,
         request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from pg_redis_pair(postgres, redis_server, tmp_path, request, "dev_")


class SoundBoard(Board):
    """A board that reports its version on connect and answers sound checks."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url, token)
        self.checks: list[dict[str, Any]] = []
        self.client.on("sound_check", self._on_check, namespace="/display")

    def _on_check(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.checks.append(data)

    def connect(self) -> SoundBoard:
        self.client.connect(self.url, namespaces=["/display"],
                            headers={"Authorization": f"Bearer {self.token}",
                                     "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) "
                                                   "Chrome/131.0.0.0 Safari/537.36"},
                            auth={"version": __version__},
                            transports=["websocket"], wait_timeout=10)
        wait_for(lambda: self.joins > 0, 10, "board did not join")
        return self


def devices(server: LiveServer, admin: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = requests.get(f"{server.url}/api/v1/devices", headers=admin, timeout=10)
    assert answer.status_code == 200, answer.text
    return {d["id"]: d for d in answer.json()["devices"]}


def test_printer_and_board_states_show_in_either_process(
        pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    admin = bearer(a.staff("kepala", "pw", "admin"))
    device_token(a, "kiosk", "kiosk-1")  # prints on the printer "kiosk-1", owned by A
    board = SoundBoard(b.url, device_token(b, "display", "papan-b")).connect()
    try:
        # The printer, known only to A, in B's devices list.
        wait_for(lambda: (devices(b, admin)["kiosk-1"]["printer"] or {}).get("status")
                 is not None, 15, "B never showed A's printer")
        printer = devices(b, admin)["kiosk-1"]["printer"]
        assert printer["stale"] is False and not printer["alert"]

        # The board's sound, known only to B, in A's devices list, with its version.
        board.client.call("sound_state", {"locked": True}, namespace="/display", timeout=10)
        wait_for(lambda: (devices(a, admin)["papan-b"]["sound"] or {}).get("sound")
                 == "locked", 10, "A never showed the board's sound state")
        seen = devices(a, admin)["papan-b"]
        assert seen["sound"]["status"] == "connected" and seen["sound"]["alert"] is True
        assert seen["version"] == __version__ and seen["browser"] == "Chrome 131 (Linux)"

        # A sound check asked of A plays on the board connected to B, and its answer
        # shows in A's list.
        answer = requests.post(f"{a.url}/api/v1/offices/DPS/sound-check", headers=admin,
                               json={}, timeout=10)
        assert answer.status_code == 202, answer.text
        check = answer.json()["check"]
        assert answer.json()["boards"] == ["papan-b"]
        wait_for(lambda: any(c["id"] == check for c in board.checks), 10,
                 "the board on B never got the sound check")
        board.client.call("sound_state", {"locked": False, "check": check, "played": True},
                          namespace="/display", timeout=10)
        wait_for(lambda: ((devices(a, admin)["papan-b"]["sound"] or {}).get("last_check")
                          or {}).get("played") is True, 10, "A never saw the answer")
        page = requests.get(f"{a.url}/admin/devices", headers=admin, timeout=10).text
        assert 'data-printer="kiosk-1"' in page
    finally:
        board.close()
    wait_for(lambda: devices(a, admin)["papan-b"]["sound"]["status"] == "disconnected", 10,
             "A still shows the board connected")


def test_a_kiosk_page_on_b_follows_a_config_change_made_on_a(
        browser: Any, pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    admin = bearer(a.staff("kepala", "pw", "admin"))
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = context.new_page()
        page.goto(b.enrol_url("kiosk", "kiosk-b"))
        page.wait_for_selector("#kiosk[data-config-joined='true']")
        answer = requests.put(f"{a.url}/api/v1/offices/DPS/info", headers=admin,
                              json={"info": ["Loket prioritas pindah ke lantai 2"]},
                              timeout=10)
        assert answer.status_code == 200, answer.text
        page.wait_for_function("document.querySelector('#kiosk-info li') && document"
                               ".querySelector('#kiosk-info li').textContent === "
                               "'Loket prioritas pindah ke lantai 2'", timeout=10_000)
        assert page.locator("#kiosk-info li").count() == 1
        # The kiosk's version reached A's devices list through the shared database.
        assert devices(a, admin)["kiosk-b"]["version"] == __version__
    finally:
        context.close()
