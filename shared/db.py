"""Database engines and the unit of work.

SQLite (the embedded default) runs in WAL mode; write transactions start with
`BEGIN IMMEDIATE`, so two writers never interleave. On PostgreSQL a write transaction
locks its office row (`SELECT … FOR UPDATE`), which serialises the changes of one office
across processes and gives the office's event `version` without gaps. Reads never wait.

Under gevent (`giliran serve`, shared/green.py) every lock here is a gevent lock, because
the monkey-patching happens before this module is imported and the locks are made with
`threading.Lock()` at run time. SQLite needs one more rule there: its busy handler sleeps
inside C, which would stop every greenlet of the process while another greenlet of the
same process holds the write lock (and can never release it). So in-process SQLite
writers queue on one cooperative lock before `BEGIN IMMEDIATE`, and only another
process (a CLI import, a second server) can make `BEGIN IMMEDIATE` busy: under gevent that
wait is a loop of short tries with cooperative sleeps, never a long sleep in C.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, create_engine, event, exc, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from shared import driver
from shared.green import install_psycopg_wait, is_green
from shared.green import sleep as cooperative_sleep
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


def shown_database_url() -> str:
    """The configured database URL with its password hidden (for messages)."""
    from sqlalchemy.engine import make_url

    url = database_url()
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unreadable URL is shown as far as it is harmless
        return url.split("@")[-1]


def database_problem(exc: BaseException) -> tuple[str, str]:
    """Why the database cannot be used, in one line (Bahasa Indonesia, English), for a
    command or a server's start: unreachable, not a database, or at a schema revision a
    newer Giliran wrote ("Can't locate revision")."""
    import re

    found = re.search(r"Can't locate revision identified by '([^']*)'", str(exc))
    where = shown_database_url()
    if found:
        return (f"basis data {where} berada pada skema {found.group(1)!r}, yang tidak dikenal "
                "versi Giliran ini (basis data itu dipakai versi yang lebih baru: pasang lagi "
                "versi itu, atau pulihkan cadangan)",
                f"the database {where} is at schema {found.group(1)!r}, which this version "
                "of Giliran does not know (a newer version used it: install that version "
                "again, or restore a backup)")
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = detail[0] if detail else type(exc).__name__
    return (f"basis data {where} tidak dapat dipakai: {reason}",
            f"the database {where} cannot be used: {reason}")


#: How long a write waits for another process's SQLite write lock before failing.
SQLITE_BUSY_SECONDS = 30.0
#: Under gevent, SQLite's own (blocking) busy wait per try: short, the loop does the rest.
GREEN_BUSY_MS = 5


#: The execution option of Database.connect's reads on SQLite: no BEGIN.
LOOKUP = "giliran_lookup"


def _begin_immediate(connection: Connection) -> None:
    """BEGIN IMMEDIATE; under gevent, wait for another process's writer cooperatively."""
    if not is_green():
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    pause = 0.001
    while True:
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except exc.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        cooperative_sleep(pause)
        pause = min(pause * 2, 0.02)


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        busy_ms = GREEN_BUSY_MS if is_green() else int(SQLITE_BUSY_SECONDS * 1000)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            pool_size=20,
            max_overflow=40,
            # The most recently returned connection first: a request's lookup and its
            # write use the same connection, whose page cache is still valid.
            pool_use_lifo=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event decide how a transaction starts.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            options = connection.get_execution_options()
            if options.get("giliran_write"):
                _begin_immediate(connection)
            elif not options.get(LOOKUP):  # a lookup's statement is its own transaction
                connection.exec_driver_sql("BEGIN")

        return engine
    install_psycopg_wait()  # under gevent: psycopg waits on the hub's own watchers
    # No `pool_pre_ping`: its `SELECT 1` was one more round trip at every checkout, and a
    # write checks its connection out inside the office's lock. Instead: a connection that
    # sat idle in the pool for IDLE_PING_SECONDS is pinged when checked out (a server
    # restart while the office was quiet is found there, before any statement); a
    # connection that breaks under load fails its statement, which marks every pooled
    # connection of that moment stale (SQLAlchemy invalidates the pool on a disconnect),
    # and a write whose first statement met a dropped connection is retried once on a new
    # one (Database._write_session). `pool_recycle` bounds a connection's age.
    # LIFO: the connections in use stay few and warm (psycopg prepares a statement on a
    # connection after a few executions); the rest age out by pool_recycle.
    engine = create_engine(url, pool_size=20, max_overflow=40, pool_recycle=POOL_RECYCLE_SECONDS,
                           pool_use_lifo=True)

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()
        if record.info.pop(BEGUN_IN_PIPELINE, False) and dbapi_connection is not None:
            # Database._pipelined_lock switched it to autocommit; the transaction has
            # ended (commit, or the pool's rollback on return), so switch it back.
            try:
                dbapi_connection.autocommit = False
            except Exception:  # not idle after all: never hand it out again
                record.invalidate()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # the pool throws this connection away and checks out a new one
            raise exc.DisconnectionError() from error

    return engine


#: Marks a pooled connection whose transaction Database._pipelined_lock began itself.
BEGUN_IN_PIPELINE = driver.BEGUN_IN_PIPELINE
#: A pooled PostgreSQL connection idle this long is pinged at checkout (not under load).
IDLE_PING_SECONDS = 2.0
#: And none is used for longer than this (server-side timeouts, proxies).
POOL_RECYCLE_SECONDS = 1800


class FairLock:
    """A lock granted in the order it was asked for: a release hands it straight to the
    longest waiter. A plain lock (and gevent's) lets whoever runs next take a lock just
    released while the woken waiter is not yet running, so under a queue of kiosks one
    check-in could wait many turns; here none waits more than the queue ahead of it.
    Under gevent the inner locks are gevent's (the module is patched before this one is
    imported), so a waiter is a parked greenlet, not a thread."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self) -> bool:
        with self._guard:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        try:
            turn.acquire()  # released by the holder's release: the lock is now ours
        except BaseException:  # interrupted while waiting (a greenlet killed)
            with self._guard:
                if turn in self._waiters:
                    self._waiters.remove(turn)
                else:  # it was handed to us meanwhile: hand it on
                    self._hand_on()
            raise
        return True

    def release(self) -> None:
        with self._guard:
            if not self._held:
                raise RuntimeError("release of an unheld FairLock")
            self._hand_on()

    def _hand_on(self) -> None:
        if self._waiters:
            self._waiters.popleft().release()  # still held: handed over
        else:
            self._held = False

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()


class Database:
    """Sessions for reading and for writing one office's queue."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._read = sessionmaker(engine, expire_on_commit=False)
        # Short reads outside any write, without BEGIN: on PostgreSQL in autocommit, so a
        # lookup is one round trip, not BEGIN, the query and a ROLLBACK at return; on
        # SQLite each statement is its own read transaction. Either way each statement
        # sees committed data as of its start, as in a READ COMMITTED transaction.
        self._lookups = (engine.execution_options(**{LOOKUP: True}) if self.is_sqlite
                         else engine.execution_options(isolation_level="AUTOCOMMIT"))
        self._write = sessionmaker(
            engine.execution_options(giliran_write=True), expire_on_commit=False
        )
        # Within one process, a lock per office keeps commit order and publish order the
        # same, so subscribers see versions in order.
        self._office_locks: dict[str, FairLock] = {}
        self._locks_guard = threading.Lock()
        # SQLite has one writer per database anyway: queue this process's writers here
        # (a FIFO-ish lock) rather than in SQLite's sleeping busy handler. Re-entrant so
        # that a nested write in one thread behaves as before (SQLite decides).
        self._sqlite_writer = threading.RLock() if self.is_sqlite else None
        # psycopg's pipeline mode needs libpq 14 or later (the binary wheel brings its
        # own); without it the lock and the first read are separate round trips.
        self._pipelines = (engine.dialect.driver == "psycopg" and _pipelines_supported())

    @property
    def pipelines(self) -> bool:
        """PostgreSQL with psycopg's pipeline mode: a write's BEGIN, lock and first
        statements travel in one round trip (write)."""
        return self._pipelines

    def office_lock(self, office_id: str) -> FairLock:
        with self._locks_guard:
            found = self._office_locks.get(office_id)
            if found is None:
                found = self._office_locks[office_id] = FairLock()
            return found

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._read()
        try:
            yield session
        finally:
            # close (not rollback): loaded objects stay readable after the block
            session.close()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A plain connection for a short read of rows (no ORM objects, no session): the
        per-request lookups (who is asking) use it. No transaction on PostgreSQL: each
        statement reads what was committed when it started."""
        with self._lookups.connect() as connection:
            yield connection

    def lookup(self, read: Read) -> list[Any]:
        """The rows of a read outside any write (as connect gives it). If the server had
        dropped the connection (a restart), it is read once more on a new one, as a
        write's lock is (_lock_office): SQLAlchemy marks the pool's connections of that
        moment stale, so one more try is enough."""
        for attempt in (1, 2):
            try:
                with self.connect() as connection:
                    return driver.rows(connection, *read)
            except exc.DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def write(self, office_id: str | None = None, claim_version: bool = False,
              first: Read | None = None, then: Read | None = None, commit: bool = False
              ) -> Iterator[Session]:
        """A write transaction; with an office, that office's changes are serialised.

        With `claim_version` on PostgreSQL, the statement that locks the office row also
        raises its event version (one round trip for both): the new value is left in
        `session.info["claimed_version"]` for the caller's first event, and the caller
        gives it back before commit if no event used it (shared.core.Core.change).

        `first`, a read (statement, values) the transaction needs before anything else,
        runs right after the lock; its rows are left in `session.info["first_rows"]`. On
        PostgreSQL, BEGIN, the lock and that read travel together (psycopg's pipeline
        mode): one round trip where there were three, inside the office's lock. The read
        still sees everything committed before the lock was granted, because in READ
        COMMITTED every statement takes its snapshot when it starts, and the server runs
        a pipeline's statements one after the other. `then`, a second such read, travels
        with them too; its rows are left in `session.info["then_rows"]`.

        `commit`: `first` and `then` are the transaction's last statements (they may
        write), and COMMIT travels with them: the whole transaction is one round trip, and
        the caller writes nothing more (`driver.COMMITTED` is set, as after
        driver.rows_then_commit). Where the pipeline cannot be used, the transaction
        commits at the block's end as usual."""
        if self._sqlite_writer is not None:
            with self._sqlite_writer:
                yield from self._write_session(office_id, claim_version, first, then, commit)
        else:
            yield from self._write_session(office_id, claim_version, first, then, commit)

    def _write_session(self, office_id: str | None, claim_version: bool = False,
                       first: Read | None = None, then: Read | None = None,
                       commit: bool = False) -> Iterator[Session]:
        session = self._write()
        try:
            if office_id is not None and not self.is_sqlite:
                session = self._lock_office(session, office_id, claim_version, first, then,
                                            commit)
            else:
                if self.is_sqlite:
                    session.connection()  # BEGIN IMMEDIATE now, not at the first write
                _read_first(session, first, then)
            yield session
            if not session.info.get(driver.COMMITTED):
                session.commit()
            elif session.new or session.dirty or session.deleted:
                raise RuntimeError("a write after the transaction's commit "
                                   "(driver.rows_then_commit)")
            # else the server committed already (driver.rows_then_commit): close() below
            # ends SQLAlchemy's transaction and sends nothing (psycopg's rollback of a
            # connection with no transaction open is a no-op), even on a connection that
            # broke after the commit.
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _lock_office(self, session: Session, office_id: str, claim_version: bool,
                     first: Read | None, then: Read | None = None,
                     commit: bool = False) -> Session:
        """The office's row lock, the transaction's first statement (with BEGIN and the
        first read in one pipeline). If it met a connection that the server dropped (a
        restart), it is tried again on a new connection with SQLAlchemy's own statements:
        when those meet a dropped connection, SQLAlchemy marks every pooled connection of
        that moment stale, so one more try is enough. Nothing was done yet, unless the
        pipeline held COMMIT (`commit`) and the connection dropped right after the server
        ran it: the try again then meets what committed (a check-in, its booking's ticket:
        visits._check_in_at_once answers as for a repeated scan, and the boards fill the
        version gap with a snapshot)."""
        try:
            if self._pipelines:
                self._pipelined_lock(session, office_id, claim_version, first, then, commit)
            else:
                _run_lock(session, office_id, claim_version, first, then)
            return session
        except exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
            session.close()
        for attempt in (1, 2):
            session = self._write()
            try:
                _run_lock(session, office_id, claim_version, first, then)
                return session
            except exc.DBAPIError as error:
                session.close()
                if attempt == 2 or not error.connection_invalidated:
                    raise
            except BaseException:
                session.close()
                raise
        raise AssertionError("unreachable")

    def _pipelined_lock(self, session: Session, office_id: str, claim_version: bool,
                        first: Read | None, then: Read | None = None,
                        commit: bool = False) -> None:
        """BEGIN, the lock and the first read in one round trip. psycopg sends its own
        BEGIN and waits for it before a pipeline's first statement, so the connection is
        switched to autocommit (no BEGIN of its own) and BEGIN is the pipeline's first
        statement: the transaction is then open on the server, psycopg's commit and
        rollback end it as usual (they look at the server's transaction status), and
        the connection leaves autocommit when it returns to the pool (make_engine's
        checkin). The results are read once the pipeline has synced: a fetch inside it
        would wait for one more round trip."""
        import psycopg

        fairy = session.connection().connection
        raw = cast(psycopg.Connection[Any], fairy.driver_connection)
        dialect = self.engine.dialect
        lock_values = {"office": office_id}
        lock = driver.prepare(BUMP_VERSION if claim_version else _LOCK_OFFICE, lock_values,
                              dialect)
        assert lock is not None
        # None for a statement the driver leaves to SQLAlchemy (an IN list): it runs after.
        read = driver.prepare(*first, dialect) if first is not None else None
        later = driver.prepare(*then, dialect) if then is not None else None
        # COMMIT last, unless a read is left to SQLAlchemy (it must run in the transaction)
        commit = commit and (first is None or read is not None) and (
            then is None or later is not None)
        raw.autocommit = True  # idle here: SQLAlchemy's begin sent nothing yet
        fairy.info[BEGUN_IN_PIPELINE] = True
        try:
            with raw.pipeline():
                raw.execute("BEGIN")
                locking = raw.cursor()
                locking.execute(lock.sql, driver.parameters(lock, lock_values))
                reading = following = None
                if read is not None:
                    assert first is not None
                    reading = raw.cursor()
                    reading.execute(read.sql, driver.parameters(read, first[1]))
                if later is not None:
                    assert then is not None
                    following = raw.cursor()
                    following.execute(later.sql, driver.parameters(later, then[1]))
                if commit:
                    raw.execute("COMMIT")
        except psycopg.Error as error:
            interrupted = error.__context__
            if interrupted is not None and not isinstance(interrupted, Exception):
                # A greenlet killed while the pipeline waited (psycopg's exit from
                # pipeline mode then fails too and hides it): the connection is in an
                # unknown state, never used again; the kill goes on.
                session.connection().invalidate(interrupted)
                raise interrupted from None
            # As SQLAlchemy would raise it; a connection the server dropped is marked so,
            # and _lock_office tries again on a new one.
            dropped = raw.broken
            if dropped:
                session.connection().invalidate()
            raise exc.DBAPIError.instance(lock.sql, None, error, psycopg.Error,
                                          connection_invalidated=dropped,
                                          dialect=self.engine.dialect) from error
        except BaseException as error:
            if not isinstance(error, Exception):
                # killed mid-pipeline without psycopg noticing: never use it again
                session.connection().invalidate(error)
            raise
        if commit:
            session.info[driver.COMMITTED] = True
        locked = locking.fetchone()
        if claim_version:
            session.info["claimed_version"] = locked[0] if locked else None
        if reading is not None:
            assert read is not None
            session.info["first_rows"] = driver.convert(read, reading.fetchall())
            first = None
        if following is not None:
            assert later is not None
            session.info["then_rows"] = driver.convert(later, following.fetchall())
            then = None
        _read_first(session, first, then)  # what was left to SQLAlchemy (an IN list)


#: A read: a Core statement and its values.
Read = tuple[Any, dict[str, Any]]


def _pipelines_supported() -> bool:
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def _run_lock(session: Session, office_id: str, claim_version: bool,
              first: Read | None = None, then: Read | None = None) -> None:
    if claim_version:
        # An UPDATE locks the row as SELECT … FOR UPDATE does.
        session.info["claimed_version"] = session.execute(
            BUMP_VERSION, {"office": office_id}).scalar_one_or_none()
    else:
        session.execute(_LOCK_OFFICE, {"office": office_id})
    _read_first(session, first, then)


def _read_first(session: Session, first: Read | None, then: Read | None = None) -> None:
    """Run a write's first reads in its transaction (shared.driver); their rows for
    Core.change."""
    if first is not None:
        session.info["first_rows"] = driver.rows(session, *first)
    if then is not None:
        session.info["then_rows"] = driver.rows(session, *then)


_LOCK_OFFICE = (select(OfficeRow.id).where(OfficeRow.id == bindparam("office"))
                .with_for_update())
_OFFICES = cast(Table, OfficeRow.__table__)
#: Raise an office's event version by one and return it: the claim in the office lock's
#: statement (Database.write) and the bump of each further event (shared.core.Change.emit).
BUMP_VERSION = (update(_OFFICES).where(_OFFICES.c.id == bindparam("office"))
                .values(version=_OFFICES.c.version + 1).returning(_OFFICES.c.version))
