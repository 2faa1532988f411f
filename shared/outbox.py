"""Print requests as a transactional outbox.

A change that hands the applicant a paper (a kiosk ticket, a reprint, a walk-in ticket
issued at a counter, the payment slip at the end of the last station) adds a row to
`print_jobs` inside its own transaction, so the request exists exactly when the ticket
does. Whichever process owns that printer performs it, wherever the request landed:

- the event the same transaction publishes names the new jobs in `detail["print_jobs"]`
  (through Redis, every process sees it); the printer's process also sweeps the queued
  jobs of its printers at start and every few seconds, so a lost event or a process that
  was down at commit time loses nothing;
- a job is claimed (`queued` -> `printing`, one conditional UPDATE) just before its bytes
  are sent, so two processes never print it twice;
- a job still `printing` after its process died is marked `failed` (it may or may not
  have come out of the printer): it is never printed again, and the kiosk shows the
  ticket on screen for the applicant to photograph;
- a job still `queued` after `EXPIRES` (its printer's process was down, or every
  printer failing) is marked `failed` too, never printed: by then the applicant was told
  to photograph the screen (after 15 s) and may be gone, and a ticket printed minutes
  later, or the next morning, would end in a stranger's hand.

The printer ids that exist come from the hardware's own configuration section, given to
the core at start-up (`Core.printers`); where nothing is configured, nothing is queued.
Which printer serves what is one rule: a kiosk prints on the printer with its own id; a
counter on `counter-<office id>-<counter id>` if there is one, else `counter-<counter id>`
(which the hardware's check of config.toml allows only for a counter id one office has).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy import insert as sql_insert

from shared import roles
from shared.models import Device, PrintJob

if TYPE_CHECKING:
    from shared.core import Change, Core

QUEUED, PRINTING, PRINTED, FAILED = "queued", "printing", "printed", "failed"
#: How long a job may wait to be printed; after that it fails instead (expire_queued).
EXPIRES = timedelta(minutes=2)
DOCUMENTS = ("ticket", "slip")


def kiosk_printer(kiosk: str) -> str:
    return kiosk


def counter_printer(printers: frozenset[str], office: str, counter: str) -> str:
    """The printer of an office's counter: `counter-<office>-<counter>` where configured
    (deployments serving several offices, whose counter ids repeat), else
    `counter-<counter>`."""
    own = f"counter-{office}-{counter}"
    return own if own in printers else f"counter-{counter}"


def kiosk_office(core: Core, kiosk: str) -> str | None:
    """The office of the registered kiosk of this id (whatever its state); None when there
    is no such kiosk."""
    if len(kiosk) > 64:
        return None
    with core.db.read() as session:
        device = session.get(Device, kiosk)
        return device.office_id if device is not None and device.kind == roles.KIOSK else None


def printer_offices(core: Core, printer: str) -> set[str]:
    """The offices whose printer this is, by the rule above: a kiosk's printer is in the
    kiosk's office; `counter-<office>-<id>` in that office if it has the counter;
    `counter-<id>` in every office with a counter of that id (one, when it is a configured
    printer); a backup (`[[printers]] backup`) in the offices of the printers it backs
    up. Empty for a name none fits."""

    def named(name: str) -> set[str]:
        kiosk = kiosk_office(core, name)
        found = {kiosk} if kiosk is not None else set()
        for office in core.config.offices.values():
            if any(name in (f"counter-{office.id}-{counter}", f"counter-{counter}")
                   for counter in office.counters):
                found.add(office.id)
        return found

    found = named(printer)
    for entry in core.config.printers:
        primary = entry.get("id")
        if entry.get("backup") == printer and isinstance(primary, str) and primary != printer:
            found |= named(primary)
    return found


def prints(printers: frozenset[str], printer: str | None) -> bool:
    """Whether request() would queue a job for this printer, given the configured
    `printers` (Core.printers, as a change has them)."""
    return printer is not None and printer in printers


def request(change: Change, printer: str | None, document: str, payload: dict[str, Any],
            ticket_id: int | None, last: bool = False) -> dict[str, Any] | None:
    """Queue a document inside the change's transaction; None when no such printer.

    `last`: the change writes nothing after this, so on PostgreSQL the job's INSERT and
    COMMIT travel together (Change.commit_with)."""
    values = prepare(change, printer, document, payload, ticket_id)
    if values is None:
        return None
    change.run([insert(values)], last=last)
    return added(change, values)


def prepare(change: Change, printer: str | None, document: str, payload: dict[str, Any],
            ticket_id: int | None) -> dict[str, Any] | None:
    """The row of a print job, for a caller that sends its INSERT (insert()) with other
    statements, then calls added(); None when no such printer."""
    if not prints(change.printers, printer):
        return None
    assert document in DOCUMENTS and printer is not None
    if change.committed:
        raise RuntimeError("a print job after the change's commit would not be atomic")
    return {"id": uuid.uuid4().hex, "office_id": change.office, "ticket_id": ticket_id,
            "printer": printer, "document": document, "payload": payload, "status": QUEUED,
            "created_at": change.now}


def insert(values: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The INSERT of a prepared job (a statement and its values)."""
    return _INSERT_JOB, values


def added(change: Change, values: dict[str, Any]) -> dict[str, Any]:
    """A job inserted in the change's transaction: the change's event names it; its
    resource as the kiosk follows it."""
    change.print_jobs.append(values["id"])
    return job_dict(PrintJob(**values))


_INSERT_JOB = sql_insert(cast(Table, PrintJob.__table__))


def _iso(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=UTC).isoformat() if moment else None


def job_dict(row: PrintJob) -> dict[str, Any]:
    """The print-job resource: what a kiosk follows until `printed` or `failed`."""
    used = row.printer_used
    return {
        "id": row.id,
        "kind": row.document,
        "printer": row.printer,
        "status": row.status,
        "printer_used": used,
        "used_backup": used is not None and used != row.printer,
        "error": row.error,
        "attempts": list(row.attempts or []),
        "created_at": _iso(row.created_at),
        "finished_at": _iso(row.finished_at),
    }


def get(core: Core, job_id: str,
        offices: tuple[str, ...] | None = None) -> dict[str, Any] | None:
    """A print job; None when there is none, or it is not of one of `offices` (None: every
    office)."""
    with core.db.read() as session:
        row = session.get(PrintJob, job_id)
        if row is None or (offices is not None and row.office_id not in offices):
            return None
        return job_dict(row)


def expire_queued(core: Core, printers: frozenset[str] | set[str]) -> int:
    """Jobs of these printers queued longer than EXPIRES: failed, never printed. The count."""
    if not printers:
        return 0
    now = core.now()
    with core.db.write() as session:
        result = session.execute(
            update(PrintJob).where(PrintJob.status == QUEUED, PrintJob.printer.in_(printers),
                                   PrintJob.created_at < now - EXPIRES)
            .values(status=FAILED, finished_at=now,
                    error=f"not printed within {int(EXPIRES.total_seconds() // 60)} minutes; "
                          "not printed any more (reprint it if it is still wanted)"))
        return int(result.rowcount)  # type: ignore[attr-defined]


def queued(core: Core, printers: frozenset[str] | set[str], limit: int = 100) -> list[PrintJob]:
    """Queued jobs for these printers, oldest first (detached rows, read-only)."""
    if not printers:
        return []
    with core.db.read() as session:
        return list(session.execute(
            select(PrintJob).where(PrintJob.status == QUEUED, PrintJob.printer.in_(printers))
            .order_by(PrintJob.created_at, PrintJob.id).limit(limit)
        ).scalars())


def claim(core: Core, job_id: str, owner: str) -> bool:
    """Take a queued job for printing now; False when another process already did."""
    with core.db.write() as session:
        result = session.execute(
            update(PrintJob).where(PrintJob.id == job_id, PrintJob.status == QUEUED)
            .values(status=PRINTING, claimed_by=owner, claimed_at=core.now())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(core: Core, job_id: str, owner: str, printed: bool, printer_used: str | None,
           error: str | None, attempts: list[dict[str, str]]) -> None:
    with core.db.write() as session:
        session.execute(
            update(PrintJob).where(PrintJob.id == job_id, PrintJob.claimed_by == owner,
                                   PrintJob.status == PRINTING)
            .values(status=PRINTED if printed else FAILED, printer_used=printer_used,
                    error=error, attempts=attempts, finished_at=core.now())
        )


def fail_interrupted(core: Core, printers: frozenset[str] | set[str], owner: str,
                     older_than: timedelta | None = None) -> int:
    """Jobs left `printing` by a process that is gone: failed, never printed again.

    At start (`older_than` None) every such job of our printers not claimed by this very
    process is one; later, only those claimed longer ago than `older_than`."""
    if not printers:
        return 0
    now = core.now()
    condition = [PrintJob.status == PRINTING, PrintJob.printer.in_(printers)]
    if older_than is None:
        condition.append(PrintJob.claimed_by != owner)
    else:
        condition.append(PrintJob.claimed_at < now - older_than)
    with core.db.write() as session:
        result = session.execute(
            update(PrintJob).where(*condition).values(
                status=FAILED, finished_at=now,
                error="interrupted while printing (the printing process stopped); "
                      "not printed again")
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
