"""The counters' check of config.toml (shared.config_checks)."""

from __future__ import annotations

from shared.config import Config


def check_config(config: Config) -> None:
    """The counters are part of each office's core configuration: nothing of its own."""
