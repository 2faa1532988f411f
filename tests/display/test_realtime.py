"""Socket.IO rooms with Flask-SocketIO's test client: who may join, what each room hears,
and versions that rise by one per change so that a board can see a gap and ask again."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient

from shared import lifecycle, visits
from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.bookings import import_rows
from shared.config import parse_config
from shared.core import Core
from shared.realtime import socketio
from tests.conftest import booking_row, make_core

TWO_OFFICES = """
[policy]
recall_cooldown_seconds = 5
no_show_after_calls = 1

[[offices]]
id = "DPS"
name = "Kantor Imigrasi Kelas I TPI Denpasar"
timezone = "Asia/Makassar"
info = ["Waspada calo. / Beware of brokers."]

  [[offices.stations]]
  id = "berkas"
  name = { id = "Pemeriksaan Berkas", en = "Document check" }

  [[offices.stations]]
  id = "foto"
  name = { id = "Foto", en = "Photo" }
  spoken = "ruang foto"

  [[offices.services]]
  id = "paspor-baru"
  name = { id = "Paspor Baru", en = "New passport" }
  flow = ["berkas", "foto"]

  [[offices.counters]]
  id = "1"
  name = "Loket 1"
  stations = ["berkas"]

  [[offices.counters]]
  id = "F1"
  name = "Foto 1"
  stations = ["foto"]

[[offices]]
id = "JKT"
name = "Kantor Imigrasi Kelas I Khusus TPI Jakarta Selatan"
timezone = "Asia/Jakarta"

  [[offices.stations]]
  id = "berkas"
  name = { id = "Pemeriksaan Berkas", en = "Document check" }

  [[offices.services]]
  id = "paspor-baru"
  name = { id = "Paspor Baru", en = "New passport" }
  flow = ["berkas"]

  [[offices.counters]]
  id = "1"
  name = "Loket 1"
  stations = ["berkas"]
"""


@dataclass
class Rooms:
    app: Flask
    core: Core
    tokens: dict[str, str]

    def client(self, namespace: str, who: str | None = None) -> SocketIOTestClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        client = socketio.test_client(self.app, namespace=namespace, headers=headers)
        assert client.is_connected(namespace)
        return client

    def joined(self, namespace: str, who: str, office: str) -> SocketIOTestClient:
        client = self.client(namespace, who)
        assert client.emit("join", {"office": office}, namespace=namespace,
                           callback=True)["ok"] is True
        client.get_received(namespace)  # the join snapshot, if any
        return client

    def received(self, client: SocketIOTestClient, namespace: str) -> list[tuple[str, Any]]:
        assert self.core.bus.wait_idle()
        return [(item["name"], item["args"][0]) for item in client.get_received(namespace)]

    def walk_in(self, office: str = "DPS") -> dict[str, Any]:
        return visits.walk_in(self.core, office, "paspor-baru", None, "petugas")


@pytest.fixture
def rooms(tmp_path: Path) -> Iterator[Rooms]:
    config = parse_config(TWO_OFFICES, "two-offices.toml")
    core = make_core(config, f"sqlite:///{tmp_path / 'rooms.sqlite3'}")
    app = create_app(core=core)
    app.testing = True
    tokens: dict[str, str] = {}
    for office in ("DPS", "JKT"):
        _, tokens[f"board-{office}"] = enrol_device(
            core, f"board-{office}", create_device(core, "display", f"board-{office}", office))
    _, tokens["kiosk-DPS"] = enrol_device(core, "kiosk-DPS",
                                          create_device(core, "kiosk", "kiosk-DPS", "DPS"))
    staff: tuple[tuple[str, str, str | None], ...] = (
        ("petugas", "officer", "DPS"), ("petugas-jkt", "officer", "JKT"),
        ("kepala", "supervisor", None))
    for name, role, home in staff:
        token = create_staff(core, name, "pw", role, home, token=True)
        assert token
        tokens[name] = token
    yield Rooms(app, core, tokens)
    core.bus.close()
    core.db.engine.dispose()


# --- joining -------------------------------------------------------------------------------
def test_board_join_answers_with_the_snapshot(rooms: Rooms) -> None:
    rooms.walk_in()
    assert rooms.core.bus.wait_idle()
    client = rooms.client("/display", "board-DPS")
    answer = client.emit("join", {"office": "DPS"}, namespace="/display", callback=True)
    assert answer == {"ok": True}
    received = rooms.received(client, "/display")
    assert [name for name, _ in received] == ["snapshot"]
    board = received[0][1]
    assert board["version"] == 1 and board["office"]["id"] == "DPS"
    assert board["waiting"] == {"berkas": 1, "foto": 0}
    assert board["stations"]["foto"] == {"id": "Foto", "en": "Photo"}


@pytest.mark.parametrize(("namespace", "who"), [
    ("/display", None),              # nobody
    ("/counter", None),
    ("/counter", "board-DPS"),       # a board is not a terminal
    ("/counter", "kiosk-DPS"),
])
def test_connect_refused(rooms: Rooms, namespace: str, who: str | None) -> None:
    """Anyone the namespace does not serve is refused at connect: no room, no events."""
    headers = {"Authorization": f"Bearer {rooms.tokens[who]}"} if who else {}
    client = socketio.test_client(rooms.app, namespace=namespace, headers=headers)
    assert not client.is_connected(namespace)


@pytest.mark.parametrize(("namespace", "who", "office", "error"), [
    ("/display", "board-DPS", "JKT", "forbidden"),     # another office's board
    ("/display", "petugas-jkt", "DPS", "forbidden"),   # staff of another office
    ("/display", "board-DPS", "NOWHERE", "unknown_office"),
    ("/display", "board-DPS", None, "unknown_office"),
    ("/counter", "petugas", "JKT", "forbidden"),
    ("/counter", "petugas", "NOWHERE", "unknown_office"),
])
def test_join_refused(rooms: Rooms, namespace: str, who: str, office: str | None,
                      error: str) -> None:
    client = rooms.client(namespace, who)
    answer = client.emit("join", {"office": office}, namespace=namespace, callback=True)
    assert answer["ok"] is False and answer["error"] == error
    # Refused means not in the room: no snapshot now, nothing later.
    ticket = rooms.walk_in("JKT" if office == "JKT" else "DPS")
    visits.call_next(rooms.core, ticket["office"], "1", "petugas")
    assert rooms.received(client, namespace) == []


def test_join_with_garbage_is_refused_not_crashed(rooms: Rooms) -> None:
    client = rooms.client("/display", "board-DPS")
    for data in (None, "DPS", 7, ["DPS"], {"office": 7}):
        answer = client.emit("join", data, namespace="/display", callback=True)
        assert answer["ok"] is False
    assert client.is_connected("/display")


# --- rooms are offices -----------------------------------------------------------------------
def test_offices_do_not_hear_each_other(rooms: Rooms) -> None:
    dps_board = rooms.joined("/display", "board-DPS", "DPS")
    jkt_board = rooms.joined("/display", "board-JKT", "JKT")
    dps_terminal = rooms.joined("/counter", "petugas", "DPS")
    jkt_terminal = rooms.joined("/counter", "petugas-jkt", "JKT")
    head_office = rooms.joined("/counter", "kepala", "JKT")  # may see both; joined one

    rooms.walk_in("DPS")
    visits.call_next(rooms.core, "DPS", "1", "petugas")
    dps_events = rooms.received(dps_board, "/display")
    # The walk-in's snapshot may be coalesced into the call's (a later event was queued).
    assert [name for name, _ in dps_events][-2:] == ["called", "snapshot"]
    assert dps_events[-1][1]["version"] == 2
    assert [name for name, _ in rooms.received(dps_terminal, "/counter")] == ["update", "update"]
    assert rooms.received(jkt_board, "/display") == []
    assert rooms.received(jkt_terminal, "/counter") == []
    assert rooms.received(head_office, "/counter") == []

    rooms.walk_in("JKT")
    assert [name for name, _ in rooms.received(jkt_board, "/display")] == ["snapshot"]
    jkt_updates = rooms.received(jkt_terminal, "/counter")
    assert [(u["kind"], u["version"]) for _, u in jkt_updates] == [("checked_in", 1)]
    assert rooms.received(head_office, "/counter") == jkt_updates
    assert rooms.received(dps_board, "/display") == []
    assert rooms.received(dps_terminal, "/counter") == []


def test_called_event_carries_the_call_and_no_names(rooms: Rooms) -> None:
    import_rows(rooms.core, enumerate([booking_row("DPS-RAHASIA-1", name="I Made Rahasia")],
                                      start=1))
    board = rooms.joined("/display", "board-DPS", "DPS")
    ticket = visits.check_in(rooms.core, "DPS", "DPS-RAHASIA-1", "kiosk-DPS").ticket
    visits.call_next(rooms.core, "DPS", "1", "petugas")
    events = rooms.received(board, "/display")
    called = [payload for name, payload in events if name == "called"]
    assert len(called) == 1
    call = called[0]
    assert {k: call[k] for k in ("number", "counter", "counter_name", "station", "recall")} == {
        "number": ticket["number"], "counter": "1", "counter_name": "Loket 1",
        "station": "berkas", "recall": False}
    assert call["announce"] and all(url.startswith("/display/") for url in call["announce"])
    snapshot = events[-1][1]
    assert snapshot["now_serving"][0]["number"] == ticket["number"]
    assert snapshot["version"] == call["version"]
    assert "Rahasia" not in json.dumps(events)

    rooms.core.clock.advance(timedelta(seconds=10))  # past the recall cooldown
    visits.act(rooms.core, ticket["id"], "recall", "petugas", ("DPS",))
    recalled = [p for name, p in rooms.received(board, "/display") if name == "called"]
    assert len(recalled) == 1 and recalled[0]["recall"] is True
    assert recalled[0]["version"] == call["version"] + 1


# --- versions --------------------------------------------------------------------------------
def test_versions_rise_by_one_per_change(rooms: Rooms) -> None:
    board = rooms.joined("/display", "board-DPS", "DPS")
    terminal = rooms.joined("/counter", "petugas", "DPS")
    first = rooms.walk_in()                                         # 1 checked_in
    rooms.walk_in()                                                 # 2 checked_in
    visits.call_next(rooms.core, "DPS", "1", "petugas")             # 3 called
    visits.act(rooms.core, first["id"], "start", "petugas", None)   # 4 started
    visits.act(rooms.core, first["id"], "finish", "petugas", None)  # 5 moved (to foto)
    visits.call_next(rooms.core, "DPS", "F1", "petugas")            # 6 called at foto
    visits.act(rooms.core, first["id"], "no-show", "petugas", None)  # 7 missed
    visits.act(rooms.core, first["id"], "reinstate", "petugas", None)  # 8 reinstated
    rooms.walk_in("JKT")                                            # JKT's own 1

    updates = [u for _, u in rooms.received(terminal, "/counter")]
    assert [(u["version"], u["kind"]) for u in updates] == [
        (1, "checked_in"), (2, "checked_in"), (3, "called"), (4, "started"), (5, "moved"),
        (6, "called"), (7, "missed"), (8, "reinstated")]
    assert all(u["ticket"]["id"] == first["id"] for u in updates[2:])

    events = rooms.received(board, "/display")
    calls = [p for name, p in events if name == "called"]
    assert [(c["version"], c["counter"], c["station"]) for c in calls] == [
        (3, "1", "berkas"), (6, "F1", "foto")]
    # Snapshots may be coalesced when changes queue up; what holds: they never go back,
    # the board ends on the final state, and a snapshot showing each call follows it.
    snapshots = [p["version"] for name, p in events if name == "snapshot"]
    assert snapshots == sorted(snapshots) and snapshots[-1] == 8
    order = [(name, p["version"]) for name, p in events]
    for call in calls:
        position = order.index(("called", call["version"]))
        assert any(name == "snapshot" and version >= call["version"]
                   for name, version in order[position + 1:])
    assert rooms.core.office_version("DPS") == 8
    assert rooms.core.office_version("JKT") == 1


def test_a_refused_change_does_not_move_the_version(rooms: Rooms) -> None:
    terminal = rooms.joined("/counter", "petugas", "DPS")
    ticket = rooms.walk_in()
    visits.call_next(rooms.core, "DPS", "1", "petugas")
    with pytest.raises(Exception, match="counter_busy"):
        visits.call_next(rooms.core, "DPS", "1", "petugas")
    with pytest.raises(Exception, match="invalid_state"):
        visits.act(rooms.core, ticket["id"], "resume", "petugas", None)
    visits.act(rooms.core, ticket["id"], "start", "petugas", None)
    assert [u["version"] for _, u in rooms.received(terminal, "/counter")] == [1, 2, 3]


# --- a board that saw a gap asks for the whole picture ----------------------------------------
def test_snapshot_request_answers_with_the_current_version(rooms: Rooms) -> None:
    board = rooms.joined("/display", "board-DPS", "DPS")
    for _ in range(3):
        rooms.walk_in()
    visits.call_next(rooms.core, "DPS", "1", "petugas")
    rooms.received(board, "/display")  # the board missed these, say

    answer = board.emit("snapshot", {"office": "DPS"}, namespace="/display", callback=True)
    assert answer == {"ok": True}
    received = rooms.received(board, "/display")
    assert [name for name, _ in received] == ["snapshot"]
    snapshot = received[0][1]
    assert snapshot["version"] == 4
    assert snapshot["waiting"]["berkas"] == 2
    assert [s["number"] for s in snapshot["now_serving"]] == ["W001"]
    assert snapshot["recent"][0]["counter_name"] == "Loket 1"


def test_a_board_asking_again_and_again_gets_one_picture_a_second(rooms: Rooms) -> None:
    """A page stuck asking for snapshots (a loop, a bug, a hostile device) cost the server
    a snapshot's reads per request. Asked again within a second, the answer is the one
    picture sent when the second is up, and it is the current one."""
    import time

    board = rooms.joined("/display", "board-DPS", "DPS")
    rooms.received(board, "/display")
    started = time.monotonic()
    for _ in range(10):
        answer = board.emit("snapshot", {"office": "DPS"}, namespace="/display",
                            callback=True)
        assert answer == {"ok": True}
    rooms.walk_in()  # a change while it keeps asking
    received = rooms.received(board, "/display")  # once the bus, deferred work too, is idle
    snapshots = [payload for name, payload in received if name == "snapshot"]
    # the first request's, the change's own, and one for the 9 asked within the second
    assert len(snapshots) == 3, [name for name, _ in received]
    assert time.monotonic() - started >= 1.0
    assert snapshots[-1]["version"] == rooms.core.office_version("DPS")
    assert rooms.received(board, "/display") == []


@pytest.mark.parametrize(("who", "data"), [
    ("petugas-jkt", {"office": "DPS"}),
    ("board-DPS", {"office": "JKT"}),
    ("board-DPS", {"office": "NOWHERE"}),
    ("board-DPS", {}),
    ("board-DPS", "DPS"),
])
def test_snapshot_request_refused(rooms: Rooms, who: str, data: Any) -> None:
    client = rooms.client("/display", who)
    answer = client.emit("snapshot", data, namespace="/display", callback=True)
    assert answer["ok"] is False
    assert rooms.received(client, "/display") == []


def test_a_board_in_its_room_sees_no_gap_without_asking(rooms: Rooms) -> None:
    """What board.js relies on: a board that received everything never finds a "called"
    whose `previous` is newer than what it has seen, coalesced snapshots or not."""
    board = rooms.joined("/display", "board-DPS", "DPS")
    last = rooms.core.office_version("DPS")
    for _ in range(3):
        rooms.walk_in()
        visits.call_next(rooms.core, "DPS", "1", "petugas")
        current = visits.counter_state(rooms.core, "DPS", "1")["current"]
        visits.act(rooms.core, current["id"], "hold", "petugas", None, {"reason": "KK"})
        for name, payload in rooms.received(board, "/display"):
            if name == "called":
                assert payload["previous"] <= last
            last = max(last, payload["version"])
    assert last == rooms.core.office_version("DPS") == 9


def test_snapshots_are_coalesced_while_later_changes_wait(rooms: Rooms) -> None:
    """Changes queued behind a slow delivery get one snapshot, after the last; every call
    still goes out, first, and the board needs no snapshot request."""
    board = rooms.joined("/display", "board-DPS", "DPS")
    gate, holding = threading.Event(), threading.Event()

    def slow_subscriber(event: Any) -> None:
        if event.version == 1:
            holding.set()
            assert gate.wait(10)

    rooms.core.bus.subscribe(slow_subscriber)
    rooms.walk_in()                                                   # 1, delivery held
    assert holding.wait(10)
    rooms.walk_in()                                                   # 2
    first = visits.call_next(rooms.core, "DPS", "1", "petugas")       # 3 called
    assert first is not None
    visits.act(rooms.core, first["id"], "hold", "petugas", None, {"reason": "KK"})  # 4
    visits.call_next(rooms.core, "DPS", "1", "petugas")               # 5 called
    gate.set()
    events = [(name, p["version"]) for name, p in rooms.received(board, "/display")]
    assert events == [("called", 3), ("called", 5), ("snapshot", 5)]


def test_a_board_that_missed_a_message_sees_the_gap(rooms: Rooms) -> None:
    board = rooms.joined("/display", "board-DPS", "DPS")
    rooms.walk_in()
    rooms.walk_in()
    missed = rooms.received(board, "/display")                       # say these were lost
    visits.call_next(rooms.core, "DPS", "1", "petugas")
    call = next(p for name, p in rooms.received(board, "/display") if name == "called")
    assert call["previous"] == missed[-1][1]["version"] == 2
    assert call["previous"] > 0  # a board still at its join snapshot (0) asks again



def test_no_snapshot_is_built_for_an_office_without_a_board_here(rooms: Rooms) -> None:
    """A change of an office with no board connected to this process builds no board
    snapshot (a burst of kiosk check-ins costs no board queries); a joined board's office
    gets one."""
    from display.board import snapshot
    from shared.events import TicketEvent
    from shared.realtime import bridge

    built: list[str] = []

    def counting(core: Core, office: str) -> dict[str, Any]:
        built.append(office)
        return snapshot(core, office)

    forward = bridge(rooms.core, snapshot=counting)
    board = rooms.joined("/display", "board-DPS", "DPS")
    ticket = {"id": 1, "number": "W001"}
    kind = lifecycle.transition("check_in").event
    forward(TicketEvent("JKT", 1, kind, ticket))
    assert rooms.core.bus.wait_idle()
    assert built == []
    forward(TicketEvent("DPS", 1, kind, ticket))
    assert rooms.core.bus.wait_idle()
    assert built == ["DPS"]
    assert [name for name, _ in rooms.received(board, "/display")] == ["snapshot"]
