"""The boards' sound: a remote "sound check", and each board's sound state in /health.

Browsers keep audio locked until someone touches the screen, unless the browser was
started with `--autoplay-policy=no-user-gesture-required` (docs/devices.md). A board
reports its state in the `/display` namespace (`sound_state {locked, check}`) when it
joins, whenever it changes, and after a sound check; an admin or supervisor starts a
check with `POST /api/v1/offices/<office>/sound-check`, which sends `sound_check {id,
urls, phrase}` to the office's boards. The board plays the chime and "tes satu dua tiga /
test one two three" and answers whether it could.

The states live in the memory of the process serving the board's Socket.IO, keyed by
the board's device id (no personal data), and are written through to the database
(shared.device_states) so that the admin pages of every process show them. A board
reports again every half minute, which keeps its row fresh; a row of a process that
stopped goes stale. A sound check started in any process reaches the boards of every
process (a control event on the bus).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from display.announce.clips import announce_urls, clip_url_prefix
from shared import device_states, offices, roles
from shared.auth import require
from shared.core import Core
from shared.events import ControlEvent
from shared.i18n import bilingual
from shared.web import current_principal

#: The chime, then "tes satu dua tiga" and "test one two three" from the shipped clips.
SOUND_CHECK_TOKENS = ("chime", "id/satu", "id/dua", "id/tiga", "en/one", "en/two", "en/three")
SOUND_CHECK_PHRASE = "Sound check: one two three"
SOUND_CHECK_EVENT = "sound_check"  # a ControlEvent: every process plays it on its boards

soundcheck = Blueprint("soundcheck", __name__)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


class BoardSound:
    """What every board of this process said about its sound, for /health."""

    def __init__(self, now: Callable[[], datetime] | None = None,
                 on_change: Callable[[dict[str, dict[str, Any]]], Any] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._on_change = on_change
        self._lock = threading.Lock()
        self._boards: dict[str, dict[str, Any]] = {}
        self._sids: dict[str, str] = {}  # Socket.IO session -> board id

    def joined(self, board: str, office: str, sid: str) -> None:
        with self._lock:
            entry = self._boards.setdefault(board, {"office": office, "sound": "unknown",
                                                    "reported_at": None, "last_check": None})
            entry.update(office=office, connected=True, connected_at=self._now())
            self._sids[sid] = board
        self._changed([board])

    def left(self, sid: str) -> None:
        with self._lock:
            board = self._sids.pop(sid, None)
            if board is None or board in self._sids.values():
                return
            self._boards[board]["connected"] = False
        self._changed([board])

    def report(self, sid: str, locked: bool, check: str | None, played: bool | None) -> bool:
        """A board's own report; False when this session never joined as a board."""
        with self._lock:
            board = self._sids.get(sid)
            if board is None:
                return False
            entry = self._boards[board]
            entry["sound"] = "locked" if locked else "unlocked"
            entry["reported_at"] = self._now()
            last = entry.get("last_check")
            if check and last is not None and last["id"] == check:
                last["answered_at"] = self._now()
                last["played"] = bool(played)
        self._changed([board])
        return True

    def checking(self, office: str, check: str) -> list[str]:
        """Note a sound check sent to an office; the boards of it now connected."""
        with self._lock:
            boards = [b for b, e in self._boards.items()
                      if e["office"] == office and e.get("connected")]
            for board in boards:
                self._boards[board]["last_check"] = {
                    "id": check, "requested_at": self._now(), "answered_at": None,
                    "played": None}
        if boards:
            self._changed(boards)
        return boards

    def _changed(self, boards: list[str]) -> None:
        """Write the states of the boards that changed through (outside the lock: it
        touches the database). Only those: the others' rows are refreshed by their own
        reports, and a board gone from this process is written once, as it left."""
        if self._on_change is not None:
            with self._lock:
                states = {board: self._state(self._boards[board]) for board in boards}
            self._on_change(states)

    @staticmethod
    def _state(entry: dict[str, Any]) -> dict[str, Any]:
        connected = bool(entry.get("connected"))
        last = entry.get("last_check")
        return {
            "office": entry["office"],
            "status": "connected" if connected else "disconnected",
            "sound": entry["sound"],
            "alert": connected and entry["sound"] == "locked",
            "reported_at": _iso(entry["reported_at"]),
            "last_check": None if last is None else {
                "id": last["id"], "requested_at": _iso(last["requested_at"]),
                "answered_at": _iso(last["answered_at"]), "played": last["played"]},
        }

    def health(self) -> dict[str, dict[str, Any]]:
        """Per board: status connected/disconnected, sound unlocked/locked/unknown, alert."""
        with self._lock:
            return {board: self._state(entry) for board, entry in sorted(self._boards.items())}


EXTENSION = "giliran_board_sound"


def install(app: Flask, core: Core) -> BoardSound:
    """Give the app its registry, add the boards to /api/v1/health (display room), write
    their states through for every process, and play sound checks started anywhere."""
    from shared.realtime import socketio

    publisher = device_states.Publisher(core, "board")
    registry = BoardSound(on_change=publisher.publish)
    app.extensions[EXTENSION] = registry

    def health() -> tuple[dict[str, Any], bool]:
        boards = registry.health()
        return {"devices": {"boards": boards}}, not any(b["alert"] for b in boards.values())

    def on_control(event: ControlEvent) -> None:
        if event.kind != SOUND_CHECK_EVENT or not event.principal.startswith("office:"):
            return
        office = event.principal.removeprefix("office:")
        check = event.detail.get("id")
        if isinstance(check, str):
            registry.checking(office, check)
            socketio.emit("sound_check", event.detail, namespace="/display", to=office)

    core.health_checks.append(health)
    core.bus.subscribe_control(on_control)
    return registry


def board_sound() -> BoardSound:
    """The registry of the current app (see `install`)."""
    registry = current_app.extensions.get(EXTENSION)
    if not isinstance(registry, BoardSound):
        registry = BoardSound()
        current_app.extensions[EXTENSION] = registry
    return registry


def sound_check_payload(core: Core, check: str) -> dict[str, Any]:
    from display.announce.calls import settings_for

    prefix = clip_url_prefix(settings_for(core.config))
    return {"id": check, "urls": announce_urls(SOUND_CHECK_TOKENS, prefix),
            "phrase": bilingual(SOUND_CHECK_PHRASE)}


@soundcheck.post("/api/v1/offices/<office>/sound-check")
def start_sound_check(office: str) -> tuple[Response, int]:
    """Play the chime and a test phrase on every board of the office (202)."""
    from shared.api import json_body

    core: Core = current_app.extensions["giliran"]
    principal = require(current_principal(), *roles.SOUND_CHECK)
    json_body()  # takes no options, but a body it cannot read is a 400, not ignored
    offices.check(core, principal, office)
    check = secrets.token_urlsafe(9)
    payload = sound_check_payload(core, check)
    # Every process (this one included) sends it to the boards connected to it.
    core.bus.publish_control(ControlEvent(SOUND_CHECK_EVENT, f"office:{office}", payload))
    boards = sorted(board for board, state in device_states.read(core, "board")["board"].items()
                    if state.get("office") == office and state.get("status") == "connected"
                    and not state.get("stale"))
    return jsonify({"check": check, "office": office, "boards": boards,
                    "status_url": "/api/v1/health"}), 202
