"""Running Alembic from the product (no alembic.ini needed)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, text

from shared.db import PROJECT_ROOT, database_url

if TYPE_CHECKING:
    from shared.core import Core

log = logging.getLogger(__name__)

#: The advisory lock every Giliran process takes to migrate (any number will do as long
#: as every process uses the same one).
MIGRATION_LOCK = 0x6A11A
#: How often a process waiting for another's migrations asks for the lock again.
MIGRATION_LOCK_POLL_SECONDS = 0.5


def alembic_config(url: str | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    """Bring the database to the newest schema."""
    command.upgrade(alembic_config(url), "head")


def migrate(core: Core) -> None:
    """Alembic upgrade to head and the offices' rows, once even with many processes: the
    servers at their start and the command line (a timer's `giliran bookings inbox` may
    run while a server migrates).

    On PostgreSQL the processes take turns under a session advisory lock. The lock is
    taken on a connection in autocommit, and a process that does not get it asks again
    every half second rather than waiting inside a statement: a migration that builds an
    index concurrently (0007, 0010) waits until every transaction and statement older
    than its build has ended, and would otherwise wait for the very connection holding
    the lock, or for another process's blocked request for it, for ever."""
    if core.db.is_sqlite:
        upgrade()
        core.ensure_offices()
        return
    with core.db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT") as connection:
        _take_migration_lock(connection)
        try:
            upgrade()
            core.ensure_offices()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


def _take_migration_lock(connection: Connection) -> None:
    waited = False
    while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                 {"key": MIGRATION_LOCK}).scalar():
        if not waited:
            log.info("waiting for another process's database migrations")
            waited = True
        time.sleep(MIGRATION_LOCK_POLL_SECONDS)


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
