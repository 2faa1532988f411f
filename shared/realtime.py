"""Socket.IO: the one SocketIO object, and the bridge from committed events to rooms.

Each office is a room in `/display` (boards) and in `/counter` (staff terminals). After a
committed change the board room gets `called` (for calls and recalls) and a fresh
`snapshot`; the counter room gets `update`. Versions come from the office row, so a
client that sees a gap asks for a snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask_socketio import SocketIO

from shared import lifecycle
from shared.core import Core
from shared.events import TicketEvent

log = logging.getLogger(__name__)

socketio = SocketIO()

CALL_KINDS = lifecycle.CALL_EVENTS
Announcer = Callable[[str, TicketEvent], list[str]]
Snapshot = Callable[[Core, str], dict[str, Any]]


def bridge(core: Core, announce: Announcer | None = None, *,
           snapshot: Snapshot) -> Callable[[TicketEvent], None]:
    """A bus subscriber that forwards events to the Socket.IO rooms; `snapshot` is the
    board's (display.board.snapshot, given by the composition root)."""

    def forward(event: TicketEvent) -> None:
        if event.kind in CALL_KINDS:
            called: dict[str, Any] = {
                "version": event.version,
                "number": event.ticket.get("number"),
                "counter": event.counter,
                "counter_name": event.counter_name,
                "station": event.station,
                "recall": event.kind == lifecycle.RECALL_EVENT,
                "announce": announce(event.office, event) if announce else [],
            }
            socketio.emit("called", called, namespace="/display", to=event.office)
        board = snapshot(core, event.office)
        # The snapshot may already include later changes; its own version says so.
        socketio.emit("snapshot", board, namespace="/display", to=event.office)
        socketio.emit(
            "update",
            {"version": event.version, "kind": event.kind, "ticket": event.ticket,
             "counter": event.counter, "station": event.station},
            namespace="/counter", to=event.office,
        )

    return forward
