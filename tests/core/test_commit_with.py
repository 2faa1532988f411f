"""A change's last statements and COMMIT in one round trip (Change.commit_with, PostgreSQL):
committed when it returns, all or nothing, and nothing may be written after it."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, exc, insert, select, text, update

from shared import driver, outbox, visits
from shared.bookings import import_rows
from shared.core import Change, Core
from shared.models import OfficeRow, PrintJob, Ticket, TimelineEntry
from tests.conftest import booking_row

_OFFICES = cast(Table, OfficeRow.__table__)
_NAME = select(_OFFICES.c.name).where(_OFFICES.c.id == bindparam("office"))
_RENAME = (update(_OFFICES).where(_OFFICES.c.id == bindparam("office"))
           .values(name=bindparam("name")))


def _name(core: Core) -> str:
    with core.db.read() as session:
        return str(session.execute(_NAME, {"office": "DPS"}).scalar_one())


def _committed_at_emit(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each change had committed when it emitted its event."""
    seen: list[bool] = []
    emit = Change.emit

    def recording(self: Change, kind: str, ticket: dict[str, Any], **fields: Any) -> None:
        seen.append(self.committed)
        emit(self, kind, ticket, **fields)

    monkeypatch.setattr(Change, "emit", recording)
    return seen


@pytest.mark.postgres
def test_commit_with_commits_before_the_block_ends(postgres_core: Core) -> None:
    with postgres_core.change("DPS") as change:
        driver.rows(change.session, _RENAME, {"office": "DPS", "name": "Kanim Denpasar"})
        assert change.commit_with([(_NAME, {"office": "DPS"})]) == [[("Kanim Denpasar",)]]
        assert change.committed
        assert _name(postgres_core) == "Kanim Denpasar"  # another connection sees it now
    assert _name(postgres_core) == "Kanim Denpasar"


@pytest.mark.postgres
def test_a_failing_last_statement_commits_nothing(postgres_core: Core) -> None:
    before = _name(postgres_core)
    duplicate = insert(_OFFICES).values(id="DPS", name="again", timezone="Asia/Makassar",
                                        version=0)
    with pytest.raises(exc.IntegrityError), postgres_core.change("DPS") as change:
        driver.rows(change.session, _RENAME, {"office": "DPS", "name": "lost"})
        change.commit_with([(duplicate, {})])
    assert _name(postgres_core) == before
    with postgres_core.change("DPS") as change:  # the connection went back to the pool fine
        assert change.commit_with([(_NAME, {"office": "DPS"})]) == [[(before,)]]


@pytest.mark.postgres
def test_nothing_is_written_after_the_commit(postgres_core: Core) -> None:
    postgres_core.printers = frozenset({"kiosk-1"})
    with postgres_core.change("DPS") as change:
        assert change.commit_with([(_NAME, {"office": "DPS"})]) is not None
        change.emit("checked_in", {"id": 1})  # the version the lock claimed: allowed
        with pytest.raises(RuntimeError):
            change.emit("checked_in", {"id": 1})  # a new version would be a write
        with pytest.raises(RuntimeError):
            outbox.request(change, "kiosk-1", "ticket", {"number": "A001"}, None)
    with pytest.raises(RuntimeError), postgres_core.change("DPS") as change:
        change.commit_with([(_NAME, {"office": "DPS"})])
        change.session.add(OfficeRow(id="XYZ", name="x", timezone="Asia/Jakarta",
                                     version=0))
    with postgres_core.db.read() as session:
        assert session.get(OfficeRow, "XYZ") is None


def test_on_sqlite_the_commit_stays_at_the_end(core: Core) -> None:
    with core.change("DPS") as change:
        assert change.commit_with([(_NAME, {"office": "DPS"})]) is None
        assert not change.committed


@pytest.mark.postgres
@pytest.mark.parametrize("printer", [False, True])
def test_a_checkin_commits_with_its_last_write(postgres_core: Core, printer: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With no printer the ticket's statement is the last write, else its print job: on
    PostgreSQL COMMIT travels with it, so the event is emitted after the commit."""
    if printer:
        postgres_core.printers = frozenset({"kiosk-1"})
    import_rows(postgres_core, enumerate([booking_row("COMMIT-1")], start=1))
    seen = _committed_at_emit(monkeypatch)
    result = visits.check_in(postgres_core, "DPS", "COMMIT-1", "kiosk-1")
    assert seen == [True]
    assert result.ticket["number"] == "B001" and result.ticket["position"] == 1
    with postgres_core.db.read() as session:
        assert session.get(Ticket, result.ticket["id"]) is not None
        jobs = session.execute(select(PrintJob)).scalars().all()
    if printer:
        assert result.print is not None and result.print["status"] == "queued"
        (job,) = jobs
        assert job.id == result.print["id"] and job.payload["number"] == "B001"
        assert job.attempts is None and job.ticket_id == result.ticket["id"]
    else:
        assert result.print is None and jobs == []
    again = visits.check_in(postgres_core, "DPS", "COMMIT-1", "kiosk-1")  # a reprint: the same
    assert again.reprint and seen == [True, True]


def test_a_checkin_on_sqlite_commits_at_the_end(core: Core,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import_rows(core, enumerate([booking_row("COMMIT-2")], start=1))
    seen = _committed_at_emit(monkeypatch)
    assert visits.check_in(core, "DPS", "COMMIT-2", "kiosk-1").ticket["position"] == 1
    assert seen == [False]


def _commits(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """The statements each early commit was given."""
    given: list[list[Any]] = []
    original = driver.rows_then_commit

    def recording(session: Any, reads: Any) -> Any:
        found = original(session, reads)
        if found is not None:
            given.append([statement for statement, _values in reads])
        return found

    monkeypatch.setattr(driver, "rows_then_commit", recording)
    return given


@pytest.mark.postgres
def test_a_call_commits_with_its_last_write(postgres_core: Core,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The call and its timeline entry are one statement; COMMIT goes with it, or with it
    and the stored answer of an idempotency key (the answer is known before the call is
    written). Nobody waiting: nothing committed early, and the office's version is given
    back."""
    import_rows(postgres_core, enumerate(
        [booking_row("CALL-01"), booking_row("CALL-02", group="lansia")], start=1))
    for code in ("CALL-01", "CALL-02"):
        visits.check_in(postgres_core, "DPS", code, "kiosk-1")
    commits = _commits(monkeypatch)
    first = visits.call_next(postgres_core, "DPS", "1", "petugas")
    assert first is not None and first["number"] == "P001" and first["status"] == "called"
    assert commits == [[visits._CALL_AND_RECORD]]
    second = visits.call_next(postgres_core, "DPS", "2", "petugas", idempotency_key="k-1")
    assert second is not None and second["number"] == "B001"
    assert commits[1:] == [[visits._CALL_AND_RECORD, visits._REMEMBER_CALLED]]
    assert visits.call_next(postgres_core, "DPS", "2", "petugas", "k-1") == second  # replayed
    with postgres_core.db.read() as session:
        called = session.execute(
            select(TimelineEntry.ticket_id, TimelineEntry.counter, TimelineEntry.staff,
                   TimelineEntry.status, TimelineEntry.detail)
            .where(TimelineEntry.action == "called").order_by(TimelineEntry.id)).all()
    assert [tuple(row) for row in called] == [
        (first["id"], "1", "petugas", "called", {"priority": True}),
        (second["id"], "2", "petugas", "called", {"priority": False})]
    version = postgres_core.office_version("DPS")
    assert visits.call_next(postgres_core, "DPS", "3", "petugas", "k-2") is None
    assert len(commits) == 2 and postgres_core.office_version("DPS") == version


@pytest.mark.postgres
def test_an_action_commits_with_its_timeline_entry(config: Any, postgres_core: Core,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A finish that moves the ticket on: its timeline entry, the count of the tickets
    ahead at the next station and the recent calls the ratio needs, then COMMIT, in one
    round trip; the position is the one counted afterwards."""
    import dataclasses

    postgres_core.config = dataclasses.replace(
        config, policy=dataclasses.replace(config.policy, priority="1:3"))
    import_rows(postgres_core, enumerate(
        [booking_row(f"ACT-0{i}") for i in range(1, 4)], start=1))
    for i in range(1, 4):
        visits.check_in(postgres_core, "DPS", f"ACT-0{i}", "kiosk-1")
    commits = _commits(monkeypatch)
    called = visits.call_next(postgres_core, "DPS", "1", "petugas")
    assert called is not None
    visits.act(postgres_core, called["id"], "start", "petugas", None)
    moved = visits.act(postgres_core, called["id"], "finish", "petugas", None)
    assert moved["status"] == "waiting" and moved["station"] == "wawancara"
    insert_timeline = visits._INSERT_TIMELINE
    assert commits[1] == [insert_timeline]
    assert commits[2][0] is insert_timeline and len(commits[2]) == 3  # count, recent calls
    office = postgres_core.office("DPS")
    with postgres_core.db.read() as session:
        ticket = session.get(Ticket, called["id"])
        assert ticket is not None
        assert moved["position"] == visits.waiting_position(postgres_core, session, office,
                                                            ticket) == 1
        entry = session.execute(select(TimelineEntry.action, TimelineEntry.station,
                                       TimelineEntry.detail)
                                .order_by(TimelineEntry.id.desc()).limit(1)).one()
    assert tuple(entry) == ("moved", "berkas", {"to_station": "wawancara"})


@pytest.mark.postgres
def test_the_slip_commits_with_the_last_finish(postgres_core: Core,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    office = postgres_core.office("DPS")
    foto = next(c.id for c in office.counters.values()
                if "foto" in c.stations and not c.priority_only)
    postgres_core.printers = frozenset({outbox.counter_printer(frozenset(), "DPS", foto)})
    import_rows(postgres_core, enumerate([booking_row("SLIP-01")], start=1))
    ticket = visits.check_in(postgres_core, "DPS", "SLIP-01", "kiosk-1").ticket
    visits.act(postgres_core, ticket["id"], "transfer", "petugas", None, {"station": "foto"})
    called = visits.call_next(postgres_core, "DPS", foto, "petugas")
    assert called is not None and called["id"] == ticket["id"]
    visits.act(postgres_core, ticket["id"], "start", "petugas", None)
    commits = _commits(monkeypatch)
    done = visits.act(postgres_core, ticket["id"], "finish", "petugas", None)
    assert done["status"] == "done"
    assert commits == [[visits._INSERT_TIMELINE, outbox._INSERT_JOB]]
    with postgres_core.db.read() as session:
        (job,) = session.execute(select(PrintJob)).scalars().all()
    assert job.document == "slip" and job.payload["number"] == ticket["number"]


# --- after the early commit ----------------------------------------------------------------
def _drop_after_commit(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server drops the connection right after the early COMMIT (a restart, a network
    cut): the estimate's read of the service times then fails."""
    original = driver.rows_then_commit

    def dropping(session: Any, reads: Any) -> Any:
        found = original(session, reads)
        if found is not None:
            pid = session.connection().connection.driver_connection.info.backend_pid
            with core.db.engine.connect() as other:
                other.execute(text("select pg_terminate_backend(:p)"), {"p": pid})
                other.commit()
        return found

    monkeypatch.setattr(driver, "rows_then_commit", dropping)


def _published(core: Core, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    publish = core.bus.publish
    monkeypatch.setattr(core.bus, "publish",
                        lambda event: (seen.append(event.kind), publish(event)))
    return seen


@pytest.mark.postgres
def test_a_connection_lost_after_the_commit_fails_nothing(
        postgres_core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """What committed stands: the answer and the event go out; the estimate falls back to
    the default mean rather than failing the change."""
    core = postgres_core
    import_rows(core, enumerate([booking_row("LOST-01"), booking_row("LOST-02")], start=1))
    first = visits.check_in(core, "DPS", "LOST-01", "kiosk-1").ticket
    assert visits.call_next(core, "DPS", "1", "petugas") is not None
    visits.act(core, first["id"], "start", "petugas", None)
    core.service_means.clear()  # the estimates read the timeline, after the commit
    _drop_after_commit(core, monkeypatch)
    events = _published(core, monkeypatch)
    moved = visits.act(core, first["id"], "finish", "petugas", None)
    assert (moved["status"], moved["station"], moved["position"]) == ("waiting", "wawancara", 1)
    assert moved["estimated_wait_minutes"] > 0
    core.service_means.clear()
    second = visits.check_in(core, "DPS", "LOST-02", "kiosk-1")
    assert second.ticket["number"] == "B002" and not second.reprint
    assert events == ["moved", "checked_in"]
    with core.db.read() as session:
        assert session.get(Ticket, second.ticket["id"]) is not None


@pytest.mark.postgres
def test_what_was_emitted_before_a_later_failure_is_published(
        postgres_core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _published(postgres_core, monkeypatch)
    with pytest.raises(ZeroDivisionError), postgres_core.change("DPS") as change:
        change.commit_with([(_NAME, {"office": "DPS"})])
        change.emit("checked_in", {"id": 1})
        raise ZeroDivisionError
    assert events == ["checked_in"]


@pytest.mark.postgres
def test_writes_after_the_commit_are_refused(postgres_core: Core) -> None:
    before = _name(postgres_core)
    rename = {"office": "DPS", "name": "outside"}
    with pytest.raises(RuntimeError), postgres_core.change("DPS") as change:
        change.commit_with([(_NAME, {"office": "DPS"})])
        driver.rows(change.session, _RENAME, rename)
    with pytest.raises(RuntimeError), postgres_core.change("DPS") as change:
        change.commit_with([(_NAME, {"office": "DPS"})])
        change.commit_with([(_RENAME, rename)])
    with pytest.raises(RuntimeError), postgres_core.change("DPS") as change:
        row = change.session.get(OfficeRow, "DPS")
        assert row is not None
        change.commit_with([(_NAME, {"office": "DPS"})])
        row.name = "flushed"
        driver.rows(change.session, _NAME, {"office": "DPS"})  # a read would flush it
    assert _name(postgres_core) == before
    with postgres_core.change("DPS") as change:  # reads after the commit are fine
        change.commit_with([(_NAME, {"office": "DPS"})])
        assert driver.rows(change.session, _NAME, {"office": "DPS"}) == [(before,)]


class _Killed(BaseException):
    """What gevent raises in a killed greenlet (GreenletExit is a BaseException)."""


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["sending", "leaving the lock's", "leaving the commit's"])
def test_a_greenlet_killed_in_the_pipeline_stays_killed(
        postgres_core: Core, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """A kill while the pipeline is open: the kill goes on (not a database error, which
    would be a 503) and the connection, in an unknown state, is not used again. Killed
    while psycopg waits to leave pipeline mode, its exit then fails with "cannot exit
    pipeline mode while busy", which would hide the kill."""
    import psycopg

    execute, pipeline = driver._execute, psycopg.Connection.pipeline
    calls = [0]

    def killed_on_the_second(*args: Any) -> None:
        calls[0] += 1
        if calls[0] == 2:
            raise _Killed()
        execute(*args)

    class Leaving:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __enter__(self) -> Any:
            return self.inner.__enter__()

        def __exit__(self, *failed: Any) -> None:
            try:
                raise _Killed()
            except _Killed:
                self.inner.__exit__(*failed)
                raise psycopg.OperationalError("cannot exit pipeline mode while busy")  # noqa: B904

    pipelines = [0]

    def counted(self: Any) -> Any:
        pipelines[0] += 1
        killed = pipelines[0] == (1 if where == "leaving the lock's" else 2)
        return Leaving(pipeline(self)) if killed else pipeline(self)

    if where == "sending":
        monkeypatch.setattr(driver, "_execute", killed_on_the_second)
    else:
        monkeypatch.setattr(psycopg.Connection, "pipeline", counted)
    with pytest.raises(_Killed), postgres_core.change("DPS") as change:
        change.commit_with([(_NAME, {"office": "DPS"}), (_NAME, {"office": "DPS"})])
    assert pipelines[0] == (0 if where == "sending" else 1 if "lock" in where else 2)
    monkeypatch.setattr(driver, "_execute", execute)
    monkeypatch.setattr(psycopg.Connection, "pipeline", pipeline)
    for _ in range(3):  # the pool hands out sound connections
        with postgres_core.change("DPS") as change:
            assert change.commit_with([(_NAME, {"office": "DPS"})]) is not None


@pytest.mark.parametrize("backend",
                         ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_call_answers_what_it_wrote(backend: str, core: Core,
                                      request: pytest.FixtureRequest) -> None:
    """A call's answer (and the stored answer an idempotency key replays) is built before
    the call is written, from the ticket's row read under the lock: it must be the
    ticket as the database then holds it."""
    target = core if backend == "sqlite" else request.getfixturevalue("postgres_core")
    import_rows(target, enumerate([booking_row("SAME-01", group="lansia"),
                                   booking_row("SAME-02", "07:00", "08:00")], start=1))
    for code in ("SAME-01", "SAME-02"):
        visits.check_in(target, "DPS", code, "kiosk-1")
    for counter, key in (("1", "k-1"), ("2", None)):
        called = visits.call_next(target, "DPS", counter, "petugas", key)
        assert called is not None and called["status"] == "called"
        assert visits.get_ticket(target, called["id"], None) == called
        if key is not None:
            assert visits.call_next(target, "DPS", counter, "petugas", key) == called


@pytest.mark.parametrize("backend",
                         ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_call_that_did_not_happen_stores_and_announces_nothing(
        backend: str, core: Core, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer travels with the call and COMMIT: should the head not be waiting any
    more when the call is written (nothing under the office's lock allows it), no answer
    is stored for the key to replay and no `called` goes out."""
    from shared.models import IdempotencyKey

    target = core if backend == "sqlite" else request.getfixturevalue("postgres_core")
    import_rows(target, enumerate([booking_row("GONE-01")], start=1))
    visits.check_in(target, "DPS", "GONE-01", "kiosk-1")
    call = visits._call

    def taken_meanwhile(core_: Core, change: Change, head: Any, *args: Any) -> Any:
        change.session.execute(update(Ticket).where(Ticket.id == head.id)
                               .values(status="held"))
        return call(core_, change, head, *args)

    monkeypatch.setattr(visits, "_call", taken_meanwhile)
    target.bus.wait_idle(5)  # the check-in's event delivered
    seen: list[Any] = []
    target.bus.subscribe(seen.append)
    with pytest.raises(RuntimeError):
        visits.call_next(target, "DPS", "1", "petugas", "k-gone")
    target.bus.wait_idle(5)
    assert [event.kind for event in seen] == []
    with target.db.read() as session:
        assert session.execute(select(IdempotencyKey)).scalars().all() == []
