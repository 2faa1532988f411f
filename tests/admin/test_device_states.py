"""The devices list from any process: each device's software version and browser, and the
printer and board sound states written by the process that knows them
(shared.device_states)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared import __version__, device_states
from shared.auth import create_device, enrol_device
from shared.models import DeviceState
from shared.realtime import socketio
from tests.admin.conftest import Admin

CHROMIUM = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36")


def _devices(adm: Admin) -> dict[str, dict[str, Any]]:
    answer = adm.call("GET", "/devices")
    assert answer.status_code == 200, answer.get_json()
    return {d["id"]: d for d in answer.get_json()["devices"]}


def _board(adm: Admin, version: str | None, agent: str = CHROMIUM) -> Any:
    client = socketio.test_client(adm.app, namespace="/display",
                                  headers={**adm.display, "User-Agent": agent},
                                  auth={"version": version} if version else None)
    assert client.is_connected("/display")
    return client


def test_the_board_reports_its_version_and_browser(adm: Admin) -> None:
    assert _devices(adm)["board-1"]["version"] is None
    client = _board(adm, __version__)
    try:
        board = _devices(adm)["board-1"]
        assert board["version"] == __version__ and board["outdated"] is False
        assert board["browser"] == "Chrome 131 (Linux)"
        assert board["user_agent"] == CHROMIUM
        page = adm.client.get("/admin/devices", headers=adm.root).get_data(as_text=True)
        assert f"{__version__} · Chrome 131 (Linux)" in page
    finally:
        client.disconnect(namespace="/display")


def test_a_page_older_than_the_server_is_flagged(adm: Admin) -> None:
    client = _board(adm, "0.0.1")
    try:
        board = _devices(adm)["board-1"]
        assert board["version"] == "0.0.1" and board["outdated"] is True
        page = adm.client.get("/admin/devices", headers=adm.root).get_data(as_text=True)
        assert "reload the page" in page
    finally:
        client.disconnect(namespace="/display")


def test_a_version_that_is_no_version_is_not_stored(adm: Admin) -> None:
    client = _board(adm, "<script>alert(1)</script>")
    try:
        assert _devices(adm)["board-1"]["version"] is None
    finally:
        client.disconnect(namespace="/display")


def test_the_openapi_document_lists_the_new_device_fields(adm: Admin) -> None:
    spec = adm.client.get("/api/v1/openapi.json").get_json()
    device = spec["components"]["schemas"]["Device"]["properties"]
    for name in ("version", "browser", "outdated", "printer", "sound"):
        assert name in device, name


# --- states written by another process ----------------------------------------------------
def test_a_printer_state_written_by_the_hardware_process_shows_everywhere(adm: Admin) -> None:
    _, _token = enrol_device(adm.core, "kiosk-1", create_device(adm.core, "kiosk", "kiosk-1"))
    # This app owns no printer (no hardware); "the other process" publishes kiosk-1's state.
    assert _devices(adm)["kiosk-1"]["printer"] is None
    other = device_states.Publisher(adm.core, "printer")
    assert other.publish({"kiosk-1": {"status": "paper_out", "alert": True,
                                      "last_error": "paper out"}}) == 1
    printer = _devices(adm)["kiosk-1"]["printer"]
    assert printer["status"] == "paper_out" and printer["alert"] is True
    assert printer["stale"] is False
    page = adm.client.get("/admin/devices", headers=adm.root).get_data(as_text=True)
    assert 'data-printer="kiosk-1"' in page and "paper_out" in page
    overview = adm.client.get("/admin/api/overview", headers=adm.root).get_json()
    dps = next(o for o in overview["offices"] if o["id"] == "DPS")
    assert "kiosk-1" in dps["faults"]
    # Not refreshed for STALE_AFTER: the process that knew it stopped.
    adm.core.clock.advance(device_states.STALE_AFTER + timedelta(seconds=1))
    assert _devices(adm)["kiosk-1"]["printer"]["stale"] is True


def test_a_board_sound_state_is_written_through_for_other_processes(adm: Admin) -> None:
    client = _board(adm, __version__)
    try:
        assert client.emit("join", {"office": "DPS"}, namespace="/display",
                           callback=True)["ok"] is True
        assert client.emit("sound_state", {"locked": True}, namespace="/display",
                           callback=True) == {"ok": True}
        # What another process reads: the database row, not this process's memory.
        rows = device_states.read(adm.core, "board")["board"]
        assert rows["board-1"]["sound"] == "locked" and rows["board-1"]["alert"] is True
        assert rows["board-1"]["status"] == "connected" and rows["board-1"]["office"] == "DPS"
        sound = _devices(adm)["board-1"]["sound"]
        assert sound["sound"] == "locked"
    finally:
        client.disconnect(namespace="/display")
    rows = device_states.read(adm.core, "board")["board"]
    assert rows["board-1"]["status"] == "disconnected"


def test_publishing_is_throttled(adm: Admin) -> None:
    publisher = device_states.Publisher(adm.core, "serial")
    state = {"status": "up", "last_ack_at": "10:00:00"}
    assert publisher.publish({"bus-1": state}) == 1
    assert publisher.publish({"bus-1": state}) == 0            # unchanged
    assert publisher.publish({"bus-1": {**state, "last_ack_at": "10:00:01"}}) == 0  # time only
    assert publisher.publish({"bus-1": {**state, "status": "down"}}) == 1           # a change
    adm.core.clock.advance(device_states.HEARTBEAT)
    assert publisher.publish({"bus-1": {**state, "status": "down"}}) == 1           # heartbeat
    with adm.core.db.read() as session:
        row = session.get(DeviceState, "serial:bus-1")
        assert row is not None and row.state["status"] == "down"


def test_a_sound_check_reaches_boards_through_the_bus(adm: Admin) -> None:
    """The check travels as a control event: a process whose boards are connected plays
    it even when the admin's request went to another process."""
    from shared.events import ControlEvent

    client = _board(adm, __version__)
    try:
        client.emit("join", {"office": "DPS"}, namespace="/display", callback=True)
        client.get_received("/display")
        adm.core.bus.publish_control(ControlEvent("sound_check", "office:DPS",
                                                  {"id": "abc", "urls": [], "phrase": {}}))
        assert adm.core.bus.wait_idle()
        received = [(i["name"], i["args"][0]["id"]) for i in client.get_received("/display")]
        assert received == [("sound_check", "abc")]
        last = device_states.read(adm.core, "board")["board"]["board-1"]["last_check"]
        assert last["id"] == "abc" and last["answered_at"] is None
    finally:
        client.disconnect(namespace="/display")


def test_a_board_or_kiosk_on_its_socket_alone_stays_online(adm: Admin) -> None:
    """Their half-minute reports (sound_state, alive) resolve the token again, which keeps
    "last seen" current: an idle screen is not counted offline on the overview."""
    from shared.auth import create_device, enrol_device

    _, kiosk_token = enrol_device(adm.core, "kiosk-7", create_device(adm.core, "kiosk",
                                                                      "kiosk-7"))
    board = _board(adm, __version__)
    kiosk = socketio.test_client(adm.app, namespace="/display",
                                 headers={"Authorization": f"Bearer {kiosk_token}"})
    try:
        board.emit("join", {"office": "DPS"}, namespace="/display", callback=True)
        kiosk.emit("join", {"office": "DPS", "config": True}, namespace="/display",
                   callback=True)

        def offline() -> list[str]:
            overview = adm.client.get("/admin/api/overview", headers=adm.root).get_json()
            return next(o for o in overview["offices"] if o["id"] == "DPS")["devices_offline"]

        assert offline() == []
        adm.core.clock.advance(timedelta(minutes=3))
        assert set(offline()) == {"board-1", "kiosk-7"}  # silent for three minutes
        assert board.emit("sound_state", {"locked": False}, namespace="/display",
                          callback=True) == {"ok": True}
        assert kiosk.emit("alive", {}, namespace="/display", callback=True) == {"ok": True}
        assert offline() == []
    finally:
        board.disconnect(namespace="/display")
        kiosk.disconnect(namespace="/display")


def test_a_board_that_moved_to_another_process_is_not_marked_gone_by_the_first(
        adm: Admin) -> None:
    """Process P learns late that board-1 left it; meanwhile board-1 reconnected to
    process Q. P's "disconnected" must not overwrite Q's "connected", and P writes only
    the board that changed, not every board it ever knew."""
    from display.soundcheck import BoardSound

    written: list[list[str]] = []
    p_publisher = device_states.Publisher(adm.core, "board", process="host:p")
    q_publisher = device_states.Publisher(adm.core, "board", process="host:q")

    def p_writes(states: dict[str, dict[str, Any]]) -> int:
        written.append(sorted(states))
        return p_publisher.publish(states)

    p = BoardSound(now=adm.core.now, on_change=p_writes)
    q = BoardSound(now=adm.core.now, on_change=q_publisher.publish)
    for number in range(5):
        p.joined(f"board-{number}", "DPS", f"p-sid-{number}")
    written.clear()
    assert p.report("p-sid-3", False, None, None)
    assert written == [["board-3"]]  # only the board that reported

    q.joined("board-1", "DPS", "q-sid-1")
    p.left("p-sid-1")
    assert written[-1] == ["board-1"]
    board = device_states.read(adm.core, "board")["board"]["board-1"]
    assert (board["status"], board["process"]) == ("connected", "host:q")

    # A board that leaves the process that wrote it last is written as gone.
    p.left("p-sid-2")
    board = device_states.read(adm.core, "board")["board"]["board-2"]
    assert (board["status"], board["process"]) == ("disconnected", "host:p")


def test_a_board_connects_when_its_version_cannot_be_stored(
        adm: Admin, monkeypatch: Any) -> None:
    def database_away(*_args: Any) -> bool:
        raise RuntimeError("database away")

    monkeypatch.setattr(device_states, "record_client", database_away)
    client = _board(adm, __version__)
    try:
        assert client.emit("join", {"office": "DPS"}, namespace="/display",
                           callback=True)["ok"] is True
    finally:
        client.disconnect(namespace="/display")


def test_a_revoked_board_leaves_no_state_behind(adm: Admin) -> None:
    from shared.auth import revoke_device

    device_states.Publisher(adm.core, "board").publish(
        {"board-1": {"office": "DPS", "status": "connected", "sound": "unlocked"}})
    assert "board-1" in device_states.read(adm.core, "board")["board"]
    revoke_device(adm.core, "board-1")
    assert "board-1" not in device_states.read(adm.core, "board")["board"]
