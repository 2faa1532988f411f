"""Who holds a token or a staff session, remembered per process on PostgreSQL.

Every request says who is asking (a bearer token, a device cookie or a staff session),
and on PostgreSQL reading that from the database is a round trip per request, one more
wake-up of a server process on a machine whose cores are shared. So each server process
remembers the answer, and forgets everything it remembered when the database says an
account or a device changed:

- triggers on `staff` and `devices` (migration 0008; `create_all` installs them too)
  send `NOTIFY giliran_accounts` when a column that decides access changes: a token, a
  role, an office, `active`, `session_generation`, `revoked_at`, or a row comes or goes.
  Whoever writes (this process, another one, the CLI, `psql`), every listening process
  hears it when the change commits;
- each process keeps one extra connection that LISTENs. An answer is remembered only
  while that connection is listening, and only if no notification arrived while it was
  read (a generation count), so a read that saw the old row before a revocation
  committed is never kept after it;
- when the listening connection is lost (a database restart, a network drop) the
  process forgets everything and reads every request from the database until it
  listens again. Every `CHECK_EVERY` seconds the listener asks the server whether its
  connection still listens on the channel (a connection pooler in transaction mode
  would not); an answer not heard for `SILENT_AFTER` seconds counts as lost (a
  connection hanging on a dead network), and so does a listener that stopped;
- an answer is kept at most `MAX_AGE` seconds anyway, and at most `KEPT` of them.

A revocation therefore reaches every process with the notification's delivery (the tests
allow a second between two server processes) instead of at the next request's read. On
SQLite the lookup is a local read, not a round trip: nothing is remembered there.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Hashable
from typing import Any

from sqlalchemy import DDL, Engine, MetaData, event

log = logging.getLogger(__name__)

CHANNEL = "giliran_accounts"
#: Seconds an answer is kept even if nothing is heard.
MAX_AGE = 60.0
#: Answers kept per process (all are forgotten when full).
KEPT = 20_000
#: How long the listener waits for a notification before it checks its connection.
POLL_SECONDS = 1.0
#: How often the listener asks the server whether its connection still listens.
CHECK_EVERY = 2.0
#: Without an answer to that for this long, nothing is kept (the listener hangs).
SILENT_AFTER = 5.0
#: How long the listener waits before it connects again after losing its connection.
RETRY_SECONDS = 1.0

#: The listening connection's application_name.
LISTENER_NAME = "giliran accounts listener"
_FUNCTION = "giliran_accounts_changed"
#: The columns whose change can change who a token or session is, or whether it works.
#: (The triggers also fire on TRUNCATE.)
WATCHED = {
    "staff": ("username", "role", "office_id", "api_token_hash", "active",
              "session_generation"),
    "devices": ("id", "kind", "office_id", "token_hash", "revoked_at"),
}
TRIGGERS = {table: f"{table}_{_FUNCTION}" for table in WATCHED}


def trigger_statements() -> list[str]:
    """The SQL that installs the notifying triggers (PostgreSQL only; idempotent)."""
    statements = [
        f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"
    ]
    for table, columns in WATCHED.items():
        statements.append(f"DROP TRIGGER IF EXISTS {TRIGGERS[table]} ON {table}")
        statements.append(
            f"CREATE TRIGGER {TRIGGERS[table]} AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE "
            f"OF {', '.join(columns)} ON {table} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {_FUNCTION}()")
    return statements


def drop_statements() -> list[str]:
    return [*(f"DROP TRIGGER IF EXISTS {TRIGGERS[table]} ON {table}" for table in WATCHED),
            f"DROP FUNCTION IF EXISTS {_FUNCTION}()"]


def install_on_create(metadata: MetaData) -> None:
    """`metadata.create_all` on PostgreSQL installs the triggers too (tests, demo)."""
    for statement in trigger_statements():
        event.listen(metadata, "after_create",
                     DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql"))


class AccountCache:
    """Answers of the per-request lookups, kept while the database's notifications are
    heard (see the module's text). `get`, `stamp` and `put` are called by the lookups in
    shared.auth; an answer read under a stamp is kept only if the stamp still holds."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.enabled = engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._generation = 0
        self._listening = False
        self._proved = 0.0  # time.monotonic() of the listener's last answered check
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        """The listener listens and answered its last check in time."""
        return self._listening and time.monotonic() - self._proved < SILENT_AFTER

    def get(self, key: Hashable) -> Any | None:
        """The kept answer, or None (read it from the database)."""
        if not self.enabled:
            return None
        if not self.listening:
            self._start()
            return None
        found = self._entries.get(key)
        if found is None or time.monotonic() - found[0] > MAX_AGE:
            return None
        return found[1]

    def stamp(self) -> int | None:
        """Taken before a lookup reads the database; None when nothing may be kept."""
        return self._generation if self.enabled and self.listening else None

    def put(self, key: Hashable, value: Any, stamp: int | None) -> None:
        """Keep an answer read under `stamp`, unless something changed since."""
        if stamp is None:
            return
        with self._guard:
            if stamp != self._generation or not self.listening:
                return
            if len(self._entries) >= KEPT:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), value)

    def replace(self, key: Hashable, old: Any, new: Any) -> None:
        """Update a kept answer in place (a device's last use), only if it is still the
        very answer `old`: a change heard meanwhile removed it, and a newer answer read
        since must not be overwritten by one from before the change."""
        with self._guard:
            found = self._entries.get(key)
            if found is not None and found[1] is old:
                self._entries[key] = (found[0], new)

    def forget_all(self) -> None:
        with self._guard:
            self._generation += 1
            self._entries.clear()

    def close(self) -> None:
        self._stopping.set()
        self._lost()

    # --- the listener ---------------------------------------------------------------
    def _start(self) -> None:
        with self._guard:
            if self._stopping.is_set() or (self._thread is not None
                                           and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=_listen, args=(weakref.ref(self),),
                                            name="giliran-accounts", daemon=True)
        self._thread.start()

    def _connect(self) -> Any:
        dialect = self._engine.dialect
        args, params = dialect.create_connect_args(self._engine.url)
        params["application_name"] = LISTENER_NAME  # as pg_stat_activity shows it
        # A dead network is noticed by TCP within seconds, not the kernel's minutes.
        params.update(connect_timeout=5, keepalives=1, keepalives_idle=5,
                      keepalives_interval=2, keepalives_count=3, tcp_user_timeout=10_000)
        connection = dialect.connect(*args, **params)
        connection.autocommit = True
        return connection

    def _heard(self) -> None:
        self.forget_all()

    def _listens(self) -> bool:
        """The listener's connection listens now: answers may be kept (unless closed)."""
        with self._guard:
            if self._stopping.is_set():
                return False
            self._generation += 1
            self._entries.clear()
            self._proved = time.monotonic()
            self._listening = True
            return True

    def _lost(self) -> None:
        self._listening = False
        self.forget_all()


def triggers_present(connection: Any) -> bool:
    """Both notifying triggers exist, enabled, on this database's tables (migrated to
    0008)."""
    row = connection.execute(
        "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' AND "
        "(tgrelid, tgname) IN ((to_regclass('staff'), %s), (to_regclass('devices'), %s))",
        [TRIGGERS["staff"], TRIGGERS["devices"]]).fetchone()
    return bool(row) and int(row[0]) == len(TRIGGERS)


_STILL_LISTENING = f"SELECT 1 FROM pg_listening_channels() AS c WHERE c = '{CHANNEL}'"


def _listen(ref: weakref.ref[AccountCache]) -> None:
    """The listener's loop. It holds the cache only weakly: a cache nobody uses any more
    (a test's Core) ends its listener and its connection."""
    while True:
        cache = ref()
        if cache is None or cache._stopping.is_set():
            return
        connection = None
        try:
            connection = cache._connect()
            if not triggers_present(connection):
                log.warning("the account triggers are missing (run `giliran migrate`): "
                            "who is asking is read from the database at every request")
                cache.enabled = False
                return
            connection.execute(f"LISTEN {CHANNEL}")
            if not cache._listens():
                return
            del cache
            checked = time.monotonic()
            while True:
                cache = ref()
                if cache is None or cache._stopping.is_set():
                    return
                for _notice in connection.notifies(timeout=POLL_SECONDS):
                    cache._heard()  # at once: a revocation must not wait for the poll
                if time.monotonic() - checked >= CHECK_EVERY:
                    if connection.execute(_STILL_LISTENING).fetchone() is None:
                        raise RuntimeError("the connection no longer listens")
                    checked = cache._proved = time.monotonic()
                del cache
        except Exception as error:
            cache = ref()
            if cache is None:
                return
            if cache._listening:
                log.warning("lost the database's account notifications (%s); reading who "
                            "is asking at every request until they are heard again", error)
            cache._lost()
            stopping = cache._stopping
            del cache
            stopping.wait(RETRY_SECONDS)
        finally:
            # However the loop ended (even by GreenletExit at shutdown): nothing is kept
            # without a listener. A later lookup starts a new one.
            cache = ref()
            if cache is not None:
                cache._lost()
            del cache
            if connection is not None:
                with contextlib.suppress(Exception):  # already gone
                    connection.close()
