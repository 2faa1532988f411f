"""The reports' plug (shared.registry): report pages and the `[retention]` section."""

from __future__ import annotations

from flask import Flask

from shared.config import Config
from shared.core import Core
from shared.reports.retention import retention_settings
from shared.reports.views import reports


def check_config(config: Config) -> None:
    retention_settings(config)


def register(app: Flask, core: Core) -> None:
    app.register_blueprint(reports)
