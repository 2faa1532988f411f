"""The reports' check of config.toml (shared.config_checks): the `[retention]` table."""

from __future__ import annotations

from shared.config import Config
from shared.reports.retention_settings import retention_settings


def check_config(config: Config) -> None:
    retention_settings(config)
