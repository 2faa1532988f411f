"""Who is asking, remembered per process on PostgreSQL (shared.account_cache): kept while
the database's notifications are heard, forgotten at every change of an account or a
device, whoever writes it, and never kept past a change that happened while it was read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine

from shared import account_cache
from shared.account_cache import AccountCache, triggers_present
from shared.auth import (
    create_device,
    create_staff,
    enrol_device,
    principal_for_token,
    revoke_device,
    set_role,
    staff_principal,
)
from shared.core import Core
from tests.scaleout.helpers import wait_for

pytestmark = pytest.mark.postgres


def _listening(core: Core) -> None:
    """Start the listener (a lookup does) and wait until it listens."""
    core.accounts.get(("nobody",))
    wait_for(lambda: core.accounts.listening, 5.0, "the listener never listened")


@contextmanager
def _other_writer(core: Core) -> Iterator[psycopg.Connection[Any]]:
    """Another process's connection (the CLI, psql): it knows nothing of this Core."""
    url = core.db.engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as c:
        yield c


def _no_database(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> None:
        raise AssertionError("read from the database")

    monkeypatch.setattr(core.db, "connect", refused)


def _device(core: Core) -> str:
    code = create_device(core, "kiosk", "kiosk-cache", "DPS")
    return enrol_device(core, "kiosk-cache", code)[1]


@pytest.fixture
def core(postgres_core: Core) -> Core:
    return postgres_core


def test_a_token_is_read_once_while_notifications_are_heard(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _device(core)
    _listening(core)
    first = principal_for_token(core, token, "10.0.0.5")
    assert first is not None and first.role == "kiosk"
    _no_database(core, monkeypatch)
    assert principal_for_token(core, token, "10.0.0.5") == first


def test_a_revocation_by_another_process_ends_the_token_at_once(core: Core) -> None:
    token = _device(core)
    _listening(core)
    assert principal_for_token(core, token) is not None
    with _other_writer(core) as other:
        other.execute("UPDATE devices SET token_hash = NULL, revoked_at = now() "
                      "WHERE id = 'kiosk-cache'")
    wait_for(lambda: principal_for_token(core, token) is None, 2.0, "still admitted")


def test_this_process_revoking_forgets_at_once(core: Core) -> None:
    token = _device(core)
    _listening(core)
    assert principal_for_token(core, token) is not None
    revoke_device(core, "kiosk-cache")
    assert principal_for_token(core, token) is None  # not waiting for the notification


def test_a_changed_role_and_an_ended_session_are_seen(core: Core) -> None:
    token = create_staff(core, "ayu", "rahasia-123", "officer", "DPS", token=True)
    assert token is not None
    _listening(core)
    first = principal_for_token(core, token)
    assert first is not None and first.role == "officer"
    assert staff_principal(core, "ayu", 0) is not None
    set_role(core, "ayu", "supervisor", "DPS")
    assert getattr(principal_for_token(core, token), "role", "") == "supervisor"
    with _other_writer(core) as other:
        other.execute("UPDATE staff SET session_generation = 1 WHERE username = 'ayu'")
    wait_for(lambda: staff_principal(core, "ayu", 0) is None, 2.0, "session lived on")
    assert staff_principal(core, "ayu", 1) is not None


def test_a_device_last_use_write_notifies_nobody(core: Core) -> None:
    """Written once a minute per device: it must not make every process forget."""
    token = _device(core)
    with _other_writer(core) as listener:
        listener.execute(f"LISTEN {account_cache.CHANNEL}")
        assert principal_for_token(core, token, "10.0.0.5") is not None  # writes its last use
        with _other_writer(core) as other:  # a marker, after the write in commit order
            other.execute("SELECT pg_notify(%s, 'marker')", [account_cache.CHANNEL])
        heard = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    assert heard == ["marker"]


def test_an_answer_read_across_a_change_is_not_kept(core: Core) -> None:
    _listening(core)
    stamp = core.accounts.stamp()
    core.accounts.forget_all()  # a notification heard while the row was read
    core.accounts.put(("token", "x"), "old row", stamp)
    assert core.accounts.get(("token", "x")) is None


def test_losing_the_listener_forgets_and_reads_until_it_listens_again(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(account_cache, "RETRY_SECONDS", 0.2)
    token = _device(core)
    _listening(core)
    assert principal_for_token(core, token) is not None
    with _other_writer(core) as other:
        # Revoke with the triggers off (nothing is notified), and cut the listener.
        other.execute("ALTER TABLE devices DISABLE TRIGGER USER")
        other.execute("UPDATE devices SET token_hash = NULL WHERE id = 'kiosk-cache'")
        other.execute("ALTER TABLE devices ENABLE TRIGGER USER")
        other.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = %s AND datname = current_database()",
                      [account_cache.LISTENER_NAME])
    # The kept answer is forgotten when the listener is lost: the next lookup reads.
    wait_for(lambda: principal_for_token(core, token) is None, 3.0, "still admitted")
    wait_for(lambda: core.accounts.listening, 5.0, "never listened again")


def test_without_the_triggers_nothing_is_kept(
        postgres_core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    engine: Engine = postgres_core.db.engine
    with engine.begin() as connection:
        for statement in account_cache.drop_statements():
            connection.exec_driver_sql(statement)
    cache = AccountCache(engine)
    try:
        cache.get(("x",))
        wait_for(lambda: not cache.enabled, 5.0, "kept answers without triggers")
        assert cache.stamp() is None
    finally:
        cache.close()


def test_sqlite_keeps_nothing(tmp_path: Any) -> None:
    from sqlalchemy import create_engine

    cache = AccountCache(create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    assert not cache.enabled and cache.stamp() is None and cache.get(("x",)) is None


def test_triggers_are_installed_by_create_all(core: Core) -> None:
    with _other_writer(core) as other:
        assert triggers_present(other)


def test_a_last_use_write_never_puts_back_an_answer_from_before_a_change(
        core: Core) -> None:
    _listening(core)
    stamp = core.accounts.stamp()
    old = ("device", "office X")
    core.accounts.put(("token", "d"), old, stamp)
    core.accounts.forget_all()  # a change heard; a newer answer read since
    newer = ("device", "office Y")
    core.accounts.put(("token", "d"), newer, core.accounts.stamp())
    core.accounts.replace(("token", "d"), old, ("device", "office X", "seen now"))
    assert core.accounts.get(("token", "d")) is newer


def test_a_listener_that_stops_answering_keeps_nothing(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    _listening(core)
    monkeypatch.setattr(account_cache, "SILENT_AFTER", 0.0)  # its last check is too old
    assert not core.accounts.listening and core.accounts.stamp() is None
    core.accounts.put(("token", "x"), "row", 0)
    assert core.accounts.get(("token", "x")) is None


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_listener_that_died_is_started_again(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _device(core)
    _listening(core)
    heard = AccountCache._heard
    deaths: list[bool] = []

    def dying(self: AccountCache) -> None:
        if not deaths:
            deaths.append(True)
            raise SystemExit  # not an Exception: ends the listener's thread
        heard(self)

    monkeypatch.setattr(AccountCache, "_heard", dying)
    assert principal_for_token(core, token) is not None
    with _other_writer(core) as other:
        other.execute("UPDATE devices SET kind = 'display' WHERE id = 'kiosk-cache'")
    wait_for(lambda: bool(deaths) and not core.accounts.listening, 2.0, "still trusted")
    assert getattr(principal_for_token(core, token), "role", "") == "display"
    # The next lookup after the old listener ended starts a new one (requests keep
    # coming; a lookup made while the old one was still closing its connection does not).
    wait_for(lambda: core.accounts.get(("nobody",)) is None and core.accounts.listening,
             5.0, "no new listener")


def test_truncate_is_heard(core: Core) -> None:
    token = _device(core)
    _listening(core)
    assert principal_for_token(core, token) is not None
    with _other_writer(core) as other:
        other.execute("TRUNCATE devices CASCADE")
    wait_for(lambda: principal_for_token(core, token) is None, 2.0, "still admitted")


def test_disabled_triggers_count_as_missing(core: Core) -> None:
    with _other_writer(core) as other:
        assert triggers_present(other)
        other.execute("ALTER TABLE staff DISABLE TRIGGER USER")
        assert not triggers_present(other)


def test_a_revocation_on_the_bus_forgets_too(core: Core) -> None:
    """Through Redis the control event can come before PostgreSQL's notification: a
    dropped connection that reconnects at once must be read from the database."""
    from shared.app import create_app
    from shared.events import ControlEvent

    create_app(core=core)
    _listening(core)
    core.accounts.put(("token", "x"), "row", core.accounts.stamp())
    core.bus.publish_control(ControlEvent("revoked", "device:kiosk-1"))
    assert core.bus.wait_idle()
    assert core.accounts.get(("token", "x")) is None
