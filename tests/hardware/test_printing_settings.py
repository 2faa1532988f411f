"""[[printers]] in config.toml: every URL form, and mistakes named by their key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hardware.printing import parse_printers
from shared.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_printing_config_toml_printers_parse() -> None:
    printers = parse_printers(load_config(ROOT / "config.toml").printers)
    by_id = {printer.id: printer for printer in printers}
    assert "kiosk-1" in by_id
    backup = by_id["kiosk-1"].backup
    assert backup is not None and backup in by_id


@pytest.mark.parametrize(
    "url,expected",
    [
        ("dummy://", {"kind": "dummy", "dummy_status": "online"}),
        ("dummy://?status=paper_out", {"kind": "dummy", "dummy_status": "paper_out"}),
        ("file:///dev/usb/lp0", {"kind": "file", "path": "/dev/usb/lp0"}),
        ("network://192.0.2.10:9100", {"kind": "network", "host": "192.0.2.10", "port": 9100}),
        ("network://printer.local", {"kind": "network", "host": "printer.local", "port": 9100}),
        ("serial:///dev/ttyUSB0?baudrate=9600",
         {"kind": "serial", "path": "/dev/ttyUSB0", "baudrate": 9600}),
        ("serial:///dev/ttyS0", {"kind": "serial", "path": "/dev/ttyS0", "baudrate": 9600}),
        ("usb://04b8:0202", {"kind": "usb", "usb_vendor": 0x04B8, "usb_product": 0x0202}),
        ("cups://TM-T20", {"kind": "cups", "queue_name": "TM-T20"}),
    ],
)
def test_printing_url_forms(url: str, expected: dict[str, Any]) -> None:
    (printer,) = parse_printers([{"id": "p", "url": url}])
    for name, value in expected.items():
        assert getattr(printer, name) == value


@pytest.mark.parametrize(
    "raw,key",
    [
        ([{"id": "p", "url": "ftp://x"}], "printers[0].url"),
        ([{"id": "p", "url": "network://"}], "printers[0].url"),
        ([{"id": "p", "url": "network://h:99999"}], "printers[0].url"),
        ([{"id": "p", "url": "serial:///dev/ttyUSB0?baudrate=9601"}], "printers[0].url"),
        ([{"id": "p", "url": "usb://4b8:202"}], "printers[0].url"),
        ([{"id": "p", "url": "file://relative"}], "printers[0].url"),
        ([{"id": "p", "url": "dummy://?status=on_fire"}], "printers[0].url"),
        ([{"id": "p"}], "printers[0].url"),
        ([{"id": "p", "url": "dummy://"}, {"id": "q", "url": "cups://"}], "printers[1].url"),
        ([{"id": "p", "url": "dummy://", "backup": "nope"}], "printers[0].backup"),
        ([{"id": "p", "url": "dummy://", "status": "no"}], "printers[0].status"),
        ([{"id": "p", "url": "dummy://", "cutter": 1}], "printers[0].cutter"),
        ([{"id": "p", "url": "dummy://", "backup": "p"}], "printers[0].backup"),
        ([{"id": "p", "url": "dummy://"}, {"id": "p", "url": "dummy://"}], "printers[1].id"),
        ([{"url": "dummy://"}], "printers[0].id"),
        ([{"id": "p", "url": "dummy://", "profile": "TM-NOPE"}], "printers[0].profile"),
        ([{"id": "p", "url": "dummy://", "width_mm": "80"}], "printers[0].width_mm"),
        ([{"id": "p", "url": "dummy://", "timeout_seconds": 0}], "printers[0].timeout_seconds"),
        ([{"id": "p", "url": "dummy://", "retries": -1}], "printers[0].retries"),
        ([{"id": "p", "url": "dummy://", "qr": "maybe"}], "printers[0].qr"),
        ([{"id": "p", "url": "dummy://", "colour": "red"}], "printers[0].colour"),
    ],
)
def test_printing_mistakes_name_the_key(raw: list[dict[str, Any]], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_printers(raw)
    assert caught.value.key == key


def test_printing_serial_wire_time_counts_ten_bits_per_byte() -> None:
    (printer,) = parse_printers([{"id": "s", "url": "serial:///dev/ttyUSB0?baudrate=9600"}])
    assert printer.wire_seconds(960) == pytest.approx(1.0)
    (network,) = parse_printers([{"id": "n", "url": "network://h"}])
    assert network.wire_seconds(960) == 0.0


def test_printing_status_and_cutter_come_from_the_printer_entry() -> None:
    plain, mute = parse_printers(
        [
            {"id": "p", "url": "network://192.0.2.1", "profile": "POS-5890", "width_mm": 58},
            {"id": "q", "url": "network://192.0.2.2", "status": False, "cutter": True,
             "profile": "POS-5890", "width_mm": 58},
        ]
    )
    assert plain.answers_status and not plain.capabilities.has_cutter
    assert not mute.answers_status and mute.capabilities.has_cutter
