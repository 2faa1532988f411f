"""Red team, the IT person's side: what `giliran` answers to a database it cannot use, a
clock it cannot read, an unknown office, a file it cannot write, a broken secrets file,
and what the deployment files and docs tell the person installing an office."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from shared.cli import main
from tests.conftest import DAY, ROOT
from tests.live import BIN, free_port

KEYS = ("GILIRAN_SECRET_KEY", "GILIRAN_QR_HMAC_KEY")
DOCS = ROOT / "docs"
DEPLOY = ROOT / "deploy"


@pytest.fixture
def installation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installation of its own: config.toml, var/ and a SQLite database in tmp_path."""
    monkeypatch.setenv("GILIRAN_VAR", str(tmp_path / "var"))
    monkeypatch.setenv("GILIRAN_CONFIG", str(ROOT / "config.toml"))
    monkeypatch.setenv("GILIRAN_DATABASE_URL", f"sqlite:///{tmp_path / 'giliran.sqlite3'}")
    monkeypatch.setenv("GILIRAN_CLOCK", f"{DAY}T09:00")
    monkeypatch.delenv("GILIRAN_REDIS_URL", raising=False)
    monkeypatch.delenv("GILIRAN_SECRETS_FILE", raising=False)
    yield tmp_path


def giliran(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


def one_line_refusal(result: Result, status: int, *words: str) -> str:
    """The command stopped with `status`, no traceback, and said why in both languages."""
    assert result.exit_code == status, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, result.output
    message = lines[-1]
    assert " / " in message, message  # Bahasa Indonesia / English
    for word in words:
        assert word in message, message
    return message


def future_database(path: Path) -> str:
    """A database that a newer Giliran migrated (a revision this one does not know)."""
    url = f"sqlite:///{path}"
    assert giliran("db", "upgrade", env={"GILIRAN_DATABASE_URL": url}).exit_code == 0
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_future'")
    return url


# --- the database ------------------------------------------------------------------------
def test_an_unreachable_postgresql_is_one_line_without_the_password(installation: Path) -> None:
    url = f"postgresql://giliran:Rahasia-Sekali-99@127.0.0.1:{free_port()}/giliran"
    result = giliran("staff", "list", env={"GILIRAN_DATABASE_URL": url})
    message = one_line_refusal(result, 1, "cannot be used", "127.0.0.1")
    assert "Rahasia-Sekali-99" not in result.output
    assert "tidak dapat dipakai" in message


@pytest.mark.parametrize("name", ["missing-folder", "not-a-database"])
def test_an_unusable_sqlite_file_is_one_line(installation: Path, name: str) -> None:
    path = installation / "nowhere" / "giliran.sqlite3"
    if name == "not-a-database":
        path = installation / "notes.sqlite3"
        path.write_text("catatan kantor, bukan basis data\n")
    result = giliran("device", "list", env={"GILIRAN_DATABASE_URL": f"sqlite:///{path}"})
    one_line_refusal(result, 1, "cannot be used", str(path))


def test_a_database_url_of_another_kind_is_refused_by_name(installation: Path) -> None:
    result = giliran("db", "upgrade", env={"GILIRAN_DATABASE_URL": "mysql://u:p@db/giliran"})
    one_line_refusal(result, 2, "GILIRAN_DATABASE_URL", "postgresql://")


def test_a_database_of_a_newer_version_is_named_not_a_traceback(installation: Path) -> None:
    url = future_database(installation / "newer.sqlite3")
    result = giliran("report", "day", env={"GILIRAN_DATABASE_URL": url})
    one_line_refusal(result, 1, "9999_future", "newer version")


def serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "giliran"), "serve", "--no-hardware", "--port",
                           str(free_port())], env={**os.environ, **env}, cwd=ROOT,
                          capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize("case", ["unreachable", "newer"])
def test_serve_says_why_the_database_cannot_be_used_in_one_line(installation: Path,
                                                                 case: str) -> None:
    """Before: gunicorn's worker failed to boot with 150 lines of traceback. Now the worker
    says why in one line and gunicorn stops (status 3, which systemd retries: the
    database may come up); `giliran serve` makes no connection of its own before."""
    if case == "unreachable":
        url = f"postgresql://giliran:pw@127.0.0.1:{free_port()}/giliran"
    else:
        url = future_database(installation / "newer.sqlite3")
    result = serve({"GILIRAN_DATABASE_URL": url, "GILIRAN_LOG_LEVEL": "WARNING"})
    assert result.returncode == 3, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    said = [line for line in result.stderr.splitlines() if line.startswith("giliran: ")]
    assert len(said) == 1, result.stderr[-3000:]
    assert ("cannot be used" if case == "unreachable" else "9999_future") in said[0]
    assert "pw@" not in result.stderr


# --- GILIRAN_CLOCK -----------------------------------------------------------------------
@pytest.mark.parametrize("args", [("staff", "list"), ("report", "day"), ("demo", "clock")])
def test_an_unreadable_clock_is_named(installation: Path, args: tuple[str, ...]) -> None:
    result = giliran(*args, env={"GILIRAN_CLOCK": "besok pagi"})
    one_line_refusal(result, 2, "GILIRAN_CLOCK", "besok pagi", "2026-12-01T08:30")


def test_serve_names_an_unreadable_clock(installation: Path) -> None:
    result = serve({"GILIRAN_CLOCK": "2026-13-01T08:00"})
    assert result.returncode == 2, result.stderr[-3000:]
    assert "GILIRAN_CLOCK" in result.stderr and "Traceback" not in result.stderr


# --- what is named on the command line ---------------------------------------------------
@pytest.mark.parametrize("args", [
    ("device", "add", "kiosk", "kiosk-9", "--office", "XYZ"),
    ("staff", "add", "budi", "--role", "officer", "--office", "XYZ",
     "--password", "sandi-yang-panjang"),
])
def test_an_unknown_office_is_one_line(installation: Path, args: tuple[str, ...]) -> None:
    one_line_refusal(giliran(*args), 1, "Unknown office XYZ", "Kantor XYZ")



@pytest.mark.parametrize(("args", "words"), [
    (("report", "day", "--date", "01/12/2026"), ("gunakan TTTT-BB-HH", "use YYYY-MM-DD")),
    (("report", "day", "--office", "XYZ"), ("kantor XYZ tidak dikenal", "unknown office")),
    (("report", "range", "--from", "2026-12-02", "--to", "2026-12-01"),
     ("--to sebelum --from", "--to is before --from")),
    (("report", "skm", "--period", "2026-S3"), ("periode adalah", "period is")),
])
def test_report_options_are_refused_in_both_languages(installation: Path,
                                                      args: tuple[str, ...],
                                                      words: tuple[str, ...]) -> None:
    """Every message a person reads: Bahasa Indonesia first, English second."""
    result = giliran(*args)
    assert result.exit_code == 2, result.output
    text = " ".join(result.stderr.split())
    first, second = (text.index(word) for word in words)
    assert first < second, text

def test_a_report_or_export_into_a_missing_folder_is_one_line(installation: Path) -> None:
    target = installation / "tidak-ada" / "laporan.csv"
    one_line_refusal(giliran("report", "day", "--output", str(target)), 1, str(target))
    one_line_refusal(giliran("config", "export", "-o", str(target)), 1, str(target))


def test_config_import_of_a_file_that_is_not_utf8_is_one_line(installation: Path) -> None:
    """Before: a UnicodeDecodeError traceback (a file saved in Windows-1252 by Notepad)."""
    target = installation / "kantor.toml"
    target.write_bytes('[policy]\n# Ruang tunggu lantai 2 \u2013 Denpasar\n'.encode("cp1252"))
    one_line_refusal(giliran("config", "import", str(target)), 2, "UTF-8", str(target))


def test_staff_add_keeps_the_consoles_rules(installation: Path) -> None:
    """Before: a one-letter password and a name no login form takes were 'saved'."""
    short = giliran("staff", "add", "budi", "--role", "officer", "--password", "x")
    one_line_refusal(short, 1, "8-256")
    prompted = giliran("staff", "add", "budi", "--role", "officer", stdin="abc\nabc\n")
    one_line_refusal(prompted, 1, "8-256")
    bad_name = giliran("staff", "add", "budi santoso", "--role", "officer",
                       "--password", "sandi-yang-panjang")
    one_line_refusal(bad_name, 1, "username")
    listed = giliran("staff", "list")
    assert "budi" not in listed.stdout
    good = giliran("staff", "add", "budi", "--role", "officer", "--password", "12345678")
    assert good.exit_code == 0, good.output


def test_device_add_refuses_an_id_that_breaks_its_link(installation: Path) -> None:
    one_line_refusal(giliran("device", "add", "kiosk", "loket 1/a"), 1, "device id")


def test_device_add_prints_a_link_with_the_public_url(installation: Path) -> None:
    """Before: http://127.0.0.1:5000/enrol/... whatever public_url, a link no kiosk opens."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    config = installation / "config.toml"
    config.write_text(re.sub(r"(?m)^public_url = .*$",
                             'public_url = "https://antrean.imigrasi.example"', text),
                      encoding="utf-8")
    assert 'public_url = "https://antrean.imigrasi.example"' in config.read_text()
    result = giliran("device", "add", "kiosk", "kiosk-2", env={"GILIRAN_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("https://antrean.imigrasi.example/enrol/kiosk-2/")
    own = giliran("device", "add", "kiosk", "kiosk-3", "--base-url", "http://10.0.0.5:5001/",
                  env={"GILIRAN_CONFIG": str(config)})
    assert own.stdout.startswith("http://10.0.0.5:5001/enrol/kiosk-3/")


def test_report_commands_migrate_under_the_servers_lock(installation: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/deployment.md: every command that needs the database takes its turn under the
    migration lock (shared.migrate.migrate). Before, `giliran report` ran Alembic outside it."""
    import shared.migrate

    calls: list[object] = []
    real = shared.migrate.migrate

    def counted(core: object) -> None:
        calls.append(core)
        real(core)  # type: ignore[arg-type]

    monkeypatch.setattr(shared.migrate, "migrate", counted)
    result = giliran("report", "purge")
    assert result.exit_code == 0, result.output
    assert len(calls) == 1


# --- secrets -----------------------------------------------------------------------------
@pytest.fixture
def no_keys(installation: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    (installation / "var").mkdir()
    return installation / "var" / "secrets.toml"


def secrets_values(path: Path) -> dict[str, str]:
    import tomllib

    return dict(tomllib.loads(path.read_text(encoding="utf-8")))


def test_secrets_init_completes_an_empty_file(no_keys: Path) -> None:
    """Before: 'exists; keys unchanged', and the server refused to start telling the IT
    person to run `giliran secrets init`, which changed nothing: a loop."""
    no_keys.touch(mode=0o600)
    result = giliran("secrets", "init")
    assert result.exit_code == 0, result.output
    values = secrets_values(no_keys)
    assert set(values) == {"secret_key", "qr_hmac_key"}
    from shared.config import secret_problem

    assert all(secret_problem(value) is None for value in values.values())
    assert giliran("secrets", "init").exit_code == 0
    assert secrets_values(no_keys) == values  # once written, never replaced


def test_secrets_init_adds_only_the_missing_key(no_keys: Path) -> None:
    kept = "k" * 48
    no_keys.write_text(f'secret_key = "{kept}"', encoding="utf-8")  # no final newline
    no_keys.chmod(0o600)
    assert giliran("secrets", "init").exit_code == 0
    values = secrets_values(no_keys)
    assert values["secret_key"] == kept and len(values["qr_hmac_key"]) >= 32


def test_secrets_init_refuses_a_shipped_key_in_the_file(no_keys: Path) -> None:
    no_keys.write_text('secret_key = "dev-only-change-me"\nqr_hmac_key = "' + "q" * 40
                       + '"\n', encoding="utf-8")
    no_keys.chmod(0o600)
    one_line_refusal(giliran("secrets", "init"), 2, "secret_key", str(no_keys))


def test_secrets_init_names_a_secrets_path_it_cannot_read(no_keys: Path) -> None:
    no_keys.mkdir()
    result = giliran("secrets", "init")
    assert result.exit_code == 2, result.output
    assert "cannot read" in result.stderr and str(no_keys) in result.stderr


def test_secrets_init_makes_a_readable_secrets_file_private(no_keys: Path) -> None:
    no_keys.write_text(f'secret_key = "{"s" * 48}"\nqr_hmac_key = "{"q" * 48}"\n',
                       encoding="utf-8")
    no_keys.chmod(0o644)
    result = giliran("secrets", "init")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(no_keys.stat().st_mode) == 0o600
    assert "644" in result.stderr


def test_secrets_init_into_a_folder_it_cannot_create_is_one_line(
        no_keys: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = no_keys.parent / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("GILIRAN_SECRETS_FILE", str(blocker / "secrets.toml"))
    one_line_refusal(giliran("secrets", "init"), 1, str(blocker))


# --- the deployment files and docs -------------------------------------------------------
def test_deployment_doc_describes_the_server_that_runs() -> None:
    """`giliran serve` is gunicorn with one gevent worker; the doc's opening said Werkzeug
    and a threaded worker with N threads."""
    text = (DOCS / "deployment.md").read_text(encoding="utf-8")
    assert "threaded worker" not in text and "N threads" not in text
    assert "uses Werkzeug" not in text
    var_row = next(line for line in text.splitlines() if line.startswith("| `GILIRAN_VAR`"))
    assert "secrets.toml" in var_row and "SQLite" in var_row


def test_nginx_example_states_the_real_ping_interval() -> None:
    from shared.config import Config

    text = (DEPLOY / "nginx.conf.example").read_text(encoding="utf-8")
    default = Config.__dataclass_fields__["ping_interval_seconds"].default
    assert "every 5 s" not in text
    assert f"default {default} s" in text


def unit_settings(path: Path) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_the_cli_wrapper_runs_commands_as_the_service_does() -> None:
    """A command typed on the server reached ./config.toml and a new ./var database."""
    wrapper = DEPLOY / "giliran-cli"
    assert os.access(wrapper, os.X_OK)
    assert subprocess.run(["sh", "-n", str(wrapper)], capture_output=True).returncode == 0
    text = wrapper.read_text(encoding="utf-8")
    unit = unit_settings(DEPLOY / "giliran.service")
    for setting in unit["Environment"]:
        name, value = setting.split("=", 1)
        if name in ("GILIRAN_CONFIG", "GILIRAN_VAR"):
            assert f"export {name}={value}" in text
    assert unit["EnvironmentFile"][0] in text
    assert f"runuser -u {unit['User'][0]} --" in text
    assert f"cd {unit['WorkingDirectory'][0]}" in text
    assert "deploy/giliran-cli" in (DOCS / "deployment.md").read_text(encoding="utf-8")


def test_the_unit_stops_on_a_configuration_error_and_retries_a_missing_database() -> None:
    """Status 2 (config.toml, signing keys, GILIRAN_CLOCK) looped for ever every 2 s; a
    database not up yet (status 1) must be retried without systemd's start limit."""
    unit = unit_settings(DEPLOY / "giliran.service")
    assert unit["Restart"] == ["always"]
    assert unit["RestartPreventExitStatus"] == ["2"]
    assert unit["StartLimitIntervalSec"] == ["0"]


def test_serve_refuses_a_port_outside_the_range(installation: Path) -> None:
    """Before: gunicorn's OverflowError traceback ("port must be 0-65535")."""
    result = subprocess.run([str(BIN / "giliran"), "serve", "--no-hardware", "--port",
                             "99999"], cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "99999" in result.stderr and "Traceback" not in result.stderr


# --- shared/config.py: the server's port, and two keys that are one -------------------------
def test_config_refuses_a_port_outside_the_range() -> None:
    from shared.config import ConfigError, parse_config

    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        parse_config(re.sub(r"(?m)^port = \d+", "port = 99999", text))
    assert info.value.key == "server.port"


def test_the_session_key_must_differ_from_the_qr_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.config import ConfigError, check_secrets, load_config

    same = "z" * 48
    monkeypatch.setenv("GILIRAN_SECRET_KEY", same)
    monkeypatch.setenv("GILIRAN_QR_HMAC_KEY", same)
    with pytest.raises(ConfigError):
        check_secrets(load_config(ROOT / "config.toml"))
