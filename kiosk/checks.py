"""The kiosk's check of config.toml (shared.config_checks)."""

from __future__ import annotations

from shared.config import Config


def check_config(config: Config) -> None:
    """`[kiosk]` is read by the core's check-in (the code pattern): nothing of its own."""
