"""The `giliran` command."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from shared import roles
from shared.command_line import Unusable, check_environment
from shared.config import ConfigError


def _fail(message_id: str, message_en: str, status: int = 1) -> NoReturn:
    click.echo(f"{message_id} / {message_en}", err=True)
    sys.exit(status)


def database_unusable(exc: Exception) -> Unusable:
    """The one-line message for a database that cannot be reached or used."""
    from shared.db import database_problem

    message_id, message_en = database_problem(exc)
    return Unusable(message_id, message_en, 1)


def _core() -> Any:
    from shared.config_checks import load_config
    from shared.core import Core

    try:
        config = load_config()
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    check_environment()
    core = Core(config)
    return core


def _prepared_core() -> Any:
    """A core on a migrated database with the configured offices present (on PostgreSQL
    under the lock the servers migrate under: shared.migrate.migrate)."""
    from shared.migrate import migrate

    core = _core()
    try:
        migrate(core)
    except ConfigError as exc:  # the live configuration and the file disagree
        click.echo(str(exc), err=True)
        sys.exit(2)
    return core


class _Main(click.Group):
    """The command group: a configuration problem found by any command (a bad key, a
    missing or shipped signing key) is one line naming the key, and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
        except Unusable as exc:
            click.echo(str(exc), err=True)
            sys.exit(exc.status)
        except Exception as exc:
            _explain(exc)
            raise


def _explain(exc: Exception) -> None:
    """A failure a command can say in one line exits with it; others return (to be raised).
    The modules that name these failures are imported here, on the error path only
    (alembic's alone took 0.8 s of every command)."""
    if isinstance(exc, click.ClickException | click.exceptions.Exit | click.Abort):
        return
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from shared.errors import Refusal

    if isinstance(exc, Refusal):  # an unknown office, user or device named on the line
        _refused(exc)
    if isinstance(exc, SQLAlchemyError | CommandError):
        unusable = database_unusable(exc)
        click.echo(str(unusable), err=True)
        sys.exit(unusable.status)
    if isinstance(exc, OSError) and exc.filename is not None:
        _fail(f"berkas {exc.filename} tidak dapat dipakai: {exc.strerror}",
              f"cannot use the file {exc.filename}: {exc.strerror}")


@click.group(cls=_Main)
def main() -> None:
    """Giliran: slot-ordered queues for immigration offices."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (config [server] host).")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="Port (config [server] port).")
@click.option("--no-hardware", is_flag=True, help="Do not start printers and serial buses.")
def serve(host: str | None, port: int | None, no_hardware: bool) -> None:
    """Apply migrations and start web, Socket.IO, printers and serial devices.

    The production server: this process becomes gunicorn with the settings of
    shared/gunicorn_settings.py (one gevent worker; deploy/gunicorn.conf.py is the same),
    and the worker builds shared.wsgi:app, which migrates the database first. The address
    comes from --host/--port, else GILIRAN_BIND, else config.toml [server].
    """
    from shared.config import check_secrets

    try:
        from shared.config_checks import load_config

        config = load_config()  # fail here, with the message, not inside the worker
        check_secrets(config)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    # The clock too: in the worker it would be a traceback of a hundred lines. A database
    # that cannot be used is said by the worker in one line (shared.wsgi), without a
    # connection made here before every start.
    check_environment()
    if host or port or not os.environ.get("GILIRAN_BIND"):
        os.environ["GILIRAN_BIND"] = f"{host or config.host}:{port or config.port}"
    if no_hardware:
        os.environ["GILIRAN_HARDWARE"] = "0"
    click.echo(f"Giliran listening on http://{os.environ['GILIRAN_BIND']}/")
    sys.stdout.flush()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn) if gunicorn.exists() else "gunicorn",
               "-c", "python:shared.gunicorn_settings", "shared.wsgi:app"]
    os.execvp(command[0], command)


@main.group("secrets")
def secrets_group() -> None:
    """This installation's signing keys."""


@secrets_group.command("init")
def secrets_init() -> None:
    """Write fresh random signing keys to the secrets file (mode 600), once."""
    from shared.config import secrets_path, write_secrets_file

    path = secrets_path()
    if write_secrets_file(path):
        click.echo(f"wrote new signing keys to {path} (keep it private; back it up)")
        return
    if not _check_secrets_file(path):
        click.echo(f"{path} exists; keys unchanged")


def _check_secrets_file(path: Path) -> bool:
    """An existing secrets file: readable, private, with both keys usable; the keys it
    lacks are added (a key that is missing signed nothing), the others never replaced.
    True when keys were added."""
    import secrets

    from shared.config import SECRET_KEYS, _secrets_file_values, secret_problem

    values = _secrets_file_values()  # unreadable or not TOML: ConfigError, status 2
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o600)
        click.echo(f"berkas {path} dapat dibaca pengguna lain (mode {mode:o}); kini mode 600 / "
                   f"{path} was readable by other users (mode {mode:o}); now mode 600",
                   err=True)
    missing = [key for key in SECRET_KEYS if not values.get(key)]
    if missing:
        text = path.read_text(encoding="utf-8")
        with path.open("a", encoding="utf-8") as handle:
            handle.write(("\n" if text and not text.endswith("\n") else "")
                         + "".join(f'{key} = "{secrets.token_urlsafe(48)}"\n'
                                   for key in missing))
        click.echo(f"{', '.join(missing)} baru ditambahkan ke {path} (kunci lain tidak "
                   f"berubah) / added new {', '.join(missing)} to {path} (the other keys "
                   "unchanged)")
    for key in SECRET_KEYS:
        problem = secret_problem(values.get(key, "")) if key not in missing else None
        if problem:
            _fail(f"{key} di {path} tidak dapat dipakai ({problem}); hapus baris itu lalu "
                  "jalankan `giliran secrets init` lagi",
                  f"{key} in {path} cannot be used ({problem}); delete that line and run "
                  "`giliran secrets init` again", 2)
    return bool(missing)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Alembic upgrade to head."""
    _prepared_core()
    click.echo("database is at the newest schema")


@main.group()
def bookings() -> None:
    """Booking files."""


@bookings.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def bookings_import(file: Path) -> None:
    """Upsert CSV or JSON bookings; report created, updated, unchanged and refused rows.

    Exits with status 1 when any row was refused (the good rows are stored anyway).
    """
    from shared.bookings import import_file

    core = _prepared_core()
    size = file.stat().st_size
    with file.open("rb") as handle, click.progressbar(length=size, label="import",
                                                      file=sys.stderr) as bar:
        last = [0]

        def progress(_rows: int) -> None:
            position = handle.tell()
            bar.update(position - last[0])
            last[0] = position

        summary = import_file(core, handle, file.name, progress)
        bar.update(size - last[0])
    click.echo(f"created: {summary.created}  updated: {summary.updated}  "
               f"unchanged: {summary.unchanged}  refused: {summary.refused_count}")
    for row in summary.refused:
        click.echo(f"  line {row['line']}: {row['reason']['id']} / {row['reason']['en']}")
    if summary.refused_count:
        # Any refused row is a failure for a script or timer; the good rows are stored.
        click.echo(f"{summary.refused_count} row(s) refused; the other rows were stored",
                   err=True)
        sys.exit(1)


@bookings.command("inbox")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def bookings_inbox(folder: Path) -> None:
    """Import every *.csv / *.json file waiting in FOLDER, oldest first.

    Each file then moves to FOLDER/done/ (every row stored) or FOLDER/refused/ (with a
    .txt report of the refused rows next to it). Files still being written should carry
    another name (e.g. .part) and be renamed when complete. Exits with status 1 when any
    row of any file was refused. Run by deploy/giliran-bookings.timer.
    """

    from shared.bookings import import_file

    waiting = sorted((path for path in folder.iterdir()
                      if path.is_file() and path.suffix.lower() in (".csv", ".json")
                      and not path.name.startswith(".")),
                     key=lambda path: (path.stat().st_mtime, path.name))
    if not waiting:
        click.echo(f"no booking files in {folder}")
        return
    core = _prepared_core()
    refused_total = 0
    for path in waiting:
        with path.open("rb") as handle:
            summary = import_file(core, handle, path.name)
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        target = folder / ("refused" if summary.refused_count else "done")
        target.mkdir(exist_ok=True)
        moved = target / f"{stamp}-{path.name}"
        path.rename(moved)
        line = (f"{path.name}: created: {summary.created}  updated: {summary.updated}  "
                f"unchanged: {summary.unchanged}  refused: {summary.refused_count}")
        click.echo(line)
        if summary.refused_count:
            refused_total += summary.refused_count
            report = [line] + [f"line {row['line']}: {row['reason']['id']} / "
                               f"{row['reason']['en']}" for row in summary.refused]
            moved.with_name(moved.name + ".txt").write_text("\n".join(report) + "\n",
                                                            encoding="utf-8")
    if refused_total:
        click.echo(f"{refused_total} row(s) refused; the other rows were stored; see "
                   f"{folder / 'refused'}", err=True)
        sys.exit(1)


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("add")
@click.argument("user")
@click.option("--role", type=click.Choice(roles.ACCOUNT_ROLES),
              required=True)
@click.option("--office", default=None, help="Limit the account to one office.")
@click.option("--token", is_flag=True, help="Print an API bearer token.")
@click.option("--password", default=None, help="Password (asked for when omitted).")
def staff_add(user: str, role: str, office: str | None, token: bool,
              password: str | None) -> None:
    """Create a staff account."""
    from shared.auth import create_staff, valid_password, valid_username
    from shared.errors import Refusal

    # The admin console's rules (shared.auth): a name a login form and the console can
    # take, a password of 8-256 characters.
    if not valid_username(user):
        _refused(Refusal(422, "invalid_request",
                         "A username is 2-64 letters, digits, '.', '-' or '_'."))
    core = _prepared_core()
    if password is None and role not in roles.PASSWORDLESS:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if role not in roles.PASSWORDLESS and not valid_password(password):
        _refused(Refusal(422, "invalid_request", "A password is 8-256 characters."))
    api_token = create_staff(core, user, password, role, office, token)
    click.echo(f"staff {user} ({role}) saved")
    if api_token:
        click.echo(api_token)


def _refused(refusal: Any) -> None:
    click.echo(f"{refusal.message['id']} / {refusal.message['en']}", err=True)
    sys.exit(1)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@staff.command("list")
@click.option("--office", default=None, help="Only the accounts that may see this office.")
def staff_list(office: str | None) -> None:
    """Staff accounts: name, role, office, active, API token."""
    from shared.auth import list_staff

    core = _prepared_core()
    rows = list_staff(core, office)
    click.echo(f"{'user':24} {'role':11} {'office':8} {'active':7} token")
    for row in rows:
        click.echo(f"{row.username:24} {row.role:11} {row.office or '*':8} "
                   f"{'yes' if row.active else 'no':7} {'yes' if row.has_api_token else 'no'}")


def _staff_change(change: Any, user: str, *args: Any) -> Any:
    from shared.errors import Refusal

    core = _prepared_core()
    try:
        return change(core, user, *args)
    except Refusal as refusal:
        _refused(refusal)


@staff.command("disable")
@click.argument("user")
def staff_disable(user: str) -> None:
    """Disable an account: its sessions end now, its API token is refused."""
    from shared.auth import set_staff_active

    _staff_change(set_staff_active, user, False)
    click.echo(f"staff {user} disabled; its sessions ended")


@staff.command("enable")
@click.argument("user")
def staff_enable(user: str) -> None:
    """Enable a disabled account again."""
    from shared.auth import set_staff_active

    _staff_change(set_staff_active, user, True)
    click.echo(f"staff {user} enabled")


@staff.command("password")
@click.argument("user")
@click.option("--password", default=None, help="New password (asked for when omitted).")
def staff_password(user: str, password: str | None) -> None:
    """Set a new password; every session of the account ends."""
    from shared.auth import set_password

    if password is None:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    _staff_change(set_password, user, password)
    click.echo(f"password of {user} changed; its sessions ended")


@staff.command("logout")
@click.argument("user")
def staff_logout(user: str) -> None:
    """End every browser session of an account now (its API token stays valid)."""
    from shared.auth import end_sessions

    _staff_change(end_sessions, user)
    click.echo(f"every session of {user} ended")


@main.group()
def device() -> None:
    """Kiosks and boards."""


@device.command("list")
@click.option("--office", default=None)
def device_list(office: str | None) -> None:
    """Registered devices: id, kind, office, status, name, last seen and from where."""
    from shared.auth import list_devices

    core = _prepared_core()
    click.echo(f"{'device':20} {'kind':8} {'office':8} {'status':9} {'last seen':21} "
               f"{'address':16} name")
    for row in list_devices(core, office):
        click.echo(f"{row.id:20} {row.kind:8} {row.office:8} {row.status:9} "
                   f"{_when(row.last_seen_at):21} {row.last_ip or '-':16} {row.name or ''}")


@device.command("revoke")
@click.argument("device_id")
def device_revoke(device_id: str) -> None:
    """Revoke a device: refused at its next request, its live connections dropped."""
    from shared.auth import revoke_device
    from shared.errors import Refusal

    core = _prepared_core()
    try:
        revoke_device(core, device_id)
    except Refusal as refusal:
        _refused(refusal)
    core.bus.close()  # with Redis the revocation was published; every process drops it
    click.echo(f"device {device_id} revoked (`giliran device add` registers it again)")


@device.command("rename")
@click.argument("device_id")
@click.argument("name")
def device_rename(device_id: str, name: str) -> None:
    """Give a device a name people recognise ("" clears it)."""
    from shared.auth import rename_device
    from shared.errors import Refusal

    core = _prepared_core()
    try:
        rename_device(core, device_id, name)
    except Refusal as refusal:
        _refused(refusal)
    click.echo(f"device {device_id} renamed")


@device.command("add")
@click.argument("kind", type=click.Choice(roles.DEVICE_KINDS))
@click.argument("device_id")
@click.option("--office", default=None)
@click.option("--base-url", default=None, help="Base URL of the server for the printed link.")
def device_add(kind: str, device_id: str, office: str | None, base_url: str | None) -> None:
    """Register a kiosk or board and print its one-time enrolment URL."""
    from shared.auth import create_device, valid_device_id
    from shared.errors import Refusal

    if not valid_device_id(device_id):  # as the admin console
        _refused(Refusal(422, "invalid_request",
                         "A device id is 1-64 letters, digits, '.', '-' or '_'."))
    core = _prepared_core()
    code = create_device(core, kind, device_id, office)
    # Where the kiosk or board reaches the server: --base-url, else [server] public_url
    # (as the admin console's links), else host and port.
    base = (base_url or core.config.base_url).rstrip("/")
    click.echo(f"{base}/enrol/{device_id}/{code}")


@main.group("config")
def config_group() -> None:
    """The live configuration (database) and config.toml."""


@config_group.command("export")
@click.option("--output", "-o", default="-", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
def config_export(output: Path) -> None:
    """Write the live configuration as TOML (for backups and review)."""
    from shared.live_config import export_toml

    text = export_toml(_prepared_core())
    if str(output) == "-":
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"live configuration written to {output}", err=True)


@config_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def config_import(file: Path) -> None:
    """Apply a TOML file's live tables to the database (validated, audited, live)."""
    from shared.live_config import import_toml
    from shared.office_changes import import_hook

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        click.echo(f"{file}: bukan teks UTF-8 (simpan ulang sebagai UTF-8) / not UTF-8 text "
                   "(save it again as UTF-8)", err=True)
        sys.exit(2)
    core = _prepared_core()
    try:
        # the admin console's rules for a change of an office's counters, stations, services
        changed = import_toml(core, text, "cli", lambda office: import_hook(core, office, "cli"))
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    if not changed:
        click.echo("nothing changed: the live configuration already equals the file")
    for scope, version in changed.items():
        click.echo(f"{scope}: now version {version}")
    core.bus.wait_idle()


@main.group()
def demo() -> None:
    """Demonstration data."""


@demo.command("seed")
@click.option("--base-url", default=None)
@click.option("--sheet", default="var/demo-qr-sheet.pdf", type=click.Path(path_type=Path))
def demo_seed(base_url: str | None, sheet: Path) -> None:
    """Demo staff, devices and bookings for today, plus a printable sheet of QR codes."""
    from shared.demo import seed

    core = _prepared_core()
    base = (base_url or core.config.base_url).rstrip("/")  # [server] public_url, if set
    result = seed(core, base, sheet)
    click.echo(json.dumps(result, indent=2) if os.environ.get("GILIRAN_DEMO_JSON")
               else result["text"])


@demo.command("clock")
def demo_clock_command() -> None:
    """Print an office time for a demo when the office is closed now (empty when open)."""
    from shared.demo import demo_clock

    click.echo(demo_clock(_core()))


def _register_rooms() -> None:
    """Commands that live beside the core: the simulator, the planner and reports."""
    from shared.reports.cli import report
    from shared.simulation.cli import plan, simulate

    main.add_command(simulate, "simulate")
    main.add_command(plan, "plan")
    main.add_command(report, "report")


_register_rooms()
