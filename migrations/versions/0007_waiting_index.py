"""The waiting queue's covering index: a new ticket's position is counted, and the head
of each lane found, from the index alone (no table row read per waiting ticket)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:40:00
"""
from __future__ import annotations

from alembic import op

from shared.migrate import create_index_concurrently

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ["office_id", "service_day", "status", "station", "place_key", "checked_in_at",
           "priority_group", "entered_station_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Built without locking the tickets table against writes: an office with a long
        # history keeps checking in and calling while the index is built.
        # (A build that stopped half-way is dropped and built again: shared.migrate.)
        create_index_concurrently("ix_ticket_waiting", "tickets", COLUMNS)
    else:
        op.create_index("ix_ticket_waiting", "tickets", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_ticket_waiting", table_name="tickets")
