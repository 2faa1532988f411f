"""One worker per RS-485 bus: the only code that touches the bus's port.

Callers (the event subscriber, the manager) only record what each display should show;
that is a dictionary update under a lock and never waits for the port. The worker's
I/O thread sends what changed, waits for the ACK, resends, notices dead devices and
pulled cables, and reopens the port with backoff. Button presses go to a second thread,
so a slow `call_next` in the service layer never delays the bus.

The worker keeps the *desired* state per address rather than a queue of commands: when
the bus is down for a minute, the displays get the state they should have now, not a
replay of every call they missed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import serial

from .codecs import (
    Ack,
    Blink,
    Clear,
    Codec,
    Command,
    Decoder,
    Message,
    Nak,
    Press,
    Show,
    get_codec,
)
from .settings import BusSettings
from .transport import (
    IDLE_READ_TIMEOUT,
    PORT_ERRORS,
    READ_TIMEOUT,
    can_cancel_read,
    close_quietly,
    open_port,
)

log = logging.getLogger(__name__)

#: on_press(office_id, counter_id, key) with key "next" or "recall".
PressHandler = Callable[[str, str, str], None]


@dataclass
class _Pending:
    """The command on the wire, waiting for its ACK."""

    address: int
    command: Command
    attempts: int
    deadline: float


def _state_of(command: Command) -> tuple[str, bool]:
    """(text, blinking) that a display shows after carrying out `command`."""
    if isinstance(command, Clear):
        return "", False
    return command.text, isinstance(command, Blink)


def _steady(command: Command) -> Command:
    """The command that restores a state without repeating its attention signal.

    A recall blinks once, when it happens; re-sending the state after a reconnect or as
    a refresh must not make a display blink again minutes later.
    """
    return Show(command.address, command.text) if isinstance(command, Blink) else command


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


class BusWorker:
    def __init__(
        self,
        settings: BusSettings,
        on_press: PressHandler,
        *,
        url: str | None = None,
        codec: Codec | None = None,
    ) -> None:
        self.settings = settings
        self.url = url or settings.url
        self._codec = codec or get_codec(settings.codec)
        self._on_press = on_press
        self._lock = threading.Lock()
        self._stop = threading.Event()
        addresses = list(settings.addresses)
        # A display shows whatever it showed before the server started; clearing it at
        # start makes it agree with the queue and, through the ACK, tells health at once
        # which devices are there.
        self._desired: dict[int, Command] = {a: Clear(a) for a in addresses}
        self._dirty: dict[int, None] = dict.fromkeys(addresses)  # ordered set
        self._shown: dict[int, tuple[str, bool]] = {}
        self._responding: dict[int, bool] = {}
        self._last_ack_at: dict[int, float] = {}
        self._last_exchange: dict[int, float] = {}
        self._next_attempt: dict[int, float] = {}
        self._port_open = False
        self._last_error: str | None = None
        self._last_error_at: float | None = None
        self._status: str | None = None
        self._presses: queue.Queue[tuple[int, str] | None] = queue.Queue()
        self._last_press: dict[tuple[int, str], float] = {}
        self._io_thread: threading.Thread | None = None
        self._press_thread: threading.Thread | None = None
        # The open port, when its reads can be cut short: a new command wakes the I/O
        # thread from an idle read through it (see `_wake`).
        self._wakeable: serial.SerialBase | None = None

    # ---- callers' side: never blocks on the port -------------------------------------

    def start(self) -> None:
        if self._io_thread is not None:
            return
        self._stop.clear()
        self._io_thread = threading.Thread(
            target=self._run, name=f"serial-{self.settings.id}", daemon=True
        )
        self._press_thread = threading.Thread(
            target=self._dispatch_presses, name=f"serial-{self.settings.id}-press", daemon=True
        )
        self._press_thread.start()
        self._io_thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake()
        self._presses.put(None)
        for thread in (self._io_thread, self._press_thread):
            if thread is not None:
                thread.join(timeout)
        self._io_thread = self._press_thread = None

    def submit(self, command: Command, *, only_if_showing: str | None = None) -> bool:
        """Record what a display should show next.

        False if the address is not on this bus or the codec cannot send the command.

        With `only_if_showing`, a Clear applies only while the display is meant to show that
        number: an event about an old ticket must not blank the number called after it.
        """
        try:
            # Checked here, on the caller's side: a command the codec cannot encode must
            # be refused now, not fail on the bus thread where it would look like a port
            # error and be retried forever.
            self._codec.encode(command)
        except ValueError as exc:
            log.warning("bus %s: %r refused: %s", self.settings.id, command, exc)
            return False
        with self._lock:
            if command.address not in self._desired:
                log.warning("bus %s: no device at address %d", self.settings.id, command.address)
                return False
            current = self._desired[command.address]
            if (
                only_if_showing is not None
                and isinstance(current, Show | Blink)
                and current.text != only_if_showing
            ):
                return True
            self._desired[command.address] = command
            self._dirty[command.address] = None
        self._wake()
        return True

    def set_state(self, address: int, command: Show | Clear) -> None:
        """Make `command` the display's state unless it already is (a blink in progress
        for the same number stays). Used to restore state from the database."""
        try:
            self._codec.encode(command)
        except ValueError as exc:
            log.warning("bus %s: %r refused: %s", self.settings.id, command, exc)
            return
        with self._lock:
            current = self._desired.get(address)
            if current is None:
                return
            if _state_of(_steady(current)) == _state_of(command):
                # The same state: never blink again, and a start-up Clear stays pending.
                return
            self._desired[address] = command
            self._dirty[address] = None
        self._wake()

    def _wake(self) -> None:
        """End the I/O thread's idle read now: there is something to send (or to stop)."""
        port = self._wakeable
        if port is not None:
            try:
                port.cancel_read()
            except PORT_ERRORS + (AttributeError, TypeError):  # closed under us: it reopens
                pass

    def health(self) -> dict[str, Any]:
        with self._lock:
            displays: dict[str, Any] = {}
            for address, counter in self.settings.addresses.items():
                shown = self._shown.get(address)
                responding = self._responding.get(address)
                displays[str(address)] = {
                    "counter": counter,
                    # ok: answered; not_responding: its last command went unanswered;
                    # unknown: not heard from yet (or a bus whose devices never answer).
                    "state": ("unknown" if responding is None
                              else "ok" if responding else "not_responding"),
                    "text": shown[0] if shown else None,
                    "blink": shown[1] if shown else False,
                    "responding": self._responding.get(address),
                    "pending": address in self._dirty,
                    "last_ack_at": _iso(self._last_ack_at.get(address)),
                }
            last_ack = max(self._last_ack_at.values(), default=None)
            status = self._status_locked()
            return {
                "status": status,
                "alert": status == "down" or any(
                    d["state"] == "not_responding" for d in displays.values()),
                "office": self.settings.office,
                "url": self.url,
                "codec": self.settings.codec,
                "port_open": self._port_open,
                "last_error": self._last_error,
                "last_error_at": _iso(self._last_error_at),
                "last_ack_at": _iso(last_ack),
                "displays": displays,
            }

    @property
    def status(self) -> str:
        with self._lock:
            return self._status_locked()

    def _status_locked(self) -> str:
        if not self._port_open:
            return "down"
        known = list(self._responding.values())
        # One dead display among several is shown per display; the bus is down when
        # nothing on it answers, which is what a broken cable or converter looks like.
        if self.settings.ack_timeout > 0 and known and not any(known):
            return "down"
        return "up"

    # ---- the bus thread ---------------------------------------------------------------

    def _run(self) -> None:
        port: serial.SerialBase | None = None
        decoder = self._codec.decoder()
        pending: _Pending | None = None
        backoff = self.settings.reopen_min
        opened_at = 0.0
        while not self._stop.is_set():
            if port is None:
                try:
                    port = open_port(self.settings, self.url)
                except PORT_ERRORS as exc:
                    self._record_error(f"port tidak bisa dibuka / cannot open port: {exc}")
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self.settings.reopen_max)
                    continue
                opened_at = time.monotonic()
                decoder = self._codec.decoder()
                pending = None
                self._wakeable = port if can_cancel_read(port) else None
                self._opened()
            try:
                pending = self._exchange(port, decoder, pending)
            except PORT_ERRORS as exc:
                self._wakeable = None
                close_quietly(port)
                port = None
                self._record_error(f"port terputus / port lost: {exc}", closed=True)
                # A port that opens and fails at once (a converter refusing us) must not
                # spin; one that served for a while gets the quick first retry again.
                if time.monotonic() - opened_at >= self.settings.reopen_max:
                    backoff = self.settings.reopen_min
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.settings.reopen_max)
        self._wakeable = None
        close_quietly(port)
        with self._lock:
            self._port_open = False

    def _opened(self) -> None:
        with self._lock:
            self._port_open = True
            # The devices may have lost power with the cable: send every known state again.
            for address, command in self._desired.items():
                if address not in self._dirty:
                    self._desired[address] = _steady(command)
                    self._dirty[address] = None
            self._next_attempt.clear()
        log.info("bus %s: port %s terbuka / open", self.settings.id, self.url)
        self._update_status()

    def _exchange(self, port: serial.SerialBase, decoder: Decoder, pending: _Pending | None
                  ) -> _Pending | None:
        if pending is None:
            pending = self._send_next(port)
        # Short reads while an ACK is awaited; long ones on an idle bus that `_wake` can
        # interrupt (a port keeps its timeout until it changes: no reconfiguring per read).
        timeout = (IDLE_READ_TIMEOUT if pending is None and self._wakeable is port
                   else READ_TIMEOUT)
        if port.timeout != timeout:
            port.timeout = timeout
        data = port.read(port.in_waiting or 1)
        if data:
            for message in decoder.feed(data):
                pending = self._handle(port, message, pending)
        if pending is not None and time.monotonic() >= pending.deadline:
            pending = self._timed_out(port, pending)
        return pending

    def _send_next(self, port: serial.SerialBase) -> _Pending | None:
        now = time.monotonic()
        with self._lock:
            # Displays that answer go first; silent ones are probed when nothing else
            # waits, the longest-waiting first, so dead devices can never starve live ones.
            address = next(
                (a for a in self._dirty if self._responding.get(a) is not False), None
            )
            if address is None:
                due = [a for a in self._dirty if self._next_attempt.get(a, 0.0) <= now]
                address = min(due, key=lambda a: self._next_attempt.get(a, 0.0), default=None)
            if address is None:
                address = self._due_for_refresh(now)
                if address is None:
                    return None
            command = self._desired[address]
        self._write(port, command)
        if self.settings.ack_timeout <= 0:
            # Devices that never answer: what was written is taken as shown.
            self._done(command)
            return None
        return _Pending(address, command, 1, now + self.settings.ack_timeout)

    def _due_for_refresh(self, now: float) -> int | None:
        """An idle display whose state is due to be sent again (called under the lock)."""
        interval = self.settings.refresh_interval
        if interval <= 0 or self.settings.ack_timeout <= 0:
            return None
        for address, command in self._desired.items():
            if address in self._dirty:
                continue
            if now - self._last_exchange.get(address, now) >= interval:
                self._last_exchange[address] = now
                self._desired[address] = _steady(command)
                self._dirty[address] = None
                return address
        return None

    def _write(self, port: serial.SerialBase, command: Command) -> None:
        log.debug("bus %s: send %r", self.settings.id, command)
        port.write(self._codec.encode(command))

    def _handle(self, port: serial.SerialBase, message: Message, pending: _Pending | None
                ) -> _Pending | None:
        now = time.monotonic()
        if isinstance(message, Press):
            self._alive(message.address, acked=False)
            last = self._last_press.get((message.address, message.key))
            if last is not None and now - last < self.settings.press_debounce:
                log.info("bus %s: repeated press ignored %r", self.settings.id, message)
                return pending
            self._last_press[(message.address, message.key)] = now
            self._presses.put((message.address, message.key))
            return pending
        if isinstance(message, Ack):
            self._alive(message.address, acked=True)
            if pending is not None and message.address == pending.address:
                self._done(pending.command)
                return None
            return pending
        if isinstance(message, Nak):
            self._alive(message.address, acked=False)
            if pending is None or message.address != pending.address:
                return pending
            if pending.attempts <= self.settings.retries:
                return self._resend(port, pending)
            self._record_error(
                f"alamat {pending.address} menolak {pending.command!r} / "
                f"address {pending.address} refused it"
            )
            # A device that keeps refusing a command will not accept it on the next try
            # either; dropping it keeps the bus free for the other displays.
            with self._lock:
                if self._desired.get(pending.address) == pending.command:
                    self._dirty.pop(pending.address, None)
            return None
        # Show, Blink, Clear: our own frames echoed by a two-wire adapter, or another
        # master on the bus. Neither is ours to act on.
        return pending

    def _timed_out(self, port: serial.SerialBase, pending: _Pending) -> _Pending | None:
        with self._lock:
            silent = self._responding.get(pending.address) is False
        # A device already known to be silent gets one try per probe, not the full
        # retries: each attempt holds the bus, and the other displays are waiting.
        if not silent and pending.attempts <= self.settings.retries:
            return self._resend(port, pending)
        now = time.monotonic()
        with self._lock:
            was = self._responding.get(pending.address)
            self._responding[pending.address] = False
            self._next_attempt[pending.address] = now + self.settings.probe_interval
            self._last_exchange[pending.address] = now
        if was is not False:
            self._record_error(
                f"alamat {pending.address} tidak menjawab / address {pending.address} "
                "does not answer"
            )
        else:
            self._update_status()
        return None

    def _resend(self, port: serial.SerialBase, pending: _Pending) -> _Pending:
        self._write(port, pending.command)
        pending.attempts += 1
        pending.deadline = time.monotonic() + self.settings.ack_timeout
        return pending

    def _done(self, command: Command) -> None:
        with self._lock:
            self._shown[command.address] = _state_of(command)
            self._last_exchange[command.address] = time.monotonic()
            if self._desired.get(command.address) == command:
                self._dirty.pop(command.address, None)

    def _alive(self, address: int, *, acked: bool) -> None:
        with self._lock:
            self._responding[address] = True
            self._next_attempt.pop(address, None)
            self._last_exchange[address] = time.monotonic()
            if acked:
                self._last_ack_at[address] = time.time()
        self._update_status()

    def _record_error(self, message: str, *, closed: bool = False) -> None:
        with self._lock:
            self._last_error = message
            self._last_error_at = time.time()
            if closed:
                self._port_open = False
        self._update_status(message)

    def _update_status(self, reason: str | None = None) -> None:
        """Log up/down transitions once, not every failed attempt of a long outage."""
        with self._lock:
            status = self._status_locked()
            previous, self._status = self._status, status
        if status == previous:
            if reason:
                log.debug("bus %s: %s", self.settings.id, reason)
            return
        if status == "down":
            log.warning("bus %s mati / down: %s", self.settings.id, reason or self._last_error)
        else:
            log.info("bus %s hidup / up", self.settings.id)

    # ---- the press thread -------------------------------------------------------------

    def _dispatch_presses(self) -> None:
        while True:
            item = self._presses.get()
            if item is None:
                return
            address, key = item
            counter = self.settings.addresses.get(address)
            if counter is None:
                log.warning("bus %s: press from unknown address %d ignored",
                            self.settings.id, address)
                continue
            try:
                self._on_press(self.settings.office, counter, key)
            except Exception:  # a failing call must not stop the next press
                log.exception("bus %s: press %s at counter %s failed",
                              self.settings.id, key, counter)
