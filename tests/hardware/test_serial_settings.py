"""`[[serial]]` entries: defaults, and a message naming the key for every mistake."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest

from hardware.serial.settings import BusSettings, parse_buses
from shared.config import ConfigError, Counter, Office, load_config

ROOT = Path(__file__).resolve().parents[2]

OFFICES = {
    "DPS": Office(
        id="DPS", name="Denpasar", timezone="Asia/Makassar", opens=time(8), last_checkin=time(15),
        closes=time(16), stations={}, services={},
        counters={c: Counter(c, f"Loket {c}", ("berkas",)) for c in ("1", "2", "W1")},
    ),
    "JKT": Office(
        id="JKT", name="Jakarta", timezone="Asia/Jakarta", opens=time(8), last_checkin=time(15),
        closes=time(16), stations={}, services={},
        counters={"9": Counter("9", "Loket 9", ("berkas",))},
    ),
}


def bus(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": "bus-1", "office": "DPS", "url": "/dev/ttyUSB0",
                             "codec": "stx", "addresses": {"1": "1", "2": "2"}}
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def test_defaults() -> None:
    [settings] = parse_buses([bus(office=None, codec=None)], OFFICES)
    assert settings == BusSettings(id="bus-1", office="DPS", url="/dev/ttyUSB0", codec="stx",
                                   addresses={1: "1", 2: "2"})
    assert settings.ack_timeout == 0.3 and settings.retries == 2 and not settings.rs485
    assert not settings.simulated


def test_every_optional_key() -> None:
    [settings] = parse_buses([bus(
        url="socket://192.0.2.7:4001", codec="line", baudrate=19200, bytesize=7, parity="e",
        stopbits=1.5, rs485=True, ack_timeout_ms=0, retries=5, probe_interval_ms=2000,
        reopen_min_ms=100, reopen_max_ms=3000, press_debounce_ms=0, refresh_interval_ms=0,
        addresses={"01": "W1", "7": "W1"},
    )], OFFICES)
    assert settings.addresses == {1: "W1", 7: "W1"}
    assert settings.addresses_of("W1") == [1, 7]
    assert (settings.baudrate, settings.bytesize, settings.parity, settings.stopbits) == (
        19200, 7, "E", 1.5)
    assert settings.rs485 and settings.ack_timeout == 0 and settings.retries == 5
    assert (settings.probe_interval, settings.reopen_min, settings.reopen_max) == (2, 0.1, 3)
    assert settings.press_debounce == 0 and settings.refresh_interval == 0


def test_integer_counter_ids_and_sim_urls() -> None:
    buses = parse_buses([bus(url="sim://", addresses={"1": 1}),
                         bus(id="bus-2", url="sim://", addresses={"1": "2"})], OFFICES)
    assert buses[0].addresses == {1: "1"} and buses[0].simulated and buses[1].simulated


@pytest.mark.parametrize(("entries", "key", "words"), [
    ([bus(codec="vendorx")], "serial[0].codec", "unknown codec"),
    ([bus(addresses={"1": "S9"})], "serial[0].addresses.1", "unknown counter"),
    ([bus(office="JKT")], "serial[0].addresses.1", "unknown counter"),
    ([bus(addresses={"0": "1"})], "serial[0].addresses.0", "1..99"),
    ([bus(addresses={"100": "1"})], "serial[0].addresses.100", "1..99"),
    ([bus(addresses={"one": "1"})], "serial[0].addresses.one", "1..99"),
    ([bus(addresses={"1": "1", "01": "2"})], "serial[0].addresses.01", "twice"),
    ([bus(addresses={"1": True})], "serial[0].addresses.1", "counter id"),
    ([bus(addresses={})], "serial[0].addresses", "at least one"),
    ([bus(addresses=None)], "serial[0].addresses", "missing"),
    ([bus(url=None)], "serial[0].url", "missing"),
    ([bus(url=" ")], "serial[0].url", "empty"),
    ([bus(id=None)], "serial[0].id", "missing"),
    ([bus(id="bus 1")], "serial[0].id", "letters"),
    ([bus(), bus()], "serial[1].id", "twice"),
    ([bus(), bus(id="bus-2")], "serial[1].url", "same port"),
    ([bus(office="SBY")], "serial[0].office", "unknown office"),
    ([bus(speed=9600)], "serial[0].speed", "unknown key"),
    ([bus(baudrate="9600")], "serial[0].baudrate", "wrong type"),
    ([bus(baudrate=0)], "serial[0].baudrate", "positive"),
    ([bus(bytesize=9)], "serial[0].bytesize", "5, 6, 7 or 8"),
    ([bus(parity="X")], "serial[0].parity", '"N"'),
    ([bus(stopbits=3)], "serial[0].stopbits", "1.5"),
    ([bus(rs485="yes")], "serial[0].rs485", "wrong type"),
    ([bus(ack_timeout_ms=-1)], "serial[0].ack_timeout_ms", "at least 0"),
    ([bus(ack_timeout_ms=True)], "serial[0].ack_timeout_ms", "number"),
    ([bus(retries=-1)], "serial[0].retries", "0 or more"),
    ([bus(reopen_min_ms=0)], "serial[0].reopen_min_ms", "at least 1"),
    ([bus(reopen_min_ms=500, reopen_max_ms=100)], "serial[0].reopen_max_ms", "reopen_min_ms"),
    (["bus-1"], "serial[0]", "table"),
])
def test_mistakes_name_the_key(entries: list[Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_buses(entries, OFFICES)
    assert raised.value.key == key
    assert words in raised.value.message


def test_the_shipped_config_toml_is_valid() -> None:
    config = load_config(ROOT / "config.toml")
    buses = parse_buses(config.serial, config.offices)
    assert buses, "config.toml should ship a simulated bus for make run"
    for settings in buses:
        assert settings.office in config.offices
