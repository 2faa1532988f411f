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
