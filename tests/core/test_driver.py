"""shared.driver: a Core statement run on the driver's cursor gives what SQLAlchemy gives
(stored values, returned values, errors), and hands back to SQLAlchemy what it cannot do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    exc,
    insert,
    select,
    text,
    update,
)

from shared import driver
from shared.core import Core
from shared.db import make_engine

_META = MetaData()
_ITEMS = Table(
    "driver_items", _META,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), unique=True),
    Column("at", DateTime),
    Column("day", Date),
    Column("done", Boolean),
    Column("detail", JSON, nullable=True),
    Column("count", Integer, default=7),  # a Python-side default
)
_C = _ITEMS.c
AT = datetime(2026, 12, 6, 9, 1, 2, 345)
VALUES = [
    {"id": 1, "name": "a", "at": AT, "day": AT.date(), "done": True, "detail": None,
     "count": 1},
    {"id": 2, "name": "b", "at": AT, "day": date(2026, 12, 7), "done": False,
     "detail": {"kiosk": "K1", "list": [1, 2]}, "count": 2},
]


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'driver.sqlite3'}"
    else:
        postgres = request.getfixturevalue("postgres")
        url = postgres.create_database("t_driver_" + request.node.name[-30:].lower()
                                       .replace("[", "_").replace("]", "").replace("-", "_"))
    found = make_engine(url)
    _META.create_all(found)
    yield found
    found.dispose()


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    """The rows as the database holds them (text for JSON, the driver's own types)."""
    with engine.connect() as connection:
        cast_json = "CAST(detail AS TEXT)" if engine.dialect.name == "postgresql" else "detail"
        return [tuple(row) for row in connection.execute(text(
            f"SELECT id, name, at, day, done, {cast_json}, count FROM driver_items ORDER BY id"))]


def test_an_insert_stores_what_sqlalchemy_stores(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(_ITEMS), VALUES)
    by_sqlalchemy = _stored(engine)
    with engine.begin() as connection:
        connection.execute(_ITEMS.delete())
    with engine.begin() as connection:
        for values in VALUES:
            assert driver.rows(connection, insert(_ITEMS), values) == []
    assert _stored(engine) == by_sqlalchemy
    # JSON null as SQLAlchemy writes it for None (not SQL NULL), times in its own format
    assert by_sqlalchemy[0][5] == "null"


def test_rows_come_back_converted_and_named(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(_ITEMS), VALUES)
    statement = (select(_C.id, _C.at, _C.day, _C.done, _C.detail.label("extra"))
                 .where(_C.id >= bindparam("low")).order_by(_C.id))
    with engine.begin() as connection:
        expected = [tuple(row) for row in connection.execute(statement, {"low": 1})]
        found = driver.rows(connection, statement, {"low": 1})
    assert [tuple(row) for row in found] == expected
    assert found[1].extra == {"kiosk": "K1", "list": [1, 2]} and found[0].done is True
    assert isinstance(found[0].at, datetime) and found[1].day == date(2026, 12, 7)


def test_a_returning_update_and_fixed_values(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(_ITEMS), VALUES)
        changed = driver.rows(connection, update(_ITEMS).where(
            _C.id == bindparam("which"), _C.done.is_(False)).values(
            count=_C.count + 10, at=bindparam("now")).returning(_C.id, _C.count, _C.at),
            {"which": 2, "now": datetime(2026, 12, 6, 10, 0)})
        # `done IS false` and `count + 10` are values of the statement itself
        assert [tuple(row) for row in changed] == [(2, 12, datetime(2026, 12, 6, 10, 0))]
        assert driver.scalar(connection, select(_C.count).where(_C.id == bindparam("i")),
                             {"i": 1}) == 1
        assert driver.scalar(connection, select(_C.id).where(_C.id == bindparam("i")),
                             {"i": 99}) is None


def test_what_it_cannot_do_runs_through_sqlalchemy(engine: Engine) -> None:
    with engine.begin() as connection:
        # a Python-side default: SQLAlchemy computes it (count=7)
        driver.rows(connection, insert(_ITEMS), {"id": 5, "name": "e", "at": AT,
                                                 "day": AT.date(), "done": True,
                                                 "detail": None})
        # an expanding IN list: SQLAlchemy renders it
        expanding = select(_C.count).where(_C.id.in_(bindparam("ids", expanding=True)))
        assert [row.count for row in driver.rows(connection, expanding, {"ids": [5, 6]})] == [7]


def test_errors_are_sqlalchemys(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(insert(_ITEMS), VALUES[0])
        with pytest.raises(exc.IntegrityError):
            driver.rows(connection, insert(_ITEMS), {**VALUES[0], "id": 9})
        connection.rollback()
        with pytest.raises(exc.ArgumentError):  # a bind parameter without a value
            driver.rows(connection, select(_C.id).where(_C.id == bindparam("i")), {})


def test_cursor_events_still_fire(engine: Engine) -> None:
    seen: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        with engine.begin() as connection:
            driver.rows(connection, select(_C.id).where(_C.id == bindparam("i")), {"i": 1})
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert any("driver_items" in statement for statement in seen)


@pytest.mark.postgres
def test_a_dropped_connection_is_invalidated(postgres_core: Core) -> None:
    """The server ends the connection mid-transaction (a restart): the error says so and
    the connection is not handed out again."""
    engine = postgres_core.db.engine
    with engine.connect() as victim:
        pid = victim.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
            other.commit()
        with pytest.raises(exc.DBAPIError) as raised:
            driver.rows(victim, select(_C.id), {})
        assert raised.value.connection_invalidated
        assert victim.invalidated


def test_text_and_computed_values_run_through_sqlalchemy(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(insert(_ITEMS), VALUES)
        assert [tuple(r) for r in driver.rows(connection, text("SELECT id FROM driver_items "
                                                                "ORDER BY id"), {})] == [(1,), (2,)]
        turns = iter([1, 2])
        computed = select(_C.id).where(_C.id == bindparam("i", callable_=lambda: next(turns)))
        assert [driver.scalar(connection, computed, {}) for _ in range(2)] == [1, 2]


def test_a_value_its_type_cannot_take_is_a_statement_error(engine: Engine) -> None:
    with engine.begin() as connection, pytest.raises(exc.StatementError):
        driver.rows(connection, select(_C.id).where(_C.at == bindparam("at", type_=DateTime)),
                    {"at": 12})


def test_a_disconnect_marks_the_whole_pool_stale(tmp_path: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """As SQLAlchemy does: after a disconnect (a server restart) no connection made before
    it is handed out again, not only the one that met it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'stale.sqlite3'}")
    try:
        with engine.connect() as other, engine.connect() as failing:
            # the objects themselves (an id could be reused once one is collected)
            old = [other.connection.dbapi_connection, failing.connection.dbapi_connection]
            other.close()  # back in the pool
            monkeypatch.setattr(engine.dialect, "is_disconnect", lambda *_args: True)
            with pytest.raises(exc.DBAPIError) as raised:
                driver.rows(failing, select(_C.id), {})  # no such table: an error
            assert raised.value.connection_invalidated and failing.invalidated
        monkeypatch.undo()
        with engine.connect() as first, engine.connect() as second:  # both pooled records
            handed = [first.connection.dbapi_connection, second.connection.dbapi_connection]
            assert not any(new is made for new in handed for made in old)
    finally:
        engine.dispose()


class _Killed(BaseException):
    """What a killed greenlet or an interrupt raises: not an Exception."""


def test_a_statement_interrupted_leaves_its_connection_unused(engine: Engine) -> None:
    def interrupt(*_args: Any) -> None:
        raise _Killed

    event.listen(engine, "before_cursor_execute", interrupt)
    try:
        with engine.connect() as connection:
            with pytest.raises(_Killed):
                driver.rows(connection, select(_C.id), {})
            assert connection.invalidated
    finally:
        event.remove(engine, "before_cursor_execute", interrupt)


def test_an_event_without_its_office_row_is_not_published(core: Core) -> None:
    from sqlalchemy import delete

    from shared.models import OfficeRow

    with core.db.write() as session:
        session.execute(delete(OfficeRow))
    seen: list[Any] = []
    core.bus.subscribe(seen.append)
    with pytest.raises(exc.NoResultFound), core.change("DPS") as change:
        change.claimed_version = None
        change.emit("announcement", {})
    core.bus.wait_idle()
    assert seen == []
