"""The devices' check of config.toml (shared.config_checks): `[[printers]]` and
`[[serial]]`."""

from __future__ import annotations

from hardware.printing.settings import parse_printers
from hardware.serial.settings import parse_buses
from shared.config import Config


def check_config(config: Config) -> None:
    parse_printers(config.printers)
    parse_buses(config.serial, config.offices)
