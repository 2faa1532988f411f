"""Core statements run on the driver's cursor: the hot paths' statements without
SQLAlchemy's per-execution work.

A statement executed by SQLAlchemy costs 30-45 µs of Python on top of the database's own
time (an execution context, the parameters built again, the result's metadata, the
ORM's layer when it goes through a session). Calling next runs eight statements, so that
was a fifth of the request (docs/benchmarks.md, sixth round). Here a Core statement is
compiled once per dialect and set of value keys; each run only converts the values with
the same bind processors SQLAlchemy would use, executes on the DBAPI cursor of the
connection the transaction already holds, and converts the returned columns with the
result processors. So the SQL, the types and the transaction are SQLAlchemy's; only the
repeated work is skipped.

What it does not do, and where it hands the statement back to SQLAlchemy: statements with
an expanding IN list, and INSERT or UPDATE statements that leave a column with a Python-
side default or onupdate to SQLAlchemy (it would have to compute those). Errors are
raised as SQLAlchemy raises them (`sqlalchemy.exc.IntegrityError` and the like); when the
server dropped the connection, it and every pooled connection made before are not used
again, as SQLAlchemy does. The engine's cursor events still fire when something listens
to them (tests count statements that way). Also left to SQLAlchemy: text() statements,
bind values computed per execution, and columns whose result processor needs the
driver's type (numerics on psycopg).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Compiled:
    """A statement as the driver runs it."""

    sql: str
    # (bind key, name the SQL uses, fixed value when the caller gives none, processor)
    binds: tuple[tuple[str, str, Any, Callable[[Any], Any] | None], ...]
    positional: bool
    row: Any  # the namedtuple class of a returned row, None without columns
    results: tuple[Callable[[Any], Any] | None, ...]


_REQUIRED = object()  # a bind parameter without a value of its own

#: Marks a pooled PostgreSQL connection whose transaction shared.db began itself, with
#: BEGIN in the lock's pipeline (the connection is in psycopg's autocommit meanwhile).
BEGUN_IN_PIPELINE = "giliran_begun_in_pipeline"
#: Marks a session whose transaction rows_then_commit already committed.
COMMITTED = "giliran_committed"

#: (statement, value keys, dialect name) -> compiled, or None: run by SQLAlchemy.
_CACHE: dict[tuple[Any, tuple[str, ...], str], Compiled | None] = {}


def rows(target: Session | Connection, statement: Any, values: dict[str, Any]) -> list[Any]:
    """Run `statement` with `values` in the transaction of `target` (a session is flushed
    first, as SQLAlchemy's autoflush would); its rows as named tuples."""
    if isinstance(target, Session):
        if target.info.get(COMMITTED):
            _refuse_writes(target, statement)
        target.flush()
        connection = target.connection()
    else:
        connection = target
    compiled = prepare(statement, values, connection.dialect)
    if compiled is None:
        result = connection.execute(statement, values)
        return list(result.all()) if result.returns_rows else []
    return _run(connection, compiled, values)


def scalar(target: Session | Connection, statement: Any, values: dict[str, Any]) -> Any:
    """The first column of the first row, or None."""
    found = rows(target, statement, values)
    return found[0][0] if found else None


def rows_then_commit(session: Session, reads: Sequence[tuple[Any, dict[str, Any]]]
                     ) -> list[list[Any]] | None:
    """PostgreSQL: run `reads` (statements and their values) as the transaction's last
    statements and COMMIT in the same round trip (psycopg's pipeline mode); the rows of
    each. The office's lock is then held for one round trip less.

    None, with nothing run, where that cannot be done (SQLite, a transaction SQLAlchemy
    began, a statement left to SQLAlchemy): the caller runs them as usual, and the
    transaction commits at its end. After a commit here the session's transaction is over
    (`session.info[COMMITTED]`); what SQLAlchemy's own commit does at the end of the block
    is then a no-op (psycopg sends nothing when the server has no transaction open), and
    the caller must write nothing more: a later write through this module, or an ORM
    change left for a flush, is refused with RuntimeError (shared.core.Change refuses
    its own)."""
    if session.info.get(COMMITTED):
        raise RuntimeError("the transaction already committed (driver.rows_then_commit)")
    session.flush()
    connection = session.connection()
    fairy = connection.connection
    if not fairy.info.get(BEGUN_IN_PIPELINE):
        return None
    dialect = connection.dialect
    runs = []
    for statement, values in reads:
        compiled = prepare(statement, values, dialect)
        if compiled is None:
            return None
        runs.append((compiled, _given(compiled, values)))
    raw = fairy.driver_connection
    assert raw is not None
    dbapi = dialect.loaded_dbapi
    cursors: list[Any] = []
    try:
        with raw.pipeline():
            for compiled, given in runs:
                cursor = raw.cursor()
                _execute(connection, cursor, compiled.sql, given)
                cursors.append(cursor)
            raw.execute("COMMIT")
    except dbapi.Error as error:
        interrupted = error.__context__
        if interrupted is not None and not isinstance(interrupted, Exception):
            # A greenlet killed while the pipeline waited: psycopg's exit from pipeline
            # mode then fails too and hides it. The connection's state is unknown (the
            # COMMIT may have run): never use it again, and let the kill go on.
            connection.invalidate(interrupted)
            raise interrupted from None
        # Nothing after the failed statement ran (the pipeline stops there) and the
        # transaction is aborted: the session's rollback ends it.
        _raise(connection, error, None,
               ("; ".join(compiled.sql for compiled, _given_values in runs), None))
    except BaseException as error:
        if not isinstance(error, Exception):
            connection.invalidate(error)
        raise
    session.info[COMMITTED] = True
    return [convert(compiled, cursor.fetchall() if cursor.description is not None else [])
            for (compiled, _given_values), cursor in zip(runs, cursors, strict=True)]


def _refuse_writes(session: Session, statement: Any) -> None:
    """After rows_then_commit a write would run outside any transaction: refuse it."""
    if getattr(statement, "is_dml", False) or session.new or session.dirty or session.deleted:
        raise RuntimeError("a write after the transaction's commit "
                           "(driver.rows_then_commit)")


def prepare(statement: Any, values: dict[str, Any], dialect: Dialect) -> Compiled | None:
    """`statement` compiled for `dialect` and these value keys (once), or None when
    SQLAlchemy must run it (an expanding IN list, a Python-side default)."""
    key = (statement, tuple(values), dialect.name)
    try:
        return _CACHE[key]
    except KeyError:
        compiled = _CACHE[key] = _compile(statement, tuple(values), dialect)
        return compiled


def parameters(compiled: Compiled, values: dict[str, Any]) -> Any:
    """The driver's parameters: converted by the bind processors, in its paramstyle."""
    converted = []
    for key, _name, fixed, processor in compiled.binds:
        value = values.get(key, fixed)
        if value is _REQUIRED:
            raise exc.ArgumentError(f"A value is required for bind parameter {key!r}")
        converted.append(value if processor is None else processor(value))
    if compiled.positional:
        return tuple(converted)
    return {name: value for (_k, name, _f, _p), value in zip(compiled.binds, converted,
                                                              strict=True)}


def convert(compiled: Compiled, fetched: Sequence[Any]) -> list[Any]:
    """The driver's rows as named tuples, converted by the result processors."""
    if compiled.row is None:
        return []
    make, results = compiled.row._make, compiled.results
    if not any(results):
        return [make(found) for found in fetched]
    return [make([value if process is None else process(value)
                  for process, value in zip(results, found, strict=True)])
            for found in fetched]


def _compile(statement: Any, keys: tuple[str, ...], dialect: Dialect) -> Compiled | None:
    if getattr(statement, "exported_columns", None) is None:
        return None  # not a SELECT, INSERT, UPDATE or DELETE (text(), ...)
    is_dml = getattr(statement, "is_dml", False)
    compiled = statement.compile(dialect=dialect, column_keys=list(keys) if is_dml else None)
    if "POSTCOMPILE" in compiled.string:
        return None  # an expanding IN list: SQLAlchemy renders it per execution
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        return None  # a Python-side default SQLAlchemy computes per execution
    if getattr(compiled, "escaped_bind_names", None):
        return None  # bind names the SQL spells differently
    names = compiled.positiontup if compiled.positional else list(compiled.bind_names.values())
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    binds = []
    for name in names:
        bind = by_name[name]
        if bind.callable is not None:
            return None  # a value computed at each execution
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        fixed = _REQUIRED if bind.required else bind.effective_value
        binds.append((bind.key, name, fixed, processor))
    columns = list(statement.exported_columns.items())
    row: Any = None
    results: list[Callable[[Any], Any] | None] = []
    if columns:
        row = _row_class([name for name, _column in columns])
        try:
            results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                       for _name, column in columns]
        except TypeError:  # a processor that needs the driver's column type (numerics)
            return None
    return Compiled(compiled.string, tuple(binds), bool(compiled.positional), row,
                    tuple(results))


def _row_class(names: list[str]) -> Any:
    return namedtuple("Row", names, rename=True)  # type: ignore[misc]


def _given(compiled: Compiled, values: dict[str, Any]) -> Any:
    try:
        return parameters(compiled, values)
    except exc.ArgumentError:
        raise
    except Exception as error:  # a value its type cannot take, as SQLAlchemy says it
        raise exc.StatementError(f"({type(error).__name__}) {error}", compiled.sql, values,
                                 error) from error


def _execute(connection: Connection, cursor: Any, sql: str, given: Any) -> None:
    """cursor.execute, with the engine's cursor events around it when something listens."""
    listening = bool(connection.dispatch.before_cursor_execute
                     or connection.dispatch.after_cursor_execute)
    if listening:
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, sql, given, None, False)
    cursor.execute(sql, given)
    if listening:
        for listener in connection.dispatch.after_cursor_execute:
            listener(connection, cursor, sql, given, None, False)


def _raise(connection: Connection, error: Any, cursor: Any,
           run: tuple[str, Any]) -> NoReturn:
    """A driver error as SQLAlchemy raises it. When the server dropped the connection, it
    and every connection of the pool made before this moment are stale (a server
    restart), as SQLAlchemy does."""
    fairy = connection.connection
    dropped = connection.dialect.is_disconnect(error, fairy.dbapi_connection, cursor)
    if dropped:
        connection.engine.pool._invalidate(fairy, error)
        connection.invalidate(error)
    sql, given = run
    raise exc.DBAPIError.instance(sql, given, error,
                                  connection.dialect.loaded_dbapi.Error,
                                  connection_invalidated=dropped,
                                  dialect=connection.dialect) from error


def _run(connection: Connection, compiled: Compiled, values: dict[str, Any]) -> list[Any]:
    given = _given(compiled, values)
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    dbapi = connection.dialect.loaded_dbapi
    cursor = None
    try:
        cursor = dbapi_connection.cursor()
        _execute(connection, cursor, compiled.sql, given)
        fetched = cursor.fetchall() if cursor.description is not None else []
        cursor.close()
    except dbapi.Error as error:
        _raise(connection, error, cursor, (compiled.sql, given))
    except BaseException as error:
        if not isinstance(error, Exception):
            # A greenlet killed or interrupted mid-statement: the connection's state is
            # unknown, so it is not used again (as SQLAlchemy does).
            connection.invalidate(error)
        raise
    return convert(compiled, fetched)
