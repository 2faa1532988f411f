"""How rooms plug into the core: the one protocol between `shared/` and the rest.

The core (`shared/`) knows no screen and no device. Each room (`kiosk`, `display`,
`counter`, `hardware`, and the reports in `shared.reports`) has a module `room.py` that
the composition root (`shared/app.py`, which with `shared/config_checks.py` is the only
module of `shared/` that imports rooms) lists in `ROOMS` and calls at start-up:

- `check_config(config)`: validate the room's own config sections; raise
  `shared.config.ConfigError` naming the key (the loader adds the line). It lives in the
  room's `checks.py`, which imports none of the room's web parts, and room.py re-exports
  it: `shared.config_checks` (the command line's light composition root) lists the
  `checks` modules and runs them before anything starts, in every process.
- `register(app, core)`: add the room's blueprints (`app.register_blueprint`), Socket.IO
  namespaces (`shared.realtime.socketio.on_namespace`), event subscribers
  (`core.bus.subscribe`), health checks (`core.health_checks.append`) and facts the core
  needs from its configuration (the hardware sets `core.printers`). Called in every
  process; must not open devices.
- `start(app, core)` (optional): open devices and start workers. Called only in the
  process that owns the office's hardware (`giliran serve` without `--no-hardware`,
  gunicorn without `GILIRAN_HARDWARE=0`).

A new room is a package with such a module, a `checks.py`, and one line in each of
`shared.app.ROOMS` and `shared.config_checks.CHECKS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from flask import Flask

    from shared.config import Config
    from shared.core import Core


class Room(Protocol):
    """A module (`<room>/room.py`) that plugs a room into the core."""

    def check_config(self, config: Config) -> None: ...

    def register(self, app: Flask, core: Core) -> None: ...


def start_room(room: Room, app: Flask, core: Core) -> None:
    """Start a room's devices and workers, if it has any."""
    start = getattr(room, "start", None)
    if start is not None:
        start(app, core)
