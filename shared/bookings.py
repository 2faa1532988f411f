"""Importing bookings (CSV or JSON): an upsert on (office, code), row by row.

A bad row is refused whole and reported with its line number and reason; the good rows
of the same file are stored, whatever the bad row holds (a field over the CSV limit of
128 KiB, bytes that are not UTF-8, a JSON item nested too deeply). Each stored row is
counted as created, updated (a field changed) or unchanged. Rows are read and written in
batches, so a file of 100,000 rows never sits in memory at once (only each stored code
and its line, to recognise a code given twice).

A code given again in the same file (same office) is counted unchanged when its data is
the same as the first time, else refused, naming the line that was kept: one file is
one list of bookings, and it would otherwise be both created and updated, and updated
twice on every import of the same file.

The office scope of the caller is checked per row, the same for every way in (the CLI,
a JSON array, a CSV body or an uploaded file): a row for an office the account may not
write is refused with the others stored. docs/bookings.md describes the formats.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, time
from typing import IO, Any

from sqlalchemy import func, insert, select, text

from shared.clock import parse_day
from shared.config import PRIORITY_GROUPS, Config, parse_hhmm
from shared.core import Core
from shared.errors import Refusal
from shared.green import cooperate
from shared.i18n import bilingual
from shared.models import Booking

log = logging.getLogger(__name__)

FIELDS = ("code", "office", "date", "slot_start", "slot_end", "service", "priority_group", "name")
CODE_RE = re.compile(r"[A-Za-z0-9-]{6,32}")
BATCH = 500
MAX_REPORTED = 1000
FIELD_LIMIT_KIB = csv.field_size_limit() // 1024
SURROGATES = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)


class RowError(ValueError):
    def __init__(self, message: str, **values: Any) -> None:
        self.message = message
        self.values = values
        super().__init__(message.format(**values))


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused_count: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    # Why the rest of the file could not be read (a broken JSON array, a CSV without its
    # header): the rows before it are kept.
    stopped: RowError | None = None

    def refuse(self, line: int, code: Any, error: RowError) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_REPORTED:
            self.refused.append({"line": line, "code": code if isinstance(code, str) else None,
                                 "reason": bilingual(error.message, **error.values)})

    @property
    def read(self) -> int:
        """Rows stored or refused one by one (not counting a file that stopped)."""
        return self.created + self.updated + self.unchanged + self.refused_count \
            - (1 if self.stopped is not None else 0)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "refused_count": self.refused_count,
                "refused": self.refused}


@dataclass(frozen=True)
class Unreadable:
    """A CSV row the reader could not read, in place of its fields: why (a catalogue text)."""

    reason: str


@dataclass(frozen=True)
class BookingRow:
    code: str
    office: str
    date: date
    slot_start: time
    slot_end: time
    service: str
    priority_group: str | None
    name: str | None


def validate_row(raw: Any, config: Config,
                 offices: tuple[str, ...] | None = None) -> BookingRow:
    """Check one row (the booking columns of docs/api.md section 8) for an account that may
    write `offices` (None: every office). Raises RowError."""
    if isinstance(raw, Unreadable):
        raise RowError(raw.reason, limit=FIELD_LIMIT_KIB)
    if not isinstance(raw, dict):
        raise RowError("A row must be an object with the booking fields.")
    if any(isinstance(v, str) and SURROGATES.search(v) for v in raw.values()):
        raise RowError("The row is not UTF-8 text.")
    unknown = set(raw) - set(FIELDS)
    if unknown:
        raise RowError("Unknown field(s): {fields}.", fields=", ".join(sorted(map(str, unknown))))

    def text(key: str, required: bool = True) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            if required:
                raise RowError("Missing {field}.", field=key)
            return None
        if not isinstance(value, str):
            raise RowError("{field} must be text.", field=key)
        return value.strip()

    code = text("code")
    assert code is not None
    if not CODE_RE.fullmatch(code):
        raise RowError("Booking code must be 6-32 letters, digits or '-'.")
    office_id = text("office")
    assert office_id is not None
    if offices is not None and office_id not in offices:
        raise RowError("This account may not write bookings of office {office}.",
                       office=office_id)
    office = config.offices.get(office_id)
    if office is None:
        raise RowError("Unknown office {office}.", office=office_id)
    raw_date = text("date")
    assert raw_date is not None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw_date):
            raise ValueError
        day = parse_day(raw_date)
    except ValueError:
        raise RowError("Date must be YYYY-MM-DD.") from None
    try:
        start = parse_hhmm(text("slot_start") or "")
        end = parse_hhmm(text("slot_end") or "")
    except ValueError:
        raise RowError("Slot times must be HH:MM.") from None
    if end <= start:
        raise RowError("The slot must end after it starts.")
    service = text("service")
    if service not in office.services:
        raise RowError("Unknown service {service}.", service=service)
    group = text("priority_group", required=False)
    if group is not None and group not in PRIORITY_GROUPS:
        raise RowError("Unknown priority group {group}.", group=group)
    name = text("name", required=False)
    if name is not None and (len(name) > 200 or not name.isprintable()):
        raise RowError("The name is too long or holds control characters.")
    return BookingRow(code.upper(), office_id, day, start, end, service, group, name)


def rows_from_csv(handle: IO[str]) -> Iterator[tuple[int, Any]]:
    """The rows of a CSV file with a header line, numbered by the line they end on.

    A row the csv module cannot read (a field over its 128 KiB limit) comes out as
    Unreadable; the reader goes on with the next line.
    """
    reader = csv.DictReader(handle)
    try:
        fieldnames = reader.fieldnames
    except csv.Error:
        raise RowError("The CSV header line could not be read.") from None
    if fieldnames is None:
        return
    missing = [f for f in FIELDS if f not in fieldnames and f not in
               ("priority_group", "name")]
    if missing:
        raise RowError("The CSV header lacks: {fields}.", fields=", ".join(missing))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = ("A field is longer than {limit} KiB." if "field limit" in str(exc)
                      else "The row could not be read as CSV.")
            yield reader.reader.line_num, Unreadable(reason)
            continue
        if None in row:  # more cells than header fields
            yield reader.line_num, Unreadable("The row has more cells than the header.")
            continue
        yield reader.line_num, {k: v for k, v in row.items() if k is not None}


def rows_from_json(handle: IO[str], chunk_size: int = 65536) -> Iterator[tuple[int, Any]]:
    """Stream the objects of a top-level JSON array, numbering them from 1."""
    decoder = json.JSONDecoder()
    buffer = ""
    position = 0
    started = False
    number = 0
    eof = False
    while True:
        if not eof and len(buffer) - position < chunk_size:
            chunk = handle.read(chunk_size)
            eof = chunk == ""
            buffer = buffer[position:] + chunk
            position = 0
        while position < len(buffer) and buffer[position] in " \t\r\n,":
            position += 1
        if not started:
            if position >= len(buffer):
                if eof:
                    raise RowError("The file is not a JSON array of bookings.")
                continue
            if buffer[position] != "[":
                raise RowError("The file is not a JSON array of bookings.")
            started = True
            position += 1
            continue
        if position >= len(buffer):
            if eof:
                raise RowError("The JSON array is not closed.")
            continue
        if buffer[position] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, position)
        except RecursionError:
            raise RowError("Item {number} is nested too deeply.", number=number + 1) from None
        except json.JSONDecodeError:
            if not eof:
                # The object may continue in the next chunk.
                more = handle.read(chunk_size)
                if more:
                    buffer = buffer[position:] + more
                    position = 0
                    continue
            raise RowError("Invalid JSON after item {number}.", number=number) from None
        number += 1
        position = end
        yield number, value


def import_rows(core: Core, rows: Iterable[tuple[int, Any]],
                progress: Callable[[int], None] | None = None,
                offices: tuple[str, ...] | None = None) -> ImportSummary:
    """Upsert validated rows in batches; refused rows are reported, good rows stored.

    `offices`: the offices the importing account may write (None: every office).
    """
    summary = ImportSummary()
    batch: list[tuple[int, BookingRow]] = []
    seen: Seen = {}
    try:
        for line, raw in rows:
            try:
                batch.append((line, validate_row(raw, core.config, offices)))
            except RowError as error:
                code = raw.get("code") if isinstance(raw, dict) else None
                summary.refuse(line, code if isinstance(code, str) and len(code) <= 64
                               else None, error)
            if len(batch) >= BATCH:
                _store(core, batch, summary, seen)
                if progress:
                    progress(len(batch))
                batch = []
                cooperate()  # a large import must not hold up the boards (shared/green.py)
    except RowError as error:
        summary.refuse(0, None, error)
        summary.stopped = error
    if batch:
        _store(core, batch, summary, seen)
        if progress:
            progress(len(batch))
    if summary.created >= ANALYZE_AFTER and not core.db.is_sqlite:
        _refresh_statistics(core)
    return summary


# After an import that adds this many bookings, PostgreSQL's planner statistics are
# refreshed at once: until autovacuum gets round to it, a table that was (nearly) empty
# is planned as such, and a check-in's booking lookup takes the wrong index.
ANALYZE_AFTER = 200


def _refresh_statistics(core: Core) -> None:
    try:
        with core.db.engine.begin() as connection:
            connection.execute(text("ANALYZE bookings"))
    except Exception:  # statistics are an optimisation; the import itself is stored
        log.exception("ANALYZE bookings failed")


# The codes of one file stored so far, per office, with the line that stored them.
Seen = dict[str, dict[str, int]]
# A booking's data, what an import compares (besides office and code).
DATA = ("date", "slot_start", "slot_end", "service", "priority_group", "name")


def _store(core: Core, batch: list[tuple[int, BookingRow]], summary: ImportSummary,
           seen: Seen) -> None:
    now = core.now()
    by_office: dict[str, list[tuple[int, BookingRow]]] = {}
    for line, row in batch:
        by_office.setdefault(row.office, []).append((line, row))
    for office_id, lines in by_office.items():
        rows = [row for _, row in lines]
        with core.db.write(office_id) as session:
            codes = {row.code for row in rows}
            existing = {
                b.code: b for b in session.execute(
                    select(Booking).where(Booking.office_id == office_id,
                                          Booking.code.in_(codes))
                ).scalars()
            }
            fresh: dict[str, dict[str, Any]] = {}
            room = _slot_room(core, session, office_id, rows, existing)
            stored = seen.setdefault(office_id, {})
            for line, row in lines:
                values = {key: getattr(row, key) for key in DATA}
                booking = existing.get(row.code)
                earlier = stored.get(row.code)
                if earlier is not None:  # the same code earlier in the file: that row stays
                    kept = fresh.get(row.code) or \
                        ({key: getattr(booking, key) for key in DATA} if booking else {})
                    if all(kept.get(key) == value for key, value in values.items()):
                        summary.unchanged += 1
                    else:
                        summary.refuse(line, row.code, RowError(
                            "Code {code} appears again with other data (line {line}).",
                            code=row.code, line=earlier))
                    continue
                if room is not None and booking is None:
                    slot = (row.date, row.slot_start)
                    if room.get(slot, 0) <= 0:
                        summary.refuse(line, row.code, RowError(
                            "The slot {start} on {date} is full (quota {quota} per slot).",
                            start=row.slot_start.strftime("%H:%M"), date=row.date.isoformat(),
                            quota=core.config.offices[office_id].quota_per_slot))
                        continue
                    room[slot] = room.get(slot, 0) - 1
                stored[row.code] = line
                if booking is not None:
                    if all(getattr(booking, key) == value for key, value in values.items()):
                        summary.unchanged += 1
                        continue
                    for key, value in values.items():
                        setattr(booking, key, value)
                    booking.updated_at = now
                    summary.updated += 1
                else:
                    fresh[row.code] = {"office_id": office_id, "code": row.code,
                                       "created_at": now, "updated_at": now,
                                       "cancelled": False, **values}
                    summary.created += 1
            if fresh:
                session.execute(insert(Booking), list(fresh.values()))


def _slot_room(core: Core, session: Any, office_id: str, rows: list[BookingRow],
               existing: dict[str, Booking]) -> dict[tuple[date, time], int] | None:
    """Places left per (day, slot start) under the office's quota; None: no quota.
    The quota (live configuration) limits new bookings; updates of known codes pass."""
    quota = core.config.offices[office_id].quota_per_slot
    if not quota:
        return None
    days = {row.date for row in rows if row.code not in existing}
    taken = session.execute(
        select(Booking.date, Booking.slot_start, func.count())
        .where(Booking.office_id == office_id, Booking.date.in_(days),
               Booking.cancelled.is_(False))
        .group_by(Booking.date, Booking.slot_start)
    ).all() if days else []
    room: dict[tuple[date, time], int] = {}
    for row in rows:
        room.setdefault((row.date, row.slot_start), quota)
    for day, start, count in taken:
        room[(day, start)] = quota - int(count)
    return room


def import_file(core: Core, handle: IO[bytes], filename: str,
                progress: Callable[[int], None] | None = None,
                offices: tuple[str, ...] | None = None,
                kind: str | None = None) -> ImportSummary:
    """Import a CSV or JSON file: `kind` "json" or "csv", else JSON when the file starts
    with '[' or is named .json. UTF-8 (a BOM is fine); a row with other bytes is refused."""
    buffered = handle if isinstance(handle, io.BufferedReader) else io.BufferedReader(handle)  # type: ignore[arg-type,type-var]
    head = buffered.peek(64)[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    text = io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="surrogateescape",
                            newline="")
    if kind is None:
        kind = "json" if head.startswith(b"[") or filename.lower().endswith(".json") else "csv"
    rows = rows_from_json(text) if kind == "json" else rows_from_csv(text)
    return import_rows(core, rows, progress, offices)


def cancel(core: Core, office_id: str, code: str) -> None:
    """Mark a booking cancelled (its ticket, if any, stays as it is)."""
    core.office(office_id)
    with core.db.write(office_id) as session:
        booking = session.execute(
            select(Booking).where(Booking.office_id == office_id, Booking.code == code.upper())
        ).scalar_one_or_none()
        if booking is None:
            raise Refusal(404, "unknown_booking",
                          "Booking code not found. Please check the code or ask an officer.")
        booking.cancelled = True
        booking.updated_at = core.now()
