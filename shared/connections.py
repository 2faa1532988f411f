"""Who holds a Socket.IO connection, and how many each address holds.

A connection is checked twice. At the Engine.IO handshake (before a websocket is
upgraded or a polling session exists) the gate refuses a client that is not a known
principal (device cookie, staff session, bearer token) and an address that already holds
`[security] max_connections_per_address` connections; the client gets 401 and holds
nothing. Then each namespace's connect handler checks the principal's role for that
namespace and registers the connection under the principal's key ("device:<id>",
"staff:<username>"), so that a `ControlEvent("revoked", key)` published by any process
drops exactly that principal's connections in this one.

Resolving principals goes through `shared.web.current_principal`, so a later principal
kind (for instance a phone following its ticket by its ticket token) only needs a
resolver there and a namespace that admits it.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from shared.auth import Admission, Principal, ended_among
from shared.core import Core
from shared.events import ControlEvent

log = logging.getLogger(__name__)

#: How often every open connection's admission is checked again (shared.auth.ended_among):
#: a change no event reached this process with (the CLI of another process without
#: Redis) ends its connections within this time.
SWEEP_SECONDS = 10.0


class Connections:
    """Per-process bookkeeping of open Socket.IO connections."""

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self._lock = threading.Lock()
        self._addresses: Counter[str] = Counter()
        self._address_of: dict[str, str] = {}            # engine.io sid -> address
        self._admitted: dict[tuple[str, str], Admission] = {}  # (sid, ns) -> admission
        self._sweeping = False
        self.start_sweep: Callable[[], None] | None = None
        # One pass of the sweep, now (set by `install`): tests and tools.
        self.recheck: Callable[[], bool] = lambda: False

    def admit(self, eio_sid: str, address: str) -> bool:
        """Count a new connection from `address`; False when the address is at its cap."""
        with self._lock:
            if self._addresses[address] >= self.per_address:
                return False
            self._addresses[address] += 1
            self._address_of[eio_sid] = address
            return True

    def release(self, eio_sid: str) -> None:
        with self._lock:
            address = self._address_of.pop(eio_sid, None)
            if address is not None:
                self._addresses[address] -= 1
                if self._addresses[address] <= 0:
                    del self._addresses[address]

    def open_from(self, address: str) -> int:
        with self._lock:
            return self._addresses[address]

    def track(self, admission: Admission, sid: str, namespace: str) -> None:
        with self._lock:
            self._admitted[(sid, namespace)] = admission
            start = not self._sweeping and self.start_sweep is not None
            self._sweeping = self._sweeping or start
        if start and self.start_sweep is not None:
            self.start_sweep()

    def admitted(self, stop_when_none: bool = False) -> dict[tuple[str, str], Admission]:
        """The open connections and what admitted them. With `stop_when_none` (the
        sweep), none open stops the sweep; it starts again with the next connection."""
        with self._lock:
            if stop_when_none and not self._admitted:
                self._sweeping = False
            return dict(self._admitted)

    def untrack(self, sid: str, namespace: str) -> None:
        with self._lock:
            self._admitted.pop((sid, namespace), None)

    def held_by(self, key: str) -> list[tuple[str, str]]:
        """The connections of one principal ("device:<id>", "staff:<username>")."""
        with self._lock:
            return sorted(handle for handle, admission in self._admitted.items()
                          if admission.principal.key == key)


def client_address(environ: dict[str, Any]) -> str:
    return str(environ.get("REMOTE_ADDR") or "?")


def install(app: Flask, socketio: SocketIO, core: Core) -> Connections:
    """Gate the Engine.IO handshake and drop revoked principals' connections.

    Call after `socketio.init_app(app)`. The per-address count needs the real client
    address: behind a proxy, apply ProxyFix outside the Socket.IO middleware.
    """
    connections = Connections(core.config.security.max_connections_per_address)
    app.extensions["giliran_connections"] = connections
    server = socketio.server
    assert server is not None
    eio = server.eio
    connect: Callable[..., Any] = eio.handlers["connect"]
    disconnect: Callable[..., Any] = eio.handlers["disconnect"]

    def gate(eio_sid: str, environ: dict[str, Any], *args: Any) -> Any:
        from shared.web import current_principal

        with app.request_context(environ):
            principal = current_principal()
        if principal is None:
            return False
        if not connections.admit(eio_sid, client_address(environ)):
            log.warning("socket.io: %s holds %d connections; refused another",
                        client_address(environ), connections.per_address)
            return False
        try:
            answer = connect(eio_sid, environ, *args)
        except BaseException:
            connections.release(eio_sid)
            raise
        if answer is False:
            connections.release(eio_sid)
        return answer

    def released(eio_sid: str, *args: Any) -> Any:
        connections.release(eio_sid)
        return disconnect(eio_sid, *args)

    eio.on("connect", gate)
    eio.on("disconnect", released)

    def end_connection(sid: str, namespace: str, why: str) -> None:
        log.info("socket.io: dropping %s on %s (%s)", sid, namespace, why)
        try:
            socketio.server.disconnect(sid, namespace=namespace)  # type: ignore[union-attr]
        except Exception:  # already gone
            log.debug("disconnect of %s failed", sid, exc_info=True)
        connections.untrack(sid, namespace)

    def drop(event: ControlEvent) -> None:
        if event.kind != "revoked":
            return
        # This may arrive (through Redis) before PostgreSQL's notification of the same
        # change: forget who held what, so that a reconnect is read from the database.
        core.accounts.forget_all()
        for sid, namespace in connections.held_by(event.principal):
            end_connection(sid, namespace, event.principal)

    core.bus.subscribe_control(drop)

    def recheck() -> bool:
        """Check every open connection's admission again and drop those that no longer
        hold; False when none is open."""
        admitted = connections.admitted()
        if not admitted:
            return False
        try:
            ended = ended_among(core, admitted)
        except Exception as exc:  # the database is away: try again later
            log.warning("socket.io sweep failed (%s)", exc)
            return True
        if ended:
            # What ended them may not have reached this process's memory of who is
            # asking either (a restore without notifications): the reconnect is read
            # from the database.
            core.accounts.forget_all()
        for sid, namespace in sorted(ended):
            end_connection(sid, namespace, f"{admitted[(sid, namespace)].principal.key}: "
                                       "its access ended or changed")
        return True

    connections.recheck = recheck

    def sweep() -> None:
        while True:
            socketio.sleep(SWEEP_SECONDS)
            if not connections.admitted(stop_when_none=True):
                return
            recheck()

    connections.start_sweep = lambda: socketio.start_background_task(sweep) and None
    return connections


def register(principal: Principal, sid: str, namespace: str) -> None:
    """A namespace admitted `principal`'s connection `sid` (called from connect handlers,
    in the handshake's request: what admitted it is kept to check it again)."""
    from flask import current_app

    from shared.web import admission

    connections: Connections | None = current_app.extensions.get("giliran_connections")
    if connections is not None:
        connections.track(admission(principal), sid, namespace)


def unregister(sid: str, namespace: str) -> None:
    """The connection `sid` left `namespace` (called from disconnect handlers)."""
    from flask import current_app

    connections: Connections | None = current_app.extensions.get("giliran_connections")
    if connections is not None:
        connections.untrack(sid, namespace)
