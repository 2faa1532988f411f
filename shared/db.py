"""Database engines and the unit of work.

SQLite (the embedded default) runs in WAL mode; write transactions start with
`BEGIN IMMEDIATE`, so two writers never interleave. On PostgreSQL a write transaction
locks its office row (`SELECT … FOR UPDATE`), which serialises the changes of one office
across processes and gives the office's event `version` without gaps. Reads never wait.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from shared.models import OfficeRow

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    url = os.environ.get("GILIRAN_DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    var = Path(os.environ.get("GILIRAN_VAR", "var"))
    var.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var / 'giliran.sqlite3'}"


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=40,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event decide how a transaction starts.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            if connection.get_execution_options().get("giliran_write"):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)


class Database:
    """Sessions for reading and for writing one office's queue."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(giliran_write=True), expire_on_commit=False
        )
        # Within one process, a lock per office keeps commit order and publish order the
        # same, so subscribers see versions in order.
        self._office_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def office_lock(self, office_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._office_locks.setdefault(office_id, threading.Lock())

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._read()
        try:
            yield session
        finally:
            # close (not rollback): loaded objects stay readable after the block
            session.close()

    @contextmanager
    def write(self, office_id: str | None = None) -> Iterator[Session]:
        """A write transaction; with an office, that office's changes are serialised."""
        session = self._write()
        try:
            if office_id is not None and not self.is_sqlite:
                session.execute(
                    select(OfficeRow.id).where(OfficeRow.id == office_id).with_for_update()
                )
            elif self.is_sqlite:
                session.connection()  # BEGIN IMMEDIATE now, not at the first write
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
