"""Booking import: CSV and JSON, upsert, refused rows with line numbers, bounded memory."""

from __future__ import annotations

import csv
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select

from shared.app import create_app
from shared.auth import create_staff
from shared.bookings import ANALYZE_AFTER, import_file, import_rows, rows_from_json
from shared.cli import main
from shared.core import Core
from shared.models import Booking
from tests.conftest import ROOT, booking_row, make_core

HEADER = "code,office,date,slot_start,slot_end,service,priority_group,name\n"


def count(core: Core) -> int:
    with core.db.read() as session:
        return int(session.execute(select(func.count(Booking.id))).scalar_one())


def test_csv_upsert_and_refusals(core: Core) -> None:
    text = HEADER + (
        "GOOD-00001,DPS,2026-12-01,09:00,10:00,paspor-baru,,Wayan\n"
        "bad,DPS,2026-12-01,09:00,10:00,paspor-baru,,\n"
        "GOOD-00002,JKT,2026-12-01,09:00,10:00,paspor-baru,,\n"
        "GOOD-00003,DPS,2026-13-01,09:00,10:00,paspor-baru,,\n"
        "GOOD-00004,DPS,2026-12-01,10:00,09:00,paspor-baru,,\n"
        "GOOD-00005,DPS,2026-12-01,09:00,10:00,visa,,\n"
        "GOOD-00006,DPS,2026-12-01,09:00,10:00,paspor-baru,raja,\n"
        "GOOD-00007,DPS,2026-12-01,9am,10:00,paspor-baru,,\n"
        "GOOD-00008,DPS,2026-12-01,09:00,10:00,paspor-baru,lansia,Ketut,extra\n"
        "GOOD-00001,DPS,2026-12-01,11:00,12:00,penggantian,,Wayan\n"
    )
    summary = import_file(core, io.BytesIO(text.encode()), "b.csv")
    assert (summary.created, summary.updated) == (1, 0)
    assert [r["line"] for r in summary.refused] == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    reasons = [r["reason"]["en"] for r in summary.refused]
    assert reasons[0].startswith("Booking code") and "JKT" in reasons[1]
    assert reasons[-1] == "Code GOOD-00001 appears again with other data (line 2)."
    assert all(r["reason"]["id"] for r in summary.refused)
    with core.db.read() as session:
        booking = session.execute(select(Booking)).scalar_one()
        assert booking.slot_start.hour == 9 and booking.service == "paspor-baru"


def test_json_file_and_garbage(core: Core) -> None:
    rows = [{"code": "JSON-00001", "office": "DPS", "date": "2026-12-01", "slot_start": "09:00",
             "slot_end": "10:00", "service": "paspor-baru"}, "nonsense", {"code": 5}]
    summary = import_file(core, io.BytesIO(json.dumps(rows).encode()), "b.json")
    assert summary.created == 1 and [r["line"] for r in summary.refused] == [2, 3]
    broken = import_file(core, io.BytesIO(b'[{"code": "JSON-00002", '), "b.json")
    assert broken.refused_count == 1 and broken.created == 0


def test_json_stream_reads_objects_across_chunks() -> None:
    items = [{"code": f"C-{i:06d}", "pad": "x" * (i % 50)} for i in range(300)]
    stream = io.StringIO(json.dumps(items))
    assert [v for _, v in rows_from_json(stream, chunk_size=64)] == items


#: Run in a fresh interpreter: the import's growth of the process's peak resident memory,
#: which only a new process measures from its own starting point (tracemalloc would
#: measure it in this one, but makes the import four times slower).
_BIG_IMPORT = """
import os, resource, sys
from pathlib import Path
from shared.app import load_config
from shared.bookings import import_file
from tests.conftest import make_core
core = make_core(load_config(Path(sys.argv[1])), sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(sys.argv[3], "rb") as handle:
    summary = import_file(core, handle, "big.csv")
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(summary.created, summary.refused_count, grown * 1024)
"""


def test_hundred_thousand_rows_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write(HEADER)
        for i in range(100_000):
            handle.write(f"BIG-{i:07d},DPS,2026-12-01,{8 + i % 7:02d}:00,{9 + i % 7:02d}:00,"
                         f"paspor-baru,,Nama Pemohon {i}\n")
    url = f"sqlite:///{tmp_path / 'big.sqlite3'}"
    done = subprocess.run([sys.executable, "-c", _BIG_IMPORT, str(ROOT / "config.toml"), url,
                           str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    created, refused, grown = (int(part) for part in done.stdout.split()[-3:])
    assert (created, refused) == (100_000, 0)
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count(Booking.id))).scalar_one() == 100_000
    engine.dispose()
    # The file is ~7 MB and 100,000 rows held at once would take far more than this.
    assert grown < 40 * 1024 * 1024, grown


def test_cli_import_prints_the_summary(tmp_path: Path) -> None:
    env = {"GILIRAN_VAR": str(tmp_path), "GILIRAN_CONFIG": str(ROOT / "config.toml"),
           "GILIRAN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    result = CliRunner().invoke(main, ["bookings", "import",
                                       str(ROOT / "bench/scenarios/denpasar-peak-bookings.csv")],
                                env=env)
    assert result.exit_code == 0, result.output
    assert "created: 222" in result.output and "refused: 0" in result.output
    again = CliRunner().invoke(main, ["bookings", "import",
                                      str(ROOT / "bench/scenarios/denpasar-peak-bookings.csv")],
                               env=env)
    assert "created: 0  updated: 0  unchanged: 222  refused: 0" in again.output
    assert again.exit_code == 0


# --- unchanged rows, bad rows that must not cost the good ones ------------------------------
def row(code: str, start: str = "09:00", name: str = "Wayan", office: str = "DPS") -> str:
    end = f"{int(start[:2]) + 1:02d}:00"
    return f"{code},{office},2026-12-01,{start},{end},paspor-baru,,{name}\n"


def test_unchanged_rows_are_not_counted_as_updated(core: Core) -> None:
    text = HEADER + row("SAME-00001") + row("SAME-00002") + row("SAME-00003")
    first = import_file(core, io.BytesIO(text.encode()), "b.csv")
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    with core.db.read() as session:
        stamp = session.execute(select(Booking.updated_at)
                                .where(Booking.code == "SAME-00001")).scalar_one()
    core.clock.advance(timedelta(minutes=5))
    changed = HEADER + row("SAME-00001") + row("SAME-00002", "10:00") + row("SAME-00003") \
        + row("SAME-00003")
    again = import_file(core, io.BytesIO(changed.encode()), "b.csv")
    assert (again.created, again.updated, again.unchanged, again.refused_count) == (0, 1, 3, 0)
    assert again.as_dict()["unchanged"] == 3
    with core.db.read() as session:
        assert session.execute(select(Booking.updated_at)
                               .where(Booking.code == "SAME-00001")).scalar_one() == stamp


def test_an_oversize_field_is_one_refused_row(core: Core) -> None:
    big = "x" * (200 * 1024)
    text = (HEADER + row("KEEP-00001") + row("HUGE-00001", name=big)
            + row("HUGE-00002", name=f'"{big}"') + row("KEEP-00002")
            + row("HUGE-00003", name=f'"{big[:1000]},{big}"') + row("KEEP-00003"))
    summary = import_file(core, io.BytesIO(text.encode()), "b.csv")
    assert summary.created == 3 and count(core) == 3
    assert [r["line"] for r in summary.refused] == [3, 4, 6]
    reason = summary.refused[0]["reason"]
    assert reason["en"] == "A field is longer than 128 KiB." and "128 KiB" in reason["id"]
    assert reason["id"] != reason["en"]


def test_a_row_that_is_not_utf8_is_refused_alone(core: Core) -> None:
    text = (HEADER + row("UTF8-00001", name="Komang")).encode() \
        + row("CP1252-001", name="Jos\xe9").encode("cp1252") \
        + (row("UTF8-00002", name="José")).encode()
    summary = import_file(core, io.BytesIO(text), "b.csv")
    assert summary.created == 2
    assert [(r["line"], r["reason"]["en"]) for r in summary.refused] == [
        (3, "The row is not UTF-8 text.")]
    with core.db.read() as session:
        assert session.execute(select(Booking.name).where(Booking.code == "UTF8-00002")
                               ).scalar_one() == "José"


def test_deeply_nested_json_keeps_the_rows_before_it(core: Core) -> None:
    good = {"code": "JSON-00009", "office": "DPS", "date": "2026-12-01",
            "slot_start": "09:00", "slot_end": "10:00", "service": "paspor-baru"}
    body = b"[" + json.dumps(good).encode() + b"," + b"[" * 5000 + b"]" * 5000 + b"]"
    summary = import_file(core, io.BytesIO(body), "b.json")
    assert summary.created == 1 and summary.refused_count == 1
    assert summary.refused[0]["reason"]["en"] == "Item 2 is nested too deeply."


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {"GILIRAN_VAR": str(tmp_path), "GILIRAN_CONFIG": str(ROOT / "config.toml"),
            "GILIRAN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}


def test_cli_exits_non_zero_when_a_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(HEADER + row("CLI-000001") + row("bad") + row("CLI-000002")
                    + row("CLI-000003", name="x" * (200 * 1024)), encoding="utf-8")
    result = CliRunner().invoke(main, ["bookings", "import", str(path)], env=cli_env(tmp_path))
    assert result.exit_code == 1, result.output
    assert "created: 2  updated: 0  unchanged: 0  refused: 2" in result.output
    assert "2 row(s) refused; the other rows were stored" in result.output
    assert "line 3:" in result.output and "line 5:" in result.output
    assert "Traceback" not in result.output


# --- the API: one path for every body format, office scope per row -------------------------
@pytest.fixture
def two_office_api(tmp_path: Path) -> Iterator[tuple[Core, FlaskClient, dict[str, str]]]:
    from tests.security.test_input import two_offices

    core = make_core(two_offices(), f"sqlite:///{tmp_path / 'two.sqlite3'}")
    token = create_staff(core, "mpaspor-dps", None, "booking", office="DPS", token=True)
    assert token
    app = create_app(core=core)
    yield core, app.test_client(), {"Authorization": f"Bearer {token}"}
    core.db.engine.dispose()


def offices_stored(core: Core) -> dict[str, str]:
    with core.db.read() as session:
        return dict(session.execute(select(Booking.code, Booking.office_id)).all())


JSON_ROWS = [booking_row("SCOPE-0001"), booking_row("SCOPE-0002", office="JKT"),
             booking_row("SCOPE-0003")]
CSV_BODY = (HEADER + row("SCOPE-0001") + row("SCOPE-0002", office="JKT")
            + row("SCOPE-0003")).encode()


@pytest.mark.parametrize("fmt", ["json", "csv", "upload-csv", "upload-json", "no-type"])
def test_office_scope_is_checked_per_row_in_every_format(
        two_office_api: tuple[Core, FlaskClient, dict[str, str]], fmt: str) -> None:
    core, client, token = two_office_api
    url = "/api/v1/bookings"
    if fmt == "json":
        answer = client.post(url, json=JSON_ROWS, headers=token)
    elif fmt == "csv":
        answer = client.post(url, data=CSV_BODY, content_type="text/csv", headers=token)
    elif fmt == "no-type":
        answer = client.post(url, data=json.dumps(JSON_ROWS).encode(), headers=token)
    else:
        content = CSV_BODY if fmt == "upload-csv" else json.dumps(JSON_ROWS).encode()
        name = "bookings.csv" if fmt == "upload-csv" else "bookings.json"
        answer = client.post(url, data={"file": (io.BytesIO(content), name)},
                             content_type="multipart/form-data", headers=token)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    summary = answer.get_json()
    assert (summary["created"], summary["refused_count"]) == (2, 1)
    refused = summary["refused"][0]
    assert refused["line"] == (3 if "csv" in fmt else 2)
    assert refused["reason"]["en"] == "This account may not write bookings of office JKT."
    assert refused["reason"]["id"] != refused["reason"]["en"]
    assert offices_stored(core) == {"SCOPE-0001": "DPS", "SCOPE-0003": "DPS"}


def test_api_keeps_good_rows_around_an_oversize_field(
        two_office_api: tuple[Core, FlaskClient, dict[str, str]],
        caplog: pytest.LogCaptureFixture) -> None:
    core, client, token = two_office_api
    body = (HEADER + row("OVER-00001") + row("OVER-00002", name="x" * (200 * 1024))
            + row("OVER-00003")).encode()
    answer = client.post("/api/v1/bookings", data=body, content_type="text/csv", headers=token)
    assert answer.status_code == 200
    summary = answer.get_json()
    assert (summary["created"], summary["refused_count"]) == (2, 1)
    assert summary["refused"][0]["line"] == 3
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("content_type", "body", "reason"), [
    ("application/json", b'{"code": "X"}', "The file is not a JSON array of bookings."),
    ("application/json", b"[" * 5000 + b"]" * 5000, "Item 1 is nested too deeply."),
    ("text/csv", b"code,name\nA,B\n", "The CSV header lacks: office, date, slot_start, "
                                      "slot_end, service."),
    ("multipart/form-data; boundary=x", b"--x--\r\n",
     "Send the bookings file in the form field named file."),
])
def test_api_refuses_a_body_it_cannot_read_at_all(
        two_office_api: tuple[Core, FlaskClient, dict[str, str]], content_type: str,
        body: bytes, reason: str) -> None:
    _, client, token = two_office_api
    answer = client.post("/api/v1/bookings", data=body, headers={**token,
                                                                 "Content-Type": content_type})
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_request" and error["message"]["en"] == reason
    assert error["message"]["id"] != reason


# --- exports never carry live spreadsheet formulas -------------------------------------------
def test_day_export_neutralises_formulas(core: Core) -> None:
    from shared import visits
    from shared.reports.render import neutral

    assert [neutral(v) for v in ("=1+1", "+62", "-x", "@SUM(A1)", "\tx", "\rx", "Ok", 5, -5)] \
        == ["'=1+1", "'+62", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "Ok", 5, -5]
    evil = '=HYPERLINK("http://evil.example","klik")'
    quoted = '"' + evil.replace('"', '""') + '"'
    text = HEADER + row("FORMULA-01", name=quoted) + row("FORMULA-02", name="@SUM(1+1)")
    summary = import_file(core, io.BytesIO(text.encode()), "b.csv")
    assert summary.created == 2, summary.refused
    for code in ("FORMULA-01", "FORMULA-02"):
        visits.check_in(core, "DPS", code, "kiosk-1")
    token = create_staff(core, "admin1", None, "admin", token=True)
    app = create_app(core=core)
    answer = app.test_client().get("/reports/day/export?date=2026-12-01&format=csv"
                                   "&with_names=1", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    cells = [cell for line in csv.reader(io.StringIO(answer.get_data(as_text=True)))
             for cell in line]
    assert "'" + evil in cells and "'@SUM(1+1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]


def test_cli_inbox_imports_each_file_and_files_it(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.csv").write_text(HEADER + row("INBOX-0001") + row("INBOX-0002"),
                                 encoding="utf-8")
    (inbox / "b.json").write_text(json.dumps([booking_row("INBOX-0003"), {"code": "x"}]),
                                  encoding="utf-8")
    (inbox / "c.csv.part").write_text(HEADER + row("INBOX-0004"), encoding="utf-8")
    result = CliRunner().invoke(main, ["bookings", "inbox", str(inbox)], env=cli_env(tmp_path))
    assert result.exit_code == 1, result.output
    assert "a.csv: created: 2  updated: 0  unchanged: 0  refused: 0" in result.output
    assert "b.json: created: 1  updated: 0  unchanged: 0  refused: 1" in result.output
    assert [p.name[16:] for p in (inbox / "done").iterdir()] == ["a.csv"]
    refused = sorted(p.name[16:] for p in (inbox / "refused").iterdir())
    assert refused == ["b.json", "b.json.txt"]
    report = next((inbox / "refused").glob("*.txt")).read_text(encoding="utf-8")
    assert "line 2:" in report and "Booking code must be" in report
    assert (inbox / "c.csv.part").exists()  # still being written: left alone
    again = CliRunner().invoke(main, ["bookings", "inbox", str(inbox)], env=cli_env(tmp_path))
    assert again.exit_code == 0 and "no booking files" in again.output


@pytest.mark.postgres
def test_a_large_import_refreshes_postgresql_statistics(postgres_core: Core) -> None:
    """A table that was empty is planned as empty until its statistics are refreshed: a
    large import refreshes them at once (the check-in's booking lookup then takes the
    unique (office, code) index); a small one leaves it to autovacuum."""
    from sqlalchemy import text

    def analysed() -> int:
        with postgres_core.db.engine.connect() as connection:
            return int(connection.execute(text(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'bookings'"
            )).scalar_one())

    before = analysed()
    import_rows(postgres_core, enumerate([booking_row(f"STAT-{i:05d}") for i in range(5)], 1))
    assert analysed() == before
    import_rows(postgres_core, enumerate(
        [booking_row(f"STAT-{i:05d}") for i in range(5, 5 + ANALYZE_AFTER)], 1))
    assert analysed() == before + 1


def test_a_code_twice_in_one_file_keeps_the_first_row(core: Core) -> None:
    """A file giving one code twice with other data stored both (created 1, updated 1)
    and then updated it twice on every import of the same file, never unchanged; the
    conflict went unreported. Now the later row is refused naming the first, the same
    row again counts unchanged, also across batches and in JSON."""
    text = (HEADER + row("DUPL-00001", name="A") + row("DUPL-00002")
            + row("DUPL-00001", "11:00", name="B") + row("dupl-00002")
            + row("DUPL-00001", name="A"))
    first = import_file(core, io.BytesIO(text.encode()), "b.csv")
    assert (first.created, first.updated, first.unchanged) == (2, 0, 2)
    assert first.refused == [{"line": 4, "code": "DUPL-00001", "reason": {
        "en": "Code DUPL-00001 appears again with other data (line 2).",
        "id": "Kode DUPL-00001 muncul lagi dengan data yang berbeda (baris 2)."}}]
    with core.db.read() as session:
        kept = session.execute(select(Booking).where(Booking.code == "DUPL-00001")).scalar_one()
        assert (kept.slot_start.hour, kept.name) == (9, "A")
        stamp = kept.updated_at
    core.clock.advance(timedelta(minutes=5))
    again = import_file(core, io.BytesIO(text.encode()), "b.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert [r["line"] for r in again.refused] == [4]
    with core.db.read() as session:
        assert session.execute(select(Booking.updated_at)
                               .where(Booking.code == "DUPL-00001")).scalar_one() == stamp
    # across batches (500 rows each), and in a JSON array
    filler = [booking_row(f"FILL-{i:05d}") for i in range(600)]
    items = [booking_row("SPAN-00001", name="A"), *filler,
             booking_row("SPAN-00001", "10:00", "11:00", name="A"),
             booking_row("SPAN-00001", name="A")]
    summary = import_file(core, io.BytesIO(json.dumps(items).encode()), "b.json")
    assert (summary.created, summary.updated, summary.unchanged) == (601, 0, 1)
    assert [(r["line"], r["reason"]["en"]) for r in summary.refused] == [
        (602, "Code SPAN-00001 appears again with other data (line 1).")]
