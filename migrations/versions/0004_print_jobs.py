"""print jobs (a transactional outbox); drop the unread tickets.estimated_wait_minutes

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02 18:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("office_id", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("printer", sa.String(length=64), nullable=False),
        sa.Column("document", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("printer_used", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_print_jobs_status_printer", "print_jobs", ["status", "printer"])
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("estimated_wait_minutes")


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("estimated_wait_minutes", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.drop_index("ix_print_jobs_status_printer", table_name="print_jobs")
    op.drop_table("print_jobs")
