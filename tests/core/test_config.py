"""config.toml: loaded and validated at start, mistakes named by key and line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from shared.app import create_app, load_config
from shared.auth import create_device, enrol_device
from shared.cli import main
from shared.config import ConfigError, parse_config
from shared.core import Core
from tests.conftest import ROOT

TEXT = (ROOT / "config.toml").read_text()


def broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in TEXT
    path = tmp_path / "config.toml"
    path.write_text(TEXT.replace(old, new, 1))
    return path


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def test_the_shipped_config_is_denpasar() -> None:
    config = load_config(ROOT / "config.toml")
    office = config.default_office
    assert office.id == "DPS" and office.timezone == "Asia/Makassar"
    assert list(office.stations) == ["berkas", "wawancara", "sidik-jari", "foto"]
    assert set(office.services) == {"paspor-baru", "penggantian", "percepatan"}
    assert office.counters["3"].priority_only


@pytest.mark.parametrize("old,new,key,fragment", [
    ('late_policy = "demote"', 'late_polcy = "demote"', "policy.late_polcy", "late_polcy"),
    ('flow = ["berkas", "wawancara", "sidik-jari", "foto"]\n\n  [[offices.services]]\n  id = '
     '"penggantian"', 'flow = ["berkas", "wawancara", "sidikjari", "foto"]\n\n  '
     '[[offices.services]]\n  id = "penggantian"', "offices[0].services[0].flow", "sidikjari"),
    ('timezone = "Asia/Makassar"', 'timezone = "Asia/Denpasar"', "offices[0].timezone",
     "Asia/Denpasar"),
    ('priority = "first"', 'priority = "sometimes"', "policy.priority", "sometimes"),
    ('url = "dummy://"\nprofile', 'url = "ftp://x"\nprofile', "printers[0].url", "ftp://x"),
    # a day at most: a huge value overflowed the ordering's arithmetic at every call
    ("max_wait_minutes = 90 ", "max_wait_minutes = 10000000000000 ", "policy.max_wait_minutes",
     "10000000000000"),
    ("return_to_welcome_seconds = 20", "return_to_welcome_seconds = -5",
     "kiosk.return_to_welcome_seconds", "-5"),
])
def test_mistakes_name_key_and_line(tmp_path: Path, old: str, new: str, key: str,
                                    fragment: str) -> None:
    path = broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert info.value.line == line_of(path, fragment)


def test_syntax_error_has_a_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("[server]\nport = = 5")
    assert info.value.line == 2


def test_cli_exits_2_with_the_message(tmp_path: Path) -> None:
    path = broken(tmp_path, 'late_policy = "demote"', 'late_policy = "maybe"')
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"GILIRAN_CONFIG": str(path)})
    assert result.exit_code == 2
    assert "policy.late_policy" in result.output and "line" in result.output


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GILIRAN_QR_HMAC_KEY", "from-env")
    monkeypatch.setenv("GILIRAN_SECRET_KEY", "secret-from-env")
    config = load_config(ROOT / "config.toml")
    assert config.security.qr_hmac_key == "from-env"
    assert config.security.secret_key == "secret-from-env"


def test_the_dropped_languages_setting_is_refused_not_ignored() -> None:
    """`[server] languages` was never read (every text is Indonesian then English): a
    file that still sets it is told so, like any other unknown key."""
    with pytest.raises(ConfigError) as info:
        parse_config('[server]\nlanguages = ["id", "en"]\n')
    assert info.value.key == "server.languages"
    assert "languages" not in TEXT


def test_ping_interval_is_a_checked_server_key(tmp_path: Path) -> None:
    assert parse_config(TEXT).ping_interval_seconds == 25
    ten = TEXT.replace("ping_interval_seconds = 25", "ping_interval_seconds = 10", 1)
    assert parse_config(ten).ping_interval_seconds == 10
    for bad in ("4", "61", '"25"'):
        path = broken(tmp_path, "ping_interval_seconds = 25", f"ping_interval_seconds = {bad}")
        with pytest.raises(ConfigError, match="server.ping_interval_seconds") as raised:
            load_config(path)
        assert raised.value.line == line_of(path, "ping_interval_seconds")


def test_screens_are_told_the_configured_keep_alive(core: Core) -> None:
    """The Engine.IO handshake carries the server's ping interval and timeout: a board
    whose network silently dropped knows itself offline after their sum."""
    core.config = replace(core.config, ping_interval_seconds=12)
    app = create_app(core=core)
    app.testing = True
    office = core.config.default_office.id
    _, token = enrol_device(core, "tv-1", create_device(core, "display", "tv-1", office))
    opened = app.test_client().get("/socket.io/?EIO=4&transport=polling",
                                   headers={"Authorization": f"Bearer {token}"})
    assert opened.status_code == 200
    handshake = json.loads(opened.get_data(as_text=True)[1:])  # "0" + the open packet
    assert (handshake["pingInterval"], handshake["pingTimeout"]) == (12_000, 5_000)


@pytest.mark.parametrize("old,new,key", [
    ("slot_minutes = 60", "slot_minutes = 0", "numbering.slot_minutes"),
    ("slot_minutes = 60", "slot_minutes = -60", "numbering.slot_minutes"),
    ("slot_minutes = 60", "slot_minutes = 1441", "numbering.slot_minutes"),
    ('slot_letters = "ABCDEFGH"', 'slot_letters = ""', "numbering.slot_letters"),
    ('slot_letters = "ABCDEFGH"', 'slot_letters = "abcdefgh"', "numbering.slot_letters"),
    ('slot_letters = "ABCDEFGH"', 'slot_letters = "ABCA"', "numbering.slot_letters"),
    ('slot_letters = "ABCDEFGH"', 'slot_letters = "ÄBC"', "numbering.slot_letters"),
    ('slot_letters = "ABCDEFGH"', 'slot_letters = "AB C"', "numbering.slot_letters"),
    ('priority_letter = "P"', 'priority_letter = "p"', "numbering.priority_letter"),
    ('priority_letter = "P"', 'priority_letter = "PQ"', "numbering.priority_letter"),
    ('priority_letter = "P"', 'priority_letter = ""', "numbering.priority_letter"),
    ('walkin_letter = "W"', 'walkin_letter = "1"', "numbering.walkin_letter"),
    ('walkin_letter = "W"', 'walkin_letter = "A"', "numbering.walkin_letter"),
    ('express_letter = "X"', 'express_letter = "P"', "numbering.express_letter"),
])
def test_numbering_is_checked_where_tickets_get_their_letters(
        tmp_path: Path, old: str, new: str, key: str) -> None:
    """A slot length of 0 divided every booked check-in by zero, no slot letters indexed
    an empty string, and a letter of two kinds of ticket mixed their numbers: refused
    with the key and its line."""
    path = broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert info.value.line == line_of(path, new)


def test_numbering_limits_that_work_are_accepted() -> None:
    text = TEXT.replace("slot_minutes = 60", "slot_minutes = 1440", 1)
    assert parse_config(text).numbering.slot_minutes == 1440
    text = TEXT.replace("slot_minutes = 60", "slot_minutes = 1", 1)
    text = text.replace('slot_letters = "ABCDEFGH"', 'slot_letters = "Z"', 1)
    numbering = parse_config(text).numbering
    assert (numbering.slot_minutes, numbering.slot_letters) == (1, "Z")


@pytest.mark.parametrize("old,new,key", [
    ('id = "foto"', 'id = "berkas"', "offices[0].stations[3].id"),
    ('id = "percepatan"', 'id = "paspor-baru"', "offices[0].services[2].id"),
])
def test_a_station_or_service_defined_twice_is_refused(
        tmp_path: Path, old: str, new: str, key: str) -> None:
    """The last of two tables with one id silently won: a second "paspor-baru" with another
    flow changed where its applicants went. Refused at the second, as counters are."""
    path = broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert "defined twice" in info.value.message


@pytest.mark.parametrize("old,new,key", [
    ('closes = "16:00"', 'closes = "07:00"', "offices[0].closes"),
    ('opens = "08:00"', 'opens = "16:00"', "offices[0].closes"),
    ('last_checkin = "15:00"', 'last_checkin = "17:00"', "offices[0].last_checkin"),
    ('last_checkin = "15:00"', 'last_checkin = "07:59"', "offices[0].last_checkin"),
])
def test_office_hours_must_be_in_order(tmp_path: Path, old: str, new: str, key: str) -> None:
    """A last check-in after closing (or an office closing before it opens) was accepted,
    and a walk-in got a ticket after closing. opens < closes, opens <= last_checkin <=
    closes, as a simulation scenario already requires."""
    path = broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == key
    assert info.value.line == line_of(path, key.split(".")[-1] + " =")


def test_last_checkin_may_be_at_opening_or_closing() -> None:
    for last in ("08:00", "16:00"):
        text = TEXT.replace('last_checkin = "15:00"', f'last_checkin = "{last}"', 1)
        assert parse_config(text).default_office.last_checkin.strftime("%H:%M") == last
