"""A simulation scenario and bookings taken from a running office (config and database).

The supervisor's capacity plan ("tomorrow's bookings with today's staff") simulates the
office as configured rather than a scenario file:

- stations in config order; counters per station = the counters serving it that are not
  priority-only (what `visits.counters_for` counts for the wait estimate);
- service times: the rolling mean the server itself uses for ticket estimates
  (`visits.mean_service_minutes`, its default when a station has no history yet). That is
  a call-to-finish time, and the engine adds the walk to the counter to every service, so
  the walk is taken off the mean (never below half of it); service_sd = 0.4 x mean;
- flow: the "paspor-baru" service's flow, or the first non-express service's;
  flow_percepatan: the first express service's (the main flow when there is none);
- hours (opens, last_checkin, closes) from the office, rules from [policy].

The engine gives the express flow to services whose id starts with "percepatan"; an
express service under another id is renamed that way in `bookings_for_day`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from shared import lifecycle
from shared.config import Office, Service
from shared.core import Core
from shared.models import Booking as BookingRow
from shared.models import TimelineEntry
from shared.simulation.scenario import (
    EXPRESS_PREFIX,
    PRIORITY_GROUPS,
    Booking,
    Scenario,
    StationSpec,
)
from shared.visits import counters_for, mean_service_minutes

MAIN_SERVICE = "paspor-baru"
SD_FACTOR = 0.4
# The scenario's default walk from the call to the counter (config.toml has no such key).
WALK_TO_COUNTER_SECONDS = 30.0


def main_flow(office: Office) -> tuple[str, ...]:
    """The flow of "paspor-baru", else of the first non-express service."""
    service = office.services.get(MAIN_SERVICE)
    if service is None or service.express:
        service = next((s for s in office.services.values() if not s.express), None)
    if service is None:  # only express services: they set the flow
        service = next(iter(office.services.values()), None)
    return service.flow if service else tuple(office.stations)


def express_service(office: Office) -> Service | None:
    return next((s for s in office.services.values() if s.express), None)


def service_history(core: Core, office_id: str) -> dict[str, int]:
    """How many recent services each station's mean rests on (at most the policy's
    window, the latest first; 0: no history, the mean is the default)."""
    office = core.office(office_id)
    window = core.config.policy_for(office.id).service_time_window
    counts: dict[str, int] = {}
    with core.db.read() as session:
        for station_id in office.stations:
            latest = (select(TimelineEntry.id)
                      .where(TimelineEntry.office_id == office.id,
                             TimelineEntry.station == station_id,
                             TimelineEntry.action.in_(lifecycle.SERVICE_ENDS))
                      .order_by(TimelineEntry.id.desc())
                      .limit(window)
                      .subquery())
            counts[station_id] = int(session.execute(
                select(func.count()).select_from(latest)).scalar_one())
    return counts


def scenario_for_office(core: Core, office_id: str) -> Scenario:
    """The office as configured, with service times from its own timeline."""
    office = core.office(office_id)
    policy = core.config.policy_for(office.id)
    walk_minutes = WALK_TO_COUNTER_SECONDS / 60
    stations: dict[str, StationSpec] = {}
    with core.db.read() as session:
        for station_id in office.stations:
            call_to_finish = mean_service_minutes(core, session, office.id, station_id)
            mean = max(call_to_finish - walk_minutes, call_to_finish / 2)
            stations[station_id] = StationSpec(
                station_id,
                # a station served only by the priority counter still needs one in the model
                max(len(counters_for(office, station_id)), 1),
                round(mean, 3),
                round(SD_FACTOR * mean, 3),
            )
    flow = main_flow(office)
    express = express_service(office)
    return Scenario(
        office=office.id,
        timezone=office.timezone,
        opens=office.opens,
        last_checkin=office.last_checkin,
        closes=office.closes,
        flow=flow,
        flow_percepatan=express.flow if express else flow,
        stations=stations,
        early_checkin_minutes=policy.early_checkin_minutes,
        late_grace_minutes=policy.late_grace_minutes,
        walk_to_counter_seconds=WALK_TO_COUNTER_SECONDS,
        max_wait_minutes=policy.max_wait_minutes,
        priority=policy.priority,
        late_policy=policy.late_policy,
        name=f"{office.id} (config)",
    )


def _simulated_service(office: Office, service_id: str) -> str:
    service = office.services.get(service_id)
    if service is not None and service.express and not service_id.startswith(EXPRESS_PREFIX):
        return f"{EXPRESS_PREFIX}-{service_id}"
    return service_id


def bookings_for_day(core: Core, office_id: str, day: date) -> list[Booking]:
    """The day's bookings that are not cancelled, in booking order (database id)."""
    office = core.office(office_id)
    with core.db.read() as session:
        rows = session.execute(
            select(BookingRow.code, BookingRow.date, BookingRow.slot_start,
                   BookingRow.slot_end, BookingRow.service, BookingRow.priority_group)
            .where(BookingRow.office_id == office.id, BookingRow.date == day,
                   BookingRow.cancelled.is_(False))
            .order_by(BookingRow.id)
        ).all()
    return [
        Booking(
            code=row.code,
            date=row.date,
            slot_start=row.slot_start,
            slot_end=row.slot_end,
            service=_simulated_service(office, row.service),
            priority_group=row.priority_group if row.priority_group in PRIORITY_GROUPS else "",
            line=number,
        )
        for number, row in enumerate(rows, start=1)
    ]


__all__ = ["bookings_for_day", "main_flow", "scenario_for_office", "service_history"]
