"""config.toml: loaded and validated at start, mistakes named by key and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from shared.app import load_config
from shared.cli import main
from shared.config import ConfigError, parse_config
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
