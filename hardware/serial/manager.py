"""Every serial bus of the process: ticket events in, button presses out.

The manager decides nothing about the queue. It turns committed `TicketEvent`s into
what each counter's LED display should show, and hands button presses to `on_press`,
which the application wires to the service layer (`call_next`, `recall`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from shared import lifecycle
from shared.events import EventBus, TicketEvent

from .codecs import Blink, Clear, Show, display_text, get_codec
from .settings import BusSettings
from .simulator import SimulatedBus
from .worker import BusWorker, PressHandler

log = logging.getLogger(__name__)

#: Events after which a counter no longer serves the ticket, so its display goes blank.
CLEARING_KINDS = frozenset(lifecycle.LEAVES_COUNTER_EVENTS)


#: (office id, counter id) -> the number that counter has called now (from the database).
CurrentNumbers = Callable[[], dict[tuple[str, str], str]]


class BusManager:
    """Starts one worker per configured bus, and a simulator for each `sim://` bus.

    With `current`, the displays are set from the database when the buses start and
    again before every refresh (each bus's `refresh_interval_ms`), so a restart or a
    missed event never leaves a display blank, or "clear" sent again, while its counter
    has a called ticket.
    """

    def __init__(
        self,
        buses: list[BusSettings],
        event_bus: EventBus,
        on_press: Callable[[str, str, str], None],
        current: CurrentNumbers | None = None,
    ) -> None:
        self._event_bus = event_bus
        self._on_press: PressHandler = on_press
        self._current = current
        # Held while the database is read and the result applied, and while an event is
        # applied: an event committed after the read is applied after it, never undone.
        self._sync_lock = threading.Lock()
        self._resync_stop = threading.Event()
        self._resync_thread: threading.Thread | None = None
        intervals = [b.refresh_interval for b in buses if b.refresh_interval > 0]
        self._resync_interval = min(intervals, default=0.0)
        self.simulators: dict[str, SimulatedBus] = {}
        self.workers: dict[str, BusWorker] = {}
        self._started = False
        for bus in buses:
            codec = get_codec(bus.codec)
            if bus.simulated:
                self.simulators[bus.id] = SimulatedBus(bus.id, get_codec(bus.codec),
                                                       bus.addresses)
            self.workers[bus.id] = BusWorker(bus, on_press, codec=codec)

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        for bus_id, simulator in self.simulators.items():
            simulator.start()
            self.workers[bus_id].url = simulator.path
        self._event_bus.subscribe(self.handle_event)
        self.resync()  # before the first frame: the displays show the calls at once
        for worker in self.workers.values():
            worker.start()
        if self._current is not None and self._resync_interval > 0:
            self._resync_stop.clear()
            self._resync_thread = threading.Thread(
                target=self._resync_loop, name="serial-resync", daemon=True)
            self._resync_thread.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._resync_stop.set()
        if self._resync_thread is not None:
            self._resync_thread.join(2.0)
            self._resync_thread = None
        self._event_bus.unsubscribe(self.handle_event)
        for worker in self.workers.values():
            worker.stop()
        for simulator in self.simulators.values():
            simulator.stop()

    def health(self) -> dict[str, dict[str, Any]]:
        """Per bus: status "up"/"down", last_error, last_ack_at and each display's state."""
        report: dict[str, dict[str, Any]] = {}
        for bus_id, worker in self.workers.items():
            report[bus_id] = worker.health()
            report[bus_id]["simulated"] = bus_id in self.simulators
        return report

    def resync(self) -> None:
        """Set every display to what the database says its counter has called now."""
        if self._current is None:
            return
        with self._sync_lock:
            try:
                current = self._current()
            except Exception:  # the database away for a moment: keep what we have
                log.exception("serial: reading the counters' current tickets failed")
                return
            for worker in self.workers.values():
                for address, counter in worker.settings.addresses.items():
                    number = current.get((worker.settings.office, counter))
                    shown = display_text(number) if number else None
                    worker.set_state(address, Show(address, shown) if shown else Clear(address))

    def _resync_loop(self) -> None:
        # Just before the workers' own refresh comes due, so the refresh sends the truth.
        while not self._resync_stop.wait(max(self._resync_interval * 0.9, 0.05)):
            self.resync()

    # ---- event subscriber: runs on the event dispatcher thread, so it only records ----

    def handle_event(self, event: TicketEvent) -> None:
        with self._sync_lock:
            self._apply_event(event)

    def _apply_event(self, event: TicketEvent) -> None:
        if event.kind in lifecycle.CALL_EVENTS:
            counter = event.counter or event.ticket.get("counter")
        elif event.kind in CLEARING_KINDS:
            counter = event.counter
        else:
            return
        if counter is None:
            return
        number = str(event.ticket.get("number") or "")
        if event.kind in CLEARING_KINDS:
            self.clear(event.office, str(counter), only_if_showing=display_text(number))
        else:
            self.show(event.office, str(counter), number,
                      blink=event.kind == lifecycle.RECALL_EVENT)

    def show(self, office_id: str, counter_id: str, text: str, *, blink: bool = False) -> None:
        """Show a number on every display of a counter (also for restoring state at start)."""
        shown = display_text(text)
        if shown is None:
            log.warning("nomor %r tidak bisa ditampilkan / number %r cannot be shown on an "
                        "LED display", text, text)
            return
        for worker, address in self._displays_of(office_id, counter_id):
            worker.submit(Blink(address, shown) if blink else Show(address, shown))

    def clear(self, office_id: str, counter_id: str, *, only_if_showing: str | None = None
              ) -> None:
        """Blank a counter's displays; with only_if_showing, only those showing that number."""
        for worker, address in self._displays_of(office_id, counter_id):
            worker.submit(Clear(address), only_if_showing=only_if_showing)

    def _displays_of(self, office_id: str, counter_id: str) -> list[tuple[BusWorker, int]]:
        return [
            (worker, address)
            for worker in self.workers.values()
            if worker.settings.office == office_id
            for address in worker.settings.addresses_of(counter_id)
        ]
