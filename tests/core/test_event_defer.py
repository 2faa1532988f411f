"""The dispatcher's deferred work (EventBus.defer): what the board snapshot relies on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shared.events import EventBus, TicketEvent


@pytest.fixture
def bus() -> Iterator[EventBus]:
    bus = EventBus()
    yield bus
    bus.close()


def event(version: int, office: str = "DPS") -> TicketEvent:
    return TicketEvent(office, version, "checked_in", {"id": version})


def test_a_burst_gets_one_run_after_every_event_of_the_burst(bus: EventBus) -> None:
    seen: list[Any] = []
    gate = threading.Event()

    def subscriber(e: TicketEvent) -> None:
        if e.version == 1:
            assert gate.wait(10)  # the rest of the burst queues up meanwhile
        seen.append(e.version)
        bus.defer("picture", lambda: seen.append("picture"), delay=0.01, at_most=5)

    bus.subscribe(subscriber)
    for version in range(1, 6):
        bus.publish(event(version))
    gate.set()
    assert bus.wait_idle()
    assert seen == [1, 2, 3, 4, 5, "picture"]


def test_wait_idle_waits_for_deferred_work(bus: EventBus) -> None:
    done = threading.Event()
    bus.subscribe(lambda e: bus.defer("slow", done.set, delay=0.3, at_most=1))
    bus.publish(event(1))
    assert bus.wait_idle()
    assert done.is_set()


def test_work_that_keeps_being_deferred_still_runs_by_its_limit(bus: EventBus) -> None:
    """Changes that never pause (a busy office) still get their picture: `at_most` after
    the first change that is waiting for it."""
    ran = threading.Event()
    stop = threading.Event()
    bus.subscribe(lambda e: bus.defer("picture", ran.set, delay=5, at_most=0.2))

    def keep_publishing() -> None:
        version = 0
        while not stop.is_set() and not ran.is_set():
            version += 1
            bus.publish(event(version))
            stop.wait(0.01)

    publisher = threading.Thread(target=keep_publishing, daemon=True)
    publisher.start()
    try:
        assert ran.wait(3), "deferred work starved by a steady stream of events"
    finally:
        stop.set()
        publisher.join(5)


def test_keys_are_apart_and_a_failure_stops_nothing(bus: EventBus) -> None:
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("snapshot failed")

    def subscriber(e: TicketEvent) -> None:
        bus.defer(f"broken:{e.office}", broken, delay=0.01, at_most=1)
        bus.defer(f"picture:{e.office}", lambda: seen.append(e.office), delay=0.01, at_most=1)

    bus.subscribe(subscriber)
    bus.publish(event(1, "DPS"))
    bus.publish(event(1, "JKT"))
    assert bus.wait_idle()
    assert sorted(seen) == ["DPS", "JKT"]
    bus.publish(event(2, "DPS"))
    assert bus.wait_idle()
    assert sorted(seen) == ["DPS", "DPS", "JKT"]


def test_defer_from_another_thread_wakes_the_dispatcher(bus: EventBus) -> None:
    bus.publish(event(1))  # the dispatcher now sleeps on an empty queue
    assert bus.wait_idle()
    ran = threading.Event()
    bus.defer("from-outside", ran.set, delay=0.01, at_most=1)
    assert ran.wait(3)
