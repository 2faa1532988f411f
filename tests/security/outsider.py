"""Helpers for the attacks re-run as an outsider: a live server with an officer, a board
and waiting tickets, and a logged-in browser-like session over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.live import ROOT, LiveServer
from tests.scaleout.helpers import CLOCK, bearer, device_token

PASSWORD = "rahasia-petugas"


@dataclass
class Office:
    server: LiveServer
    officer: dict[str, str]      # bearer headers of the officer "petugas"
    board_token: str
    kiosk_token: str

    @property
    def url(self) -> str:
        return self.server.url

    def walk_in(self) -> dict[str, object]:
        answer = requests.post(f"{self.url}/api/v1/walkins", json={"service": "paspor-baru"},
                               headers=self.officer, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()["ticket"]  # type: ignore[no-any-return]

    def counter_current(self, counter: str = "1") -> object:
        answer = requests.get(f"{self.url}/api/v1/counters/{counter}", headers=self.officer,
                              timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json().get("current")


def live_office(tmp_path: Path, config: str | None = None,
                extra_env: dict[str, str] | None = None) -> LiveServer:
    config_path = ROOT / "config.toml"
    if config is not None:
        config_path = tmp_path / "config.toml"
        config_path.write_text(config, encoding="utf-8")
    return LiveServer(var=tmp_path, clock=CLOCK, hardware=False, config_path=config_path,
                      database_url=f"sqlite:///{tmp_path / 'giliran.sqlite3'}",
                      extra_env=extra_env or {})


def started(server: LiveServer) -> Office:
    server.prepare()
    officer = bearer(server.staff("petugas", PASSWORD))
    board = device_token(server, "display", "papan-1")
    kiosk = device_token(server, "kiosk", "kiosk-1")
    server.start()
    return Office(server, officer, board, kiosk)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    server = live_office(tmp_path)
    try:
        yield started(server)
    finally:
        server.close()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no csrf field"
    return found.group(1)


def logged_in(url: str, username: str = "petugas", password: str = PASSWORD
              ) -> requests.Session:
    """A browser-like session of the officer (cookie), logged in through the form."""
    session = requests.Session()
    token = csrf_of(session.get(f"{url}/login", timeout=10).text)
    answer = session.post(f"{url}/login", data={"csrf": token, "username": username,
                                                "password": password},
                          headers={"Origin": url}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return session
