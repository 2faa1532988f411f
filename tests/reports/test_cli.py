"""`giliran report …` through click's CliRunner on a migrated SQLite database."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select

from shared.cli import main
from shared.clock import Clock
from shared.config import load_config
from shared.core import Core
from shared.db import Database, make_engine
from shared.events import EventBus
from shared.migrate import upgrade
from shared.models import Booking, Ticket
from shared.reports.models import SurveyResponse
from shared.reports.retention import audit_entries
from shared.reports.skm import answer
from tests.conftest import DAY, ROOT
from tests.reports.helpers import drive_day


@pytest.fixture
def migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Core]:
    """A database built by the migrations (0001 and 0002), holding the hand-computed day."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("GILIRAN_DATABASE_URL", url)
    monkeypatch.setenv("GILIRAN_CONFIG", str(ROOT / "config.toml"))
    monkeypatch.setenv("GILIRAN_CLOCK", f"{DAY}T17:00")
    upgrade(url)
    config = load_config(ROOT / "config.toml")
    clock = Clock()
    clock.start_at_local(datetime.fromisoformat(f"{DAY}T09:00"), config.default_office.tz)
    clock.freeze(clock.now())
    core = Core(config, Database(make_engine(url)), clock, EventBus())
    core.ensure_offices()
    yield core
    core.bus.close()
    core.db.engine.dispose()


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["report", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_migration_0002_creates_the_tables(migrated: Core) -> None:
    tables = set(inspect(migrated.db.engine).get_table_names())
    assert {"survey_responses", "audit_log"} <= tables


def test_report_day_csv_json_html(migrated: Core, tmp_path: Path) -> None:
    drive_day(migrated)
    text = run("day", "--date", DAY)  # csv on stdout
    assert "# arrivals_by_slot" in text and "W*** P******" in text and "Wira" not in text
    sections = text.split("\n\n")
    slots = [s for s in sections if s.startswith("# arrivals_by_slot")][0]
    rows = list(csv.reader(io.StringIO(slots)))
    assert rows[1:] == [["slot", "booked", "cancelled", "arrived", "served", "no_show",
                         "missed", "expected"],
                        ["09:00-10:00", "4", "0", "3", "2", "1", "0", "0"],
                        ["10:00-11:00", "1", "0", "1", "0", "0", "1", "0"]]
    data = json.loads(run("day", "--date", DAY, "--format", "json"))
    assert data["on_time"]["share"] == 0.75 and data["date"] == DAY
    out = tmp_path / "day.html"
    run("day", "--date", DAY, "--format", "html", "--output", str(out), "--office", "DPS")
    assert "Pemeriksaan Berkas" in out.read_text(encoding="utf-8")
    entries = audit_entries(migrated)
    assert [e["staff"] for e in entries[:3]] == ["cli"] * 3
    assert entries[0]["detail"]["output"] == str(out)
    assert entries[0]["detail"]["with_names"] is False


def test_an_export_that_could_not_be_written_is_not_audited(migrated: Core,
                                                            tmp_path: Path) -> None:
    """Before: the audit log said a report with names went to a file that was never
    written (a folder that does not exist). Now the file is opened first."""
    drive_day(migrated)
    before = len(audit_entries(migrated))
    target = tmp_path / "tidak-ada" / "laporan.csv"
    for args in (("day", "--date", DAY, "--with-names"), ("skm", "--period", "2026")):
        result = CliRunner().invoke(main, ["report", *args, "--output", str(target)])
        assert result.exit_code == 1, result.output
        assert not target.exists()
    assert len(audit_entries(migrated)) == before
    written = tmp_path / "skm.csv"
    run("skm", "--period", "2026", "--output", str(written))
    assert "nilai SKM" in written.read_text(encoding="utf-8")
    assert audit_entries(migrated)[0]["detail"]["output"] == str(written)


def test_report_day_defaults_to_the_office_today(migrated: Core) -> None:
    drive_day(migrated)
    data = json.loads(run("day", "--format", "json"))
    assert data["date"] == DAY and data["totals"]["tickets"] == 5


def test_report_with_names_is_audited(migrated: Core) -> None:
    drive_day(migrated)
    data = json.loads(run("day", "--date", DAY, "--format", "json", "--with-names"))
    assert "Wira Pradnya" in {t["name"] for t in data["tickets"]}
    assert audit_entries(migrated)[0]["detail"]["with_names"] is True


def test_report_range(migrated: Core) -> None:
    drive_day(migrated)
    data = json.loads(run("range", "--from", "2026-11-30", "--to", DAY, "--format", "json"))
    assert [d["served"] for d in data["days"]] == [0, 2]
    result = CliRunner().invoke(main, ["report", "range", "--from", DAY, "--to", "2026-11-01"])
    assert result.exit_code == 2 and "--to" in result.output
    result = CliRunner().invoke(main, ["report", "day", "--date", "01/12/2026"])
    assert result.exit_code == 2


def test_report_skm_and_purge(migrated: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = drive_day(migrated)
    with migrated.db.read() as session:
        token = session.get(Ticket, ids["A"]).public_token  # type: ignore[union-attr]
    answer(migrated, token, {"answers": [4] * 9})
    with migrated.db.read() as session:
        assert len(session.execute(select(SurveyResponse)).scalars().all()) == 1
    text = run("skm", "--period", "2026-12")
    assert "nilai SKM/SKM value,100.00" in text and "A — Sangat Baik / Very good" in text
    html = run("skm", "--period", "2026", "--format", "html")
    assert "2026-S2" in html
    assert CliRunner().invoke(main, ["report", "skm", "--period", "2026-13"]).exit_code == 2

    assert "names erased: 0" in run("purge")
    monkeypatch.setenv("GILIRAN_CLOCK", "2027-01-01T09:00")  # 31 days later the names go
    assert "names erased: 5" in run("purge")
    with migrated.db.read() as session:
        assert {b.name for b in session.execute(select(Booking)).scalars()} == {None}
    assert audit_entries(migrated)[0]["action"] == "purge"


def test_report_range_is_a_year_at_most_as_on_the_web(migrated: Core) -> None:
    """The command line took 367 days ('at most one year'); the web export 366 at most."""
    leap = run("range", "--from", "2028-01-01", "--to", "2028-12-31", "--format", "json")
    assert len(json.loads(leap)["days"]) == 366
    result = CliRunner().invoke(main, ["report", "range", "--from", "2026-01-01",
                                       "--to", "2027-01-02"])
    assert result.exit_code == 2 and "satu tahun" in result.output and "one year" in result.output


def test_a_saved_csv_opens_in_excel_as_utf_8(migrated: Core, tmp_path: Path) -> None:
    """A CSV written with --output starts with the UTF-8 byte order mark (Excel reads it
    as UTF-8, not the Windows code page); standard output, a pipe, gets none."""
    drive_day(migrated)
    for kind, args in (("day", ("--date", DAY)), ("skm", ("--period", "2026"))):
        saved = tmp_path / f"{kind}.csv"
        run(kind, *args, "--output", str(saved))
        assert saved.read_bytes().startswith(b"\xef\xbb\xbf"), kind
        assert not run(kind, *args).startswith("\ufeff"), kind
    saved = tmp_path / "day.json"
    run("day", "--date", DAY, "--format", "json", "--output", str(saved))
    assert json.loads(saved.read_text(encoding="utf-8"))["date"] == DAY
