"""Two production processes (gunicorn, gevent) on PostgreSQL remember who holds a token
(shared.account_cache), and a change made anywhere else, by the CLI of a third process
that publishes nothing on Redis, or by psql, reaches them when it commits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from shared.account_cache import LISTENER_NAME
from shared.auth import revoke_device
from tests.live import LiveServer
from tests.scaleout.helpers import bearer, device_token, pg_redis_pair, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def pair(postgres: object, redis_server: object, tmp_path: Path,
         request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from pg_redis_pair(postgres, redis_server, tmp_path, request, "acc_",
                             hardware=(False, False))


def _psql(server: LiveServer, statement: str) -> list[tuple[object, ...]]:
    url = server.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_a_revocation_elsewhere_ends_a_remembered_token_on_both(
        pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    board = bearer(device_token(b, "display", "papan-1"))
    for server in (a, b):
        for _ in range(2):  # the second answer comes from what the process remembers
            assert requests.get(f"{server.url}/api/v1/board/DPS", headers=board,
                                timeout=10).status_code == 200
    # Each worker listens, under gevent, on its own connection.
    wait_for(lambda: len(_psql(a, "SELECT pid FROM pg_stat_activity WHERE application_name"
                               f" = '{LISTENER_NAME}' AND datname = current_database()")) == 2,
             10, "both processes listen for account changes")

    core = a.core()  # like `giliran device revoke` in a third process, no Redis
    try:
        revoke_device(core, "papan-1")
    finally:
        core.db.engine.dispose()
    for server in (a, b):
        wait_for(lambda s=server: requests.get(f"{s.url}/api/v1/board/DPS", headers=board,
                                               timeout=10).status_code == 401,
                 1.0, f"the revoked board was still admitted by {server.url}")


def test_a_role_changed_in_psql_applies_at_once(pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    officer = bearer(a.staff("petugas", "pw"))
    audit = f"{b.url}/api/v1/audit?office=DPS"
    assert requests.get(audit, headers=officer, timeout=10).status_code == 403
    assert requests.get(audit, headers=officer, timeout=10).status_code == 403
    _psql(b, "UPDATE staff SET role = 'admin' WHERE username = 'petugas'")
    wait_for(lambda: requests.get(audit, headers=officer, timeout=10).status_code == 200,
             1.0, "the new role was not seen")
    _psql(b, "UPDATE staff SET active = false WHERE username = 'petugas'")
    wait_for(lambda: requests.get(audit, headers=officer, timeout=10).status_code == 401,
             1.0, "the disabled account's token still worked")
