"""The core object every surface holds: configuration, database, clock and event bus."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from shared import driver
from shared.account_cache import AccountCache
from shared.clock import Clock, local_date, to_local
from shared.config import Config, Office
from shared.db import BUMP_VERSION, Database, Read, make_engine
from shared.errors import Refusal
from shared.events import EventBus, RedisEventBus, TicketEvent
from shared.green import give_way
from shared.lifecycle import CALL_EVENTS
from shared.models import OfficeRow
from shared.ordering import Rules
from shared.presence import Presence

# The office's event version is raised once per event (shared.db.BUMP_VERSION, a Core
# statement built once); a claimed version no event used is given back.
_OFFICES = cast(Table, OfficeRow.__table__)
_RETURN_VERSION = (update(_OFFICES).where(_OFFICES.c.id == bindparam("office"))
                   .values(version=_OFFICES.c.version - 1))


@dataclass
class Change:
    """What one write transaction did, published once it committed."""

    office: str
    now: datetime
    session: Session
    events: list[TicketEvent] = field(default_factory=list)
    version: int = 0
    printers: frozenset[str] = frozenset()
    # Print jobs queued in this transaction and not yet named by an event (shared.outbox).
    print_jobs: list[str] = field(default_factory=list)
    # A service ended in this transaction (a finish or a move): the office's cached mean
    # service times are dropped once it commits (Core.service_means).
    service_ended: bool = False
    # PostgreSQL: the version the office-row lock already raised, for the first event
    # (Database.write with claim_version); given back before commit if no event used it.
    claimed_version: int | None = None
    # The rows of the `first` and `then` reads given to Core.change, read right after the
    # lock.
    first_rows: list[Any] = field(default_factory=list)
    then_rows: list[Any] = field(default_factory=list)

    @property
    def committed(self) -> bool:
        """The transaction already committed with its last statements (commit_with)."""
        return bool(self.session.info.get(driver.COMMITTED))

    def commit_with(self, reads: list[Read]) -> list[list[Any]] | None:
        """Run these statements as the transaction's last and commit with them in one
        round trip (PostgreSQL; shared.driver.rows_then_commit); None, with nothing run,
        where that cannot be done. After it, this change writes nothing more: its events
        may only use the version its lock claimed."""
        return driver.rows_then_commit(self.session, reads)

    def run(self, reads: list[Read], last: bool) -> list[list[Any]]:
        """Run these statements in the change's transaction, their rows; with `last` (the
        change writes nothing after them) as its last, with COMMIT where commit_with can."""
        results = self.commit_with(reads) if last else None
        if results is None:
            results = [driver.rows(self.session, *read) for read in reads]
        return results

    def emit(self, kind: str, ticket: dict[str, Any], **fields: Any) -> None:
        # Every event gets its own version: boards detect a gap and ask for a snapshot.
        if self.print_jobs:
            # The printer's process learns of the jobs from the event (shared.outbox).
            fields["detail"] = {**fields.get("detail", {}), "print_jobs": self.print_jobs}
            self.print_jobs = []
        if self.claimed_version is not None:
            self.version, self.claimed_version = self.claimed_version, None
        else:
            if self.committed:
                raise RuntimeError("an event after the change's commit needs the version "
                                   "its lock claimed")
            version = driver.scalar(self.session, BUMP_VERSION, {"office": self.office})
            if version is None:  # no row for the office: nothing may be published
                raise NoResultFound(f"office {self.office} has no row")
            self.version = version
        self.events.append(TicketEvent(self.office, self.version, kind, ticket, **fields))


class Core:
    def __init__(
        self,
        config: Config,
        db: Database | None = None,
        clock: Clock | None = None,
        bus: EventBus | None = None,
    ) -> None:
        self.config = config
        self.db = db or Database(make_engine())
        self.clock = clock or Clock.from_env(config.default_office.tz)
        if bus is None:
            redis_url = os.environ.get("GILIRAN_REDIS_URL")
            bus = RedisEventBus(redis_url) if redis_url else EventBus()
        self.bus = bus
        # The ids of the configured printers, given by the hardware at start-up in every
        # process (shared.outbox queues print jobs only for these).
        self.printers: frozenset[str] = frozenset()
        # What /api/v1/health adds per room: each returns (fields to merge, healthy?).
        self.health_checks: list[Callable[[], tuple[dict[str, Any], bool]]] = []
        # What a live table a room owns means when a key is left out (table -> key ->
        # value), given by that room at registration: the admin console shows it beside
        # the keys the configuration sets (the display room gives [announce]'s).
        self.table_defaults: dict[str, dict[str, Any]] = {}
        # (office, station) -> (mean service minutes, time.monotonic() when read): the
        # estimate printed at check-in reads it instead of two timeline queries inside the
        # office's lock (shared.visits.estimate_for).
        self.service_means: dict[tuple[str, str], tuple[float, float]] = {}
        # ticket id -> its office, as read before an action takes the office's lock
        # (shared.visits._office_of_ticket; a ticket never changes office).
        self.ticket_offices: dict[int, str] = {}
        # Where staff work, written after their requests (shared.presence).
        self.presence = Presence(self.db)
        # Who holds a token or a staff session, kept while PostgreSQL's notifications
        # are heard (shared.account_cache; nothing is kept on SQLite).
        self.accounts = AccountCache(self.db.engine)

    def close(self) -> None:
        """Stop this core's background work (the event bus, the account listener)."""
        self.accounts.close()
        self.bus.close()

    # --- offices and time -------------------------------------------------------------
    def office(self, office_id: str) -> Office:
        office = self.config.offices.get(office_id)
        if office is None:
            raise Refusal(404, "unknown_office", "Unknown office {office}.", office=office_id)
        return office

    def now(self) -> datetime:
        return self.clock.now()

    def local_now(self, office: Office) -> datetime:
        return to_local(self.now(), office.tz)

    def today(self, office: Office) -> date:
        return local_date(self.now(), office.tz)

    def rules(self, policy: str = "slot", office: str | None = None) -> Rules:
        p = self.config.policy_for(office)
        return Rules(max_wait_minutes=p.max_wait_minutes, priority_ratio=p.priority_ratio,
                     policy=policy)

    # --- transactions ------------------------------------------------------------------
    @contextmanager
    def change(self, office_id: str, first: Read | None = None,
               then: Read | None = None, commit: bool = False) -> Iterator[Change]:
        """One write transaction for an office; its events are published after commit.

        `first`: a read the change starts with (a Core statement and its values), run
        right after the office's lock and given as `change.first_rows` (on PostgreSQL it
        travels with the lock in one round trip: Database.write); `then`, a second read,
        the same way (`change.then_rows`). With `commit`, those two are the change's last
        statements and COMMIT travels with them where it can (`change.committed` says
        whether it did; Database.write)."""
        with self.db.office_lock(office_id):
            change: Change | None = None
            try:
                with self.db.write(office_id, claim_version=True, first=first,
                                   then=then, commit=commit) as session:
                    change = Change(office_id, self.now(), session, printers=self.printers,
                                    claimed_version=session.info.pop("claimed_version", None),
                                    first_rows=session.info.pop("first_rows", []),
                                    then_rows=session.info.pop("then_rows", []))
                    yield change
                    if change.claimed_version is not None and not change.committed:
                        # no event: no new version (after an early commit, a version
                        # without an event is a gap the boards fill with a snapshot)
                        session.execute(_RETURN_VERSION, {"office": office_id})
            except BaseException:
                # A change that committed early (commit_with) and failed afterwards
                # still happened: what it emitted is published before the error goes on.
                if change is not None and change.committed:
                    self._published(change)
                raise
            self._published(change)
        if any(event.kind in CALL_EVENTS for event in change.events):
            # A call: the boards get it before this request builds and writes its own
            # answer. The first pass runs the dispatcher, which emits `called` and so
            # wakes each board's websocket writer; the second lets those writers send
            # (woken after this request, they would otherwise wait for its answer:
            # about 1 ms of every call's way to the board, docs/benchmarks.md).
            # Not after other changes: at a burst of check-ins, waking the dispatcher
            # for each costs more than it saves (it takes them in batches otherwise).
            give_way(passes=2)

    def _published(self, change: Change) -> None:
        """After a change's commit: drop what it made stale, publish its events."""
        if change.service_ended:
            self.forget_service_means(change.office)
        for event in change.events:
            self.bus.publish(event)

    @contextmanager
    def change_all(self) -> Iterator[list[Change]]:
        """One write transaction for every office at once (a change of the global
        configuration): each office's lock in a fixed order, one Change per office on the
        same session; their events are published after commit."""
        offices = sorted(self.config.offices)
        with ExitStack() as stack:
            for office in offices:
                stack.enter_context(self.db.office_lock(office))
            with self.db.write() as session:
                changes = [Change(office, self.now(), session, printers=self.printers)
                           for office in offices]
                yield changes
            for change in changes:
                if change.service_ended:
                    self.forget_service_means(change.office)
                for event in change.events:
                    self.bus.publish(event)

    def forget_service_means(self, office_id: str) -> None:
        for key in [key for key in self.service_means if key[0] == office_id]:
            self.service_means.pop(key, None)

    def ensure_offices(self) -> None:
        """Load the live configuration (seeded from the file into an empty database, the
        database's afterwards: shared/live_config.py), then create or refresh the rows of
        its offices."""
        from shared.live_config import bootstrap

        bootstrap(self)
        with self.db.write() as session:
            for office in self.config.offices.values():
                row = session.get(OfficeRow, office.id)
                if row is None:
                    session.add(OfficeRow(id=office.id, name=office.name,
                                          timezone=office.timezone, version=0))
                else:
                    row.name, row.timezone = office.name, office.timezone

    def office_version(self, office_id: str) -> int:
        with self.db.read() as session:
            version = session.execute(
                select(OfficeRow.version).where(OfficeRow.id == office_id)
            ).scalar_one_or_none()
        return version or 0
