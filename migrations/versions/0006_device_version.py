"""The version and browser a kiosk or board reports; the latest state of each printer,
serial bus and board, shared by every process

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 02:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=200), nullable=True))
    op.create_table(
        "device_states",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("office_id", sa.String(length=32), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("process", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("device_states")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("version")
