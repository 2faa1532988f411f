"""The devices' check of config.toml (shared.config_checks): `[[printers]]` and
`[[serial]]`."""

from __future__ import annotations

from hardware.printing.settings import parse_printers
from hardware.serial.settings import parse_buses
from shared.config import Config, ConfigError


def check_config(config: Config) -> None:
    printers = parse_printers(config.printers)
    _counter_printers_name_one_counter(config, [printer.id for printer in printers])
    parse_buses(config.serial, config.offices)


def _counter_printers_name_one_counter(config: Config, ids: list[str]) -> None:
    """A counter prints on `counter-<office>-<counter>`, else on `counter-<counter>`
    (shared.outbox). Counter ids are each office's own, so where two offices of one
    installation both have counter "1", `counter-1` would print both offices' slips and
    walk-in tickets in whichever office holds that printer: refuse it, naming the way out."""
    for index, printer_id in enumerate(ids):
        if not printer_id.startswith("counter-"):
            continue
        counter = printer_id.removeprefix("counter-")
        offices = sorted(office.id for office in config.offices.values()
                         if counter in office.counters)
        if len(offices) > 1:
            raise ConfigError(
                f"printers[{index}].id",
                f"counter {counter!r} exists in offices {', '.join(offices)}: name each "
                f"office's printer counter-<office>-{counter} (e.g. "
                f"counter-{offices[0]}-{counter})")
