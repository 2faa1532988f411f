"""Triggers that NOTIFY every server process when an account or a device changes who it
is or whether it may act (shared.account_cache): the per-request lookup of who is asking
is then remembered per process on PostgreSQL. Nothing on SQLite.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:00:00
"""
from __future__ import annotations

from alembic import op

from shared.account_cache import drop_statements, trigger_statements

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in trigger_statements():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in drop_statements():
            op.execute(statement)
