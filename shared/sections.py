"""Validating the config sections owned by the rooms (printers, serial, announce,
retention) at start, so a mistake stops the program with its key and line."""

from __future__ import annotations

from shared.config import Config, ConfigError, _Reader


def validate_sections(config: Config, text: str | None = None) -> None:
    """Raise ConfigError (with the line when the file text is known) for a bad section."""
    from display.announce.calls import settings_for
    from hardware.printing import parse_printers
    from hardware.serial.settings import parse_buses
    from shared.reports.retention import retention_settings

    try:
        parse_printers(config.printers)
        parse_buses(config.serial, config.offices)
        settings_for(config)
        retention_settings(config)
    except ConfigError as error:
        if error.line is None and text is not None:
            raise ConfigError(error.key, error.message, _Reader(text).line_of(error.key)) from None
        raise
