"""The `[[serial]]` entries of config.toml, checked and turned into `BusSettings`.

Keys (only id, url and addresses are required)::

    id                 "bus-1"            unique per configuration
    office             "DPS"              default: the first office
    url                "sim://"           or any pyserial URL: /dev/ttyUSB0, socket://host:port,
                                          rfc2217://host:port, loop://
    codec              "stx"              a name from hardware.serial.codecs.CODECS
    baudrate           9600
    bytesize           8                  5..8
    parity             "N"                N E O M S
    stopbits           1                  1, 1.5 or 2
    rs485              false              true: let the kernel drive RTS for the transceiver
                                          (adapters with automatic direction need false)
    ack_timeout_ms     300                0: the devices never answer, commands are fire-and-forget
    retries            2                  resends after a missing ACK or a NAK
    probe_interval_ms  5000               how often a silent device is tried again
    reopen_min_ms      500                backoff between attempts to reopen a lost port ...
    reopen_max_ms      10000              ... doubling up to this
    press_debounce_ms  500                a repeat of the same button within this is ignored
    refresh_interval_ms 60000             an idle display is sent its state again this often,
                                          which proves it still answers; 0: never
    [serial.addresses]                    device address ("1".."99") -> counter id
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.config import ConfigError, Office

from .codecs import CODECS, MAX_ADDRESS, MIN_ADDRESS

SIM_URL = "sim://"

_KEYS = {
    "id", "office", "url", "codec", "baudrate", "bytesize", "parity", "stopbits", "rs485",
    "ack_timeout_ms", "retries", "probe_interval_ms", "reopen_min_ms", "reopen_max_ms",
    "press_debounce_ms", "refresh_interval_ms", "addresses",
}


@dataclass(frozen=True)
class BusSettings:
    id: str
    office: str
    url: str
    codec: str = "stx"
    addresses: Mapping[int, str] = field(default_factory=dict)  # device address -> counter
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    rs485: bool = False
    ack_timeout: float = 0.3
    retries: int = 2
    probe_interval: float = 5.0
    reopen_min: float = 0.5
    reopen_max: float = 10.0
    press_debounce: float = 0.5
    refresh_interval: float = 60.0

    @property
    def simulated(self) -> bool:
        return self.url == SIM_URL

    def addresses_of(self, counter_id: str) -> list[int]:
        """Every device address showing this counter (a counter may have several)."""
        return [address for address, counter in self.addresses.items() if counter == counter_id]


def _get(raw: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str,
         default: Any = ...) -> Any:
    if key not in raw:
        if default is ...:
            raise ConfigError(f"{path}.{key}", "missing")
        return default
    value = raw[key]
    if isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{path}.{key}", f"expected a number, got {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{path}.{key}", f"wrong type: {value!r}")
    return value


def _milliseconds(raw: Mapping[str, Any], key: str, path: str, default: int,
                  minimum: int) -> float:
    value = _get(raw, key, int, path, default)
    if value < minimum:
        raise ConfigError(f"{path}.{key}", f"must be at least {minimum}")
    return value / 1000.0


def parse_buses(raw: Sequence[Mapping[str, Any]], offices: Mapping[str, Office]
                ) -> list[BusSettings]:
    """Check every `[[serial]]` entry against the offices; raises ConfigError naming the key."""
    buses: list[BusSettings] = []
    seen_ids: set[str] = set()
    seen_urls: dict[str, str] = {}
    for index, entry in enumerate(raw):
        path = f"serial[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(path, "expected a table")
        for key in entry:
            if key not in _KEYS:
                raise ConfigError(f"{path}.{key}",
                                  f"unknown key; expected one of: {', '.join(sorted(_KEYS))}")

        bus_id = _get(entry, "id", str, path)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", bus_id):
            raise ConfigError(f"{path}.id", "letters, digits, - and _ only")
        if bus_id in seen_ids:
            raise ConfigError(f"{path}.id", f"bus {bus_id!r} is defined twice")
        seen_ids.add(bus_id)

        if not offices:
            raise ConfigError(f"{path}.office", "no office is configured")
        office_id = _get(entry, "office", str, path, next(iter(offices)))
        if office_id not in offices:
            raise ConfigError(f"{path}.office", f"unknown office {office_id!r}")
        office = offices[office_id]

        url = _get(entry, "url", str, path).strip()
        if not url:
            raise ConfigError(f"{path}.url", "empty")
        if url != SIM_URL:
            if url in seen_urls:
                raise ConfigError(f"{path}.url", f"the same port as bus {seen_urls[url]!r}")
            seen_urls[url] = bus_id

        codec = _get(entry, "codec", str, path, "stx")
        if codec not in CODECS:
            raise ConfigError(f"{path}.codec",
                              f"unknown codec {codec!r}; expected one of: "
                              f"{', '.join(sorted(CODECS))}")

        baudrate = _get(entry, "baudrate", int, path, 9600)
        if baudrate <= 0:
            raise ConfigError(f"{path}.baudrate", "must be positive")
        bytesize = _get(entry, "bytesize", int, path, 8)
        if bytesize not in (5, 6, 7, 8):
            raise ConfigError(f"{path}.bytesize", "expected 5, 6, 7 or 8")
        parity = _get(entry, "parity", str, path, "N").upper()
        if parity not in ("N", "E", "O", "M", "S"):
            raise ConfigError(f"{path}.parity", 'expected "N", "E", "O", "M" or "S"')
        stopbits = _get(entry, "stopbits", (int, float), path, 1)
        if stopbits not in (1, 1.5, 2):
            raise ConfigError(f"{path}.stopbits", "expected 1, 1.5 or 2")

        retries = _get(entry, "retries", int, path, 2)
        if retries < 0:
            raise ConfigError(f"{path}.retries", "must be 0 or more")
        reopen_min = _milliseconds(entry, "reopen_min_ms", path, 500, 1)
        reopen_max = _milliseconds(entry, "reopen_max_ms", path, 10000, 1)
        if reopen_max < reopen_min:
            raise ConfigError(f"{path}.reopen_max_ms", "must not be below reopen_min_ms")

        buses.append(BusSettings(
            id=bus_id,
            office=office_id,
            url=url,
            codec=codec,
            addresses=_addresses(entry, path, office),
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            rs485=_get(entry, "rs485", bool, path, False),
            ack_timeout=_milliseconds(entry, "ack_timeout_ms", path, 300, 0),
            retries=retries,
            probe_interval=_milliseconds(entry, "probe_interval_ms", path, 5000, 1),
            reopen_min=reopen_min,
            reopen_max=reopen_max,
            press_debounce=_milliseconds(entry, "press_debounce_ms", path, 500, 0),
            refresh_interval=_milliseconds(entry, "refresh_interval_ms", path, 60000, 0),
        ))
    return buses


def _addresses(entry: Mapping[str, Any], path: str, office: Office) -> dict[int, str]:
    table = _get(entry, "addresses", Mapping, path)
    if not table:
        raise ConfigError(f"{path}.addresses", "a bus needs at least one device address")
    addresses: dict[int, str] = {}
    for key, counter in table.items():
        where = f"{path}.addresses.{key}"
        text = str(key).strip()
        if not text.isdigit() or not MIN_ADDRESS <= int(text) <= MAX_ADDRESS:
            raise ConfigError(where, f"an address is a number {MIN_ADDRESS}..{MAX_ADDRESS}")
        if int(text) in addresses:
            raise ConfigError(where, f"address {int(text)} is listed twice")
        if isinstance(counter, bool) or not isinstance(counter, (str, int)):
            raise ConfigError(where, f"expected a counter id, got {counter!r}")
        counter_id = str(counter)
        if counter_id not in office.counters:
            raise ConfigError(where, f"unknown counter {counter_id!r} of office {office.id!r}")
        addresses[int(text)] = counter_id
    return addresses
