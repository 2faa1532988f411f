"""Real PostgreSQL and Redis servers for the tests, started privately on free ports.

`make test` installs the Debian packages when they are missing; these helpers start a
throw-away cluster and a Redis server per test session (per xdist worker) and stop them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live import free_port


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass
class Postgres:
    directory: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def start(cls) -> Postgres:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not candidates:
            raise RuntimeError("PostgreSQL is not installed: run `make services` (apt-get)")
        bindir = Path(candidates[-1]).parent
        directory = Path(tempfile.mkdtemp(prefix="giliran-pg-"))
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        data = directory / "data"
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True)
        server = cls(directory, free_port(), bindir)
        server.pg_ctl("start", "-w", "-l", str(directory / "log"), "-o",
                      f"-p {server.port} -k {directory} -c listen_addresses=127.0.0.1 "
                      "-c fsync=off -c max_connections=300")
        return server

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres([str(self.bindir / "pg_ctl"), "-D",
                                     str(self.directory / "data"), *args]),
                       check=True, capture_output=True)

    def restart(self) -> None:
        self.pg_ctl("restart", "-w", "-m", "fast")

    def stop_server(self) -> None:
        self.pg_ctl("stop", "-w", "-m", "fast")

    def start_server(self) -> None:
        self.pg_ctl("start", "-w", "-l", str(self.directory / "log"), "-o",
                    f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c max_connections=300")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def stop(self) -> None:
        try:
            self.stop_server()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class Redis:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, port: int | None = None) -> Redis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("Redis is not installed: run `make services` (apt-get)")
        port = port or free_port()
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return cls(process, port)
            except redis.ConnectionError:
                time.sleep(0.05)
        process.kill()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP port that takes every connection and never answers: a Redis that hangs
    (frozen, or a network that drops its answers). Yields the port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # taken, never answered
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        listener.close()
