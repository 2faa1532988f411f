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
                              where: str | None = None) -> None:
    """PostgreSQL, inside a migration: build an index without locking `table` against
    writes (CREATE INDEX CONCURRENTLY, outside the migration's transaction); `where`
    makes it partial.

    Such a build that stopped half-way (the process killed, a deadlock, a duplicate key)
    leaves the index behind marked invalid, and Alembic's version unchanged; the next
    start would run the migration again and fail with "already exists", and the office
    could not start at all. So an index of that name is dropped and built again unless
    it is valid and has this table, these columns and this condition: that one is the
    build that finished before its migration was recorded, and is kept. Offline
    (`--sql`), the script drops any index of that name first."""
    from alembic import op

    options: dict[str, Any] = {}
    if where is not None:
        options["postgresql_where"] = text(where)
    offline = op.get_context().as_sql
    found: Any = None
    if not offline:
        found = op.get_bind().execute(text(
            "SELECT i.indisvalid AS valid, i.indrelid::regclass::text AS tab,"
            " pg_get_expr(i.indpred, i.indrelid) AS pred,"
            " array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(num, n)"
            "       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num"
            "       ORDER BY k.n) AS cols"
            " FROM pg_index i WHERE i.indexrelid = to_regclass(:name)"), {"name": name}).first()
        if found is not None and found.valid and found.tab == table \
                and list(found.cols) == columns and _same_condition(found.pred, where):
            return
    with op.get_context().autocommit_block():
        if offline or found is not None:  # a build that stopped, or another definition
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        op.create_index(name, table, columns, postgresql_concurrently=True, **options)


def _same_condition(stored: str | None, wanted: str | None) -> bool:
    """Whether a partial index's stored condition (as pg_get_expr prints it) is `wanted`."""
    if stored is None or wanted is None:
        return stored is wanted
    return stored.strip("() ").lower() == wanted.strip("() ").lower()
