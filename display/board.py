"""The waiting-room board's snapshot: numbers only, never names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from shared import lifecycle
from shared.clock import to_local
from shared.core import Core
from shared.models import OfficeRow, Ticket, TimelineEntry

RECENT = 8


def snapshot(core: Core, office_id: str) -> dict[str, Any]:
    """What the board shows now, with the office's event version it reflects."""
    office = core.office(office_id)
    today = core.today(office)
    with core.db.read() as session:
        version = session.execute(
            select(OfficeRow.version).where(OfficeRow.id == office.id)
        ).scalar_one_or_none() or 0
        serving = session.execute(
            select(Ticket).where(Ticket.office_id == office.id, Ticket.service_day == today,
                                 Ticket.status.in_(lifecycle.AT_COUNTER))
            .order_by(Ticket.last_called_at.desc())
        ).scalars().all()
        now_serving = [
            {"number": t.number, "counter": t.counter,
             "counter_name": office.counters[t.counter].name if t.counter in office.counters
             else t.counter,
             "station": t.station,
             "called_at": to_local(t.last_called_at, office.tz).isoformat(timespec="seconds")
             if t.last_called_at else None}
            for t in serving
        ]
        recent_rows = session.execute(
            select(TimelineEntry.at, TimelineEntry.counter, TimelineEntry.station, Ticket.number)
            .join(Ticket, Ticket.id == TimelineEntry.ticket_id)
            .where(TimelineEntry.office_id == office.id, Ticket.service_day == today,
                   TimelineEntry.action == lifecycle.CALL)
            .order_by(TimelineEntry.id.desc()).limit(RECENT)
        ).all()
        recent = [
            {"number": r.number, "counter": r.counter,
             "counter_name": office.counters[r.counter].name if r.counter in office.counters
             else r.counter,
             "station": r.station,
             "called_at": to_local(r.at, office.tz).isoformat(timespec="seconds")}
            for r in recent_rows
        ]
        counts = dict(session.execute(
            select(Ticket.station, func.count()).where(
                Ticket.office_id == office.id, Ticket.service_day == today,
                Ticket.status == lifecycle.WAITING).group_by(Ticket.station)
        ).all())  # type: ignore[arg-type]
        first_station = next(iter(office.stations))
        latest_slot = session.execute(
            select(Ticket.slot_start, Ticket.slot_end)
            .join(TimelineEntry, TimelineEntry.ticket_id == Ticket.id)
            .where(TimelineEntry.office_id == office.id, TimelineEntry.action == lifecycle.CALL,
                   TimelineEntry.station == first_station, Ticket.service_day == today,
                   Ticket.slot_start.is_not(None), Ticket.priority_group.is_(None),
                   Ticket.demoted.is_(False))
            .order_by(TimelineEntry.id.desc()).limit(1)
        ).first()
    serving_slot = None
    if latest_slot is not None:
        start = to_local(latest_slot.slot_start, office.tz).strftime("%H:%M")
        end = to_local(latest_slot.slot_end, office.tz).strftime("%H:%M")
        serving_slot = {"start": start, "end": end}
    return {
        "version": version,
        "office": {"id": office.id, "name": office.name, "timezone": office.timezone},
        "now": core.local_now(office).isoformat(timespec="seconds"),
        "now_serving": now_serving,
        "recent": recent,
        "waiting": {s: counts.get(s, 0) for s in office.stations},
        "stations": {s.id: {"id": s.name_id, "en": s.name_en} for s in office.stations.values()},
        "serving_slot": serving_slot,
        "info": list(office.info),
    }
