"""Running Alembic from the product (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig

from shared.db import PROJECT_ROOT, database_url


def alembic_config(url: str | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    """Bring the database to the newest schema."""
    command.upgrade(alembic_config(url), "head")
