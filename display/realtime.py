"""The `/display` namespace: boards join their office's room and get snapshots.

Only a known principal connects (a board's device cookie or token, a kiosk, or staff);
anyone else is refused at connect, before joining anything.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room, leave_room

from display.board import snapshot
from display.soundcheck import board_sound
from shared import device_states, offices, roles
from shared.connections import register, unregister
from shared.errors import Refusal
from shared.realtime import config_room, socketio
from shared.web import current_principal

log = logging.getLogger(__name__)

#: A board asks for the whole picture when it saw a gap: at most one answer per second
#: and connection; asked again sooner, the next picture goes out when the second is up
#: (one, however often it asked meanwhile). Each picture is a few reads of the database,
#: and a page stuck in a loop of asking would otherwise cost the office's server that.
SNAPSHOT_EVERY = 1.0
_answered: dict[str, float] = {}  # sid -> time.monotonic() of its last requested snapshot


class DisplayNamespace(Namespace):
    def on_connect(self, auth: Any = None) -> None:
        principal = current_principal()
        if principal is None or principal.role not in roles.ADMITTED_TO_BOARD:
            raise ConnectionRefusedError("unauthorized")
        register(principal, request.sid, self.namespace)  # type: ignore[attr-defined]
        if principal.kind == "device":
            # The page's product version and browser, for the admin's devices list; the
            # screen connects even when that cannot be stored just now.
            try:
                device_states.record_client(current_app.extensions["giliran"], principal.name,
                                            auth.get("version") if isinstance(auth, dict)
                                            else None, request.headers.get("User-Agent"))
            except Exception:
                log.exception("version of %s not stored", principal.name)

    def on_disconnect(self, reason: Any = None) -> None:
        unregister(request.sid, self.namespace)  # type: ignore[attr-defined]
        _answered.pop(_sid(), None)
        board_sound().left(_sid())

    def on_join(self, data: Any) -> dict[str, Any]:
        core = current_app.extensions["giliran"]
        office = data.get("office") if isinstance(data, dict) else None
        principal = current_principal()
        if not isinstance(office, str):
            return {"ok": False, "error": "unknown_office"}
        if principal is None:
            return {"ok": False, "error": "forbidden"}
        try:
            offices.check(core, principal, office)
        except Refusal as refusal:
            return {"ok": False, "error": refusal.code}
        if data.get("config") is True:
            # A kiosk page: only `config_changed` (it re-renders its live text), no board
            # snapshots.
            join_room(config_room(office))
            return {"ok": True}
        join_room(office)
        if principal.kind == "device" and principal.role == roles.DISPLAY:
            board_sound().joined(principal.name, office, _sid())
        emit("snapshot", snapshot(core, office))
        return {"ok": True}

    def on_sound_state(self, data: Any) -> dict[str, Any]:
        """A board says whether its audio is locked, and how a sound check went (every half
        minute too: resolving its token again keeps its "last seen" current)."""
        if not isinstance(data, dict) or not isinstance(data.get("locked"), bool):
            return {"ok": False, "error": "invalid_request"}
        if current_principal() is None:  # revoked since it connected
            return {"ok": False, "error": "unauthorized"}
        check = data.get("check")
        played = data.get("played")
        ok = board_sound().report(
            _sid(), data["locked"], check if isinstance(check, str) and len(check) <= 64
            else None, played if isinstance(played, bool) else None)
        return {"ok": ok}

    def on_alive(self, data: Any = None) -> dict[str, Any]:
        """A kiosk page's half-minute sign of life: resolving its token again keeps its
        "last seen" current, so an idle kiosk is not counted offline on the overview."""
        return {"ok": current_principal() is not None}

    def on_leave(self, data: Any) -> None:
        office = data.get("office") if isinstance(data, dict) else None
        if isinstance(office, str):
            leave_room(office)

    def on_snapshot(self, data: Any) -> dict[str, Any]:
        """A board that saw a version gap asks for the whole picture again."""
        core = current_app.extensions["giliran"]
        office = data.get("office") if isinstance(data, dict) else None
        principal = current_principal()
        if not isinstance(office, str) or principal is None:
            return {"ok": False}
        try:
            offices.check(core, principal, office)
        except Refusal:
            return {"ok": False}
        sid = _sid()
        wait = _answered.get(sid, -SNAPSHOT_EVERY) + SNAPSHOT_EVERY - time.monotonic()
        if wait > 0:
            core.bus.defer(f"asked-snapshot:{sid}", partial(_send_snapshot, core, office, sid),
                           wait, wait)
            return {"ok": True}
        _answered[sid] = time.monotonic()
        emit("snapshot", snapshot(core, office))
        return {"ok": True}


def _send_snapshot(core: Any, office: str, sid: str) -> None:
    """A requested snapshot that waited for its connection's second (on the dispatcher)."""
    if sid not in _answered:  # disconnected meanwhile
        return
    _answered[sid] = time.monotonic()
    socketio.emit("snapshot", snapshot(core, office), namespace="/display", to=sid)


def _sid() -> str:
    return str(getattr(request, "sid", ""))
