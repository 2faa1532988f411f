"""Socket.IO: the one SocketIO object, and the bridge from committed events to rooms.

Each office is a room in `/display` (boards) and in `/counter` (staff terminals). After a
committed change the board room gets `called` (for calls and recalls) first, then a fresh
`snapshot`; the counter room gets `update`. Versions come from the office row.

Snapshots are built only when a board of the office is connected to this process, and
they are coalesced: the snapshot of a change waits on the dispatcher until the office has
been quiet for SNAPSHOT_DELAY (never longer than SNAPSHOT_AT_MOST), so a burst of changes
(a finish and the next call, a queue of check-ins) costs one snapshot, built after every
`called` of the burst went out. Boards show a call from `called` at once; the snapshot
that follows confirms the whole picture, so a board ends on the final state. A `called`
carries `previous`, the version of the last message this process sent to the room: a
board whose own last version is older missed something and asks for a snapshot (a
version that only skipped coalesced snapshots is not a gap).

After events may have been lost (Redis went away and came back: shared.events' `resync`
control event), every office with a board here gets a fresh snapshot, so a board shows
the calls made elsewhere meanwhile without waiting for the next change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from flask_socketio import SocketIO

from shared import lifecycle, live_config
from shared.core import Core
from shared.events import RESYNC, ControlEvent, TicketEvent

log = logging.getLogger(__name__)

socketio = SocketIO()

CALL_KINDS = lifecycle.CALL_EVENTS
#: What a board plays for a call: the clip URLs, and how many times it speaks them
#: (`[announce] repeat`).
Announcer = Callable[[str, TicketEvent], tuple[list[str], int]]
Snapshot = Callable[[Core, str], dict[str, Any]]

#: Quiet time after an office's last change before its board snapshot is built, and the
#: longest a change waits for its snapshot while changes keep coming (seconds). A board
#: shows each call from `called` at once; the snapshot only confirms the picture.
SNAPSHOT_DELAY = 0.05
SNAPSHOT_AT_MOST = 0.5


def config_room(office: str) -> str:
    """The `/display` room of the pages that follow only the office's configuration
    (kiosks): they get `config_changed {office, version}` and fetch what they show again."""
    return f"config:{office}"


def _has_boards(office: str) -> bool:
    """Whether a board of this office is connected to this process. A snapshot nobody
    receives is not built (a kiosk-only process, or an office whose boards are elsewhere);
    a board that joins later gets its own snapshot at join."""
    server = getattr(socketio, "server", None)
    if server is None:  # no application initialised Socket.IO (tools, some tests)
        return True
    rooms = server.manager.rooms.get("/display", {})
    return bool(rooms.get(office))


def bridge(core: Core, announce: Announcer | None = None, *,
           snapshot: Snapshot) -> Callable[[TicketEvent], None]:
    """A bus subscriber that forwards events to the Socket.IO rooms; `snapshot` is the
    board's (display.board.snapshot, given by the composition root)."""

    sent: dict[str, int] = {}  # office -> version of the last message sent to its room

    def send_snapshot(office: str) -> None:
        if not _has_boards(office):
            return
        board = snapshot(core, office)
        # The snapshot may already include later changes; its own version says so.
        socketio.emit("snapshot", board, namespace="/display", to=office)
        sent[office] = max(sent.get(office, 0), int(board["version"]))

    def resync(event: ControlEvent) -> None:
        if event.kind != RESYNC:
            return
        for office in list(core.config.offices):
            if event.principal in ("office:*", f"office:{office}") and _has_boards(office):
                core.bus.defer(f"snapshot:{id(sent)}:{office}", partial(send_snapshot, office),
                               SNAPSHOT_DELAY, SNAPSHOT_AT_MOST)

    core.bus.subscribe_control(resync)

    def forward(event: TicketEvent) -> None:
        if event.kind == "announcement":
            # A one-off text from an admin: shown now, spoken where the board's voice is on.
            socketio.emit("announcement", {"version": event.version,
                                           "text": event.detail.get("text", "")},
                          namespace="/display", to=event.office)
        if event.kind == live_config.EVENT:
            socketio.emit("config_changed", {"office": event.office, "version": event.version},
                          namespace="/display", to=config_room(event.office))
        if event.kind in CALL_KINDS:
            urls, repeat = announce(event.office, event) if announce else ([], 1)
            called: dict[str, Any] = {
                "version": event.version,
                "previous": sent.get(event.office, 0),
                "number": event.ticket.get("number"),
                "counter": event.counter,
                "counter_name": event.counter_name,
                "station": event.station,
                "recall": event.kind == lifecycle.RECALL_EVENT,
                "announce": urls,
                "repeat": repeat,
            }
            socketio.emit("called", called, namespace="/display", to=event.office)
            sent[event.office] = max(sent.get(event.office, 0), event.version)
        if _has_boards(event.office):
            office = event.office
            core.bus.defer(f"snapshot:{id(sent)}:{office}", lambda: send_snapshot(office),
                           SNAPSHOT_DELAY, SNAPSHOT_AT_MOST)
        socketio.emit(
            "update",
            {"version": event.version, "kind": event.kind, "ticket": event.ticket,
             "counter": event.counter, "station": event.station},
            namespace="/counter", to=event.office,
        )

    return forward
