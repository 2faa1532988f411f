"""The waiting-room board's snapshot: numbers only, never names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, bindparam, func, select

from shared import lifecycle
from shared.clock import to_local
from shared.core import Core
from shared.models import OfficeRow, Ticket, TimelineEntry

RECENT = 8


# Plain table columns (Core) and statements built once: the snapshot is built after every
# change of an office with a board connected, so its cost is paid per event.
_T = Ticket.__table__.c
_TL = TimelineEntry.__table__.c
_O = OfficeRow.__table__.c
_OFFICE: Any = bindparam("office")
_DAY = bindparam("day", type_=Date)
_VERSION = select(_O.version).where(_O.id == _OFFICE)
_SERVING = (select(_T.number, _T.counter, _T.station, _T.last_called_at)
            .where(_T.office_id == _OFFICE, _T.service_day == _DAY,
                   _T.status.in_(lifecycle.AT_COUNTER))
            .order_by(_T.last_called_at.desc()))
_RECENT = (select(_TL.at, _TL.counter, _TL.station, _T.number)
           .join_from(TimelineEntry.__table__, Ticket.__table__, _T.id == _TL.ticket_id)
           .where(_TL.office_id == _OFFICE, _T.service_day == _DAY,
                  _TL.action == lifecycle.CALL)
           .order_by(_TL.id.desc()).limit(RECENT))
_COUNTS = (select(_T.station, func.count())
           .where(_T.office_id == _OFFICE, _T.service_day == _DAY,
                  _T.status == lifecycle.WAITING)
           .group_by(_T.station))
_LATEST_SLOT = (select(_T.slot_start, _T.slot_end)
                .join_from(Ticket.__table__, TimelineEntry.__table__, _TL.ticket_id == _T.id)
                .where(_TL.office_id == _OFFICE, _TL.action == lifecycle.CALL,
                       _TL.station == bindparam("station"), _T.service_day == _DAY,
                       _T.slot_start.is_not(None), _T.priority_group.is_(None),
                       _T.demoted.is_(False))
                .order_by(_TL.id.desc()).limit(1))


def snapshot(core: Core, office_id: str) -> dict[str, Any]:
    """What the board shows now, with the office's event version it reflects."""
    office = core.office(office_id)
    today = core.today(office)
    params = {"office": office.id, "day": today}
    first_station = next(iter(office.stations))
    with core.db.connect() as connection:
        version = connection.execute(_VERSION, params).scalar_one_or_none() or 0
        serving = connection.execute(_SERVING, params).all()
        recent_rows = connection.execute(_RECENT, params).all()
        counts: dict[str, int] = {row[0]: row[1] for row in connection.execute(_COUNTS, params)}
        latest_slot = connection.execute(_LATEST_SLOT,
                                         {**params, "station": first_station}).first()

    def counter_name(counter: str | None) -> str | None:
        return office.counters[counter].name if counter in office.counters else counter

    now_serving = [
        {"number": t.number, "counter": t.counter, "counter_name": counter_name(t.counter),
         "station": t.station,
         "called_at": to_local(t.last_called_at, office.tz).isoformat(timespec="seconds")
         if t.last_called_at else None}
        for t in serving
    ]
    recent = [
        {"number": r.number, "counter": r.counter, "counter_name": counter_name(r.counter),
         "station": r.station,
         "called_at": to_local(r.at, office.tz).isoformat(timespec="seconds")}
        for r in recent_rows
    ]
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
