"""The `/display` namespace: boards join their office's room and get snapshots."""

from __future__ import annotations

from typing import Any

from flask import current_app
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
        emit("snapshot", snapshot(core, office))
        return {"ok": True}

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
