"""The phone's ticket page is pushed: a real python-socketio client in the /ticket
namespace of a live server, joined with the ticket's status token only."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.conftest import booking_row
from tests.live import LiveServer

WAIT = 10.0


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(var=tmp_path, clock="2026-12-01T09:00", hardware=False,
                        database_url=f"sqlite:///{tmp_path / 'giliran.sqlite3'}")
    server.prepare()
    server.start()
    yield server
    server.close()


class Phone:
    """A phone following one ticket: every `ticket` push lands in a queue."""

    def __init__(self, live: LiveServer, token: str) -> None:
        self.pushes: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("ticket", self.pushes.put, namespace="/ticket")
        self.client.connect(f"{live.url}?ticket={token}", namespaces=["/ticket"],
                            transports=["websocket"], wait_timeout=WAIT)

    def next(self) -> dict[str, Any]:
        return self.pushes.get(timeout=WAIT)

    def until(self, check: Any) -> dict[str, Any]:
        while True:
            push = self.next()
            if check(push["ticket"]):
                return push

    def close(self) -> None:
        self.client.disconnect()


def test_phone_gets_its_ticket_pushed_with_server_time(live: LiveServer) -> None:
    token = live.staff("petugas", "pw")
    headers = {"Authorization": f"Bearer {token}"}
    live.add_bookings([booking_row("PUSH-00001"), booking_row("PUSH-00002")])
    first = requests.post(f"{live.url}/api/v1/checkin", json={"scan": "PUSH-00001"},
                          headers=headers, timeout=10).json()["ticket"]
    second = requests.post(f"{live.url}/api/v1/checkin", json={"scan": "PUSH-00002"},
                           headers=headers, timeout=10).json()["ticket"]
    phone = Phone(live, second["status_url"].rsplit("/", 1)[1])
    try:
        hello = phone.next()  # at once on connect
        assert hello["ticket"]["number"] == "B002" and hello["ticket"]["position"] == 2
        assert "id" not in hello["ticket"] and "name" not in str(hello["ticket"]).lower()
        assert hello["now"].startswith("2026-12-01T09:0") and hello["now"].endswith("+08:00")
        # Someone ahead is called: the position moves without the phone asking.
        requests.post(f"{live.url}/api/v1/counters/1/next", headers=headers,
                      timeout=10).raise_for_status()
        moved = phone.until(lambda t: t["position"] == 1)
        assert moved["ticket"]["status"] == "waiting"
        requests.post(f"{live.url}/api/v1/tickets/{first['id']}/done", headers=headers,
                      timeout=10)
        requests.post(f"{live.url}/api/v1/counters/2/next", headers=headers,
                      timeout=10).raise_for_status()
        called = phone.until(lambda t: t["status"] == "called")
        assert called["ticket"]["counter"] == "2" and called["ticket"]["number"] == "B002"
    finally:
        phone.close()


def test_only_the_ticket_token_opens_the_namespace(live: LiveServer) -> None:
    live.add_bookings([booking_row("PUSH-00003")])
    token = live.staff("petugas", "pw")
    ticket = requests.post(f"{live.url}/api/v1/checkin", json={"scan": "PUSH-00003"},
                           headers={"Authorization": f"Bearer {token}"},
                           timeout=10).json()["ticket"]
    for query in ("", "?ticket=no-such-token", "?ticket=" + "x" * 80):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(f"{live.url}{query}", namespaces=["/ticket"],
                           transports=["websocket"], wait_timeout=5)
    # A ticket token opens /ticket and nothing else.
    status_token = ticket["status_url"].rsplit("/", 1)[1]
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(f"{live.url}?ticket={status_token}", namespaces=["/display"],
                       transports=["websocket"], wait_timeout=5)
    # A staff bearer token is no ticket: /ticket refuses it.
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live.url, namespaces=["/ticket"], transports=["websocket"],
                       headers={"Authorization": f"Bearer {token}"}, wait_timeout=5)
