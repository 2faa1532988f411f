"""The production launch: gunicorn (one gevent worker) serving shared.wsgi:app, with a
board on Socket.IO over websocket and a counter calling through REST."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

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
