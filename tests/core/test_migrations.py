"""Alembic migrations build exactly the schema of the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import shared.reports.models  # noqa: F401  (the survey and audit tables)
from shared.account_cache import triggers_present
from shared.migrate import upgrade
from shared.models import Base


def assert_matches_models(url: str) -> None:
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
        # compare_metadata compares an index's columns, not a partial index's WHERE
        if engine.dialect.name == "sqlite":
            mode = connection.execute(text("PRAGMA journal_mode")).scalar()
            assert mode == "wal"
            partial = connection.execute(text(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_ticket_waiting_priority'"
            )).scalar_one()
        else:
            partial = connection.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_ticket_waiting_priority'"
            )).scalar_one()
        assert "priority_group IS NOT NULL" in partial, partial
    engine.dispose()


def test_sqlite_upgrade_matches_models(tmp_path: Path) -> None:
    assert_matches_models(f"sqlite:///{tmp_path / 'm.sqlite3'}")


@pytest.mark.postgres
def test_postgresql_upgrade_matches_models(postgres: object) -> None:
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    url = postgres.create_database("migrations")
    assert_matches_models(url)
    # 0008: the triggers that tell every process an account or device changed.
    with create_engine(url).connect() as connection:
        assert triggers_present(connection.connection.driver_connection)


def test_migration_0008_installs_what_create_all_installs() -> None:
    """The triggers' SQL is written out in the migration; create_all builds it from
    shared.account_cache. They must stay the same."""
    import importlib.util

    from shared.account_cache import drop_statements, trigger_statements

    path = Path(__file__).resolve().parents[2] / "migrations/versions/0008_account_notifications.py"
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert trigger_statements() == module.UPGRADE
    assert drop_statements() == module.DOWNGRADE


WAITING = ("office_id, service_day, status, station, place_key, checked_in_at, "
           "priority_group, entered_station_at")
WAITING_PRIORITY = ("office_id, service_day, status, station, place_key, checked_in_at, "
                    "entered_station_at")


@pytest.mark.postgres
@pytest.mark.parametrize("left", ["invalid", "valid", "other"])
def test_postgresql_concurrent_build_that_stopped_does_not_stop_the_next_start(
        postgres: object, left: str) -> None:
    """0007 and 0010 build their index concurrently, outside the migration's transaction.
    A build that stopped half-way leaves an invalid index and the migration unrecorded;
    one that finished just before the process died leaves a valid index, also unrecorded.
    Either way the next start runs the migration again, which failed with "already
    exists". Now an invalid index is built again, a valid one with the migration's
    definition is kept, and one of that name with another definition (other columns,
    no condition) is replaced."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from shared.migrate import alembic_config
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    url = postgres.create_database(f"stopped_build_{left}")
    command.upgrade(alembic_config(url), "0006")
    engine = create_engine(url)
    with engine.begin() as connection:
        if left == "valid":
            connection.execute(text(f"CREATE INDEX ix_ticket_waiting ON tickets ({WAITING})"))
            connection.execute(text(
                f"CREATE INDEX ix_ticket_waiting_priority ON tickets ({WAITING_PRIORITY}) "
                "WHERE priority_group IS NOT NULL"))
        else:
            connection.execute(text("CREATE INDEX ix_ticket_waiting ON tickets (office_id)"))
            connection.execute(text(
                f"CREATE INDEX ix_ticket_waiting_priority ON tickets ({WAITING_PRIORITY})"))
        if left == "invalid":
            connection.execute(text(
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid IN "
                "('ix_ticket_waiting'::regclass, 'ix_ticket_waiting_priority'::regclass)"))
        kept = connection.execute(text(
            "SELECT indexrelid::int FROM pg_index WHERE indexrelid IN "
            "('ix_ticket_waiting'::regclass, 'ix_ticket_waiting_priority'::regclass)"
        )).scalars().all()
    assert_matches_models(url)  # upgrades to the head first; checks columns and WHERE
    with engine.connect() as connection:
        states = connection.execute(text(
            "SELECT c.relname, i.indisvalid, i.indexrelid::int = ANY(:kept) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'ix_ticket_waiting%'"
        ), {"kept": list(kept)}).all()
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    same = left == "valid"
    assert sorted(states) == [("ix_ticket_waiting", True, same),
                              ("ix_ticket_waiting_priority", True, same)]
    assert version == ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_postgresql_offline_migration_script_drops_a_stopped_build_first(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`--sql` writes the migrations out for a database administrator, without a
    connection: the concurrent builds come with a DROP of any index of that name first."""
    from alembic import command

    from shared.migrate import alembic_config

    command.upgrade(alembic_config("postgresql+psycopg://giliran@localhost/giliran"),
                    "0006:head", sql=True)
    script = capsys.readouterr().out
    for name in ("ix_ticket_waiting", "ix_ticket_waiting_priority"):
        drop = script.index(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        assert script.index(f"CREATE INDEX CONCURRENTLY {name} ON tickets") > drop


@pytest.mark.postgres
def test_the_command_line_migrates_in_turn_with_the_servers(postgres: object,
                                                            tmp_path: Path) -> None:
    """A timer's `giliran bookings inbox` migrates before it reads its files, and may run
    while a server migrates after an upgrade. It waits for the same lock as the servers
    (shared.migrate.migrate), so two processes never run the same migration at once."""
    import subprocess
    import time

    from alembic import command
    from alembic.script import ScriptDirectory

    from shared.migrate import MIGRATION_LOCK, alembic_config
    from tests.live import BIN, ROOT, LiveServer
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    url = postgres.create_database("cli_in_turn")
    command.upgrade(alembic_config(url), "0006")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def version() -> str:
        with engine.connect() as connection:
            return str(connection.execute(text("SELECT version_num FROM alembic_version"))
                       .scalar())

    env = LiveServer(var=tmp_path, clock="2026-12-01T10:00", database_url=url).env()
    with engine.connect() as holder:  # a server migrating meanwhile
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        process = subprocess.Popen([str(BIN / "giliran"), "db", "upgrade"], env=env, cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            # The command is waiting its turn once its own connection has asked for the
            # lock (and been refused: the holder still has it).
            deadline = time.monotonic() + 30
            while not holder.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                    " AND query LIKE '%pg_try_advisory_lock%'")).scalar():
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "the command never asked for the lock"
                time.sleep(0.05)
            assert process.poll() is None, process.communicate()[0]
            assert version() == "0006"
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    assert version() == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                             marks=pytest.mark.postgres)])
def test_0011_keeps_every_ticket_and_allows_one_per_booking_and_day(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """0011 rebuilds `tickets` on SQLite (its unique booking cannot be dropped otherwise)
    while the timeline and print jobs refer to it: every row stays, every reference holds,
    and then a booking may have one ticket a day."""
    from datetime import date, datetime

    from alembic import command
    from sqlalchemy import Table, insert, select
    from sqlalchemy.exc import IntegrityError

    from shared import visits
    from shared.app import load_config
    from shared.bookings import import_rows
    from shared.clock import Clock
    from shared.core import Core
    from shared.db import Database, make_engine
    from shared.events import EventBus
    from shared.migrate import alembic_config
    from shared.models import Ticket
    from tests.conftest import ROOT, booking_row

    tickets: Table = Ticket.__table__  # type: ignore[assignment]

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database("migration_0011")
    command.upgrade(alembic_config(url), "0010")
    config = load_config(ROOT / "config.toml")
    clock = Clock()
    clock.start_at_local(datetime(2026, 12, 1, 9, 10), config.default_office.tz)
    clock.freeze(clock.now())
    core = Core(config, Database(make_engine(url)), clock, EventBus())
    core.ensure_offices()
    import_rows(core, enumerate([booking_row("MIG-00001"), booking_row("MIG-00002")], start=1))
    ticket = visits.check_in(core, "DPS", "MIG-00001", "kiosk-1").ticket
    visits.call_next(core, "DPS", "1", "petugas")
    visits.act(core, ticket["id"], "finish", "petugas", None)
    core.db.engine.dispose()
    upgrade(url)
    engine = make_engine(url)  # as the product connects: foreign keys enforced again
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM tickets")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM ticket_timeline "
                                       "WHERE ticket_id = :t"), {"t": ticket["id"]}).scalar() == 3
        if backend == "sqlite":
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        row = connection.execute(select(tickets)).mappings().one()
        copy = {**row, "id": 99, "service_day": date(2026, 12, 2), "public_token": "another"}
        connection.execute(insert(tickets).values(copy))  # the same booking, another day
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(tickets).values(
            {**copy, "id": 100, "service_day": row["service_day"], "public_token": "a third",
             "number": "B999"}))
    engine.dispose()
