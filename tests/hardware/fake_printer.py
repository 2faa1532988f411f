"""A network ESC/POS printer on 127.0.0.1 for tests: records jobs, answers DLE EOT.

Modes: "online", "paper_near_end", "paper_out", "no_status" (prints but never answers
DLE EOT, like many cheap printers), all switchable at any time; and "silent":
a printer that never accepts a connection, so a client's connect hangs until its
timeout. Silent is chosen at start, because it is made by never calling accept on a
listener whose one-place backlog is already taken.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

# (DLE EOT 1 printer status, DLE EOT 2 offline cause, DLE EOT 4 paper sensor), as an
# Epson TM printer answers them.
STATUS_BYTES = {
    "online": (0x12, 0x12, 0x12),
    "paper_near_end": (0x12, 0x12, 0x1E),
    "paper_out": (0x1A, 0x32, 0x7E),
}


class FakeNetworkPrinter:
    def __init__(self, mode: str = "online") -> None:
        self.mode = mode
        self.answer_delay = 0.0  # seconds before each status answer (a slow clone, Wi-Fi)
        self.jobs: list[bytes] = []  # what each connection sent, status queries removed
        self.status_queries = 0  # DLE EOT queries seen, answered or not
        self.connections = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._plug: socket.socket | None = None
        if mode == "silent":
            # Linux queues one connection with a backlog of 0; taking that place ourselves
            # makes every further SYN go unanswered.
            self._server.listen(0)
            self._plug = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        else:
            self._server.listen(8)
            self._server.settimeout(0.1)
            thread = threading.Thread(target=self._accept_loop, daemon=True)
            thread.start()
            self._threads.append(thread)

    @property
    def url(self) -> str:
        return f"network://127.0.0.1:{self.port}"

    def set_mode(self, mode: str) -> None:
        if mode not in STATUS_BYTES and mode != "no_status":
            raise ValueError(f"mode {mode!r} cannot be switched to at run time")
        self.mode = mode

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, connection: socket.socket) -> None:
        received = bytearray()
        scanned = 0
        connection.settimeout(0.1)
        with connection:
            while not self._stopped.is_set():
                try:
                    chunk = connection.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                received += chunk
                # Real-time commands are answered wherever they appear in the stream.
                while (found := received.find(b"\x10\x04", scanned)) != -1:
                    if found + 2 >= len(received):
                        break
                    self._answer(connection, received[found + 2])
                    scanned = found + 3
                else:
                    scanned = max(scanned, len(received) - 2)
            job = bytes(received)
            while job.startswith(b"\x10\x04") and len(job) >= 3:
                job = job[3:]
            if job:
                with self._lock:
                    self.jobs.append(job)

    def _answer(self, connection: socket.socket, function: int) -> None:
        with self._lock:
            self.status_queries += 1
        if self.mode == "no_status":
            return
        printer, cause, paper = STATUS_BYTES.get(self.mode, STATUS_BYTES["online"])
        answer = {1: printer, 2: cause, 4: paper}.get(function)
        if answer is None:
            return
        if self.answer_delay:
            time.sleep(self.answer_delay)
        with contextlib.suppress(OSError):
            connection.sendall(bytes([answer]))

    def close(self) -> None:
        self._stopped.set()
        if self._plug is not None:
            self._plug.close()
        self._server.close()
        for thread in self._threads:
            thread.join(timeout=1)
