"""SQLAlchemy models. Every row belongs to an office; every time is naive UTC.

The ticket timeline (`TimelineEntry`) is append-only: every state change of a ticket adds
one entry and nothing ever updates or deletes one. Statistics are computed from it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.account_cache import install_on_create


class Base(DeclarativeBase):
    pass


class OfficeRow(Base):
    """An office. `version` rises by one per committed change of its queue; boards use it.
    `last_issued_at`: the check-in time of the office's newest ticket on PostgreSQL, so
    that a new ticket's is never earlier than one committed before it (shared.visits)."""

    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=0)
    last_issued_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("office_id", "code", name="uq_booking_office_code"),
        Index("ix_booking_office_date", "office_id", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    code: Mapped[str] = mapped_column(String(32))
    date: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[time] = mapped_column(Time)
    slot_end: Mapped[time] = mapped_column(Time)
    service: Mapped[str] = mapped_column(String(64))
    priority_group: Mapped[str | None] = mapped_column(String(32), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Ticket(Base):
    """One visit: from check-in through every station of its service's flow."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("office_id", "service_day", "number", name="uq_ticket_number"),
        UniqueConstraint("booking_id", "service_day", name="uq_ticket_booking_day"),
        Index("ix_ticket_queue", "office_id", "status", "station"),
        # Covers what the ordering reads of a waiting ticket (shared.visits: the position
        # count, the lanes' heads), in the order of the base key.
        Index("ix_ticket_waiting", "office_id", "service_day", "status", "station",
              "place_key", "checked_in_at", "priority_group", "entered_station_at"),
        # The priority lane alone, in the same order: its head is the first entry, however
        # many regular tickets wait (migration 0010).
        Index("ix_ticket_waiting_priority", "office_id", "service_day", "status", "station",
              "place_key", "checked_in_at", "entered_station_at",
              sqlite_where=text("priority_group IS NOT NULL"),
              postgresql_where=text("priority_group IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    # One ticket per booking and day (uq_ticket_booking_day): a booking moved to another
    # day checks in again there.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), nullable=True)
    service_day: Mapped[date] = mapped_column(Date)
    number: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))  # booked | walkin | express
    service: Mapped[str] = mapped_column(String(64))
    priority_group: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    station: Mapped[str] = mapped_column(String(64))
    flow_position: Mapped[int] = mapped_column(Integer, default=0)
    counter: Mapped[str | None] = mapped_column(String(32), nullable=True)
    slot_start: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    slot_end: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    demoted: Mapped[bool] = mapped_column(Boolean, default=False)
    place_key: Mapped[datetime] = mapped_column(DateTime)
    checked_in_at: Mapped[datetime] = mapped_column(DateTime)
    entered_station_at: Mapped[datetime] = mapped_column(DateTime)
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    last_called_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    public_token: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # kiosk or staff
    # The station flow the ticket was issued with: a later change of the service's flow
    # (live configuration) never reroutes tickets already in the office. None: from config.
    flow: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)

    booking: Mapped[Booking | None] = relationship()
    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="ticket", order_by="TimelineEntry.id"
    )


class TimelineEntry(Base):
    """Append-only: one row per state change of a ticket."""

    __tablename__ = "ticket_timeline"
    __table_args__ = (Index("ix_timeline_office_at", "office_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    station: Mapped[str | None] = mapped_column(String(64), nullable=True)
    counter: Mapped[str | None] = mapped_column(String(32), nullable=True)
    staff: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    ticket: Mapped[Ticket] = relationship(back_populates="timeline")


class NumberSequence(Base):
    """The last number handed out per office, day and letter (allocated atomically)."""

    __tablename__ = "number_sequences"

    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    letter: Mapped[str] = mapped_column(String(1), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # officer | supervisor | admin | booking
    office_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"), nullable=True)
    api_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Carried in the session cookie; raising it ends every session of the account.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where the person was last seen working (written at most once a minute per place):
    # the supervisor's and admin's "who is logged in where".
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_seen_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_seen_where: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Device(Base):
    """A kiosk or board, enrolled once through a one-time URL, then holding its own token."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(String(16))  # kiosk | display
    enrol_code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)  # "Kiosk lobby"
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What the device's page reports when it connects (shared.device_states): the
    # product version it was loaded with, and its browser's User-Agent.
    version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(200), nullable=True)


class DeviceState(Base):
    """The latest state of a printer, serial bus or board, written by the process that
    knows it (the one owning the printer, the one the board's socket is connected to) so
    that every process shows it (shared.device_states). No personal data."""

    __tablename__ = "device_states"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # "<kind>:<id>"
    kind: Mapped[str] = mapped_column(String(16))  # printer | serial | board
    office_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    process: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ConfigDocument(Base):
    """The live configuration: one document per office (`office:<id>`) and one `global`.

    A document holds the same tables config.toml has (an `[[offices]]` entry, or the
    `policy`, `numbering`, `kiosk` and `announce` tables), validated by the same loader.
    `version` rises by one per stored change; an edit names the version it started from.
    """

    __tablename__ = "config_documents"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(Base):
    """The answer given to a request with an Idempotency-Key, replayed on a repeat."""

    __tablename__ = "idempotency_keys"

    office_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PrintJob(Base):
    """A document to print, committed in the same transaction as the change that asks
    for it (a transactional outbox). The process that owns the printer claims the job
    atomically (`queued` -> `printing`) just before sending bytes, so it prints at most
    once across processes; a job found `printing` after a crash is marked `failed`,
    never printed again; a `queued` one is printed when its printer's process runs."""

    __tablename__ = "print_jobs"
    __table_args__ = (Index("ix_print_jobs_status_printer", "status", "printer"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("offices.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    printer: Mapped[str] = mapped_column(String(64))  # the printer asked for
    document: Mapped[str] = mapped_column(String(16))  # ticket | slip
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # queued | printing | printed | failed
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    printer_used: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


# On PostgreSQL, `create_all` also installs the triggers that tell every process an
# account or device changed (shared.account_cache; migration 0008 for migrated ones).
install_on_create(Base.metadata)
