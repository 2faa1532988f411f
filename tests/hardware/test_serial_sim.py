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
from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.core import Core
from shared.events import EventBus, TicketEvent
from shared.web import staff_session_values

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


def _sim_app(core: Core, simulators: Any) -> Flask:
    app = create_app(core=core)
    init_sim_page(app, simulators)
    return app


def _logged_in(app: Flask, core: Core, username: str = "petugas",
               role: str = "officer") -> FlaskClient:
    """A browser session of a staff member, holding the session's anti-forgery token."""
    create_staff(core, username, "pw", role)
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(staff_session_values(core, username))
        session["csrf"] = CSRF
    return client


CSRF = "token-of-this-session"


class SimClient:
    """The logged-in test client; every POST carries the session's token, as the page's
    forms do (JSON posts send it in X-CSRF-Token)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, path: str, **options: Any) -> Any:
        return self.client.get(path, **options)

    def post(self, path: str, data: dict[str, str] | None = None, **options: Any) -> Any:
        if data is not None:
            return self.client.post(path, data={**data, "csrf": CSRF}, **options)
        headers = {"X-CSRF-Token": CSRF, **options.pop("headers", {})}
        return self.client.post(path, headers=headers, **options)


@pytest.fixture
def serial_sim_client(serial_sim: SimRig, core: Core) -> SimClient:
    app = _sim_app(core, serial_sim.manager.simulators)
    return SimClient(_logged_in(app, core))


def test_sim_page_lists_displays_and_buttons(serial_sim: SimRig,
                                             serial_sim_client: SimClient) -> None:
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


def test_sim_page_state_json(serial_sim: SimRig, serial_sim_client: SimClient) -> None:
    serial_sim.publish("recalled", "B012", "1")
    wait_for(lambda: serial_sim.simulator.displays()[1].blink, what="blink")
    state = serial_sim_client.get("/sim/serial/state.json").get_json()
    display = state["bus-1"]["displays"]["1"]
    assert (display["counter"], display["text"], display["blink"]) == ("1", "B012", True)
    assert state["bus-1"]["plugged"] is True and state["bus-1"]["answering"] is True


def test_sim_page_press_form_and_json(serial_sim: SimRig,
                                      serial_sim_client: SimClient) -> None:
    answer = serial_sim_client.post("/sim/serial/bus-1/1/press", data={"key": "next"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/sim/serial/")
    answer = serial_sim_client.post("/sim/serial/bus-1/2/press", json={"key": "recall"})
    assert answer.status_code == 202 and answer.get_json() == {"ok": True}
    wait_for(lambda: len(serial_sim.presses) == 2, what="presses")
    assert sorted(serial_sim.presses) == [("DPS", "1", "next"), ("DPS", "2", "recall")]


def test_sim_page_refusals_are_bilingual(serial_sim_client: SimClient) -> None:
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
                                              serial_sim_client: SimClient) -> None:
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


def test_sim_page_without_simulators(core: Core) -> None:
    client = _logged_in(_sim_app(core, {}), core)
    page = client.get("/sim/serial/").get_data(as_text=True)
    assert "Tidak ada bus simulasi" in page
    assert client.get("/sim/serial/state.json").get_json() == {}


def test_sim_page_finds_the_manager_registered_directly(serial_sim: SimRig,
                                                        core: Core) -> None:
    from hardware.serial.sim_page import sim_blueprint

    app = create_app(core=core)
    app.register_blueprint(sim_blueprint, url_prefix="/sim/serial")
    app.extensions["giliran_serial_sim"] = serial_sim.manager
    state = _logged_in(app, core).get("/sim/serial/state.json").get_json()
    assert set(state) == {"bus-1"}


def test_sim_page_needs_staff_and_the_anti_forgery_token(serial_sim: SimRig,
                                                         core: Core) -> None:
    app = _sim_app(core, serial_sim.manager.simulators)
    stranger = app.test_client()
    page = stranger.get("/sim/serial/")
    assert page.status_code == 302 and "/login?next=/sim/serial/" in page.headers["Location"]
    assert stranger.get("/sim/serial/state.json",
                        headers={"Accept": "application/json"}).status_code == 401
    refused = stranger.post("/sim/serial/bus-1/1/press", json={"key": "next"})
    assert refused.status_code == 401 and refused.get_json()["error"]["message"]["id"]
    # A logged-in officer whose form lacks (or forges) the token is refused too.
    officer = _logged_in(app, core)
    assert officer.post("/sim/serial/bus-1/1/press", data={"key": "next"}).status_code == 400
    assert officer.post("/sim/serial/bus-1/1/press", data={"key": "next", "csrf": "forged"},
                        ).status_code == 400
    assert officer.post("/sim/serial/bus-1/1/press", json={"key": "next"}).status_code == 400
    # A device (a kiosk's token) is not staff.
    _, kiosk_token = enrol_device(core, "kiosk-9", create_device(core, "kiosk", "kiosk-9"))
    assert stranger.post("/sim/serial/bus-1/1/press", json={"key": "next"},
                         headers={"Authorization": f"Bearer {kiosk_token}"}).status_code == 403
    # A staff bearer token needs no form token: browsers cannot forge the header.
    token = create_staff(core, "kepala", "pw", "supervisor", token=True)
    answer = stranger.post("/sim/serial/bus-1/2/press", json={"key": "next"},
                           headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 202
    wait_for(lambda: serial_sim.presses == [("DPS", "2", "next")], what="one press")
    html = officer.get("/sim/serial/").get_data(as_text=True)
    assert html.count(f'name="csrf" value="{CSRF}"') == 8  # 3 x 2 buttons, cable, devices
