"""The kiosk room's plug (shared.registry): the check-in screen and the status page."""

from __future__ import annotations

from flask import Flask

from kiosk.checks import check_config as check_config
from kiosk.ticket_realtime import install as install_ticket_push
from kiosk.views import kiosk
from shared.core import Core


def register(app: Flask, core: Core) -> None:
    app.register_blueprint(kiosk)
    install_ticket_push(app, core)
