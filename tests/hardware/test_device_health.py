"""/api/v1/health lists every printer and serial display with its state; a display that
does not answer makes it 503 (it was 200 while the bus itself was up)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hardware.wiring import start_serial
from shared.app import create_app
from shared.core import Core


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_a_display_that_does_not_answer_fails_health(core: Core) -> None:
    app = create_app(core=core)
    client = app.test_client()
    manager = start_serial(core)  # the shipped bus-1: sim://, displays 1, 2 and 3
    assert manager is not None
    try:
        simulator = manager.simulators["bus-1"]

        def health() -> tuple[int, dict[str, Any]]:
            answer = client.get("/api/v1/health")
            return answer.status_code, answer.get_json()["devices"]["serial"]["bus-1"]

        eventually(lambda: all(d["state"] == "ok" for d in health()[1]["displays"].values()))
        # Display 2's cable is cut; the next number for counter 2 goes unanswered.
        simulator.addresses.pop(2)
        manager.show("DPS", "2", "B002")
        eventually(lambda: health()[1]["displays"]["2"]["state"] == "not_responding")
        status, bus = health()
        assert status == 503
        assert bus["status"] == "up" and bus["alert"] is True  # the bus itself is fine
        assert bus["displays"]["1"]["state"] == "ok"
        simulator.addresses[2] = "2"  # reconnected: the next probe finds it again
        eventually(lambda: client.get("/api/v1/health").status_code == 200, timeout=10)
        assert health()[1]["displays"]["2"]["state"] == "ok"
    finally:
        manager.stop()
