"""Booking import: CSV and JSON, upsert, refused rows with line numbers, bounded memory."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from shared.bookings import import_file, rows_from_json
from shared.cli import main
from shared.core import Core
from shared.models import Booking
from tests.conftest import ROOT

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
    assert (summary.created, summary.updated) == (1, 1)
    assert [r["line"] for r in summary.refused] == [3, 4, 5, 6, 7, 8, 9, 10]
    reasons = [r["reason"]["en"] for r in summary.refused]
    assert reasons[0].startswith("Booking code") and "JKT" in reasons[1]
    assert all(r["reason"]["id"] for r in summary.refused)
    with core.db.read() as session:
        booking = session.execute(select(Booking)).scalar_one()
        assert booking.slot_start.hour == 11 and booking.service == "penggantian"


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


def test_hundred_thousand_rows_in_bounded_memory(core: Core, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write(HEADER)
        for i in range(100_000):
            handle.write(f"BIG-{i:07d},DPS,2026-12-01,{8 + i % 7:02d}:00,{9 + i % 7:02d}:00,"
                         f"paspor-baru,,Nama Pemohon {i}\n")
    tracemalloc.start()
    with path.open("rb") as handle:
        summary = import_file(core, handle, path.name)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert summary.created == 100_000 and summary.refused_count == 0
    assert count(core) == 100_000
    # The file is ~7 MB and 100,000 ORM objects would take far more than this.
    assert peak < 40 * 1024 * 1024, peak


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
    assert "created: 0  updated: 222" in again.output
