"""What each process knows of its devices, shown by every process.

A printer's state is known only in the process that owns it (the hardware process), a
serial bus's likewise, and a board's sound state only in the process its socket is
connected to. Each of them writes the latest state per device into `device_states`
(`Publisher`): at once when it changes (timestamps aside), otherwise once per
`HEARTBEAT`. The admin pages, the overview and `GET /api/v1/devices` read them in any
process (`shared_states`, with this process's own printers and buses on top, being the
freshest). A state not refreshed for `STALE_AFTER` is marked `"stale": true`: the
process that knew it stopped, or the board went away without saying so.

A kiosk or board page also reports, when its socket connects, the product version it was
loaded with and its browser (`record_client`): the devices list shows both, and flags a
page older than the server (reload it).

Only device ids, states and versions: no personal data.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from shared import __version__
from shared.core import Core
from shared.models import Device, DeviceState

log = logging.getLogger(__name__)

KINDS = ("printer", "serial", "board")
HEARTBEAT = timedelta(seconds=60)      # an unchanged state is written again this often
STALE_AFTER = timedelta(seconds=150)   # not refreshed for this long: stale
USER_AGENT_MAX = 200
PROCESS = f"{socket.gethostname()[:40]}:{os.getpid()}"


def _fingerprint(state: Mapping[str, Any]) -> str:
    """The state without its timestamps: a new acknowledgement time alone is no change."""
    def strip(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: strip(v) for k, v in value.items() if not str(k).endswith("_at")}
        if isinstance(value, list | tuple):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(state), sort_keys=True, default=str)


def _plain(state: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(state, default=str))  # type: ignore[no-any-return]


class Publisher:
    """Writes one process's device states (of one kind), throttled."""

    def __init__(self, core: Core, kind: str, process: str = PROCESS) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.core, self.kind, self.process = core, kind, process
        self._lock = threading.Lock()
        self._written: dict[str, tuple[str, datetime]] = {}  # id -> (fingerprint, at)

    def publish(self, states: Mapping[str, Mapping[str, Any]]) -> int:
        """Write the states that changed or are due for a refresh; returns how many."""
        now = self.core.now()
        due: dict[str, tuple[str, Mapping[str, Any]]] = {}
        with self._lock:
            for device_id, state in states.items():
                fingerprint = _fingerprint(state)
                last = self._written.get(device_id)
                if last is None or last[0] != fingerprint or now - last[1] >= HEARTBEAT:
                    due[device_id] = (fingerprint, state)
        if not due:
            return 0
        try:
            with self.core.db.write() as session:
                for device_id, (_, state) in due.items():
                    key = f"{self.kind}:{device_id}"[:100]
                    office = state.get("office")
                    row = session.get(DeviceState, key)
                    if row is not None and row.process != self.process and \
                            state.get("status") == "disconnected":
                        # It left this process, but another one has written it since
                        # (a board that reconnected elsewhere): that one knows better.
                        continue
                    if row is None:
                        row = DeviceState(key=key, kind=self.kind)
                        session.add(row)
                    row.office_id = office[:32] if isinstance(office, str) else None
                    row.state = _plain(state)
                    row.process = self.process
                    row.updated_at = now
        except Exception:  # the database away for a moment: try again next time
            log.exception("device states not written")
            return 0
        with self._lock:
            for device_id, (fingerprint, _state) in due.items():
                self._written[device_id] = (fingerprint, now)
        return len(due)


def read(core: Core, kind: str | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """kind -> device id -> its latest state, with `updated_at`, `process` and `stale`."""
    result: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
    now = core.now()
    with core.db.read() as session:
        query = select(DeviceState)
        if kind is not None:
            query = query.where(DeviceState.kind == kind)
        for row in session.execute(query).scalars():
            device_id = row.key.split(":", 1)[1]
            state = dict(row.state or {})
            state.update(updated_at=row.updated_at.isoformat(timespec="seconds") + "Z",
                         process=row.process, stale=now - row.updated_at > STALE_AFTER)
            result.setdefault(row.kind, {})[device_id] = state
    return result


def shared_states(core: Core) -> dict[str, dict[str, dict[str, Any]]]:
    """Every process's printers, serial buses and boards, this process's own on top."""
    states = read(core)
    for check in core.health_checks:
        part, _ok = check()
        for printer_id, printer in part.get("printers", {}).items():
            states["printer"][printer_id] = {**printer, "process": PROCESS, "stale": False}
        for bus_id, bus in part.get("devices", {}).get("serial", {}).items():
            states["serial"][bus_id] = {**bus, "process": PROCESS, "stale": False}
    return states


def start_publishing(core: Core, sources: Mapping[str, Callable[[], Mapping[str, Any]]],
                     every: float = 5.0) -> threading.Event:
    """Publish `sources` (kind -> states of this process) every `every` seconds on a
    daemon thread, throttled by `Publisher`; set the returned event to stop."""
    stop = threading.Event()
    publishers = {kind: Publisher(core, kind) for kind in sources}

    def run() -> None:
        while True:
            for kind, source in sources.items():
                try:
                    publishers[kind].publish(source())
                except Exception:
                    log.exception("device states of kind %s not read", kind)
            if stop.wait(every):
                return

    threading.Thread(target=run, name="giliran-device-states", daemon=True).start()
    return stop


# --- the version and browser a device's page reports ------------------------------------------
VERSION_RE = re.compile(r"[0-9A-Za-z.+_-]{1,32}")


def record_client(core: Core, device_id: str, version: Any, user_agent: str | None) -> bool:
    """Store what a kiosk or board page reported (only when it changed); True if stored."""
    version = version if isinstance(version, str) and VERSION_RE.fullmatch(version) else None
    agent = "".join(ch for ch in (user_agent or "") if ch.isprintable())[:USER_AGENT_MAX] \
        or None
    if version is None and agent is None:
        return False
    with core.db.read() as session:
        current = session.execute(select(Device.version, Device.user_agent).where(
            Device.id == device_id)).one_or_none()
    if current is None or (current.version, current.user_agent) == (version, agent):
        return False
    with core.db.write() as session:
        session.execute(update(Device).where(Device.id == device_id).values(
            version=version, user_agent=agent))
    return True


def clients(core: Core) -> dict[str, dict[str, Any]]:
    """device id -> {version, browser, user_agent, outdated} for the devices list."""
    with core.db.read() as session:
        rows = session.execute(select(Device.id, Device.version, Device.user_agent)).all()
    return {row.id: {"version": row.version, "user_agent": row.user_agent,
                     "browser": browser(row.user_agent),
                     "outdated": bool(row.version and row.version != __version__)}
            for row in rows}


_BROWSERS = (("Edg", "Edge"), ("OPR", "Opera"), ("Firefox", "Firefox"),
             ("Chromium", "Chromium"), ("HeadlessChrome", "Chromium (headless)"),
             ("Chrome", "Chrome"), ("Version", "Safari"))


def browser(user_agent: str | None) -> str | None:
    """"Chrome 120 (Linux)" from a User-Agent, or None."""
    if not user_agent:
        return None
    name = None
    for token, label in _BROWSERS:
        match = re.search(rf"\b{token}/(\d+)", user_agent)
        if match:
            name = f"{label} {match.group(1)}"
            break
    system = next((s for s in ("Android", "Windows", "Linux", "Mac OS X", "CrOS", "iPhone")
                   if s in user_agent), None)
    if name is None:
        return user_agent[:40]
    return f"{name} ({system})" if system else name
