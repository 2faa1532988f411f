"""The `[retention]` table of config.toml, checked without the database (so the command
line checks the configuration without importing the reports' queries)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.config import Config, ConfigError

DEFAULT_PERSONAL_DAYS = 30
MAX_PERSONAL_DAYS = 3660


@dataclass(frozen=True)
class Retention:
    personal_days: int = DEFAULT_PERSONAL_DAYS


def retention_settings(config: Config | Mapping[str, Any]) -> Retention:
    """The validated `[retention]` table; raises ConfigError naming the key."""
    raw = config.retention if isinstance(config, Config) else config
    if not isinstance(raw, Mapping):
        raise ConfigError("retention", "must be a table")
    unknown = sorted(set(raw) - {"personal_days"})
    if unknown:
        raise ConfigError(f"retention.{unknown[0]}", "unknown key (known: personal_days)")
    days = raw.get("personal_days", DEFAULT_PERSONAL_DAYS)
    if isinstance(days, bool) or not isinstance(days, int):
        raise ConfigError("retention.personal_days", "must be a whole number of days")
    if not 1 <= days <= MAX_PERSONAL_DAYS:
        raise ConfigError("retention.personal_days",
                          f"must be between 1 and {MAX_PERSONAL_DAYS} days")
    return Retention(personal_days=days)
