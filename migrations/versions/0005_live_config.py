"""Live configuration documents, the office of an audit entry, a ticket's own flow,
where staff were last seen

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 18:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_documents",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_id", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_audit_office_at", ["office_id", "at"], unique=False)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flow", sa.JSON(), nullable=True))
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_seen_ip", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_seen_where", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("last_seen_where")
        batch_op.drop_column("last_seen_ip")
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("flow")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_office_at")
        batch_op.drop_column("office_id")
    op.drop_table("config_documents")
