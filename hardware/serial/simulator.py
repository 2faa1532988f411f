"""A simulated RS-485 bus for development: LED displays and call buttons on a pty.

`url = "sim://"` in config.toml gives the bus a pseudo-terminal pair. The worker opens
the slave side with `serial_for_url` exactly as it would open /dev/ttyUSB0, so the whole
real path (codec, ACK handling, reopen) runs in development; this class plays every
configured device on the master side.

The worker is given a symlink to the slave rather than the /dev/pts path itself, so that
`unplug()` / `plug()` can replace the pty (a new /dev/pts number) the way pulling and
re-plugging a USB adapter does, and the worker finds it again under the same name.
"""

from __future__ import annotations

import collections
import logging
import os
import select
import shutil
import tempfile
import threading
import time
import tty
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .codecs import KEYS, Ack, Blink, Clear, Codec, Press, Show

log = logging.getLogger(__name__)

#: How often the simulated devices look at plug/unplug and stop requests while the line is
#: quiet (bytes on the line wake them at once). Long enough that an idle simulated bus
#: costs the server next to nothing.
_POLL = 0.2


@dataclass(frozen=True)
class DisplayState:
    text: str = ""
    blink: bool = False
    changed_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        changed = self.changed_at
        return {
            "text": self.text,
            "blink": self.blink,
            "changed_at": None if changed is None
            else datetime.fromtimestamp(changed, UTC).isoformat(timespec="seconds"),
        }


class SimulatedBus:
    """Every device of one bus, answering on the master side of a pseudo-terminal."""

    def __init__(self, bus_id: str, codec: Codec, addresses: Mapping[int, str]) -> None:
        self.bus_id = bus_id
        self.codec = codec
        self.addresses = dict(addresses)  # device address -> counter id, for the page
        self._displays = {address: DisplayState() for address in self.addresses}
        self._history: collections.deque[dict[str, Any]] = collections.deque(maxlen=50)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._directory: str | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._want_plugged = True
        #: False makes every device ignore commands, like a bus whose devices lost power.
        self.answering = True

    @property
    def path(self) -> str:
        """The name the worker opens (a symlink to the current pty slave)."""
        if self._directory is None:
            raise RuntimeError("simulator not started")
        return os.path.join(self._directory, self.bus_id)

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._directory = tempfile.mkdtemp(prefix="giliran-sim-")
        self._stop.clear()
        self._plug()
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.bus_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        self._unplug()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def unplug(self) -> None:
        """Pull the cable: the worker's port fails, and reopening fails until plug()."""
        self._want_plugged = False

    def plug(self) -> None:
        """Plug a cable back in (a new pty behind the same name)."""
        self._want_plugged = True

    def press(self, address: int, key: str) -> None:
        """A button press at `address`; key is "next" or "recall"."""
        if address not in self.addresses:
            raise KeyError(address)
        if key not in KEYS:
            raise ValueError(f"unknown key {key!r}")
        log.info("simulator %s: tombol %s ditekan di alamat %d / button %s pressed at "
                 "address %d", self.bus_id, key, address, key, address)
        self._send(self.codec.encode(Press(address, key)))

    def displays(self) -> dict[int, DisplayState]:
        with self._lock:
            return dict(self._displays)

    def state(self) -> dict[str, Any]:
        with self._lock:
            displays = {
                str(address): {"counter": self.addresses[address], **state.as_dict()}
                for address, state in self._displays.items()
            }
            history = list(self._history)
        return {
            "codec": self.codec.name,
            "path": self.path if self._directory else None,
            "plugged": self.plugged,
            "answering": self.answering,
            "displays": displays,
            "history": history,
        }

    # ---- the device side --------------------------------------------------------------

    def _plug(self) -> None:
        master, slave = os.openpty()
        # Raw from the first byte: a pty starts in cooked mode (echo, line editing), which
        # would reflect our frames back and swallow bytes until the worker configures it.
        tty.setraw(slave)
        link = self.path
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.ttyname(slave), link)
        # Holding the slave open keeps the pty alive while the worker reconnects;
        # otherwise closing the worker's port would hang up the master.
        self._master, self._slave = master, slave

    def _unplug(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        if self._directory is not None and os.path.lexists(self.path):
            os.unlink(self.path)

    def _send(self, data: bytes) -> None:
        with self._write_lock:
            if self._master is None:
                log.warning("simulator %s: kabel dicabut / cable unplugged, press lost",
                            self.bus_id)
                return
            os.write(self._master, data)

    def _run(self) -> None:
        decoder = self.codec.decoder()
        while not self._stop.is_set():
            # Plugging happens on this thread only, so no read ever races a closed fd.
            if self._want_plugged != self.plugged:
                with self._write_lock:
                    if self._want_plugged:
                        self._plug()
                    else:
                        self._unplug()
                decoder = self.codec.decoder()
            master = self._master
            if master is None:
                self._stop.wait(_POLL)
                continue
            try:
                ready, _, _ = select.select([master], [], [], _POLL)
                data = os.read(master, 1024) if ready else b""
            except OSError:
                # No one holds the slave; nothing to read until the worker reopens it.
                self._stop.wait(_POLL)
                continue
            for message in decoder.feed(data):
                if isinstance(message, Show | Blink | Clear):
                    self._command(message)

    def _command(self, command: Show | Blink | Clear) -> None:
        address = command.address
        if address not in self.addresses or not self.answering:
            return  # no device there (or it is off): silence, as on a real bus
        if isinstance(command, Clear):
            state = DisplayState("", False, time.time())
        else:
            state = DisplayState(command.text, isinstance(command, Blink), time.time())
        with self._lock:
            changed = (self._displays[address].text, self._displays[address].blink) != (
                state.text, state.blink)
            self._displays[address] = state
            if changed:
                self._history.appendleft({"address": address, **state.as_dict()})
        if changed:
            counter = self.addresses[address]
            if not state.text:
                log.info("simulator %s: layar %d (loket %s) kosong / display %d (counter %s) "
                         "blank", self.bus_id, address, counter, address, counter)
            else:
                blink = (" berkedip", " blinking") if state.blink else ("", "")
                log.info("simulator %s: layar %d (loket %s) menampilkan %s%s / display %d "
                         "(counter %s) shows %s%s", self.bus_id, address, counter, state.text,
                         blink[0], address, counter, state.text, blink[1])
        self._send(self.codec.encode(Ack(address)))
