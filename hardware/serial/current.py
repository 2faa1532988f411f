"""What each counter's LED display should show, read from the database (the truth).

Used when the buses start (a restarted server must not leave a display blank while its
counter still has a called ticket) and on every refresh (a missed event heals itself).
"""

from __future__ import annotations

from sqlalchemy import select

from shared.core import Core
from shared.models import Ticket

#: Ticket states shown on the counter's display: called, or being served at the counter.
SHOWN_STATES = ("called", "serving")


def current_numbers(core: Core) -> dict[tuple[str, str], str]:
    """(office id, counter id) -> number of the ticket that counter has called now."""
    shown: dict[tuple[str, str], str] = {}
    with core.db.read() as session:
        rows = session.execute(
            select(Ticket.office_id, Ticket.counter, Ticket.number, Ticket.service_day)
            .where(Ticket.status.in_(SHOWN_STATES), Ticket.counter.is_not(None))
            .order_by(Ticket.id)
        ).all()
    for office_id, counter, number, day in rows:
        office = core.config.offices.get(office_id)
        if office is None or counter is None or day != core.today(office):
            continue  # a ticket left called on an earlier day is not today's call
        shown[(office_id, counter)] = number  # the latest call wins, as on the counter screen
    return shown
