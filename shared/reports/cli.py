"""`giliran report …`: day and range figures, the SKM table, and the daily purge."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from shared.clock import parse_day
from shared.reports.render import FORMATS, as_file


def _core() -> Any:
    """A core on a migrated database with the configured offices present."""
    from shared.command_line import check_environment
    from shared.config import ConfigError
    from shared.config_checks import load_config
    from shared.core import Core
    from shared.migrate import migrate
    from shared.reports.retention_settings import retention_settings

    try:
        config = load_config()
        retention_settings(config)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    check_environment()  # GILIRAN_CLOCK, GILIRAN_DATABASE_URL: a message, not a traceback
    core = Core(config)
    migrate(core)  # on PostgreSQL under the servers' migration lock (docs/deployment.md)
    return core


def _office(core: Any, office: str | None) -> str:
    office_id = office or core.config.default_office.id
    if office_id not in core.config.offices:
        raise click.BadParameter(f"kantor {office_id} tidak dikenal / unknown office "
                                 f"{office_id}", param_hint="--office")
    return str(office_id)


def _day(text: str | None, core: Any, office_id: str, hint: str) -> date:
    if text is None:
        return core.today(core.office(office_id))  # type: ignore[no-any-return]
    try:
        return parse_day(text)
    except ValueError:
        raise click.BadParameter(f"{text!r}: gunakan TTTT-BB-HH / use YYYY-MM-DD",
                                 param_hint=hint) from None


def _emit(text: str, output: Path | None, audit: Callable[[], None], fmt: str = "") -> None:
    """Record the export (`audit`), then hand it out: the audit log names every export
    before anybody reads it, and none that failed. A file that cannot be opened fails
    first (the command line says so in one line), with nothing recorded; if recording
    fails, the file opened for it is removed."""
    if output is None:
        audit()
        click.echo(text, nl=False)
        return
    with output.open("w", encoding="utf-8") as handle:
        try:
            audit()
        except BaseException:
            handle.close()
            output.unlink(missing_ok=True)
            raise
        handle.write(as_file(text, fmt))  # a saved CSV opens in Excel as UTF-8
    click.echo(f"written to {output}", err=True)


def _export(core: Any, kind: str, office_id: str, first: date, last: date, fmt: str,
            with_names: bool, output: Path | None) -> None:
    from shared.reports.figures import range_report
    from shared.reports.render import render_report
    from shared.reports.retention import record

    report = range_report(core, office_id, first, last, with_names=with_names)
    if kind == "day":
        report["date"] = first.isoformat()
    text = render_report(report, fmt)
    _emit(text, output, lambda: record(
        core, "cli", "export", {"report": kind, "office": office_id,
                                "from": first.isoformat(), "to": last.isoformat(),
                                "format": fmt, "with_names": with_names,
                                "output": str(output) if output else "stdout"}), fmt)


format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv",
                             show_default=True)
output_option = click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
                             default=None, help="Write to this file instead of stdout.")
office_option = click.option("--office", default=None, help="Office id (default: the first).")
names_option = click.option("--with-names", is_flag=True,
                            help="Show applicants' names unmasked (recorded in the audit log).")


@click.group()
def report() -> None:
    """Statistics from the ticket timeline, the SKM survey and data retention."""


@report.command("day")
@click.option("--date", "day", default=None, help="Office-local day YYYY-MM-DD (default today).")
@office_option
@format_option
@output_option
@names_option
def report_day(day: str | None, office: str | None, fmt: str, output: Path | None,
               with_names: bool) -> None:
    """The day's statistics."""
    core = _core()
    office_id = _office(core, office)
    first = _day(day, core, office_id, "--date")
    _export(core, "day", office_id, first, first, fmt, with_names, output)


@report.command("range")
@click.option("--from", "first", required=True, help="First office-local day YYYY-MM-DD.")
@click.option("--to", "last", required=True, help="Last office-local day YYYY-MM-DD.")
@office_option
@format_option
@output_option
@names_option
def report_range(first: str, last: str, office: str | None, fmt: str, output: Path | None,
                 with_names: bool) -> None:
    """Statistics of several days (inclusive), with a row per day."""
    core = _core()
    office_id = _office(core, office)
    start = _day(first, core, office_id, "--from")
    end = _day(last, core, office_id, "--to")
    if end < start:
        raise click.BadParameter("--to sebelum --from / --to is before --from",
                                 param_hint="--to")
    from shared.reports.figures import MAX_RANGE_DAYS

    if (end - start).days + 1 > MAX_RANGE_DAYS:  # both days included, as the web export
        raise click.BadParameter("paling lama satu tahun sekaligus / at most one year at "
                                 "a time", param_hint="--to")
    _export(core, "range", office_id, start, end, fmt, with_names, output)


@report.command("skm")
@click.option("--period", default=None,
              help="YYYY (year), YYYY-S1 / YYYY-S2 (semester) or YYYY-MM (month); "
                   "default: this year.")
@office_option
@format_option
@output_option
def report_skm(period: str | None, office: str | None, fmt: str, output: Path | None) -> None:
    """The SKM table (PermenPAN-RB 14/2017) of a month, semester or year."""
    from shared.reports.render import render_skm
    from shared.reports.retention import record
    from shared.reports.skm import parse_period, period_report

    core = _core()
    office_id = _office(core, office)
    try:
        kind, year, number = parse_period(period or str(core.today(core.office(office_id)).year))
    except ValueError as exc:
        raise click.BadParameter(f"periode adalah TTTT, TTTT-S1, TTTT-S2 atau TTTT-BB / "
                                 f"{exc}", param_hint="--period") from None
    table = period_report(core, office_id, kind, year, number)
    _emit(render_skm(table, fmt), output, lambda: record(
        core, "cli", "export", {"report": "skm", "office": office_id,
                                "period": table["period"], "format": fmt,
                                "output": str(output) if output else "stdout"}), fmt)


@report.command("purge")
def report_purge() -> None:
    """Erase applicants' names older than [retention] personal_days (run daily)."""
    from shared.reports.retention import purge

    core = _core()
    result = purge(core, "cli")
    through = ", ".join(f"{office} ≤ {day}" for office, day in result.cutoffs.items())
    click.echo(f"names erased: {result.names_erased} (booked days {through})")
