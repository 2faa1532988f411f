"""PostgreSQL connections: no ping at every checkout (a round trip inside the office's
lock), a ping for a connection that sat idle, and a write that heals after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from shared import db as db_module
from shared.core import Core
from shared.models import OfficeRow


@pytest.fixture
def pings(postgres_core: Core, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    dialect = postgres_core.db.engine.dialect
    seen: list[Any] = []
    real = dialect.do_ping

    def counting(connection: Any) -> bool:
        seen.append(connection)
        return real(connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    yield seen


def _write(core: Core) -> int:
    with core.change("DPS") as change:
        return int(change.session.execute(
            select(OfficeRow.version).where(OfficeRow.id == "DPS")).scalar_one())


@pytest.mark.postgres
def test_a_busy_connection_is_not_pinged(postgres_core: Core, pings: list[Any]) -> None:
    _write(postgres_core)
    for _ in range(5):
        _write(postgres_core)
    assert pings == []


@pytest.mark.postgres
def test_an_idle_connection_is_pinged_at_checkout(postgres_core: Core, pings: list[Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _write(postgres_core)
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
    _write(postgres_core)
    assert len(pings) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("pipelines", [True, False])
def test_a_write_after_a_restart_uses_a_new_connection(postgres: object, postgres_core: Core,
                                                        pipelines: bool) -> None:
    """With the pipelined lock (psycopg's error) and without (libpq older than 14:
    SQLAlchemy's error)."""
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    postgres_core.db._pipelines = pipelines
    before = _write(postgres_core)  # a pooled connection, used a moment ago
    postgres.stop_server()
    postgres.start_server()
    # The pooled connection is dead and recent (no ping): the lock statement meets the
    # dropped connection, and the write is retried once on a new connection.
    assert _write(postgres_core) == before



@pytest.mark.postgres
def test_a_lookup_after_a_restart_uses_a_new_connection(postgres: object,
                                                        postgres_core: Core) -> None:
    """A check-in's booking is read before any write: after a server restart that read
    too is tried once more on a new connection, not answered with an error."""
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    read = (select(OfficeRow.version).where(OfficeRow.id == "DPS"), {})
    (before,) = postgres_core.db.lookup(read)
    postgres.stop_server()
    postgres.start_server()
    assert postgres_core.db.lookup(read) == [before]


@pytest.mark.postgres
def test_the_office_lock_raises_the_version_for_the_first_event(postgres_core: Core) -> None:
    from sqlalchemy import event

    core = postgres_core
    statements: list[str] = []
    event.listen(core.db.engine, "before_cursor_execute",
                 lambda _c, _cu, statement, *_: statements.append(statement))
    start = core.office_version("DPS")
    with core.change("DPS"):
        pass  # no event: the version the lock raised is given back
    assert core.office_version("DPS") == start
    seen: list[int] = []
    core.bus.subscribe(lambda e: seen.append(e.version))
    statements.clear()
    with core.change("DPS") as change:
        change.emit("checked_in", {"id": 1})
    # The lock (sent by the driver in one pipeline with BEGIN, not through SQLAlchemy)
    # raised the version: no other statement touches the office row.
    assert [s for s in statements if "offices" in s] == []
    with core.change("DPS") as change:
        change.emit("checked_in", {"id": 2})
        change.emit("checked_in", {"id": 3})
    core.bus.wait_idle(5)
    assert seen == [start + 1, start + 2, start + 3]
    assert core.office_version("DPS") == start + 3


@pytest.mark.postgres
def test_the_first_read_sees_what_committed_while_it_waited_for_the_lock(
        postgres_core: Core) -> None:
    """BEGIN, the lock and the first read go out together; the read still takes its
    snapshot after the lock is granted, so it sees a change another process committed
    while this one waited (two Cores on one database: two processes' locks)."""
    import threading

    from sqlalchemy import text, update

    from shared.bookings import import_rows
    from shared.core import Core as CoreClass
    from shared.db import Database, make_engine
    from shared.models import Booking
    from tests.conftest import booking_row
    from tests.scaleout.helpers import wait_for

    core = postgres_core
    import_rows(core, enumerate([booking_row("SNAP-1")], start=1))
    other = CoreClass(core.config, Database(make_engine(str(core.db.engine.url.render_as_string(
        hide_password=False)))), core.clock, core.bus)
    holding = threading.Event()
    waited: list[int] = []

    def lock_waiters() -> int:
        with other.db.engine.connect() as connection:
            return int(connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            )).scalar_one())

    def cancel_slowly() -> None:
        with other.change("DPS") as change:
            holding.set()
            change.session.execute(update(Booking).where(Booking.code == "SNAP-1")
                                   .values(cancelled=True))
            # commit only once the other transaction waits for the office's row lock
            wait_for(lambda: lock_waiters() > 0, 10, "no transaction waits on the lock")
            waited.append(lock_waiters())

    thread = threading.Thread(target=cancel_slowly)
    thread.start()
    assert holding.wait(5)
    read = (select(Booking.cancelled).where(Booking.code == "SNAP-1"), {})
    with core.change("DPS", first=read) as change:
        seen = [row.cancelled for row in change.first_rows]
    thread.join()
    other.db.engine.dispose()
    assert waited == [1]  # the read was sent while the lock was held
    assert seen == [True]


@pytest.mark.postgres
def test_a_first_read_with_an_in_list_runs_after_the_pipeline(postgres_core: Core) -> None:
    """SQLAlchemy expands an IN list at execution, so such a read cannot be compiled
    once for the pipeline: it runs through SQLAlchemy right after it, with its rows."""
    read = (select(OfficeRow.id).where(OfficeRow.id.in_(["DPS", "nowhere"])), {})
    with postgres_core.change("DPS", first=read) as change:
        assert [row.id for row in change.first_rows] == ["DPS"]



@pytest.mark.postgres
@pytest.mark.parametrize("in_list", [False, True])
def test_a_change_may_commit_with_its_first_statements(postgres_core: Core,
                                                       in_list: bool) -> None:
    """`commit`: COMMIT travels in the lock's pipeline after the first statements, so
    another connection sees the change before the block ends. Not when a read is left
    to SQLAlchemy (an IN list): it must still run inside the transaction, which then
    commits at the block's end."""
    office = OfficeRow.id == "DPS"
    rename = (update(OfficeRow).where(office).values(name="Kanim Denpasar")
              .returning(OfficeRow.name), {})
    read = (select(OfficeRow.id).where(OfficeRow.id.in_(["DPS"])) if in_list
            else select(OfficeRow.id).where(office), {})
    with postgres_core.change("DPS", first=rename, then=read, commit=True) as change:
        assert [row.name for row in change.first_rows] == ["Kanim Denpasar"]
        assert [row.id for row in change.then_rows] == ["DPS"]
        assert change.committed is not in_list
        with postgres_core.db.connect() as connection:
            seen = connection.execute(select(OfficeRow.name).where(office)).scalar_one()
        assert (seen == "Kanim Denpasar") is not in_list
        change.emit("checked_in", {"id": 1})
    with postgres_core.db.connect() as connection:
        assert connection.execute(select(OfficeRow.name).where(office)).scalar_one() == (
            "Kanim Denpasar")


@pytest.mark.postgres
def test_without_pipelines_the_lock_and_the_first_read_still_come_first(
        postgres_core: Core) -> None:
    """Where libpq cannot pipeline (before 14), the lock and the first read are two
    statements through SQLAlchemy, in that order, with the same rows."""
    from sqlalchemy import event

    core = postgres_core
    core.db._pipelines = False
    statements: list[str] = []
    event.listen(core.db.engine, "before_cursor_execute",
                 lambda _c, _cu, statement, *_: statements.append(statement))
    read = (select(OfficeRow.id).where(OfficeRow.id == "DPS"), {})
    with core.change("DPS", first=read) as change:
        assert [row.id for row in change.first_rows] == ["DPS"]
    assert statements[0].startswith("UPDATE offices") and "RETURNING" in statements[0]
    assert statements[1].startswith("SELECT offices.id")


@pytest.mark.postgres
@pytest.mark.parametrize("pipelines", [True, False])
def test_begin_the_lock_and_the_first_read_are_one_round_trip(
        postgres_core: Core, tmp_path: Any, pipelines: bool) -> None:
    """Counted in libpq's own trace of the messages sent before the change's body runs:
    one wait for the server, where plain statements need four (BEGIN, the lock, the
    read and a second read). The connection goes back to the pool out of autocommit."""
    from psycopg import pq
    from sqlalchemy import event

    core = postgres_core
    core.db._pipelines = pipelines
    read = (select(OfficeRow.id).where(OfficeRow.id == "DPS"), {})
    with core.change("DPS", first=read):
        pass  # warm: the pool's one connection, the statements compiled
    trace = (tmp_path / "libpq.trace").open("w")

    def traced(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.pgconn.trace(trace.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    event.listen(core.db.engine, "checkout", traced)
    then = (select(OfficeRow.name).where(OfficeRow.id == "DPS"), {})
    with core.change("DPS", first=read, then=then) as change:
        trace.flush()
        sent = (tmp_path / "libpq.trace").read_text()
        assert [row.id for row in change.first_rows] == ["DPS"]
        assert len(change.then_rows) == 1 and change.then_rows[0].name
        change.emit("checked_in", {"id": 1})
    event.remove(core.db.engine, "checkout", traced)
    # each Sync (extended protocol) or Query (a simple one, psycopg's own BEGIN) is a wait
    waits = [line for line in sent.splitlines()
             if line.startswith("F") and line.split("\t")[2:3] in (["Sync"], ["Query"])]
    assert len(waits) == (1 if pipelines else 4), sent
    with core.db.engine.connect() as connection:
        assert connection.connection.driver_connection.autocommit is False
    assert core.office_version("DPS") >= 1


@pytest.mark.postgres
def test_a_failing_first_read_rolls_back_and_leaves_the_connection_clean(
        postgres_core: Core) -> None:
    """An error inside the pipeline comes out as SQLAlchemy's (as any statement's would),
    nothing of the transaction stays, and the pooled connection serves the next write."""
    from sqlalchemy import exc, literal_column

    core = postgres_core
    start = core.office_version("DPS")
    failing = (select(literal_column("1 / 0")), {})
    with pytest.raises(exc.DBAPIError), core.change("DPS", first=failing) as change:
        change.emit("checked_in", {"id": 1})
    assert core.office_version("DPS") == start  # the claimed version was rolled back
    assert _write(core) == start + 1  # (read inside the change, after the lock raised it)
    with core.db.engine.connect() as connection:
        assert connection.connection.driver_connection.autocommit is False


@pytest.mark.parametrize("backend",
                         ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_lookup_and_the_write_of_a_request_share_the_warmest_connection(
        backend: str, core: Core, request: pytest.FixtureRequest) -> None:
    """The pool hands out the connection returned last: with several idle, a request's
    token lookup and its write run on the same one (SQLite: its page cache is still
    valid; PostgreSQL: its prepared statements are there)."""
    target = core if backend == "sqlite" else request.getfixturevalue("postgres_core")
    held = [target.db.engine.connect() for _ in range(3)]
    for connection in held:
        connection.exec_driver_sql("SELECT 1")
    for connection in held:
        connection.close()
    with target.db.connect() as connection:
        looked_up = connection.connection.dbapi_connection
    with target.db.write("DPS") as session:
        written = session.connection().connection.dbapi_connection
    assert written is looked_up
    assert looked_up is not None


def test_a_sqlite_lookup_is_one_statement_without_begin(core: Core) -> None:
    """Who is asking is read on every request: on SQLite the lookup is its own read
    transaction (no BEGIN, no ROLLBACK statement), and it sees what was just committed."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(core.db.engine, "before_cursor_execute", seen)
    try:
        version = _write(core)
        statements.clear()
        with core.db.connect() as connection:
            read = connection.execute(
                select(OfficeRow.version).where(OfficeRow.id == "DPS")).scalar_one()
    finally:
        event.remove(core.db.engine, "before_cursor_execute", seen)
    assert statements == ["SELECT"]
    assert read == version


@pytest.mark.postgres
def test_a_call_reads_the_lanes_heads_with_the_lock(postgres_core: Core,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`next` on PostgreSQL: the lanes' heads travel in the lock's round trip, not as a
    statement of their own."""
    from shared import driver, visits
    from shared.bookings import import_rows
    from tests.conftest import booking_row

    import_rows(postgres_core, enumerate([booking_row("HEADS-01")], start=1))
    ticket = visits.check_in(postgres_core, "DPS", "HEADS-01", "kiosk-1").ticket
    office = postgres_core.office("DPS")
    heads = visits.heads_read(postgres_core, office, office.counters["1"].stations)[0]
    ran: list[Any] = []
    rows = driver.rows
    monkeypatch.setattr(driver, "rows", lambda target, statement, values: (
        ran.append(statement), rows(target, statement, values))[1])
    called = visits.call_next(postgres_core, "DPS", "1", "petugas", "key-1")
    assert called is not None and called["id"] == ticket["id"]
    # the heads came with the lock, the call and its stored answer with COMMIT: no
    # statement of its own (earlier the call ran on its own before the answer)
    assert heads not in ran and ran == []
