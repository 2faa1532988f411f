"""LED displays show each counter's current call after a restart and on every refresh,
against the pseudo-terminal simulator behind the real worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from hardware.serial.codecs import Clear, Command
from hardware.serial.current import current_numbers
from hardware.serial.manager import BusManager
from hardware.serial.settings import BusSettings
from hardware.wiring import start_serial
from shared import visits
from shared.bookings import import_rows
from shared.core import Core
from shared.events import EventBus
from tests.conftest import booking_row

FAST: dict[str, Any] = {"ack_timeout": 0.15, "retries": 1, "probe_interval": 0.1,
                        "reopen_min": 0.05, "reopen_max": 0.2, "press_debounce": 0.0}


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def call_two(core: Core) -> None:
    rows = [booking_row("KEEP-000001"), booking_row("KEEP-000002"), booking_row("KEEP-000003")]
    assert import_rows(core, enumerate(rows, 1)).refused_count == 0
    for code in ("KEEP-000001", "KEEP-000002", "KEEP-000003"):
        visits.check_in(core, "DPS", code, "kiosk-1")
    assert visits.call_next(core, "DPS", "1", "ani") is not None  # B001 at counter 1
    assert visits.call_next(core, "DPS", "2", "budi") is not None  # B002 at counter 2


def test_current_numbers_are_todays_called_and_served_tickets(core: Core) -> None:
    call_two(core)
    assert current_numbers(core) == {("DPS", "1"): "B001", ("DPS", "2"): "B002"}
    state = visits.counter_state(core, "DPS", "2")
    visits.act(core, state["current"]["id"], "finish", "budi", None)
    assert current_numbers(core) == {("DPS", "1"): "B001"}


def test_displays_show_the_calls_after_a_restart(core: Core) -> None:
    call_two(core)  # called while no bus was running: no event will ever reach the displays
    manager = start_serial(core)
    assert manager is not None
    try:
        simulator = manager.simulators["bus-1"]
        eventually(lambda: simulator.displays()[1].text == "B001"
                   and simulator.displays()[2].text == "B002")
        assert simulator.displays()[3].text == ""
        assert not simulator.displays()[1].blink  # restored steady, not a new call
    finally:
        manager.stop()


@pytest.mark.parametrize("codec", ["stx", "line"])
def test_every_refresh_sends_the_current_call_never_clear(core: Core, codec: str) -> None:
    settings = BusSettings(id="bus-1", office="DPS", url="sim://", codec=codec,
                           addresses={1: "1", 2: "2"}, refresh_interval=0.3, **FAST)
    events = EventBus()  # not the core's bus: these displays hear of calls only by refresh
    manager = BusManager([settings], events, lambda *press: None,
                         current=lambda: current_numbers(core))
    manager.start()
    try:
        simulator = manager.simulators["bus-1"]
        received: list[Command] = []
        original = simulator._command

        def record(command: Any) -> None:
            received.append(command)
            original(command)

        simulator._command = record  # type: ignore[method-assign]
        eventually(lambda: manager.health()["bus-1"]["status"] == "up")
        call_two(core)
        eventually(lambda: simulator.displays()[1].text == "B001"
                   and simulator.displays()[2].text == "B002")
        shown_at = len(received)
        # Two more refreshes of both displays: each sends the number again, never Clear.
        eventually(lambda: sum(1 for c in received[shown_at:] if c.address == 1) >= 2)
        assert not [c for c in received[shown_at:] if isinstance(c, Clear)]
        assert simulator.displays()[1].text == "B001"
        state = visits.counter_state(core, "DPS", "1")
        visits.act(core, state["current"]["id"], "finish", "ani", None)
        eventually(lambda: simulator.displays()[1].text == "")  # the refresh clears it
        assert simulator.displays()[2].text == "B002"
    finally:
        manager.stop()
        events.close()
