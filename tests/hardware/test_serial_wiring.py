"""The server's serial wiring: a simulated call button calls through the service layer,
and the LED display above the counter shows the number."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hardware.wiring import start_serial
from shared import visits
from shared.bookings import import_rows
from shared.core import Core
from tests.conftest import booking_row


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def serial_core(core: Core) -> Iterator[tuple[Core, Any]]:
    manager = start_serial(core)
    assert manager is not None
    yield core, manager
    manager.stop()


def test_button_press_calls_next_once_and_led_shows_it(serial_core: Any) -> None:
    core, manager = serial_core
    import_rows(core, enumerate([booking_row("LED-000001"), booking_row("LED-000002")], 1))
    visits.check_in(core, "DPS", "LED-000001", "k")
    visits.check_in(core, "DPS", "LED-000002", "k")
    simulator = manager.simulators["bus-1"]
    eventually(lambda: manager.health()["bus-1"]["status"] == "up")
    simulator.press(1, "next")
    eventually(lambda: simulator.displays().get(1) and simulator.displays()[1].text == "B001")
    # The marker: counter 2's button, handled after anything counter 1's press set off
    # (presses are handled in order). A second call from the one press would have taken
    # B002 first.
    simulator.press(2, "next")
    eventually(lambda: simulator.displays().get(2) and simulator.displays()[2].text == "B002")
    assert visits.station_queue(core, "DPS", "berkas") == []
    assert visits.counter_state(core, "DPS", "2")["current"]["number"] == "B002"
    state = visits.counter_state(core, "DPS", "1")
    assert state["current"]["number"] == "B001"
    visits.act(core, state["current"]["id"], "finish", "p", None)
    eventually(lambda: simulator.displays()[1].text == "")
