"""Starting the office's hardware with the server and subscribing it to events.

Printers perform the print jobs the core queues in its outbox (shared.outbox): kiosk
tickets and reprints on the kiosk's printer, and at a counter that has its own printer
(`[[printers]] id = "counter-<id>"`, or `counter-<office>-<id>`: shared.outbox) walk-in
tickets issued there and the payment slip when a ticket finishes its last station. Serial
buses drive LED displays and turn call-button presses into calls. Nothing here decides
anything about the queue: it reacts to committed events and calls the same service
functions as the web terminal.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask

from shared import device_states, outbox
from shared.core import Core
from shared.events import TicketEvent
from shared.groups import BY_CODE

log = logging.getLogger(__name__)

# A job still `printing` this long after its claim belongs to a process that is gone.
STALE_PRINTING = timedelta(minutes=10)
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def ticket_print(core: Core, ticket: dict[str, Any]) -> Any:
    """The printed form of an API ticket (office time, bilingual names)."""
    from datetime import datetime

    from hardware.printing import TicketPrint

    office = core.office(ticket["office"])
    service = office.services.get(ticket["service"])
    station = office.stations.get(ticket["station"])
    issued = datetime.fromisoformat(ticket["issued_at"])
    group = BY_CODE.get(ticket.get("priority_group") or "")
    slot = ticket.get("slot") or {}
    return TicketPrint(
        office_name=office.name,
        number=ticket["number"],
        service_name_id=service.name_id if service else ticket["service"],
        service_name_en=service.name_en if service else ticket["service"],
        slot_start=slot.get("start"),
        slot_end=slot.get("end"),
        station_name_id=station.name_id if station else ticket["station"],
        station_name_en=station.name_en if station else ticket["station"],
        position=int(ticket["position"]) if ticket.get("position") is not None else None,
        estimated_wait_minutes=int(ticket.get("estimated_wait_minutes") or 0),
        issued_at_local=issued.strftime("%d-%m-%Y %H:%M ")
        + ZONE_NAMES.get(office.timezone, office.timezone),
        status_url=core.config.base_url + ticket["status_url"],
        priority_label=(f"Prioritas: {group.label_id} / Priority: {group.label_en}"
                        if group else None),
    )


def payment_slip(core: Core, payload: dict[str, Any]) -> Any:
    """The printed payment slip of a `slip` print job (shared.visits._slip)."""
    from datetime import date

    from hardware.printing import PaymentSlip

    office = core.office(str(payload["office"]))
    service = office.services.get(str(payload.get("service")))
    express = service is not None and service.express
    return PaymentSlip(
        office_name=office.name,
        number=str(payload["number"]),
        service_name_id=service.name_id if service else "",
        service_name_en=service.name_en if service else "",
        date_local=date.fromisoformat(str(payload["date"])).strftime("%d-%m-%Y"),
        pickup_id="Hari ini mulai 12:00" if express else None,
        pickup_en="Today from 12:00" if express else None,
    )


class PrintWorker:
    """Performs the print jobs of this process's printers from the outbox (shared.outbox).

    Wakes on an event that names print jobs, sweeps the queue at start and every
    `sweep_seconds`, and hands each job to the PrintService with a claim that takes it
    in the database just before its bytes go out: a job prints once across processes.
    """

    def __init__(self, core: Core, service: Any, sweep_seconds: float = 5.0) -> None:
        self.core = core
        self.service = service
        self.sweep_seconds = sweep_seconds
        self.printers = frozenset(service.printer_ids())
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._submitted: set[str] = set()
        # Results the database did not take when the job ended (PostgreSQL restarting):
        # job id -> finish()'s arguments, written again at each sweep. Until then the job
        # stays `printing`, and nobody prints it again.
        self._unrecorded: dict[str, tuple[bool, str | None, str | None,
                                          list[dict[str, str]]]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        service.on_job_done(self._done)

    def start(self) -> None:
        try:
            failed = outbox.fail_interrupted(self.core, self.printers, self.owner)
        except Exception:
            log.exception("print jobs: cannot look for interrupted jobs")
        else:
            if failed:
                log.warning("print jobs: %d interrupted while printing, marked failed", failed)
        self.core.bus.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="print-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.core.bus.unsubscribe(self._on_event)
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _on_event(self, event: TicketEvent) -> None:
        if event.detail.get("print_jobs"):
            self._wake.set()

    def _run(self) -> None:
        sweeps = 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.sweep()
                sweeps += 1
                if sweeps % 60 == 0:  # a job claimed long ago by a process now gone
                    outbox.fail_interrupted(self.core, self.printers, self.owner,
                                            older_than=STALE_PRINTING)
            except Exception:
                log.exception("print jobs: sweep failed; retrying")
            self._wake.wait(self.sweep_seconds)

    def sweep(self) -> int:
        """Hand every queued job of our printers to the print service once (those queued
        too long fail instead: outbox.expire_queued); the count handed."""
        handed = 0
        self._record_unrecorded()
        if outbox.expire_queued(self.core, self.printers):
            log.warning("print jobs: some waited longer than %s and were not printed",
                        outbox.EXPIRES)
        for row in outbox.queued(self.core, self.printers):
            with self._lock:
                if row.id in self._submitted:
                    continue
                self._submitted.add(row.id)
            try:
                document = (ticket_print(self.core, row.payload) if row.document == "ticket"
                            else payment_slip(self.core, row.payload))
            except Exception as exc:  # a document that cannot be built never will be
                log.exception("print job %s cannot be built", row.id)
                if outbox.claim(self.core, row.id, self.owner):
                    outbox.finish(self.core, row.id, self.owner, False, None,
                                  f"cannot build the document: {exc}", [])
                with self._lock:
                    self._submitted.discard(row.id)
                continue
            self.service.submit(row.printer, document, kind=row.document, job_id=row.id,
                                claim=self._claim)
            handed += 1
        return handed

    def _claim(self, job: Any) -> bool:
        return outbox.claim(self.core, job.id, self.owner)

    def _done(self, job: Any) -> None:
        try:
            if job.status in ("printed", "failed"):
                result = (job.status == "printed", job.printer_used, job.error,
                          list(job.attempts))
                try:
                    outbox.finish(self.core, job.id, self.owner, *result)
                except Exception:
                    log.warning("print job %s: result not recorded yet; retrying at the "
                                "next sweep", job.id, exc_info=True)
                    with self._lock:
                        self._unrecorded[job.id] = result
                    self._wake.set()
        finally:
            with self._lock:
                self._submitted.discard(job.id)

    def _record_unrecorded(self) -> None:
        """Write the results the database did not take when their jobs ended."""
        with self._lock:
            waiting = list(self._unrecorded.items())
        for job_id, result in waiting:
            try:
                outbox.finish(self.core, job_id, self.owner, *result)
            except Exception as exc:  # still away: the next sweep; the others go on
                log.warning("print job %s: result still not recorded (%s)", job_id, exc)
                continue
            with self._lock:
                self._unrecorded.pop(job_id, None)


def start_printing(app: Flask, core: Core, sweep_seconds: float = 5.0) -> Any:
    """Open this process's printers and perform their print jobs; the PrintService."""
    from hardware.printing import PrintService, parse_printers

    service = PrintService(parse_printers(core.config.printers))
    worker = PrintWorker(core, service, sweep_seconds)
    worker.start()
    app.extensions["giliran_printing"] = service

    def health() -> tuple[dict[str, Any], bool]:
        printers = service.health()
        return {"printers": printers}, not any(p.get("alert") for p in printers.values())

    core.health_checks.append(health)

    def close() -> None:
        worker.stop()
        service.close()

    atexit.register(close)
    return service


def start_serial(core: Core) -> Any:
    from hardware.serial.manager import BusManager
    from hardware.serial.settings import parse_buses
    from shared import visits
    from shared.errors import Refusal

    buses = parse_buses(core.config.serial, core.config.offices)
    if not buses:
        return None

    def on_press(office: str, counter: str, key: str) -> None:
        try:
            if key == "recall":
                state = visits.counter_state(core, office, counter)
                if state["current"] is not None:
                    visits.act(core, state["current"]["id"], "recall", f"button:{counter}",
                               (office,))
            else:
                visits.call_next(core, office, counter, f"button:{counter}")
        except Refusal as refusal:
            log.info("button %s at counter %s refused: %s", key, counter, refusal.code)

    from hardware.serial.current import current_numbers

    manager = BusManager(buses, core.bus, on_press, current=lambda: current_numbers(core))
    manager.start()

    def health() -> tuple[dict[str, Any], bool]:
        state = manager.health()
        # A bus is bad when it is down or one of its displays does not answer ("alert").
        return {"devices": {"serial": state}}, not any(b.get("alert") for b in state.values())

    core.health_checks.append(health)
    atexit.register(manager.stop)
    return manager


def start_hardware(app: Flask, core: Core) -> None:
    service = start_printing(app, core)
    manager = start_serial(core)
    # Every process shows these printers' and buses' states (shared.device_states).
    sources: dict[str, Any] = {"printer": service.health}
    if manager is not None:
        sources["serial"] = manager.health
    app.extensions["giliran_device_states"] = device_states.start_publishing(core, sources)
    if manager is not None and getattr(manager, "simulators", None):
        from hardware.serial.sim_page import sim_blueprint

        app.register_blueprint(sim_blueprint, url_prefix="/sim/serial")
        app.extensions["giliran_serial_sim"] = manager
