"""Issue 13, attack 4: ~100 anonymous websockets held every worker thread and starved
/api/v1/health. Connections are now authenticated at the Engine.IO handshake (refused
before they hold anything) and capped per address."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import socketio
import websocket

from tests.live import ROOT
from tests.security.outsider import Office, live_office, started


def anonymous_websocket(url: str) -> str:
    try:
        ws = websocket.create_connection(
            url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=5)
    except websocket.WebSocketBadStatusException as exc:
        return str(exc.status_code)
    except OSError as exc:
        return type(exc).__name__
    ws.close()
    return "open"


def test_anonymous_clients_are_refused_at_the_handshake(office: Office) -> None:
    polling = requests.get(f"{office.url}/socket.io/?EIO=4&transport=polling", timeout=10)
    assert polling.status_code == 401
    assert anonymous_websocket(office.url) == "401"
    for namespace in ("/display", "/counter"):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(office.url, namespaces=[namespace], transports=["websocket"],
                           wait_timeout=5)
    # A forged or revoked token is anonymous too.
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(office.url, namespaces=["/display"], transports=["websocket"],
                       headers={"Authorization": "Bearer forged"}, wait_timeout=5)


def test_an_anonymous_flood_holds_nothing(office: Office) -> None:
    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(lambda _: anonymous_websocket(office.url), range(120)))
    assert set(outcomes) == {"401"}, outcomes
    started_at = time.monotonic()
    assert requests.get(f"{office.url}/api/v1/health", timeout=5).status_code == 200
    assert time.monotonic() - started_at < 2


def test_open_connections_are_capped_per_address(tmp_path: Path) -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^max_connections_per_address\s*=.*$",
                  "max_connections_per_address = 3", text)
    server = live_office(tmp_path, config=text)
    office = started(server)
    clients: list[socketio.Client] = []
    try:
        for _ in range(3):
            client = socketio.Client(reconnection=False)
            client.connect(office.url, namespaces=["/display"], transports=["websocket"],
                           headers={"Authorization": f"Bearer {office.board_token}"},
                           wait_timeout=10)
            clients.append(client)
        extra = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            extra.connect(office.url, namespaces=["/display"], transports=["websocket"],
                          headers={"Authorization": f"Bearer {office.board_token}"},
                          wait_timeout=5)
        clients.pop().disconnect()
        deadline = time.monotonic() + 10
        while True:  # the server notices the close, then admits a new one
            again = socketio.Client(reconnection=False)
            try:
                again.connect(office.url, namespaces=["/display"], transports=["websocket"],
                              headers={"Authorization": f"Bearer {office.board_token}"},
                              wait_timeout=5)
                clients.append(again)
                break
            except socketio.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "a freed slot was never given back"
                time.sleep(0.2)
        assert "max_connections_per_address" in (ROOT / "docs" / "security.md").read_text()
    finally:
        for client in clients:
            client.disconnect()
        server.stop()
