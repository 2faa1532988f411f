"""The `/counter` namespace: staff terminals join their office's room for updates.

Only staff (a session or a bearer token) connect; anyone else is refused at connect.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace, join_room

from shared import offices, roles
from shared.connections import register, unregister
from shared.errors import Refusal
from shared.web import current_principal


class CounterNamespace(Namespace):
    def on_connect(self, auth: Any = None) -> None:
        principal = current_principal()
        if principal is None or principal.role not in roles.STAFF:
            raise ConnectionRefusedError("unauthorized")
        register(principal, request.sid, self.namespace)  # type: ignore[attr-defined]

    def on_disconnect(self, reason: Any = None) -> None:
        unregister(request.sid, self.namespace)  # type: ignore[attr-defined]

    def on_join(self, data: Any = None) -> dict[str, Any]:
        # `data` defaults: a client may emit "join" with no payload at all (refused below
        # as unknown_office, not a handler error and a traceback in the log).
        core = current_app.extensions["giliran"]
        office = data.get("office") if isinstance(data, dict) else None
        principal = current_principal()
        if principal is None or principal.role not in roles.STAFF:
            return {"ok": False, "error": "unauthorized"}
        if not isinstance(office, str):
            return {"ok": False, "error": "unknown_office"}
        try:
            offices.check(core, principal, office)
        except Refusal as refusal:
            return {"ok": False, "error": refusal.code}
        join_room(office)
        return {"ok": True, "version": core.office_version(office)}
