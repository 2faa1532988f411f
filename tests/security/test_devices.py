"""Issue 13: a kiosk cookie could not be revoked. A revoked device is refused at its next
request and its live Socket.IO connections are dropped, in every process."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
import requests
import socketio

from shared.app import create_app
from shared.auth import (
    create_device,
    enrol_device,
    list_devices,
    rename_device,
    revoke_device,
)
from shared.core import Core
from shared.errors import Refusal
from shared.realtime import socketio as server_socketio
from tests.live import BIN, ROOT
from tests.scaleout.helpers import wait_for
from tests.security.outsider import Office, live_office, started
from tests.services import Redis

BOARD = "/api/v1/board/DPS"


def cli(office: Office, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "giliran"), *args], env=office.server.env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


class Watched:
    """A board on a real python-socketio client that notes when it is disconnected."""

    def __init__(self, url: str, token: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.gone = threading.Event()
        self.client.on("disconnect", lambda *_: self.gone.set(), namespace="/display")
        self.client.connect(url, namespaces=["/display"], transports=["websocket"],
                            headers={"Authorization": f"Bearer {token}"}, wait_timeout=10)
        answer = self.client.call("join", {"office": "DPS"}, namespace="/display", timeout=10)
        assert answer == {"ok": True}

    def close(self) -> None:
        self.client.disconnect()


def test_revoked_device_is_refused_and_its_socket_dropped_through_redis(
        tmp_path: Path, redis_server: Redis) -> None:
    url = redis_server.url
    server = live_office(tmp_path, extra_env={"GILIRAN_REDIS_URL": url})
    office = started(server)
    try:
        board = Watched(office.url, office.board_token)
        cookie = requests.Session()
        cookie.cookies.set("giliran_device", office.board_token)
        assert cookie.get(f"{office.url}{BOARD}", timeout=10).status_code == 200
        listed = cli(office, "device", "list")
        row = next(r for r in listed.stdout.splitlines() if r.startswith("papan-1"))
        assert "enrolled" in row and "127.0.0.1" in row  # last use and address recorded
        # The CLI is another process: the revocation reaches the server through Redis.
        revoked = cli(office, "device", "revoke", "papan-1")
        assert revoked.returncode == 0, revoked.stderr
        assert board.gone.wait(5), "the revoked board's socket stayed open"
        assert cookie.get(f"{office.url}{BOARD}", timeout=10).status_code == 401
        assert requests.get(f"{office.url}{BOARD}", timeout=10, headers={
            "Authorization": f"Bearer {office.board_token}"}).status_code == 401
        with pytest.raises(socketio.exceptions.ConnectionError):
            Watched(office.url, office.board_token)
        listed = cli(office, "device", "list")
        assert "revoked" in next(r for r in listed.stdout.splitlines()
                                 if r.startswith("papan-1"))
        # The kiosk was not touched.
        assert requests.get(f"{office.url}{BOARD}", timeout=10, headers={
            "Authorization": f"Bearer {office.kiosk_token}"}).status_code == 200
    finally:
        server.stop()


def test_without_redis_the_sweep_drops_a_socket_revoked_by_the_cli(tmp_path: Path) -> None:
    server = live_office(tmp_path)
    office = started(server)
    try:
        board = Watched(office.url, office.board_token)
        assert cli(office, "device", "revoke", "papan-1").returncode == 0
        assert board.gone.wait(30), "the sweep did not drop the revoked board"
    finally:
        server.stop()


def test_in_process_revocation_drops_the_test_client(core: Core) -> None:
    _, token = enrol_device(core, "papan-1", create_device(core, "display", "papan-1"))
    app = create_app(core=core)
    app.testing = True
    client = server_socketio.test_client(app, namespace="/display",
                                         headers={"Authorization": f"Bearer {token}"})
    assert client.is_connected("/display")
    revoke_device(core, "papan-1")
    wait_for(lambda: not client.is_connected("/display"), 5, "socket not dropped")


def test_device_service_functions(core: Core) -> None:
    code = create_device(core, "kiosk", "kiosk-1")
    assert [(d.id, d.status) for d in list_devices(core)] == [("kiosk-1", "pending")]
    enrol_device(core, "kiosk-1", code)
    assert rename_device(core, "kiosk-1", "Kios lobi").name == "Kios lobi"
    with pytest.raises(Refusal):
        rename_device(core, "kiosk-1", "x" * 101)
    with pytest.raises(Refusal):
        revoke_device(core, "nope")
    info = revoke_device(core, "kiosk-1")
    assert info.status == "revoked" and info.revoked_at is not None
    assert info.as_dict()["revoked_at"].endswith("Z")
    # Registering it again gives a new enrolment link; enrolling un-revokes it.
    again = create_device(core, "kiosk", "kiosk-1")
    principal, _ = enrol_device(core, "kiosk-1", again)
    assert principal.name == "kiosk-1"
    assert list_devices(core, "DPS")[0].status == "enrolled"
