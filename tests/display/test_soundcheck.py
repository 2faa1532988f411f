"""The remote sound check and the boards' sound state in /health (Flask-SocketIO test
client; the real board script is exercised in tests/browser/test_board_soundcheck.py)."""

from __future__ import annotations

from typing import Any

from display.room import SOUND_CHECKS_PER_MINUTE
from tests.display.test_realtime import Rooms, rooms  # noqa: F401 (fixture)


def _health(server: Rooms) -> tuple[int, dict[str, Any]]:
    answer = server.app.test_client().get("/api/v1/health")
    return answer.status_code, answer.get_json()


def _sound_check(server: Rooms, who: str | None, office: str = "DPS") -> Any:
    headers = {"Authorization": f"Bearer {server.tokens[who]}"} if who else {}
    return server.app.test_client().post(f"/api/v1/offices/{office}/sound-check",
                                        headers=headers)


def test_board_sound_state_is_in_health(rooms: Rooms) -> None:  # noqa: F811
    board = rooms.joined("/display", "board-DPS", "DPS")
    status, body = _health(rooms)
    assert body["devices"]["boards"]["board-DPS"]["sound"] == "unknown"
    assert board.emit("sound_state", {"locked": True}, namespace="/display",
                      callback=True) == {"ok": True}
    status, body = _health(rooms)
    entry = body["devices"]["boards"]["board-DPS"]
    assert entry["status"] == "connected" and entry["sound"] == "locked" and entry["alert"]
    assert status == 503  # a connected board that cannot speak is a problem
    board.emit("sound_state", {"locked": False}, namespace="/display", callback=True)
    status, body = _health(rooms)
    assert body["devices"]["boards"]["board-DPS"]["sound"] == "unlocked" and status == 200
    board.emit("sound_state", {"locked": True}, namespace="/display", callback=True)
    board.disconnect(namespace="/display")
    status, body = _health(rooms)
    entry = body["devices"]["boards"]["board-DPS"]
    assert entry["status"] == "disconnected" and not entry["alert"] and status == 200


def test_sound_state_from_a_session_that_is_no_board_is_ignored(rooms: Rooms) -> None:  # noqa: F811
    staff = rooms.joined("/display", "petugas", "DPS")
    assert staff.emit("sound_state", {"locked": True}, namespace="/display",
                      callback=True) == {"ok": False}
    assert staff.emit("sound_state", {"locked": "yes"}, namespace="/display",
                      callback=True)["ok"] is False
    assert not _health(rooms)[1]["devices"].get("boards")


def test_sound_check_reaches_the_offices_boards_and_their_answer(rooms: Rooms) -> None:  # noqa: F811
    dps = rooms.joined("/display", "board-DPS", "DPS")
    jkt = rooms.joined("/display", "board-JKT", "JKT")
    answer = _sound_check(rooms, "kepala")
    assert answer.status_code == 202
    body = answer.get_json()
    assert body["office"] == "DPS" and body["boards"] == ["board-DPS"]
    received = rooms.received(dps, "/display")  # through the bus, like every process
    (name, check), = received
    assert name == "sound_check" and check["id"] == body["check"]
    assert check["urls"][0] == "/display/static/audio/chime.wav"
    assert "/display/static/audio/id/satu.wav" in check["urls"]
    assert check["phrase"]["id"] == "Tes suara: satu dua tiga"
    assert jkt.get_received("/display") == []  # another office's board hears nothing
    last = _health(rooms)[1]["devices"]["boards"]["board-DPS"]["last_check"]
    assert last["id"] == body["check"] and last["answered_at"] is None
    dps.emit("sound_state", {"locked": False, "check": body["check"], "played": True},
             namespace="/display", callback=True)
    last = _health(rooms)[1]["devices"]["boards"]["board-DPS"]["last_check"]
    assert last["played"] is True and last["answered_at"] is not None


def test_sound_check_needs_a_supervisor_or_admin(rooms: Rooms) -> None:  # noqa: F811
    assert _sound_check(rooms, None).status_code == 401
    refused = _sound_check(rooms, "petugas")
    assert refused.status_code == 403
    assert set(refused.get_json()["error"]["message"]) == {"id", "en"}
    assert _sound_check(rooms, "board-DPS").status_code == 403
    assert _sound_check(rooms, "kepala", "NOWHERE").status_code == 404


def test_sound_checks_are_limited_per_office(rooms: Rooms) -> None:  # noqa: F811
    """Each check plays in the whole waiting room: a few a minute per office, and only
    checks that were started count (a refused caller uses up nobody's)."""
    for _ in range(6):
        assert _sound_check(rooms, "petugas").status_code == 403
        assert _sound_check(rooms, None).status_code == 401
    for _ in range(SOUND_CHECKS_PER_MINUTE):
        assert _sound_check(rooms, "kepala").status_code == 202
    refused = _sound_check(rooms, "kepala")
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert set(refused.get_json()["error"]["message"]) == {"id", "en"}
    assert int(refused.headers["Retry-After"]) >= 1
    assert _sound_check(rooms, "kepala", "JKT").status_code == 202  # per office
