"""Helpers for tests with real `giliran serve` processes: boards as python-socketio
clients, device tokens, and a config with more counters."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from shared.auth import create_device, enrol_device
from tests.live import ROOT, LiveServer

CLOCK = "2026-12-01T10:00"   # WITA, a Tuesday
DAY = "2026-12-01"


def config_with_counters(directory: Path, count: int, checkin_rate: int | None = None) -> Path:
    """config.toml plus counters C1..Cn at the first station."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    if checkin_rate is not None:
        text = re.sub(r"(?m)^checkin_rate_per_minute\s*=.*$",
                      f"checkin_rate_per_minute = {checkin_rate}", text)
    text += "".join(f'\n[[offices.counters]]\nid = "C{i}"\nname = "Loket C{i}"\n'
                    f'stations = ["berkas"]\n' for i in range(1, count + 1))
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def device_token(server: LiveServer, kind: str, device_id: str, office: str = "DPS") -> str:
    core = server.core()
    try:
        return enrol_device(core, device_id, create_device(core, kind, device_id, office))[1]
    finally:
        core.db.engine.dispose()


def bookings(count: int, prefix: str) -> list[dict[str, str]]:
    return [{"code": f"{prefix}-{i:05d}", "office": "DPS", "date": DAY,
             "slot_start": f"{8 + i % 3:02d}:00", "slot_end": f"{9 + i % 3:02d}:00",
             "service": "paspor-baru", "priority_group": "", "name": f"Ni Luh Uji {i}"}
            for i in range(count)]


class Board:
    """A board: joins its office on every (re)connect, records `called` and `snapshot`."""

    def __init__(self, url: str, token: str, office: str = "DPS") -> None:
        self.url, self.token, self.office = url, token, office
        self.called: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []
        self.joins = 0
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.2,
                                      reconnection_delay_max=0.5)
        self.client.on("connect", self._on_connect, namespace="/display")
        self.client.on("called", self._on_called, namespace="/display")
        self.client.on("snapshot", self._on_snapshot, namespace="/display")

    def _on_connect(self) -> None:
        self.client.start_background_task(self._join)

    def _join(self) -> None:
        answer = self.client.call("join", {"office": self.office}, namespace="/display",
                                  timeout=10)
        if answer and answer.get("ok"):
            with self.lock:
                self.joins += 1

    def _on_called(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.called.append(data)

    def _on_snapshot(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.snapshots.append(data)

    def connect(self) -> Board:
        self.client.connect(self.url, namespaces=["/display"],
                            headers={"Authorization": f"Bearer {self.token}"},
                            transports=["websocket"], wait_timeout=10)
        wait_for(lambda: self.joins > 0, 10, "board did not join")
        return self

    def numbers(self) -> list[str]:
        with self.lock:
            return [c["number"] for c in self.called if not c["recall"]]

    def versions(self) -> list[int]:
        with self.lock:
            return [c["version"] for c in self.called]

    def last_snapshot(self) -> dict[str, Any] | None:
        with self.lock:
            return self.snapshots[-1] if self.snapshots else None

    def close(self) -> None:
        self.client.disconnect()


def wait_for(condition: Callable[[], bool], timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(message)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def running_pair(database_url: str, redis_url: str, tmp_path: Path, *,
                 hardware: tuple[bool, bool] = (True, False),
                 config_path: Path = ROOT / "config.toml",
                 ) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two production processes (`giliran serve`) on one database and one Redis, for a
    fixture to yield from: A (first) and B; stopped afterwards."""
    servers = []
    for name, owns_hardware in zip(("a", "b"), hardware, strict=True):
        (tmp_path / name).mkdir()
        servers.append(LiveServer(var=tmp_path / name, clock=CLOCK, database_url=database_url,
                                  config_path=config_path, hardware=owns_hardware,
                                  extra_env={"GILIRAN_REDIS_URL": redis_url}))
    servers[0].prepare()
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.close()


def pg_redis_pair(postgres: object, redis_server: object, tmp_path: Path,
                  request: pytest.FixtureRequest, prefix: str, *,
                  hardware: tuple[bool, bool] = (True, False),
                  config_path: Path = ROOT / "config.toml",
                  ) -> Iterator[tuple[LiveServer, LiveServer]]:
    """`running_pair` on a fresh PostgreSQL database named after the test, and Redis."""
    from tests.services import Postgres, Redis

    assert isinstance(postgres, Postgres) and isinstance(redis_server, Redis)
    url = postgres.create_database(prefix + request.node.name[:40].lower())
    yield from running_pair(url, redis_server.url, tmp_path, hardware=hardware,
                            config_path=config_path)
