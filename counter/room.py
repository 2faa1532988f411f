"""The counter room's plug (shared.registry): the staff terminal, the supervisor view and
the `/counter` Socket.IO namespace."""

from __future__ import annotations

from flask import Flask

from counter.admin_views import admin
from counter.checks import check_config as check_config
from counter.realtime import CounterNamespace
from counter.views import counter
from shared.core import Core
from shared.realtime import socketio


def register(app: Flask, core: Core) -> None:
    app.register_blueprint(counter)
    app.register_blueprint(admin)
    socketio.on_namespace(CounterNamespace("/counter"))
