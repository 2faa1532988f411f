"""The priority lane's own index: a call finds the longest-waiting priority ticket by
reading one index entry, however many regular tickets wait at the station (the covering
index holds both lanes in the order of the base key, so a rare priority ticket could only
be found by reading past the regular ones, and PostgreSQL read the whole table instead)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:45:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.migrate import create_index_concurrently

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME = "ix_ticket_waiting_priority"
COLUMNS = ["office_id", "service_day", "status", "station", "place_key", "checked_in_at",
           "entered_station_at"]
CONDITION = "priority_group IS NOT NULL"
WHERE = sa.text(CONDITION)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Built without locking the tickets table against writes (as 0007).
        create_index_concurrently(NAME, "tickets", COLUMNS, where=CONDITION)
    else:
        op.create_index(NAME, "tickets", COLUMNS, sqlite_where=WHERE)


def downgrade() -> None:
    op.drop_index(NAME, table_name="tickets")
