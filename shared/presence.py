"""Where staff work: noted on their requests, written after the answer, in the background.

A supervisor's staff list shows who is logged in where ("counter 3", seen 2 minutes ago).
The request that tells us (a call at a counter) must not pay for that write: it is noted
in memory and a background thread writes what was noted in one transaction, at most
FLUSH_EVERY seconds later. Reading presence (`read`) writes what is pending first, so a
list is never older than the requests that came before it in this process.

Per person, a move to another place is written (at most once per FLUSH_EVERY, the
latest place wins); staying at one place is written at most once a minute (SEEN_EVERY).
So the list shows where each person was last, even one account calling from several
counters (a shared token).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, func, select, update

from shared.db import Database
from shared.models import Staff

log = logging.getLogger(__name__)

SEEN_EVERY = timedelta(seconds=60)  # how often a person's presence at one place is written
FLUSH_EVERY = 1.0                   # seconds between background writes while staff work
IDLE_STOP = 30.0                    # the writer thread ends after this long with nothing noted

_STAFF = cast(Table, Staff.__table__)
_S = _STAFF.c
_WRITE = (update(_STAFF).where(_S.username == bindparam("who"))
          .values(last_seen_at=bindparam("at"), last_seen_ip=bindparam("ip"),
                  # a request that names no place keeps the place written before
                  last_seen_where=func.coalesce(bindparam("where", type_=String),
                                                _S.last_seen_where)))


class Presence:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[datetime, str | None, str | None]] = {}
        self._seen: dict[tuple[str, str | None], datetime] = {}
        self._where: dict[str, str] = {}  # username -> the place last noted
        self._thread: threading.Thread | None = None

    def note(self, username: str, at: datetime, address: str | None,
             where: str | None) -> None:
        """Staff member `username` was at `where` now (cheap: a dictionary update).
        `where` None: a request that names no place (a page's polling); it is a use of
        the account all the same (shared.auth.ended_among), and the place stays."""
        with self._lock:
            if where is None:
                where = self._where.get(username)
            last = self._seen.get((username, where))
            moved = self._where.get(username) != where
            if not moved and last is not None and at - last < SEEN_EVERY:
                return
            if len(self._seen) > 10000:
                self._seen.clear()
                self._where.clear()
            self._seen[(username, where)] = at
            if where is not None:
                self._where[username] = where
            self._pending[username] = (at, (address or "")[:64] or None, where)
            if self._thread is None or not self._thread.is_alive():
                self._start_writer()

    def flush(self) -> None:
        """Write what was noted and not yet written (one transaction)."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return
        try:
            with self._db.write() as session:
                session.execute(_WRITE, [{"who": who, "at": at, "ip": ip, "where": where}
                                         for who, (at, ip, where) in batch.items()])
        except Exception:  # a database hiccup loses a "last seen", never a request
            log.warning("staff presence not written (%d people)", len(batch), exc_info=True)

    def read(self) -> dict[str, tuple[Any, Any, Any]]:
        """username -> (last seen at, where, address), after writing what is pending."""
        self.flush()
        with self._db.read() as session:
            rows = session.execute(
                select(_S.username, _S.last_seen_at, _S.last_seen_where, _S.last_seen_ip)
                .where(_S.last_seen_at.is_not(None))).all()
        return {r.username: (r.last_seen_at, r.last_seen_where, r.last_seen_ip) for r in rows}

    def _run(self) -> None:
        idle = 0.0
        while idle < IDLE_STOP:
            time.sleep(FLUSH_EVERY)  # a greenlet's sleep under gevent
            with self._lock:
                busy = bool(self._pending)
            idle = 0.0 if busy else idle + FLUSH_EVERY
            self.flush()
        with self._lock:
            self._thread = None
            if self._pending:  # noted while this thread was ending: start a new one
                self._start_writer()

    def _start_writer(self) -> None:
        """(Under the lock.) The background writer; it ends after IDLE_STOP quiet."""
        self._thread = threading.Thread(target=self._run, name="giliran-presence", daemon=True)
        self._thread.start()
