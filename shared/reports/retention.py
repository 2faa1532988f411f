"""Personal data: retention, masking in exports, and the audit log (UU 27/2022).

Names (`bookings.name`) are erased `[retention] personal_days` days after the booked
day, and so are the hold reasons staff type (free text that can name a person or their
circumstances: `detail.reason` of the timeline's hold entries) of tickets of those days.
Tickets, their timelines and booking codes stay, so statistics do not change.
Exports show names masked ("W*** P******") unless an admin asks for them; every export
and every purge leaves an entry in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from shared import lifecycle
from shared.clock import local_date
from shared.core import Core
from shared.models import Booking, IdempotencyKey, Ticket, TimelineEntry
from shared.reports.models import AuditEntry
from shared.reports.retention_settings import retention_settings


def mask_name(name: str | None) -> str | None:
    """Keep the first letter of every word: "Wira Pradnya" -> "W*** P******"."""
    if name is None:
        return None
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def audit(session: Session, at: datetime, staff: str, action: str,
          detail: dict[str, Any] | None = None) -> None:
    """Append one audit entry inside the caller's transaction."""
    session.add(AuditEntry(at=at, staff=staff[:64], action=action[:64], detail=detail))


def record(core: Core, staff: str, action: str, detail: dict[str, Any] | None = None) -> None:
    """Append one audit entry in its own transaction."""
    with core.db.write() as session:
        audit(session, core.now(), staff, action, detail)


def audit_entries(core: Core, limit: int = 100) -> list[dict[str, Any]]:
    with core.db.read() as session:
        rows = session.execute(
            select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        ).scalars().all()
        return [{"at": r.at.isoformat(timespec="seconds"), "staff": r.staff,
                 "action": r.action, "detail": r.detail} for r in rows]


@dataclass(frozen=True)
class PurgeResult:
    cutoffs: dict[str, str]  # office -> last booked day whose names were erased
    names_erased: int
    reasons_erased: int = 0
    answers_forgotten: int = 0


#: How long an answer given to a request with an Idempotency-Key is kept for a repeat: a
#: repeat comes within seconds (a retry after a network error); a day is ample, and
#: every call and counter action of an office stores one.
ANSWERS_KEPT = timedelta(days=1)


def _erase_hold_reasons(session: Session, office_id: str, cutoff: date) -> int:
    """Drop the free-text reason of hold entries of tickets served up to `cutoff`."""
    hold = lifecycle.transition("hold").timeline
    rows = session.execute(
        select(TimelineEntry.id, TimelineEntry.detail)
        .join(Ticket, Ticket.id == TimelineEntry.ticket_id)
        .where(Ticket.office_id == office_id, Ticket.service_day <= cutoff,
               TimelineEntry.action == hold, TimelineEntry.detail.is_not(None))
    ).all()
    erased = 0
    for entry_id, detail in rows:
        if not isinstance(detail, dict) or "reason" not in detail:
            continue
        kept = {key: value for key, value in detail.items() if key != "reason"}
        session.execute(update(TimelineEntry).where(TimelineEntry.id == entry_id)
                        .values(detail=kept or None))
        erased += 1
    return erased


def purge(core: Core, staff: str = "cli", now: datetime | None = None) -> PurgeResult:
    """Erase the names of bookings whose day is more than `personal_days` ago.

    Safe to run any number of times a day; run it daily (`giliran report purge`).
    """
    settings = retention_settings(core.config)
    now = now or core.now()
    cutoffs: dict[str, date] = {}
    erased = 0
    reasons = 0
    with core.db.write() as session:
        for office in core.config.offices.values():
            cutoff = local_date(now, office.tz) - timedelta(days=settings.personal_days)
            cutoffs[office.id] = cutoff
            condition = (Booking.office_id == office.id, Booking.date <= cutoff,
                         Booking.name.is_not(None))
            count = session.execute(
                select(func.count()).select_from(Booking).where(*condition)
            ).scalar_one()
            if count:
                session.execute(update(Booking).where(*condition).values(name=None))
            erased += count
            reasons += _erase_hold_reasons(session, office.id, cutoff)
        forgotten = cast(CursorResult[Any], session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.created_at < now - ANSWERS_KEPT))).rowcount or 0
        as_text = {office: day.isoformat() for office, day in cutoffs.items()}
        audit(session, now, staff, "purge",
              {"personal_days": settings.personal_days, "through": as_text,
               "names_erased": erased, "hold_reasons_erased": reasons,
               "answers_forgotten": forgotten})
    return PurgeResult(as_text, erased, reasons, forgotten)
