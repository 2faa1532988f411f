"""Running Alembic from the product (no alembic.ini needed)."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text

from shared.db import PROJECT_ROOT, database_url


def alembic_config(url: str | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    """Bring the database to the newest schema."""
    command.upgrade(alembic_config(url), "head")


def create_index_concurrently(name: str, table: str, columns: list[str],
                              **options: Any) -> None:
    """PostgreSQL, inside a migration: build an index without locking `table` against
    writes (CREATE INDEX CONCURRENTLY, outside the migration's transaction).

    Such a build that stopped half-way (the process killed, a deadlock, a duplicate key)
    leaves the index behind marked invalid, and Alembic's version unchanged; the next
    start would run the migration again and fail with "already exists", and the office
    could not start at all. So an invalid index of that name is dropped and built again.
    A valid one is the build that finished before its migration was recorded: it is
    kept."""
    from alembic import op

    bind = op.get_bind()
    valid = bind.execute(text(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"
    ), {"name": name}).scalar()
    if valid:
        return
    with op.get_context().autocommit_block():
        if valid is not None:  # left invalid by a build that stopped
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        op.create_index(name, table, columns, postgresql_concurrently=True, **options)
