"""PostgreSQL connections: no ping at every checkout (a round trip inside the office's
lock), a ping for a connection that sat idle, and a write that heals after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

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
def test_a_write_after_a_restart_uses_a_new_connection(postgres: object,
                                                        postgres_core: Core) -> None:
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    before = _write(postgres_core)  # a pooled connection, used a moment ago
    postgres.stop_server()
    postgres.start_server()
    # The pooled connection is dead and recent (no ping): the lock statement meets the
    # dropped connection, and the write is retried once on a new connection.
    assert _write(postgres_core) == before
