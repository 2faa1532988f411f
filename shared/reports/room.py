"""The reports' plug (shared.registry): report pages and the `[retention]` section."""

from __future__ import annotations

from flask import Flask

from shared.core import Core
from shared.reports.checks import check_config as check_config
from shared.reports.views import reports


def register(app: Flask, core: Core) -> None:
    app.register_blueprint(reports)
