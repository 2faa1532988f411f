"""The check-in time of an office's newest ticket (`offices.last_issued_at`): on
PostgreSQL a new ticket's check-in time is never earlier than that of a ticket committed
before it, whichever process or host issued it, so the position printed on it stays
exact (shared.visits._issue_statement).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 20:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("last_issued_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("last_issued_at")
