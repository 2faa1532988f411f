"""The bus worker against a real pseudo-terminal, the test playing the devices.

The worker opens a symlink to the pty's slave with serial_for_url, exactly as it opens
/dev/ttyUSB0; the test reads and answers on the master side. Pulling the cable closes
the pty; plugging it back creates a new one behind the same symlink.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.serial.codecs import (
    Ack,
    Blink,
    Clear,
    Codec,
    Message,
    Nak,
    Press,
    Show,
    get_codec,
)
from hardware.serial.manager import BusManager
from hardware.serial.settings import BusSettings
from shared.events import EventBus, TicketEvent

FAST: dict[str, Any] = {
    # Generous against a loaded CI machine: a late ACK only costs a resend, but a test
    # that counts frames would see it.
    "ack_timeout": 0.15,
    "retries": 1,
    "probe_interval": 0.1,
    "reopen_min": 0.05,
    "reopen_max": 0.2,
    "press_debounce": 0.2,
    "refresh_interval": 0.0,
}


def distinct(messages: list[Message]) -> list[Message]:
    """The messages without immediate repeats (a resend after a late ACK)."""
    return [m for i, m in enumerate(messages) if i == 0 or messages[i - 1] != m]


def wait_for(condition: Callable[[], Any], timeout: float = 3.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or condition}")


class PtyDevices:
    """Every device of a bus, played on the master side of a pty."""

    def __init__(self, link: Path, codec: Codec) -> None:
        self.link = link
        self.codec = codec
        self.received: list[Message] = []
        self.answer: Callable[[Message], Message | None] = self.ack
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._master: int | None = None
        self._slave: int | None = None
        self.plug()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def ack(self, message: Message) -> Message | None:
        return Ack(message.address)

    def plug(self) -> None:
        with self._lock:
            master, slave = os.openpty()
            tty.setraw(slave)
            if self.link.is_symlink():
                self.link.unlink()
            self.link.symlink_to(os.ttyname(slave))
            self._master, self._slave = master, slave

    def unplug(self) -> None:
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None
            self.link.unlink()

    def press(self, address: int, key: str) -> None:
        with self._lock:
            assert self._master is not None
            os.write(self._master, self.codec.encode(Press(address, key)))

    def commands(self) -> list[Message]:
        with self._lock:
            return list(self.received)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        if self._master is not None:
            self.unplug()

    def _run(self) -> None:
        decoder = self.codec.decoder()
        current: int | None = None
        while not self._stop.is_set():
            with self._lock:
                master = self._master
                if master != current:
                    decoder, current = self.codec.decoder(), master
                if master is None:
                    ready: list[int] = []
                else:
                    ready, _, _ = select.select([master], [], [], 0)
                data = os.read(master, 1024) if ready and master is not None else b""
                for message in decoder.feed(data):
                    if isinstance(message, Show | Blink | Clear):
                        self.received.append(message)
                        reply = self.answer(message)
                        if reply is not None and master is not None:
                            os.write(master, self.codec.encode(reply))
            if not data:
                time.sleep(0.005)


class Rig:
    def __init__(self, manager: BusManager, devices: PtyDevices, events: EventBus,
                 presses: list[tuple[str, str, str]]) -> None:
        self.manager = manager
        self.devices = devices
        self.events = events
        self.presses = presses
        self.version = 0

    def publish(self, kind: str, number: str, counter: str | None, office: str = "DPS"
                ) -> None:
        self.version += 1
        self.events.publish(TicketEvent(office, self.version, kind,
                                        {"number": number, "status": kind, "counter": counter},
                                        counter=counter))

    def health(self) -> dict[str, Any]:
        return self.manager.health()["bus-1"]


@pytest.fixture(params=["stx", "line"])
def serial_rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    codec_name: str = request.param
    devices = PtyDevices(tmp_path / "ttyRS485", get_codec(codec_name))
    settings = BusSettings(id="bus-1", office="DPS", url=str(devices.link), codec=codec_name,
                           addresses={1: "1", 2: "2", 5: "W1"}, **FAST)
    events = EventBus()
    presses: list[tuple[str, str, str]] = []

    def on_press(office: str, counter: str, key: str) -> None:
        presses.append((office, counter, key))
        if counter == "W1":
            raise RuntimeError("service layer refused")

    manager = BusManager([settings], events, on_press)
    manager.start()
    rig = Rig(manager, devices, events, presses)
    # At start every display is cleared, which also shows which devices answer.
    wait_for(lambda: rig.health()["status"] == "up"
             and all(d["responding"] for d in rig.health()["displays"].values()), what="up")
    yield rig
    manager.stop()
    events.close()
    devices.close()


def test_start_clears_every_display(serial_rig: Rig) -> None:
    assert set(serial_rig.devices.commands()) == {Clear(1), Clear(2), Clear(5)}
    displays = serial_rig.health()["displays"]
    assert displays["5"] == {"counter": "W1", "state": "ok", "text": "", "blink": False,
                             "responding": True, "pending": False,
                             "last_ack_at": displays["5"]["last_ack_at"]}
    assert serial_rig.health()["last_ack_at"] is not None


def test_call_shows_number_on_the_counters_address(serial_rig: Rig) -> None:
    start = len(serial_rig.devices.commands())
    serial_rig.publish("called", "B012", "2")
    wait_for(lambda: Show(2, "B012") in serial_rig.devices.commands(), what="show")
    wait_for(lambda: serial_rig.health()["displays"]["2"]["text"] == "B012", what="health")
    serial_rig.publish("recalled", "B012", "2")
    wait_for(lambda: Blink(2, "B012") in serial_rig.devices.commands(), what="blink")
    wait_for(lambda: serial_rig.health()["displays"]["2"]["blink"], what="blink health")
    serial_rig.publish("done", "B012", "2")
    wait_for(lambda: serial_rig.devices.commands()[-1] == Clear(2), what="clear")
    assert distinct(serial_rig.devices.commands()[start:]) == [
        Show(2, "B012"), Blink(2, "B012"), Clear(2)]


def test_events_of_other_offices_counters_and_kinds_are_ignored(serial_rig: Rig) -> None:
    start = len(serial_rig.devices.commands())
    serial_rig.publish("called", "B013", "1", office="JKT")
    serial_rig.publish("called", "B014", "S1")     # a counter with no display on this bus
    serial_rig.publish("checked_in", "B015", "1")
    serial_rig.publish("done", "B016", None)   # no counter: nothing to clear
    serial_rig.publish("called", "B017", "1")      # the marker: everything before is done
    wait_for(lambda: Show(1, "B017") in serial_rig.devices.commands(), what="marker")
    assert distinct(serial_rig.devices.commands()[start:]) == [Show(1, "B017")]


def test_numbers_no_display_can_show_are_refused_up_front(serial_rig: Rig) -> None:
    start = len(serial_rig.devices.commands())
    serial_rig.publish("called", "B 12", "1")
    serial_rig.publish("called", "B0123456789", "1")
    serial_rig.manager.show("DPS", "1", "b012!")
    worker = serial_rig.manager.workers["bus-1"]
    assert worker.submit(Show(1, "lower")) is False
    assert worker.submit(Show(9, "A001")) is False      # no device at address 9
    serial_rig.manager.show("DPS", "2", "b013")          # folded to upper case
    wait_for(lambda: Show(2, "B013") in serial_rig.devices.commands(), what="marker")
    assert distinct(serial_rig.devices.commands()[start:]) == [Show(2, "B013")]
    assert serial_rig.health()["port_open"] is True


def test_clear_of_an_old_ticket_keeps_the_next_number(serial_rig: Rig) -> None:
    serial_rig.publish("called", "B012", "1")
    serial_rig.publish("held", "B012", "1")
    serial_rig.publish("called", "B013", "1")
    serial_rig.publish("cancelled", "B012", "1")   # the held ticket, cancelled later
    serial_rig.publish("called", "B020", "2")      # marker
    wait_for(lambda: Show(2, "B020") in serial_rig.devices.commands(), what="marker")
    wait_for(lambda: serial_rig.health()["displays"]["1"]["text"] == "B013", what="B013")
    to_counter_1 = [m for m in serial_rig.devices.commands() if m.address == 1]
    assert to_counter_1[-1] == Show(1, "B013")
    assert serial_rig.health()["displays"]["1"]["pending"] is False


def test_press_calls_on_press_exactly_once(serial_rig: Rig) -> None:
    serial_rig.devices.press(1, "next")
    wait_for(lambda: serial_rig.presses, what="press")
    serial_rig.devices.press(2, "recall")
    wait_for(lambda: len(serial_rig.presses) == 2, what="second press")
    # The marker: presses reach the handler in order, so a duplicate of either would
    # come before it.
    serial_rig.devices.press(1, "recall")
    wait_for(lambda: ("DPS", "1", "recall") in serial_rig.presses, what="marker press")
    assert serial_rig.presses == [("DPS", "1", "next"), ("DPS", "2", "recall"),
                                  ("DPS", "1", "recall")]


def test_bounce_is_ignored_and_a_failing_handler_does_not_stop_presses(
    serial_rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        serial_rig.devices.press(5, "next")   # on_press raises for W1
        serial_rig.devices.press(5, "next")   # contact bounce: within press_debounce
        wait_for(lambda: "service layer refused" in caplog.text, what="logged")
    serial_rig.devices.press(1, "next")
    wait_for(lambda: len(serial_rig.presses) == 2, what="press after failure")
    assert serial_rig.presses == [("DPS", "W1", "next"), ("DPS", "1", "next")]


def test_silent_device_goes_down_and_comes_back(serial_rig: Rig) -> None:
    serial_rig.devices.answer = lambda message: None
    serial_rig.publish("called", "B012", "1")
    serial_rig.publish("called", "B013", "2")
    serial_rig.publish("called", "W001", "W1")
    wait_for(lambda: serial_rig.health()["status"] == "down", what="down")
    health = serial_rig.health()
    assert "tidak menjawab" in health["last_error"] and "does not answer" in health["last_error"]
    assert health["displays"]["1"]["responding"] is False
    assert health["displays"]["1"]["pending"] is True
    assert health["port_open"] is True

    serial_rig.devices.answer = serial_rig.devices.ack
    wait_for(lambda: serial_rig.health()["status"] == "up", what="up again")
    wait_for(lambda: serial_rig.health()["displays"]["1"]["text"] == "B012", what="delivered")
    wait_for(lambda: serial_rig.health()["displays"]["5"]["text"] == "W001", what="delivered")


def test_one_dead_display_keeps_the_bus_up(serial_rig: Rig) -> None:
    devices = serial_rig.devices
    devices.answer = lambda message: None if message.address == 5 else devices.ack(message)
    serial_rig.publish("called", "W001", "W1")
    wait_for(lambda: serial_rig.health()["displays"]["5"]["responding"] is False, what="dead")
    serial_rig.publish("called", "B012", "1")
    wait_for(lambda: serial_rig.health()["displays"]["1"]["text"] == "B012", what="others")
    assert serial_rig.health()["status"] == "up"


def test_nak_is_retried_then_given_up(serial_rig: Rig) -> None:
    devices = serial_rig.devices
    devices.answer = lambda message: Nak(message.address)
    serial_rig.publish("called", "B012", "1")
    wait_for(lambda: "menolak" in (serial_rig.health()["last_error"] or ""), what="refused")
    assert devices.commands().count(Show(1, "B012")) == 1 + FAST["retries"]
    assert serial_rig.health()["displays"]["1"]["pending"] is False


def test_pulled_cable_is_reopened(serial_rig: Rig) -> None:
    serial_rig.publish("called", "B012", "1")
    wait_for(lambda: serial_rig.health()["displays"]["1"]["text"] == "B012", what="shown")
    serial_rig.devices.unplug()
    wait_for(lambda: serial_rig.health()["status"] == "down", what="down")
    assert serial_rig.health()["port_open"] is False
    # While unplugged, calls still go in without waiting for the port.
    started = time.monotonic()
    serial_rig.publish("called", "B013", "2")
    assert serial_rig.events.wait_idle(1.0)
    assert time.monotonic() - started < 0.5
    # Reopening fails while the cable is out: wait for two failed attempts.
    failed_at: set[str] = set()

    def failed_reopens() -> bool:
        health = serial_rig.health()
        if "cannot open port" in (health["last_error"] or ""):
            failed_at.add(health["last_error_at"])
        return len(failed_at) >= 2

    wait_for(failed_reopens, what="failed reopen attempts")
    before = len(serial_rig.devices.commands())

    serial_rig.devices.plug()
    wait_for(lambda: serial_rig.health()["status"] == "up", what="up again")
    # The new device gets the state every display should have now.
    wait_for(lambda: {Show(1, "B012"), Show(2, "B013"), Clear(5)}
             <= set(serial_rig.devices.commands()[before:]), what="resync")
    serial_rig.devices.press(1, "next")
    wait_for(lambda: serial_rig.presses == [("DPS", "1", "next")], what="press after replug")


def test_dead_bus_never_holds_up_the_publisher(tmp_path: Path) -> None:
    settings = BusSettings(id="bus-1", office="DPS", url=str(tmp_path / "no-such-port"),
                           addresses={1: "1"}, **FAST)
    events = EventBus()
    manager = BusManager([settings], events, lambda *args: None)
    manager.start()
    try:
        started = time.monotonic()
        for version in range(200):
            events.publish(TicketEvent("DPS", version, "called", {"number": "A001"},
                                       counter="1"))
        assert events.wait_idle(1.0)
        assert time.monotonic() - started < 1.0
        health = wait_for(lambda: manager.health()["bus-1"]["last_error"] and manager.health(),
                          what="error")["bus-1"]
        assert health["status"] == "down"
        assert "cannot open port" in health["last_error"]
        assert health["displays"]["1"]["pending"] is True
    finally:
        started = time.monotonic()
        manager.stop()
        events.close()
        assert time.monotonic() - started < 1.5


def test_devices_that_never_answer_with_ack_timeout_zero(tmp_path: Path) -> None:
    devices = PtyDevices(tmp_path / "ttyLED", get_codec("line"))
    devices.answer = lambda message: None
    settings = BusSettings(id="bus-1", office="DPS", url=str(devices.link), codec="line",
                           addresses={1: "1"}, **{**FAST, "ack_timeout": 0.0})
    events = EventBus()
    manager = BusManager([settings], events, lambda *args: None)
    manager.start()
    try:
        events.publish(TicketEvent("DPS", 1, "called", {"number": "A001"}, counter="1"))
        wait_for(lambda: Show(1, "A001") in devices.commands(), what="sent")
        wait_for(lambda: manager.health()["bus-1"]["displays"]["1"]["text"] == "A001",
                 what="taken as shown")
        assert manager.health()["bus-1"]["status"] == "up"
        assert devices.commands().count(Show(1, "A001")) == 1
    finally:
        manager.stop()
        events.close()
        devices.close()


def test_idle_displays_are_refreshed_steady(tmp_path: Path) -> None:
    devices = PtyDevices(tmp_path / "ttyLED", get_codec("stx"))
    settings = BusSettings(id="bus-1", office="DPS", url=str(devices.link),
                           addresses={1: "1"}, **{**FAST, "refresh_interval": 0.2})
    events = EventBus()
    manager = BusManager([settings], events, lambda *args: None)
    manager.start()
    try:
        events.publish(TicketEvent("DPS", 1, "recalled", {"number": "A001"}, counter="1"))
        wait_for(lambda: Blink(1, "A001") in devices.commands(), what="blink")
        # Nothing else happens, yet the display hears from the host again: its state,
        # steady, so a refresh never repeats the recall's blinking.
        wait_for(lambda: Show(1, "A001") in devices.commands(), what="refresh")
        assert devices.commands().count(Blink(1, "A001")) == 1
    finally:
        manager.stop()
        events.close()
        devices.close()


def test_an_idle_bus_wakes_at_once_for_a_new_command(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An idle bus reads with a long timeout (few wake-ups a second); a command queued
    meanwhile ends that read at once instead of waiting it out."""
    import hardware.serial.worker as worker

    monkeypatch.setattr(worker, "IDLE_READ_TIMEOUT", 60.0)  # a wait nobody would sit out
    devices = PtyDevices(tmp_path / "ttyLED", get_codec("stx"))
    settings = BusSettings(id="bus-1", office="DPS", url=str(devices.link),
                           addresses={1: "1"}, **FAST)
    events = EventBus()
    manager = BusManager([settings], events, lambda *args: None)
    manager.start()
    try:
        wait_for(lambda: manager.health()["bus-1"]["displays"]["1"]["responding"],
                 what="start-up clear answered")
        wait_for(lambda: not manager.health()["bus-1"]["displays"]["1"]["pending"],
                 what="idle")
        events.publish(TicketEvent("DPS", 1, "called", {"number": "A001"}, counter="1"))
        wait_for(lambda: Show(1, "A001") in devices.commands(), what="sent without waiting")
        wait_for(lambda: manager.health()["bus-1"]["displays"]["1"]["text"] == "A001",
                 what="acknowledged")
    finally:
        manager.stop()
        events.close()
        devices.close()
