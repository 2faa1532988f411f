"""The Redis event bus during a rolling upgrade: a newer process's event with fields this
version does not know is still taken, and a message nobody can read is skipped without
losing the subscription (real Redis)."""

from __future__ import annotations

import json
import queue

import redis

from shared.events import CHANNEL, ControlEvent, RedisEventBus, TicketEvent
from tests.services import Redis


def test_unknown_fields_are_ignored_and_unreadable_messages_skipped(
        redis_server: object) -> None:
    assert isinstance(redis_server, Redis)
    bus = RedisEventBus(redis_server.url)
    tickets: queue.Queue[TicketEvent] = queue.Queue()
    controls: queue.Queue[ControlEvent] = queue.Queue()
    bus.subscribe(tickets.put)
    bus.subscribe_control(controls.put)
    other = redis.Redis.from_url(redis_server.url)
    try:
        # The listener is subscribed once a message sent now reaches it.
        for _ in range(100):
            other.publish(CHANNEL, json.dumps({"origin": "newer", "control": json.dumps(
                {"kind": "ready", "principal": "x"})}))
            try:
                controls.get(timeout=0.1)
                break
            except queue.Empty:
                continue
        else:
            raise AssertionError("the bus never subscribed")
        while not controls.empty():
            controls.get_nowait()

        other.publish(CHANNEL, b"\xff not json")
        other.publish(CHANNEL, json.dumps({"origin": "newer", "event": "{}"}))
        other.publish(CHANNEL, json.dumps({"origin": "newer", "control": json.dumps(
            {"kind": "sound_check", "principal": "office:DPS", "detail": {"id": "c1"},
             "added_in_a_later_version": 1})}))
        other.publish(CHANNEL, json.dumps({"origin": "newer", "event": json.dumps(
            {"office": "DPS", "version": 7, "kind": "called", "ticket": {"number": "B001"},
             "priority_hint": "later field"})}))

        control = controls.get(timeout=5)
        assert (control.kind, control.principal, control.detail) == (
            "sound_check", "office:DPS", {"id": "c1"})
        event = tickets.get(timeout=5)
        assert (event.office, event.version, event.ticket) == ("DPS", 7, {"number": "B001"})
        assert tickets.empty() and controls.empty()
    finally:
        other.close()
        bus.close()


def test_the_listeners_connection_notices_a_silent_peer(redis_server: object) -> None:
    """The listener waits on its subscription without a timeout. Without TCP keepalive a
    Redis gone without a word (a cable pulled, a firewall that forgot the connection)
    left it waiting for the kernel's two hours, its boards getting nothing from the other
    processes; with it, the kernel gives up after about 11 s and the listener subscribes
    again."""
    import socket
    import time

    assert isinstance(redis_server, Redis)
    bus = RedisEventBus(redis_server.url)
    try:
        deadline = time.monotonic() + 10
        connections: list[object] = []
        while time.monotonic() < deadline and not connections:
            # the subscription's connection, checked out of the bus's pool
            connections = list(bus._redis.connection_pool._in_use_connections)
            time.sleep(0.05)
        assert connections, "the listener never connected"
        for connection in connections:
            sock = connection._sock  # type: ignore[attr-defined]
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 5
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 2
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3
    finally:
        bus.close()


def test_a_hung_redis_holds_up_no_publisher() -> None:
    """A Redis that takes the connection and never answers: a control event (a device
    revoked in the console, a sound check) waited the 2 s socket timeout in the request
    that made it; ticket events already went through the publisher thread."""
    import time

    from tests.services import silent_server

    with silent_server() as port:
        bus = RedisEventBus(f"redis://127.0.0.1:{port}/0")
        local: queue.Queue[ControlEvent] = queue.Queue()
        bus.subscribe_control(local.put)
        try:
            started = time.monotonic()
            bus.publish_control(ControlEvent("revoked", "device:kiosk-1"))
            bus.publish(TicketEvent(office="DPS", version=1, kind="called", ticket={}))
            assert time.monotonic() - started < 0.5
            assert local.get(timeout=2).principal == "device:kiosk-1"  # here, at once
        finally:
            bus.close()  # gives up on the queue after MAX_DELAY
