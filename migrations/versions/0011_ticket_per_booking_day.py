"""One ticket per booking and day, instead of one per booking for ever: a booking moved to
another day (M-Paspor's reschedule keeps its code) checks in again on its new day, and a
scan on another day no longer finds an earlier day's ticket (shared.visits).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: Names the unnamed constraints of 0001 (SQLite keeps no name for them).
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _booking_unique(columns: list[str]) -> str | None:
    """The name of the unique constraint of `tickets` on exactly these columns."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("tickets"):
        if constraint["column_names"] == columns:
            return constraint["name"] or f"uq_tickets_{columns[0]}"
    return None


def upgrade() -> None:
    if op.get_context().as_sql:  # offline: PostgreSQL's default name of 0001's constraint
        op.drop_constraint("tickets_booking_id_key", "tickets", type_="unique")
        op.create_unique_constraint("uq_ticket_booking_day", "tickets",
                                    ["booking_id", "service_day"])
        return
    old = _booking_unique(["booking_id"])
    with op.batch_alter_table("tickets", naming_convention=NAMES) as batch:
        if old is not None:
            batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint("uq_ticket_booking_day", ["booking_id", "service_day"])


def downgrade() -> None:
    with op.batch_alter_table("tickets", naming_convention=NAMES) as batch:
        batch.drop_constraint("uq_ticket_booking_day", type_="unique")
        batch.create_unique_constraint("uq_tickets_booking_id", ["booking_id"])
