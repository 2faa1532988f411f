"""The board's check of config.toml (shared.config_checks): the `[announce]` table."""

from __future__ import annotations

from display.announce.calls import settings_for
from shared.config import Config


def check_config(config: Config) -> None:
    settings_for(config)
