"""`sim://` buses: the simulator behind the real worker, and its development page."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hardware.serial.manager import BusManager
from hardware.serial.settings import BusSettings
from hardware.serial.sim_page import init_sim_page
from hardware.serial.simulator import SimulatedBus
from shared.events import EventBus, TicketEvent

FAST: dict[str, Any] = {"ack_timeout": 0.15, "retries": 1, "probe_interval": 0.1,
                        "reopen_min": 0.05, "reopen_max": 0.2, "press_debounce": 0.0}


def wait_for(condition: Callable[[], Any], timeout: float = 3.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or condition}")


class SimRig:
    def __init__(self, manager: BusManager, events: EventBus) -> None:
        self.manager = manager
        self.events = events
        self.presses: list[tuple[str, str, str]] = []
        self.version = 0

    @property
    def simulator(self) -> SimulatedBus:
        return self.manager.simulators["bus-1"]

    def publish(self, kind: str, number: str, counter: str) -> None:
        self.version += 1
        self.events.publish(TicketEvent("DPS", self.version, kind, {"number": number},
                                        counter=counter))

    def text(self, address: int) -> str:
        return self.simulator.displays()[address].text


@pytest.fixture(params=["stx", "line"])
def serial_sim(request: pytest.FixtureRequest) -> Iterator[SimRig]:
    settings = BusSettings(id="bus-1", office="DPS", url="sim://", codec=request.param,
                           addresses={1: "1", 2: "2", 3: "3"}, **FAST)
    events = EventBus()
    presses: list[tuple[str, str, str]] = []
    manager = BusManager([settings], events, lambda *press: presses.append(press))
    rig = SimRig(manager, events)
    rig.presses = presses
    manager.start()
    wait_for(lambda: manager.health()["bus-1"]["status"] == "up", what="up")
    yield rig
    manager.stop()
    events.close()


def test_sim_bus_shows_blinks_and_clears(serial_sim: SimRig,
                                         caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="hardware.serial.simulator"):
        serial_sim.publish("called", "B012", "2")
        wait_for(lambda: serial_sim.text(2) == "B012", what="shown")
        serial_sim.publish("recalled", "B012", "2")
        wait_for(lambda: serial_sim.simulator.displays()[2].blink, what="blink")
        serial_sim.publish("done", "B012", "2")
        wait_for(lambda: serial_sim.text(2) == "", what="cleared")
        # the simulator logs just after it changes the display: wait for the line too
        wait_for(lambda: "kosong" in caplog.text, what="cleared logged")
    assert "layar 2 (loket 2) menampilkan B012 / display 2 (counter 2) shows B012" in caplog.text
    assert "berkedip" in caplog.text and "kosong" in caplog.text
    history = serial_sim.simulator.state()["history"]
    assert [(h["text"], h["blink"]) for h in history[:3]] == [
        ("", False), ("B012", True), ("B012", False)]
    # the worker records the cleared display once the device's ACK has come back
    wait_for(lambda: serial_sim.manager.health()["bus-1"]["displays"]["2"]["text"] == "",
             what="health cleared")
    assert serial_sim.manager.health()["bus-1"]["simulated"] is True


def test_sim_press_reaches_on_press(serial_sim: SimRig) -> None:
    serial_sim.simulator.press(3, "recall")
    wait_for(lambda: serial_sim.presses, what="press")
    assert serial_sim.presses == [("DPS", "3", "recall")]
    with pytest.raises(KeyError):
        serial_sim.simulator.press(9, "next")
    with pytest.raises(ValueError):
        serial_sim.simulator.press(1, "louder")


def test_sim_unplug_and_silence_show_in_health(serial_sim: SimRig) -> None:
    health = serial_sim.manager.health
    serial_sim.simulator.unplug()
    wait_for(lambda: health()["bus-1"]["status"] == "down", what="unplugged")
    serial_sim.publish("called", "A001", "1")
    serial_sim.simulator.plug()
    wait_for(lambda: serial_sim.text(1) == "A001", what="shown after plug")
    assert health()["bus-1"]["status"] == "up"

    serial_sim.simulator.answering = False
    serial_sim.publish("called", "A002", "1")
    serial_sim.publish("called", "A003", "2")
    serial_sim.publish("called", "A004", "3")
    wait_for(lambda: health()["bus-1"]["status"] == "down", what="silent")
    serial_sim.simulator.answering = True
    wait_for(lambda: [serial_sim.text(a) for a in (1, 2, 3)] == ["A002", "A003", "A004"],
             what="delivered after silence")
    assert health()["bus-1"]["status"] == "up"


@pytest.fixture
def serial_sim_client(serial_sim: SimRig) -> FlaskClient:
    app = Flask(__name__)
    init_sim_page(app, serial_sim.manager.simulators)
    return app.test_client()


def test_sim_page_lists_displays_and_buttons(serial_sim: SimRig,
                                             serial_sim_client: FlaskClient) -> None:
    serial_sim.publish("called", "B012", "2")
    wait_for(lambda: serial_sim.text(2) == "B012", what="shown")
    answer = serial_sim_client.get("/sim/serial/")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert '<html lang="id">' in page
    assert page.count("Panggil / Call") == 3 and page.count("Ulang / Recall") == 3
    assert "B012" in page
    assert 'action="/sim/serial/bus-1/2/press"' in page
    assert page.index("Simulator Serial") < page.index("Serial simulator")


def test_sim_page_state_json(serial_sim: SimRig, serial_sim_client: FlaskClient) -> None:
    serial_sim.publish("recalled", "B012", "1")
    wait_for(lambda: serial_sim.simulator.displays()[1].blink, what="blink")
    state = serial_sim_client.get("/sim/serial/state.json").get_json()
    display = state["bus-1"]["displays"]["1"]
    assert (display["counter"], display["text"], display["blink"]) == ("1", "B012", True)
    assert state["bus-1"]["plugged"] is True and state["bus-1"]["answering"] is True


def test_sim_page_press_form_and_json(serial_sim: SimRig,
                                      serial_sim_client: FlaskClient) -> None:
    answer = serial_sim_client.post("/sim/serial/bus-1/1/press", data={"key": "next"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/sim/serial/")
    answer = serial_sim_client.post("/sim/serial/bus-1/2/press", json={"key": "recall"})
    assert answer.status_code == 202 and answer.get_json() == {"ok": True}
    wait_for(lambda: len(serial_sim.presses) == 2, what="presses")
    assert sorted(serial_sim.presses) == [("DPS", "1", "next"), ("DPS", "2", "recall")]


def test_sim_page_refusals_are_bilingual(serial_sim_client: FlaskClient) -> None:
    answer = serial_sim_client.post("/sim/serial/bus-1/1/press", json={"key": "louder"})
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_key" and error["message"]["id"] and error["message"]["en"]
    assert serial_sim_client.post("/sim/serial/bus-9/1/press",
                                  json={"key": "next"}).status_code == 404
    assert serial_sim_client.post("/sim/serial/bus-1/7/press",
                                  json={"key": "next"}).status_code == 404
    assert serial_sim_client.post("/sim/serial/bus-1/answering",
                                  json={"on": "perhaps"}).status_code == 400
    assert serial_sim_client.get("/sim/serial/bus-1/1/press").status_code == 405


def test_sim_page_toggles_answering_and_cable(serial_sim: SimRig,
                                              serial_sim_client: FlaskClient) -> None:
    assert serial_sim_client.post("/sim/serial/bus-1/answering",
                                  data={"on": "false"}).status_code == 303
    assert serial_sim.simulator.answering is False
    assert serial_sim_client.post("/sim/serial/bus-1/answering",
                                  json={"on": True}).status_code == 202
    assert serial_sim.simulator.answering is True
    serial_sim_client.post("/sim/serial/bus-1/plugged", json={"on": False})
    wait_for(lambda: not serial_sim.simulator.plugged, what="unplugged")
    serial_sim_client.post("/sim/serial/bus-1/plugged", json={"on": True})
    wait_for(lambda: serial_sim.simulator.plugged, what="plugged")


def test_sim_page_without_simulators() -> None:
    app = Flask(__name__)
    init_sim_page(app, {})
    page = app.test_client().get("/sim/serial/").get_data(as_text=True)
    assert "Tidak ada bus simulasi" in page
    assert app.test_client().get("/sim/serial/state.json").get_json() == {}


def test_sim_page_finds_the_manager_registered_directly(serial_sim: SimRig) -> None:
    from hardware.serial.sim_page import sim_blueprint

    app = Flask(__name__)
    app.register_blueprint(sim_blueprint, url_prefix="/sim/serial")
    app.extensions["giliran_serial_sim"] = serial_sim.manager
    state = app.test_client().get("/sim/serial/state.json").get_json()
    assert set(state) == {"bus-1"}
