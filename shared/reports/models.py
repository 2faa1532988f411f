"""Tables of the reports package: SKM survey answers and the audit log.

Both live on `shared.models.Base`, so importing this module completes the metadata
(`Base.metadata.create_all`, Alembic autogenerate). Migration 0002 creates them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models import Base

ELEMENT_COLUMNS = ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")


class SurveyResponse(Base):
    """One anonymous SKM answer per ticket: nine scores 1-4, no staff and no name."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_office_answered", "office_id", "answered_at"),
        *(CheckConstraint(f"{column} BETWEEN 1 AND 4", name=f"ck_survey_{column}_range")
          for column in ELEMENT_COLUMNS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    answered_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    u1: Mapped[int] = mapped_column(Integer)
    u2: Mapped[int] = mapped_column(Integer)
    u3: Mapped[int] = mapped_column(Integer)
    u4: Mapped[int] = mapped_column(Integer)
    u5: Mapped[int] = mapped_column(Integer)
    u6: Mapped[int] = mapped_column(Integer)
    u7: Mapped[int] = mapped_column(Integer)
    u8: Mapped[int] = mapped_column(Integer)
    u9: Mapped[int] = mapped_column(Integer)

    def scores(self) -> tuple[int, ...]:
        return tuple(int(getattr(self, column)) for column in ELEMENT_COLUMNS)


class AuditEntry(Base):
    """Who did what: exports and purges of people's data, configuration, staff and device
    changes (old -> new in `detail`). Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"), Index("ix_audit_office_at", "office_id", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    staff: Mapped[str] = mapped_column(String(64))  # a username, or "cli"
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The office the entry concerns (None: every office, or none in particular).
    office_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
