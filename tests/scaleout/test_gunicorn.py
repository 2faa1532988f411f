"""The production launch: gunicorn (one gevent worker) serving shared.wsgi:app, with a
board on Socket.IO over websocket and a counter calling through REST."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.live import BIN, ROOT, LiveServer, free_port
from tests.scaleout.helpers import CLOCK, Board, bearer, device_token, wait_for


def test_gunicorn_serves_a_board_and_the_api(tmp_path: Path) -> None:
    server = LiveServer(var=tmp_path, clock=CLOCK,
                        database_url=f"sqlite:///{tmp_path / 'giliran.sqlite3'}")
    server.prepare()
    board_token = device_token(server, "display", "papan-1")
    officer = bearer(server.staff("petugas", "pw"))
    port = free_port()
    env = server.env()
    env.update({"GILIRAN_BIND": f"127.0.0.1:{port}", "GILIRAN_CONNECTIONS": "64",
                "GILIRAN_HARDWARE": "0"})
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                                "shared.wsgi:app"], env=env, cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert requests.get(f"{url}/api/v1/health", timeout=1).status_code == 200
                break
            except requests.RequestException:
                assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        board = Board(url, board_token).connect()
        try:
            assert board.client.transport() == "websocket"
            walkin = requests.post(f"{url}/api/v1/walkins", json={"service": "paspor-baru"},
                                   headers=officer, timeout=10)
            assert walkin.status_code == 201
            called = requests.post(f"{url}/api/v1/counters/1/next", headers=officer,
                                   timeout=10)
            assert called.status_code == 200
            wait_for(lambda: board.numbers() == [called.json()["ticket"]["number"]], 10,
                     "the board behind gunicorn got no call")
        finally:
            board.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@pytest.mark.postgres
def test_processes_starting_together_migrate_through_the_concurrent_index_builds(
        postgres: object, tmp_path: Path) -> None:
    """Two `giliran serve` processes started together on a PostgreSQL database that still
    has migrations 0007 and 0010 to run (built with CREATE INDEX CONCURRENTLY). Such a
    build waits until every older transaction and statement has ended. When the
    migration lock was held inside a transaction, and the other process waited for it
    inside a statement, the build waited for them and they for it: neither process ever
    answered."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text

    from shared.migrate import alembic_config
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    url = postgres.create_database("start_from_0006")
    command.upgrade(alembic_config(url), "0006")
    servers = [LiveServer(var=tmp_path / name, clock=CLOCK, database_url=url, hardware=False)
               for name in ("a", "b")]
    processes = []
    for server in servers:
        server.var.mkdir()
        log = (server.var / "server.log").open("wb")
        processes.append(subprocess.Popen(
            [str(BIN / "giliran"), "serve", "--host", "127.0.0.1", "--port", str(server.port),
             "--no-hardware"], env=server.env(), cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True))
    try:
        for server, process in zip(servers, processes, strict=True):
            def answers(server: LiveServer = server, process: Any = process) -> bool:
                assert process.poll() is None, (server.var / "server.log").read_text()
                try:
                    return requests.get(f"{server.url}/api/v1/health", timeout=1).ok
                except requests.RequestException:
                    return False
            wait_for(answers, 60, f"{server.url} never answered: "
                     + (server.var / "server.log").read_text()[-2000:])
        engine = create_engine(url)
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            valid = connection.execute(text(
                "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname LIKE 'ix_ticket_waiting%' AND i.indisvalid")).scalar()
        engine.dispose()
        assert version == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert valid == 2
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=20)
