"""/api/v1/health lists every printer and serial display with its state; a display that
does not answer makes it 503 (it was 200 while the bus itself was up)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hardware.serial.manager import BusManager
from hardware.serial.settings import BusSettings
from shared.app import create_app
from shared.core import Core
from shared.events import EventBus

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


def test_a_display_that_does_not_answer_fails_health(core: Core) -> None:
    app = create_app(core=core)
    client = app.test_client()
    settings = BusSettings(id="bus-1", office="DPS", url="sim://", codec="stx",
                           addresses={1: "1", 2: "2"}, **FAST)
    events = EventBus()
    manager = BusManager([settings], events, lambda *press: None)
    # The simulated bus has nothing at address 2: as if that display's cable were cut.
    manager.simulators["bus-1"].addresses.pop(2)
    core.devices["serial"] = manager
    manager.start()
    try:
        def displays() -> dict[str, Any]:
            body = client.get("/api/v1/health").get_json()
            return body["devices"]["serial"]["bus-1"]["displays"]  # type: ignore[no-any-return]

        eventually(lambda: displays()["2"]["state"] == "not_responding")
        answer = client.get("/api/v1/health")
        assert answer.status_code == 503
        bus = answer.get_json()["devices"]["serial"]["bus-1"]
        assert bus["status"] == "up" and bus["alert"] is True
        assert bus["displays"]["1"]["state"] == "ok"
        manager.simulators["bus-1"].addresses[2] = "2"  # reconnected
        eventually(lambda: client.get("/api/v1/health").status_code == 200, timeout=8)
        assert displays()["2"]["state"] == "ok"
    finally:
        manager.stop()
        events.close()
