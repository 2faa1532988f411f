"""The ``[[printers]]`` entries of config.toml, checked once at start.

A printer is named by a URL so that the installer writes one line per device:

    dummy://                               keep the bytes in memory (development)
    dummy://?status=paper_out              the same, pretending a fault (drills, demos)
    file:///dev/usb/lp0                    a character device or any writable file
    network://192.0.2.10:9100              raw TCP, port 9100 by default
    serial:///dev/ttyUSB0?baudrate=9600    RS-232, 8N1
    usb://04b8:0202                        vendor:product (needs pyusb)
    cups://TM-T20                          a raw CUPS queue (pycups, or the lp command)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

from hardware.printing.capabilities import Capabilities, QrMode, known_profile
from shared.config import ConfigError

PrinterKind = Literal["dummy", "file", "network", "serial", "usb", "cups"]
DUMMY_STATUSES = ("online", "paper_near_end", "paper_out", "offline")
_ALLOWED_KEYS = {
    "id", "url", "profile", "width_mm", "timeout_seconds", "retries", "backup", "qr",
    "status", "cutter",
}
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_USB_PATTERN = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
_BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


@dataclass(frozen=True)
class PrinterSettings:
    """One configured printer. Only the fields of its ``kind`` are meaningful."""

    id: str
    url: str
    kind: PrinterKind
    profile: str = "default"
    width_mm: int = 80
    timeout_seconds: float = 3.0
    retries: int = 2
    backup: str | None = None
    qr: QrMode = "auto"
    # False only for a model known not to answer DLE EOT: then status is never asked. A
    # printer that should answer and does not is a fault, never a missing capability.
    status: bool = True
    cutter: bool | None = None  # None: as the profile says
    host: str = ""  # network
    port: int = 9100  # network
    path: str = ""  # file, serial
    baudrate: int = 9600  # serial
    usb_vendor: int = 0
    usb_product: int = 0
    queue_name: str = ""  # cups
    dummy_status: str = "online"  # dummy

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities.for_printer(self.profile, self.width_mm, self.qr, self.cutter)

    @property
    def answers_status(self) -> bool:
        """Whether DLE EOT status is asked: the link carries replies and the profile says
        the model answers (``status = false`` in its ``[[printers]]`` entry says it does not).
        """
        return self.status and self.kind in ("network", "serial", "dummy")

    @property
    def status_seconds(self) -> float:
        """How long the status answer is waited for: half a second at the default timeout
        (a hung printer fails over quickly), more for a printer given a longer timeout (a
        slow clone or Wi-Fi answers late), never more than half the timeout."""
        return min(self.timeout_seconds / 2, max(0.5, self.timeout_seconds / 6))

    def wire_seconds(self, size: int) -> float:
        """Time the bytes need on the wire: only a serial line is slow enough to matter."""
        if self.kind != "serial":
            return 0.0
        return size * 10 / self.baudrate  # 8N1: ten bits per byte


def parse_printers(raw: Sequence[Mapping[str, Any]]) -> list[PrinterSettings]:
    """Validate the ``[[printers]]`` array; raise ConfigError naming the bad key."""
    printers: list[PrinterSettings] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"printers[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(where, "expected a table")
        unknown = sorted(set(entry) - _ALLOWED_KEYS)
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}", "unknown key")
        printer_id = entry.get("id")
        if not isinstance(printer_id, str) or not _ID_PATTERN.fullmatch(printer_id):
            raise ConfigError(f"{where}.id", "expected a name of letters, digits, '-', '_', '.'")
        if printer_id in seen:
            raise ConfigError(f"{where}.id", f"duplicate printer id {printer_id!r}")
        seen.add(printer_id)
        printers.append(_parse_one(entry, where, printer_id))

    ids = {printer.id for printer in printers}
    for index, printer in enumerate(printers):
        if printer.backup is None:
            continue
        if printer.backup == printer.id:
            raise ConfigError(f"printers[{index}].backup", "a printer cannot be its own backup")
        if printer.backup not in ids:
            raise ConfigError(f"printers[{index}].backup", f"unknown printer id {printer.backup!r}")
    return printers


def _parse_one(entry: Mapping[str, Any], where: str, printer_id: str) -> PrinterSettings:
    url = entry.get("url")
    if not isinstance(url, str) or not url:
        raise ConfigError(f"{where}.url", "expected a printer URL such as network://host:9100")
    target = _parse_url(url, f"{where}.url")

    profile = entry.get("profile", "default")
    if not isinstance(profile, str) or not known_profile(profile):
        raise ConfigError(f"{where}.profile", f"unknown python-escpos profile {profile!r}")

    width_mm = entry.get("width_mm", 80)
    if isinstance(width_mm, bool) or not isinstance(width_mm, int) or not 40 <= width_mm <= 120:
        raise ConfigError(f"{where}.width_mm", "expected the paper width in mm, e.g. 58 or 80")

    timeout = entry.get("timeout_seconds", 3)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 120:
        raise ConfigError(f"{where}.timeout_seconds", "expected seconds between 0 and 120")

    retries = entry.get("retries", 2)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise ConfigError(f"{where}.retries", "expected a whole number from 0 to 10")

    backup = entry.get("backup")
    if backup is not None and (not isinstance(backup, str) or not backup):
        raise ConfigError(f"{where}.backup", "expected the id of another printer")

    qr = entry.get("qr", "auto")
    if qr not in ("auto", "native", "image"):
        raise ConfigError(f"{where}.qr", 'expected "auto", "native" or "image"')

    status = entry.get("status", True)
    if not isinstance(status, bool):
        raise ConfigError(
            f"{where}.status", "expected true, or false for a model that never answers status"
        )

    cutter = entry.get("cutter")
    if cutter is not None and not isinstance(cutter, bool):
        raise ConfigError(f"{where}.cutter", "expected true (auto-cutter) or false (tear bar)")

    return PrinterSettings(
        id=printer_id,
        url=url,
        profile=profile,
        width_mm=width_mm,
        timeout_seconds=float(timeout),
        retries=retries,
        backup=backup,
        qr=cast(QrMode, qr),
        status=status,
        cutter=cutter,
        **target,
    )


def _parse_url(url: str, key: str) -> dict[str, Any]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}

    def refuse(message: str) -> ConfigError:
        return ConfigError(key, f"{message} (got {url!r})")

    def no_query(*allowed: str) -> None:
        extra = sorted(set(query) - set(allowed))
        if extra:
            raise refuse(f"unknown option {extra[0]!r}")

    if scheme == "dummy":
        no_query("status")
        status = query.get("status", "online")
        if status not in DUMMY_STATUSES:
            raise refuse(f"status must be one of {', '.join(DUMMY_STATUSES)}")
        return {"kind": "dummy", "dummy_status": status}
    if scheme == "file":
        no_query()
        if parts.netloc or not parts.path.startswith("/"):
            raise refuse("expected file:///absolute/path")
        return {"kind": "file", "path": parts.path}
    if scheme == "network":
        no_query()
        try:
            port = parts.port or 9100
        except ValueError:
            raise refuse("bad port") from None
        if not parts.hostname or parts.path not in ("", "/"):
            raise refuse("expected network://host:port")
        return {"kind": "network", "host": parts.hostname, "port": port}
    if scheme == "serial":
        no_query("baudrate")
        if parts.netloc or not parts.path.startswith("/"):
            raise refuse("expected serial:///dev/ttyUSB0?baudrate=9600")
        raw_baud = query.get("baudrate", "9600")
        if not raw_baud.isdigit() or int(raw_baud) not in _BAUDRATES:
            raise refuse(f"baudrate must be one of {', '.join(map(str, _BAUDRATES))}")
        return {"kind": "serial", "path": parts.path, "baudrate": int(raw_baud)}
    if scheme == "usb":
        no_query()
        match = _USB_PATTERN.fullmatch(parts.netloc)
        if not match or parts.path not in ("", "/"):
            raise refuse("expected usb://VVVV:PPPP (hexadecimal vendor and product ids)")
        return {
            "kind": "usb",
            "usb_vendor": int(match.group(1), 16),
            "usb_product": int(match.group(2), 16),
        }
    if scheme == "cups":
        no_query()
        if not parts.netloc or parts.path not in ("", "/"):
            raise refuse("expected cups://QUEUE_NAME")
        return {"kind": "cups", "queue_name": parts.netloc}
    raise refuse("unknown scheme; use dummy, file, network, serial, usb or cups")
