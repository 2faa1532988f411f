"""Print jobs that never hold up a check-in.

``submit`` only queues: each printer has its own worker thread, so a printer that hangs
delays nobody else's ticket. A job is tried ``retries + 1`` times (once on a printer
already known to be down), each attempt bounded by the printer's ``timeout_seconds``;
then, or at once when the printer says it is out of paper, it moves to the configured
backup printer. Every job ends ``printed`` (see
``printer_used``) or ``failed`` with its reason, and the kiosk shows the number and QR on
screen for the applicant to photograph. Printer trouble becomes an alert for staff.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from hardware.printing.capabilities import Capabilities
from hardware.printing.settings import PrinterSettings
from hardware.printing.slip import PaymentSlip, render_slip
from hardware.printing.status import PrinterState
from hardware.printing.ticket import TicketPrint, render_ticket
from hardware.printing.transport import (
    CupsTransport,
    DummyDevice,
    FileTransport,
    PrinterFault,
    Transport,
    UsbTransport,
    open_transport,
    read_state,
)
from shared.green import run_in_os_thread

log = logging.getLogger(__name__)

JobStatus = Literal["queued", "printing", "printed", "failed", "skipped"]
Printable = bytes | TicketPrint | PaymentSlip
JobListener = Callable[["PrintJob"], None]
# Asked once, just before a job's first bytes go out; False: do not print it ("skipped").
JobClaim = Callable[["PrintJob"], bool]
AlertListener = Callable[[dict[str, Any]], None]

_ALERT_STATES = ("paper_near_end", "paper_out", "offline")
# States in which new jobs go straight to a healthy backup instead of waiting for this
# printer to time out again; a background probe brings the printer back.
_AVOID_STATES = ("paper_out", "offline")
_KEEP_JOBS = 2000


class PrintJob:
    """One document to print. Read its fields freely; only the service changes them."""

    def __init__(
        self, job_id: str, printer_id: str, kind: str, payload: Printable, created_at: datetime
    ) -> None:
        self.id = job_id
        self.printer_id = printer_id  # the printer asked for
        self.kind = kind
        self.payload = payload
        self.status: JobStatus = "queued"
        self.printer_used: str | None = None  # the printer that printed it
        self.error: str | None = None
        self.attempts: list[dict[str, str]] = []  # {"printer", "error"} per printer given up
        self.created_at = created_at
        self.finished_at: datetime | None = None
        self._tried: list[str] = []
        self._done = threading.Event()
        self.claim: JobClaim | None = None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def used_backup(self) -> bool:
        return self.printer_used is not None and self.printer_used != self.printer_id

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Block until the job is printed or failed, or the timeout passes; the status."""
        self._done.wait(timeout)
        return self.status

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view for the web layer."""
        return {
            "id": self.id,
            "kind": self.kind,
            "printer": self.printer_id,
            "status": self.status,
            "printer_used": self.printer_used,
            "used_backup": self.used_backup,
            "error": self.error,
            "attempts": list(self.attempts),
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


@dataclass
class _Printer:
    settings: PrinterSettings
    capabilities: Capabilities
    jobs: queue.Queue[PrintJob | None] = field(default_factory=queue.Queue)
    dummy: DummyDevice | None = None
    status: PrinterState = "unknown"
    since: datetime | None = None
    last_error: str | None = None
    jobs_printed: int = 0
    jobs_failed: int = 0
    thread: threading.Thread | None = None


class PrintService:
    """Workers for the configured printers. Start it once per process; ``close`` at exit."""

    def __init__(
        self,
        printers: Sequence[PrinterSettings],
        *,
        probe_interval_seconds: float = 15.0,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._probe_interval = probe_interval_seconds
        self._lock = threading.RLock()
        self._jobs: OrderedDict[str, PrintJob] = OrderedDict()
        self._job_listeners: list[JobListener] = []
        self._alert_listeners: list[AlertListener] = []
        self._closed = False
        self._printers: dict[str, _Printer] = {}
        for settings in printers:
            printer = _Printer(settings=settings, capabilities=settings.capabilities)
            if settings.kind == "dummy":
                printer.dummy = DummyDevice(status=settings.dummy_status)
            self._printers[settings.id] = printer
        for printer in self._printers.values():
            printer.thread = threading.Thread(
                target=self._work, args=(printer,), name=f"printer-{printer.settings.id}",
                daemon=True,
            )
            printer.thread.start()

    # The API the kiosk, counters and health page use.

    def submit(self, printer_id: str, payload: Printable, kind: str = "ticket", *,
               job_id: str | None = None, claim: JobClaim | None = None) -> PrintJob:
        """Queue a document and return at once; never raises for printer trouble.

        A reprint is the same ticket submitted again. `claim(job)` is asked just before
        the job's bytes are first sent (a print job shared by several processes is taken
        there); when it answers False the job ends ``skipped`` without printing.
        """
        job = PrintJob(job_id or uuid.uuid4().hex, printer_id, kind, payload, self._now())
        job.claim = claim
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > _KEEP_JOBS:
                self._jobs.popitem(last=False)
            if self._closed:
                problem: str | None = "print service stopped"
            elif printer_id not in self._printers:
                problem = f"unknown printer {printer_id!r}"
            else:
                problem = None
                target = self._route(job, self._printers[printer_id])
        if problem is not None:
            job.attempts.append({"printer": printer_id, "error": problem})
            self._finish(job, "failed", None, problem)
            return job
        self._printers[target].jobs.put(job)
        return job

    def job(self, job_id: str) -> PrintJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def health(self) -> dict[str, dict[str, Any]]:
        """Per printer: status, last_error, alert and its bilingual message, jobs_failed
        (and a few more facts)."""
        with self._lock:
            return {pid: self._health_of(printer) for pid, printer in self._printers.items()}

    def alerts(self) -> list[dict[str, Any]]:
        """Current printer problems for staff, each with a bilingual message."""
        with self._lock:
            return [
                self._alert_of(printer)
                for printer in self._printers.values()
                if printer.status in _ALERT_STATES
            ]

    def on_job_done(self, callback: JobListener) -> None:
        """Call ``callback(job)`` when a job ends (printed or failed), on a worker thread."""
        with self._lock:
            self._job_listeners.append(callback)

    def on_alert(self, callback: AlertListener) -> None:
        """Call ``callback(alert)`` when a printer enters a problem state."""
        with self._lock:
            self._alert_listeners.append(callback)

    def printer_ids(self) -> list[str]:
        return list(self._printers)

    def capabilities(self, printer_id: str) -> Capabilities:
        return self._printers[printer_id].capabilities

    def dummy_device(self, printer_id: str) -> DummyDevice:
        """The in-memory device of a ``dummy://`` printer (development, drills, tests)."""
        device = self._printers[printer_id].dummy
        if device is None:
            raise KeyError(f"printer {printer_id!r} is not a dummy:// printer")
        return device

    def close(self, timeout: float = 2.0) -> None:
        """Stop the workers after the jobs already queued; jobs submitted later fail."""
        with self._lock:
            self._closed = True
        for printer in self._printers.values():
            printer.jobs.put(None)
        deadline = time.monotonic() + timeout
        for printer in self._printers.values():
            if printer.thread is not None:
                printer.thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> PrintService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Routing and failover.

    def _route(self, job: PrintJob, printer: _Printer) -> str:
        """Skip a printer known to be down when a healthy backup exists."""
        backup = self._backup_for(job, printer, extra_tried=printer.settings.id)
        if (
            printer.status in _AVOID_STATES
            and backup is not None
            and self._printers[backup].status not in _AVOID_STATES
        ):
            job._tried.append(printer.settings.id)
            job.attempts.append(
                {"printer": printer.settings.id, "error": f"skipped: {printer.status}"}
            )
            return backup
        return printer.settings.id

    def _backup_for(self, job: PrintJob, printer: _Printer, extra_tried: str = "") -> str | None:
        tried = set(job._tried) | {extra_tried, printer.settings.id}
        candidate = printer.settings.backup
        # Follow the chain (a backup may have its own backup) without going round in circles.
        while candidate is not None and candidate in tried:
            tried.add(candidate)
            candidate = self._printers[candidate].settings.backup
            if candidate in tried:
                return None
        return candidate

    # The worker.

    def _work(self, printer: _Printer) -> None:
        while True:
            try:
                job = printer.jobs.get(timeout=self._probe_interval)
            except queue.Empty:
                if printer.status in _AVOID_STATES and not self._closed:
                    self._probe(printer)
                continue
            if job is None:
                return
            try:
                self._process(job, printer)
            except Exception as exc:  # a bug here must not kill the printer's worker
                log.exception("print job %s crashed", job.id)
                self._finish(job, "failed", None, f"internal error: {exc}")

    def _process(self, job: PrintJob, printer: _Printer) -> None:
        settings = printer.settings
        if job.claim is not None:
            claim, job.claim = job.claim, None
            try:
                taken = claim(job)
            except Exception:
                log.exception("print job %s: claim failed", job.id)
                taken = False
            if not taken:
                self._finish(job, "skipped", None, "not claimed")
                return
        job._tried.append(settings.id)
        try:
            payload = self._render(job.payload, printer)
        except Exception as exc:
            # The same document would fail the same way on the backup.
            self._finish(job, "failed", None, f"cannot render: {exc}")
            return
        with self._lock:
            job.status = "printing"
        error = "no attempt made"
        # A printer already known to be down (its last job or probe said so) gets one try,
        # not its retries: with no healthy backup to skip to (_route), a ticket would
        # otherwise wait out every retry's timeout on each printer of the chain (about
        # 20 s with the defaults) before the kiosk could say it did not print.
        tries = 1 if printer.status in _AVOID_STATES else settings.retries + 1
        for attempt in range(tries):
            if attempt:
                time.sleep(min(0.2 * attempt, settings.timeout_seconds))
            try:
                observed = self._attempt(printer, payload)
            except PrinterFault as fault:
                error = str(fault)
                self._set_status(printer, fault.state, error)
                break  # paper out or offline by its own account: go to the backup now
            except Exception as exc:
                error = _describe(exc)
                log.warning("printer %s attempt %d: %s", settings.id, attempt + 1, error)
                continue
            self._set_status(printer, "online" if observed == "unknown" else observed, None)
            with self._lock:
                printer.jobs_printed += 1
            self._finish(job, "printed", settings.id, None)
            return
        else:
            self._set_status(printer, "offline", error)

        with self._lock:
            printer.jobs_failed += 1
            job.attempts.append({"printer": settings.id, "error": error})
            backup = self._backup_for(job, printer)
            if backup is not None:
                job.status = "queued"
        if backup is not None:
            log.warning("job %s: printer %s failed (%s), moving to %s", job.id, settings.id,
                        error, backup)
            self._printers[backup].jobs.put(job)
            return
        reasons = "; ".join(f"{a['printer']}: {a['error']}" for a in job.attempts)
        self._finish(job, "failed", None, reasons)

    def _render(self, payload: Printable, printer: _Printer) -> bytes:
        # Rendered per printer: a backup may be a different width or lack native QR.
        if isinstance(payload, bytes | bytearray):
            return bytes(payload)
        if isinstance(payload, TicketPrint):
            return render_ticket(payload, printer.capabilities)
        return render_slip(payload, printer.capabilities)

    def _attempt(self, printer: _Printer, payload: bytes) -> PrinterState:
        """One try at one printer, bounded in time whatever the device does."""
        settings = printer.settings
        status_timeout = settings.status_seconds

        def run(transport: Transport) -> PrinterState:
            transport.open()
            observed: PrinterState = "unknown"
            if settings.answers_status:
                observed = read_state(transport, status_timeout)
                if observed == "unknown":
                    # Connected, but no answer: a hung or half-dead printer would swallow
                    # the ticket. A fault like a timeout (retry, backup, alert); only the
                    # printer's configuration (status = false) says a model cannot answer.
                    raise TimeoutError(f"no answer to the status query ({status_timeout} s)")
                if observed == "paper_out":
                    raise PrinterFault("paper_out", "kertas habis / paper out")
                if observed == "offline":
                    raise PrinterFault("offline", "printer offline (cover open or error)")
            transport.write(payload)
            transport.finish()
            return observed

        # Socket and serial timeouts stop most hangs; the deadline also covers a device
        # file or USB write that blocks forever. Twice the timeout leaves room for the
        # status questions; a serial line adds the time the bytes need on the wire.
        limit = settings.timeout_seconds * 2 + settings.wire_seconds(len(payload))
        return _with_deadline(run, open_transport(settings, printer.dummy), limit)

    def _probe(self, printer: _Printer) -> None:
        """Look again at a printer that was down, so it can take jobs again."""
        settings = printer.settings

        def run(transport: Transport) -> PrinterState:
            transport.open()
            if settings.answers_status:
                return read_state(transport, settings.status_seconds)
            return "unknown"

        try:
            observed = _with_deadline(
                run, open_transport(settings, printer.dummy), settings.timeout_seconds * 2
            )
        except Exception as exc:
            with self._lock:
                printer.last_error = _describe(exc)
            return
        if observed in _AVOID_STATES:
            return
        if observed == "unknown" and settings.answers_status:
            with self._lock:
                printer.last_error = "no answer to the status query"
            return
        self._set_status(printer, "online" if observed == "unknown" else observed, None)

    # Bookkeeping.

    def _set_status(self, printer: _Printer, status: PrinterState, error: str | None) -> None:
        with self._lock:
            changed = printer.status != status
            printer.status = status
            if changed:
                printer.since = self._now()
            if error is not None:
                printer.last_error = error
            alert = self._alert_of(printer) if changed and status in _ALERT_STATES else None
            listeners = list(self._alert_listeners)
        if alert is None:
            return
        log.warning("printer alert: %s", alert["message"]["en"])
        for listener in listeners:
            try:
                listener(alert)
            except Exception:
                log.exception("alert listener failed")

    def _finish(
        self, job: PrintJob, status: JobStatus, printer_used: str | None, error: str | None
    ) -> None:
        with self._lock:
            job.status = status
            job.printer_used = printer_used
            job.error = error
            job.finished_at = self._now()
            listeners = list(self._job_listeners)
        job._done.set()
        for listener in listeners:
            try:
                listener(job)
            except Exception:
                log.exception("print job listener failed")

    def _health_of(self, printer: _Printer) -> dict[str, Any]:
        alert = printer.status in _ALERT_STATES
        return {
            "status": printer.status,
            "last_error": printer.last_error,
            "alert": alert,
            # What staff should do, in both languages (the supervisor view shows it).
            "message": self._alert_of(printer)["message"] if alert else None,
            "jobs_failed": printer.jobs_failed,
            "jobs_printed": printer.jobs_printed,
            "queued": printer.jobs.qsize(),
            "backup": printer.settings.backup,
            "since": printer.since.isoformat() if printer.since else None,
        }

    def _alert_of(self, printer: _Printer) -> dict[str, Any]:
        pid = printer.settings.id
        backup = printer.settings.backup
        problem_id, problem_en = {
            "paper_out": (
                f"Kertas printer {pid} habis. Ganti gulungan kertas.",
                f"Printer {pid} is out of paper. Replace the paper roll.",
            ),
            "paper_near_end": (
                f"Kertas printer {pid} hampir habis. Siapkan gulungan baru.",
                f"Printer {pid} is nearly out of paper. Get a new roll ready.",
            ),
        }.get(
            printer.status,
            (
                f"Printer {pid} tidak merespons. Periksa daya, kabel dan kertas.",
                f"Printer {pid} does not respond. Check power, cable and paper.",
            ),
        )
        if printer.status == "paper_near_end":
            then_id, then_en = "", ""
        elif backup is not None:
            then_id = f" Tiket dicetak di printer cadangan {backup}."
            then_en = f" Tickets print on the backup printer {backup}."
        else:
            then_id = " Pemohon diminta memotret nomor di layar."
            then_en = " Applicants are asked to photograph the number on screen."
        return {
            "printer_id": pid,
            "status": printer.status,
            "since": printer.since.isoformat() if printer.since else None,
            "last_error": printer.last_error,
            "backup": backup,
            "message": {"id": problem_id + then_id, "en": problem_en + then_en},
        }


def _with_deadline(
    run: Callable[[Transport], PrinterState], transport: Transport, limit: float
) -> PrinterState:
    """Run ``run(transport)`` on a helper thread; give up after ``limit`` seconds."""
    outcome: dict[str, Any] = {}
    finished = threading.Event()

    def target() -> None:
        try:
            outcome["state"] = run(transport)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            try:
                transport.close()
            except Exception:
                log.debug("closing printer transport failed", exc_info=True)
            finished.set()

    if isinstance(transport, FileTransport | UsbTransport | CupsTransport):
        # These block inside C calls, which gevent cannot interrupt: under `giliran serve`
        # they get a real OS thread so a stuck printer never stops the other connections.
        wait = run_in_os_thread(target, "printer-attempt")
    else:
        # Sockets and serial ports cooperate with gevent (and are plain threads otherwise).
        threading.Thread(target=target, name="printer-attempt", daemon=True).start()
        wait = finished.wait
    if not wait(limit):
        # Closing from here unblocks a socket; a stuck device write stays behind on its
        # daemon thread, which is all it costs.
        try:
            transport.close()
        except Exception:
            log.debug("closing a stuck printer transport failed", exc_info=True)
        raise TimeoutError(f"no answer within {limit:.1f} s")
    if "error" in outcome:
        raise outcome["error"]
    state: PrinterState = outcome["state"]
    return state


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ") or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
