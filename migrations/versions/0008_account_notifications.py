"""Triggers that NOTIFY every server process when an account or a device changes who it
is or whether it may act (shared.account_cache): the per-request lookup of who is asking
is then remembered per process on PostgreSQL. Nothing on SQLite.

The SQL is written out here as it was at this revision; shared.account_cache installs
the same on `create_all`, and checks at start-up that both triggers are there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:00:00
"""
from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = [
    "CREATE OR REPLACE FUNCTION giliran_accounts_changed() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN PERFORM pg_notify('giliran_accounts', TG_TABLE_NAME); RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS staff_giliran_accounts_changed ON staff",
    "CREATE TRIGGER staff_giliran_accounts_changed AFTER INSERT OR DELETE OR TRUNCATE OR "
    "UPDATE OF username, role, office_id, api_token_hash, active, session_generation "
    "ON staff FOR EACH STATEMENT EXECUTE FUNCTION giliran_accounts_changed()",
    "DROP TRIGGER IF EXISTS devices_giliran_accounts_changed ON devices",
    "CREATE TRIGGER devices_giliran_accounts_changed AFTER INSERT OR DELETE OR TRUNCATE OR "
    "UPDATE OF id, kind, office_id, token_hash, revoked_at "
    "ON devices FOR EACH STATEMENT EXECUTE FUNCTION giliran_accounts_changed()",
]
DOWNGRADE = [
    "DROP TRIGGER IF EXISTS staff_giliran_accounts_changed ON staff",
    "DROP TRIGGER IF EXISTS devices_giliran_accounts_changed ON devices",
    "DROP FUNCTION IF EXISTS giliran_accounts_changed()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
