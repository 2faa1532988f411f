"""The `/ticket` namespace: the applicant's phone follows its ticket, pushed.

The phone connects with its ticket's status token (the secret in the QR address, passed
as the `ticket` query parameter of the Socket.IO handshake; shared.web resolves it to a
"ticket" principal, nothing else). It is put in a room of its own ticket and gets
`ticket {ticket, now}` at once and after every change of its office's queue (its
position moves when others are called), plus once a minute so that the wait estimate and
the server time stay fresh. The ticket carries no name and no database id; `now` is the
server's time in the office's zone, which the page shows instead of the phone's clock.

Pushes are coalesced per office on one background thread: a burst of calls costs one
computation per station, not one per phone per event.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room
from sqlalchemy import select

from shared import lifecycle, visits
from shared.clock import to_local
from shared.connections import register, unregister
from shared.core import Core
from shared.events import TicketEvent
from shared.models import Ticket
from shared.ordering import estimate_wait_minutes
from shared.realtime import socketio
from shared.web import current_principal

log = logging.getLogger(__name__)

NAMESPACE = "/ticket"
REFRESH_SECONDS = 60.0  # a push even without a change: fresh estimate and server time
COALESCE_SECONDS = 0.2  # a burst of events becomes one push


def room_of(ticket_id: int | str) -> str:
    return f"ticket:{ticket_id}"


def public_ticket(ticket: dict[str, Any]) -> dict[str, Any]:
    """What the phone may see: the API ticket without its database id."""
    return {key: value for key, value in ticket.items() if key != "id"}


def server_now(core: Core, office_id: str) -> str:
    office = core.office(office_id)
    return to_local(core.now(), office.tz).isoformat(timespec="seconds")


class TicketPusher:
    """Which tickets have phones connected in this process, and pushing them their state."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._lock = threading.Lock()
        self._watchers: dict[int, set[str]] = {}   # ticket id -> Socket.IO sids
        self._office_of: dict[int, str] = {}
        self._dirty: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- connections -------------------------------------------------------------------
    def watch(self, ticket_id: int, office: str, sid: str) -> None:
        with self._lock:
            self._watchers.setdefault(ticket_id, set()).add(sid)
            self._office_of[ticket_id] = office
            start = self._thread is None
            if start:
                self._thread = threading.Thread(target=self._run, name="ticket-push",
                                                daemon=True)
        if start and self._thread is not None:
            self._thread.start()

    def unwatch(self, sid: str) -> None:
        with self._lock:
            for ticket_id in [t for t, sids in self._watchers.items() if sid in sids]:
                self._watchers[ticket_id].discard(sid)
                if not self._watchers[ticket_id]:
                    del self._watchers[ticket_id]
                    self._office_of.pop(ticket_id, None)

    def watched(self) -> int:
        with self._lock:
            return len(self._watchers)

    # --- events ------------------------------------------------------------------------
    def on_event(self, event: TicketEvent) -> None:
        """Event bus subscriber: note the office; the push thread does the work."""
        with self._lock:
            if event.office not in self._office_of.values():
                return
            self._dirty.add(event.office)
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            woken = self._wake.wait(REFRESH_SECONDS)
            if self._stop.is_set():
                return
            if woken:
                self._stop.wait(COALESCE_SECONDS)
            self._wake.clear()
            with self._lock:
                offices = set(self._office_of.values()) if not woken else set(self._dirty)
                self._dirty.clear()
            for office in sorted(offices):
                try:
                    self.push_office(office)
                except Exception:  # the database away for a moment: the next push heals
                    log.exception("ticket push for office %s failed", office)

    # --- the state of watched tickets --------------------------------------------------
    def states(self, office_id: str, ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Each ticket's public state, ordering each station's queue once."""
        core = self.core
        office = core.office(office_id)
        result: dict[int, dict[str, Any]] = {}
        with core.db.read() as session:
            tickets = session.execute(
                select(Ticket).where(Ticket.id.in_(ticket_ids))).scalars().all()
            by_station: dict[str, list[Ticket]] = {}
            for ticket in tickets:
                if ticket.status == lifecycle.WAITING:
                    by_station.setdefault(ticket.station, []).append(ticket)
                else:
                    result[ticket.id] = visits.ticket_dict(core, session, ticket)
            for station, waiting in by_station.items():
                order = visits.ordered_waiting_ids(core, session, office, (station,))
                places = {ticket_id: index for index, ticket_id in enumerate(order)}
                counters = max(len(visits.counters_for(office, station)), 1)
                mean = visits.mean_service_minutes(core, session, office.id, station)
                for ticket in waiting:
                    ahead = places.get(ticket.id)
                    position = None if ahead is None else ahead + 1
                    estimate = (None if ahead is None
                                else round(estimate_wait_minutes(ahead, counters, mean)))
                    result[ticket.id] = visits.ticket_dict(core, session, ticket, position,
                                                           estimate)
        return {ticket_id: public_ticket(data) for ticket_id, data in result.items()}

    def push_office(self, office_id: str) -> None:
        with self._lock:
            ids = [t for t, office in self._office_of.items() if office == office_id]
        if not ids:
            return
        now = server_now(self.core, office_id)
        for ticket_id, data in self.states(office_id, ids).items():
            socketio.emit("ticket", {"ticket": data, "now": now}, namespace=NAMESPACE,
                          to=room_of(ticket_id))


class TicketNamespace(Namespace):
    """Admits only a ticket principal, into the room of its own ticket."""

    def on_connect(self, auth: Any = None) -> None:
        principal = current_principal()
        if principal is None or principal.kind != "ticket" or not principal.offices:
            raise ConnectionRefusedError("unauthorized")
        sid: str = request.sid  # type: ignore[attr-defined]
        register(principal, sid, self.namespace)
        ticket_id = int(principal.name)
        office = principal.offices[0]
        join_room(room_of(ticket_id))
        pusher = _pusher()
        pusher.watch(ticket_id, office, sid)
        state = pusher.states(office, [ticket_id]).get(ticket_id)
        if state is not None:
            emit("ticket", {"ticket": state, "now": server_now(pusher.core, office)})

    def on_disconnect(self, reason: Any = None) -> None:
        sid: str = request.sid  # type: ignore[attr-defined]
        unregister(sid, self.namespace)
        _pusher().unwatch(sid)


EXTENSION = "giliran_ticket_pusher"


def _pusher() -> TicketPusher:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def install(app: Flask, core: Core) -> TicketPusher:
    """The kiosk room's part of start-up: namespace, pusher and event subscription."""
    pusher = TicketPusher(core)
    app.extensions[EXTENSION] = pusher
    socketio.on_namespace(TicketNamespace(NAMESPACE))
    core.bus.subscribe(pusher.on_event)
    return pusher
