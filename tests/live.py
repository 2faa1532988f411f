"""A real `giliran serve` in a subprocess, on its own database and port, for the browser,
Socket.IO and fault tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from shared.auth import create_device, create_staff
from shared.bookings import import_rows
from shared.config import load_config
from shared.core import Core
from shared.db import Database, make_engine
from shared.events import EventBus
from shared.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def use_test_secrets() -> None:
    """Fresh signing keys for this test (or bench) process and the servers it starts.

    The repository ships no usable key and the server refuses to start without one, so
    the tests make their own, once per process, unless the environment already has them.
    """
    import secrets

    for name in ("GILIRAN_SECRET_KEY", "GILIRAN_QR_HMAC_KEY"):
        os.environ.setdefault(name, secrets.token_urlsafe(48))


use_test_secrets()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    var: Path
    clock: str
    database_url: str
    port: int = field(default_factory=free_port)
    hardware: bool = True
    config_path: Path = ROOT / "config.toml"
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_says(self, text: str) -> bool:
        """Whether the server's log (warnings and up) has a line with `text` yet."""
        path = self.var / "server.log"
        return path.exists() and text in path.read_text(errors="replace")

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "GILIRAN_VAR": str(self.var),
            "GILIRAN_DATABASE_URL": self.database_url,
            "GILIRAN_CLOCK": self.clock,
            "GILIRAN_CONFIG": str(self.config_path),
            "GILIRAN_LOG_LEVEL": "WARNING",
        })
        env.update(self.extra_env)
        return env

    def core(self) -> Core:
        """A core on the server's database, for preparing data from the test."""
        os.environ["GILIRAN_CLOCK"] = self.clock
        config = load_config(self.config_path)
        engine = make_engine(self.database_url)
        return Core(config, Database(engine), bus=EventBus())

    def prepare(self) -> None:
        upgrade(self.database_url)
        core = self.core()
        core.ensure_offices()
        core.db.engine.dispose()

    def start(self, timeout: float = 20.0) -> None:
        args = [str(BIN / "giliran"), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if not self.hardware:
            args.append("--no-hardware")
        log = (self.var / "server.log").open("ab")
        self.process = subprocess.Popen(args, env=self.env(), cwd=ROOT, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.var / "server.log").read_text()[-3000:])
            try:
                requests.get(f"{self.url}/api/v1/health", timeout=0.5)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("server did not start: " + (self.var / "server.log").read_text())

    def send_signal(self, sig: int) -> None:
        """Send a signal to the server and its workers (gunicorn forks; one process group)."""
        assert self.process is not None
        os.killpg(self.process.pid, sig)

    def close(self) -> None:
        """Stop at the end of a test: gunicorn's quick shutdown (SIGINT). SIGTERM's graceful
        stop waits for the worker's next one-second tick, then up to `graceful_timeout`
        (3 s) for open websockets; a test's teardown checks nothing after it."""
        self.stop(signal.SIGINT)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    # --- data helpers ---------------------------------------------------------------
    def add_bookings(self, rows: list[dict[str, str]]) -> None:
        core = self.core()
        summary = import_rows(core, enumerate(rows, start=1))
        core.db.engine.dispose()
        assert summary.refused_count == 0, summary.refused

    def enrol_url(self, kind: str, device_id: str, office: str = "DPS") -> str:
        core = self.core()
        code = create_device(core, kind, device_id, office)
        core.db.engine.dispose()
        return f"{self.url}/enrol/{device_id}/{code}"

    def staff(self, username: str, password: str, role: str = "officer") -> str:
        core = self.core()
        token = create_staff(core, username, password, role, None, token=True)
        core.db.engine.dispose()
        assert token
        return token
