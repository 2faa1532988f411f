"""The `/display` namespace: boards join their office's room and get snapshots."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_socketio import Namespace, emit, join_room, leave_room

from display.board import snapshot
from shared.errors import Refusal
from shared.web import current_principal


class DisplayNamespace(Namespace):
    def on_join(self, data: Any) -> dict[str, Any]:
        core = current_app.extensions["giliran"]
        office = data.get("office") if isinstance(data, dict) else None
        principal = current_principal()
        if not isinstance(office, str) or office not in core.config.offices:
            return {"ok": False, "error": "unknown_office"}
        if principal is None or not principal.may_see_office(office):
            return {"ok": False, "error": "forbidden"}
        join_room(office)
        if principal.kind == "device" and principal.role == "display":
            from display.soundcheck import board_sound

            board_sound(core).joined(principal.name, office, _sid())
        emit("snapshot", snapshot(core, office))
        return {"ok": True}

    def on_disconnect(self, *args: Any) -> None:
        from display.soundcheck import board_sound

        board_sound(current_app.extensions["giliran"]).left(_sid())

    def on_sound_state(self, data: Any) -> dict[str, Any]:
        """A board says whether its audio is locked, and how a sound check went."""
        from display.soundcheck import board_sound

        if not isinstance(data, dict) or not isinstance(data.get("locked"), bool):
            return {"ok": False, "error": "invalid_request"}
        check = data.get("check")
        played = data.get("played")
        ok = board_sound(current_app.extensions["giliran"]).report(
            _sid(), data["locked"], check if isinstance(check, str) and len(check) <= 64
            else None, played if isinstance(played, bool) else None)
        return {"ok": ok}

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
            core.office(office)
        except Refusal:
            return {"ok": False}
        if not principal.may_see_office(office):
            return {"ok": False}
        emit("snapshot", snapshot(core, office))
        return {"ok": True}


def _sid() -> str:
    return str(getattr(request, "sid", ""))
