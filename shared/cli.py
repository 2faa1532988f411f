"""The `giliran` command."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from shared.config import ConfigError, load_config


def _core() -> Any:
    from shared.core import Core

    try:
        config = load_config()
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    core = Core(config)
    return core


def _prepared_core() -> Any:
    """A core on a migrated database with the configured offices present."""
    from shared.migrate import upgrade

    core = _core()
    upgrade()
    core.ensure_offices()
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


@click.group(cls=_Main)
def main() -> None:
    """Giliran: slot-ordered queues for immigration offices."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (config [server] host).")
@click.option("--port", default=None, type=int, help="Port (config [server] port).")
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
        config = load_config()  # fail here, with the message, not inside the worker
        check_secrets(config)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
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
    else:
        click.echo(f"{path} exists; keys unchanged")


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
    """Upsert CSV or JSON bookings; report created, updated and refused rows."""
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
               f"refused: {summary.refused_count}")
    for row in summary.refused:
        click.echo(f"  line {row['line']}: {row['reason']['id']} / {row['reason']['en']}")
    sys.exit(1 if summary.refused_count and not (summary.created or summary.updated) else 0)


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("add")
@click.argument("user")
@click.option("--role", type=click.Choice(["officer", "supervisor", "admin", "booking"]),
              required=True)
@click.option("--office", default=None, help="Limit the account to one office.")
@click.option("--token", is_flag=True, help="Print an API bearer token.")
@click.option("--password", default=None, help="Password (asked for when omitted).")
def staff_add(user: str, role: str, office: str | None, token: bool,
              password: str | None) -> None:
    """Create a staff account."""
    from shared.auth import create_staff

    core = _prepared_core()
    if password is None and role != "booking":
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    api_token = create_staff(core, user, password, role, office, token)
    click.echo(f"staff {user} ({role}) saved")
    if api_token:
        click.echo(api_token)


@main.group()
def device() -> None:
    """Kiosks and boards."""


@device.command("add")
@click.argument("kind", type=click.Choice(["kiosk", "display"]))
@click.argument("device_id")
@click.option("--office", default=None)
@click.option("--base-url", default=None, help="Base URL of the server for the printed link.")
def device_add(kind: str, device_id: str, office: str | None, base_url: str | None) -> None:
    """Register a kiosk or board and print its one-time enrolment URL."""
    from shared.auth import create_device

    core = _prepared_core()
    code = create_device(core, kind, device_id, office)
    base = base_url or f"http://{core.config.host}:{core.config.port}"
    click.echo(f"{base}/enrol/{device_id}/{code}")


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
    base = base_url or f"http://{core.config.host}:{core.config.port}"
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
