"""The rules of a change of an office's configuration that touch its live queue: the
admin console's and the API's changes (shared.admin_api) and `giliran config import`
(shared.live_config.import_toml, given the rule by shared.cli) apply the same ones.

- A counter closed or removed while it holds a called or serving ticket: the ticket
  returns to the queue or moves to another station first, as the admin chooses; without
  a choice the change is refused (`counter_has_ticket`).
- A station that tickets of today still wait at, are called, served or held at, or will
  still pass through (the flow each ticket was issued with) cannot be removed
  (`station_has_tickets`); nor a service with bookings from today on that are not
  cancelled (`service_has_bookings`): those tickets would never be called, and those
  bookings could not check in.

Each runs as a live_config hook, under the office's lock, before the document is written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from shared import lifecycle, live_config, visits
from shared.config import Config, Office
from shared.core import Change, Core
from shared.errors import Refusal
from shared.models import Booking, ConfigDocument, Ticket


def release_hook(core: Core, office: str, counter_ids: list[str] | None, choice: Any,
                 station: Any, who: str) -> live_config.Hook:
    """Closing or removing counters: their called tickets return or move first.

    `counter_ids` None: every counter open before the change and closed or gone after it
    (a change of the whole office)."""

    def hook(_session: Any, change: live_config.Change | None, config: Config) -> None:
        assert isinstance(change, Change)  # an office's change (shared.core)
        after = config.offices[office]
        closing = counter_ids if counter_ids is not None else \
            closed_counters(core.config.offices[office], after)
        for counter_id in closing:
            visits.release_counter(core, change, after, counter_id, choice, station, who)

    return hook


def office_hook(core: Core, office: str, choice: Any, station: Any,
                who: str) -> live_config.Hook:
    """A change of the whole office: the counters it closes release their tickets first
    (release_hook), then it may not take away a station or a service still in use
    (keep_what_is_used)."""
    release = release_hook(core, office, None, choice, station, who)

    def hook(session: Any, change: live_config.Change | None, config: Config) -> None:
        release(session, change, config)
        keep_what_is_used(core, session, office, config)

    return hook


def import_hook(core: Core, office: str, who: str) -> live_config.Hook:
    """`giliran config import`'s change of an office: the rules of the office's PATCH. The
    command has no `ticket` choice, so a counter it closes or removes with a called ticket
    refuses the import (finish the ticket or return it at the console first)."""
    release = release_hook(core, office, None, None, None, who)

    def hook(session: Any, change: live_config.Change | None, config: Config) -> None:
        try:
            release(session, change, config)
        except Refusal as refusal:
            if refusal.code != "counter_has_ticket":
                raise
            raise Refusal(409, "counter_has_ticket",
                          "Counter {counter} has called {number}. Finish the ticket, or return "
                          "it to the queue in the admin console, then import the file again.",
                          counter=refusal.values["counter"], number=refusal.values["number"],
                          ticket=refusal.values["number"]) from None
        keep_what_is_used(core, session, office, config)

    return hook


def keep_what_is_used(core: Core, session: Any, office: str, config: Config) -> None:
    """Refuse removing a station that tickets of today still wait at, are called, served
    or held at, or will still pass through (the flow each ticket was issued with), and a
    service with bookings from today on that are not cancelled: those tickets would never
    be called and those bookings could not check in. Runs under the office's lock, before
    the document is written (the stored one is still the old one)."""
    row = session.get(ConfigDocument, live_config.office_scope(office))
    before = row.document if row is not None and isinstance(row.document, dict) else {}
    after = config.offices[office]
    today = core.today(after)

    def ids(key: str) -> list[str]:
        return [str(item["id"]) for item in before.get(key, [])
                if isinstance(item, dict) and "id" in item]

    stations = [s for s in ids("stations") if s not in after.stations]
    if stations:
        used = dict.fromkeys(stations, 0)
        tickets = session.execute(
            select(Ticket.station, Ticket.flow, Ticket.flow_position).where(
                Ticket.office_id == office, Ticket.service_day == today,
                Ticket.status.in_(lifecycle.ACTIVE))).all()
        for ticket in tickets:
            later = list(ticket.flow or [])[ticket.flow_position + 1:]
            for station in {ticket.station, *later} & set(stations):
                used[station] += 1
        for station, count in used.items():
            if count:
                raise Refusal(409, "station_has_tickets",
                              "Station {station} cannot be removed: {count} ticket(s) of "
                              "today wait there, are at its counters or held there, or will "
                              "still pass through it. Keep the station until they are done "
                              "(or transfer or cancel them), then remove it.",
                              station=station, count=count)
    services = [s for s in ids("services") if s not in after.services]
    if services:
        booked = session.execute(
            select(Booking.service, func.count(), func.min(Booking.date)).where(
                Booking.office_id == office, Booking.service.in_(services),
                Booking.date >= today, Booking.cancelled.is_(False))
            .group_by(Booking.service)).all()
        for service, count, first in sorted(booked, key=lambda b: services.index(b[0])):
            raise Refusal(409, "service_has_bookings",
                          "Service {service} cannot be removed: {count} booking(s) from "
                          "{date} on are for it. Add the new service first, move the bookings "
                          "to it by importing them again, then remove this one.",
                          service=service, count=count, date=first.isoformat())


def closed_counters(before: Office, after: Office) -> list[str]:
    """The counters open before and closed or gone after."""
    return [c.id for c in before.counters.values()
            if c.open and (c.id not in after.counters or not after.counters[c.id].open)]
