"""The live configuration: the office's settings in the database, changed while it runs.

`config.toml` seeds an empty database and stays the way to install a server. Once seeded,
the database holds the tables an office changes during its week, as *documents* of the
same shape the file has:

- `office:<id>`: one `[[offices]]` entry (hours, info lines, stations, services and their
  flows, counters, the office's own `policy` overrides, closed days, quota per slot);
- `global`: the `[policy]`, `[numbering]`, `[kiosk]` and `[announce]` tables.

The installation's own tables (`[server]`, `[security]`, `[printers]`, `[serial]`,
`[retention]`) always come from the file. An office with no document yet (added to the
file later) is seeded from the file; every other live table is the database's.

A change runs the very loader that checks config.toml (`config_from_data` and the rooms'
section validators) on the whole patched configuration, so the same mistakes are refused
with the same key and reason. It is stored in one transaction with its audit entry (who,
what, when, old -> new), names the version it edits (a stale one is refused with 409 and
the current version), and publishes a `config_changed` event per office: every process
reloads its configuration from the database before its boards get their next snapshot.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time as monotonic_time
import tomllib
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.config import Config, ConfigError, Office, config_from_data, run_checks
from shared.db import Database
from shared.errors import Refusal
from shared.events import EventBus, TicketEvent
from shared.i18n import bilingual
from shared.models import ConfigDocument, OfficeRow
from shared.reports.models import AuditEntry

log = logging.getLogger(__name__)

GLOBAL = "global"
OFFICE_PREFIX = "office:"
# The top-level tables the database owns once seeded; the others stay the file's.
LIVE_TABLES = ("policy", "numbering", "kiosk", "announce")
EVENT = "config_changed"
# What stays the process's own: the file's (and the environment's) server, secrets and
# devices, taken from the loaded Config rather than parsed again.
FILE_FIELDS = ("security", "host", "port", "public_url", "trusted_proxies",
               "ping_interval_seconds", "printers", "serial", "retention")



class Change(Protocol):
    """What this module needs of shared.core.Change (the core imports this module)."""

    session: Session
    events: list[TicketEvent]

    def emit(self, kind: str, ticket: dict[str, Any], **fields: Any) -> None: ...


class Core(Protocol):
    """What this module needs of shared.core.Core."""

    config: Config
    db: Database
    bus: EventBus

    def now(self) -> datetime: ...

    def office(self, office_id: str) -> Office: ...

    def change(self, office_id: str) -> AbstractContextManager[Change]: ...

    def change_all(self) -> AbstractContextManager[Sequence[Change]]: ...


Mutation = Callable[[dict[str, Any]], None]
Hook = Callable[[Session, Change | None, Config], None]


def office_scope(office_id: str) -> str:
    return OFFICE_PREFIX + office_id


def scope_office(scope: str) -> str | None:
    return scope[len(OFFICE_PREFIX):] if scope.startswith(OFFICE_PREFIX) else None


def plain(value: Any) -> Any:
    """TOML values as JSON values: dates and times as text, tuples as lists."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def documents_of(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The live documents in a parsed configuration (global first, offices in order)."""
    documents: dict[str, dict[str, Any]] = {
        GLOBAL: {key: plain(data[key]) for key in LIVE_TABLES if key in data}
    }
    for office in data.get("offices", []):
        if isinstance(office, Mapping) and isinstance(office.get("id"), str):
            documents[office_scope(office["id"])] = plain(office)
    return documents


def merged_data(base: Mapping[str, Any], documents: Mapping[str, Mapping[str, Any]],
                order: list[str] | None = None) -> dict[str, Any]:
    """The file's own tables with the live documents in place of the live tables."""
    data = {k: v for k, v in base.items() if k not in LIVE_TABLES and k != "offices"}
    data.update(copy.deepcopy(dict(documents.get(GLOBAL, {}))))
    scopes = order or [s for s in documents if s != GLOBAL]
    data["offices"] = [copy.deepcopy(dict(documents[s])) for s in scopes if s in documents]
    return data


def build_config(base: Config, documents: Mapping[str, Mapping[str, Any]],
                 order: list[str] | None = None) -> Config:
    """Validate live documents with the file's loader and the rooms' section checks the
    base configuration was loaded with. Raises ConfigError."""
    config = replace(config_from_data(merged_data(base.raw, documents, order), base.source),
                     checks=base.checks,
                     **{name: getattr(base, name) for name in FILE_FIELDS})
    run_checks(config, config.checks)
    return config


# --- the process's view --------------------------------------------------------------------
@dataclass
class _State:
    versions: dict[str, int]
    lock: threading.Lock
    checked: float = 0.0  # time.monotonic() of the last poll


_states: weakref.WeakKeyDictionary[Any, _State] = weakref.WeakKeyDictionary()


def _state(core: Core) -> _State:
    state = _states.get(core)
    if state is None:
        state = _states.setdefault(core, _State({}, threading.Lock()))
    return state


def _rows(session: Session) -> list[ConfigDocument]:
    return list(session.execute(
        select(ConfigDocument).order_by(ConfigDocument.position, ConfigDocument.scope)
    ).scalars())


def _from_rows(core: Core, rows: list[ConfigDocument]) -> tuple[Config, dict[str, int]]:
    documents = {row.scope: row.document for row in rows}
    order = [row.scope for row in rows if row.scope != GLOBAL]
    return build_config(core.config, documents, order), {r.scope: r.version for r in rows}


def bootstrap(core: Core) -> None:
    """Seed an empty database from the file, then use the database's configuration.

    Offices of the file without a document get one (seeded from the file). Called at start
    by `Core.ensure_offices`; also subscribes this process to configuration changes."""
    file_documents = documents_of(core.config.raw)
    for _attempt in range(3):
        try:
            with core.db.write() as session:
                present = {row.scope: row for row in _rows(session)}
                now = core.now()
                position = max((row.position for row in present.values()), default=0)
                for scope, document in file_documents.items():
                    if scope in present:
                        continue
                    position += 1
                    session.add(ConfigDocument(
                        scope=scope, position=0 if scope == GLOBAL else position, version=1,
                        document=document, updated_at=now, updated_by="config.toml"))
                    session.add(AuditEntry(at=now, staff="config.toml", action="config.seed",
                                           office_id=scope_office(scope),
                                           detail={"scope": scope, "version": 1}))
            break
        except IntegrityError:  # another process seeded at the same moment: read theirs
            continue
    with core.db.read() as session:
        rows = _rows(session)
    try:
        config, versions = _from_rows(core, rows)
    except ConfigError as error:
        raise ConfigError(error.key, f"{error.message} (in the live configuration stored in "
                          "the database; see docs/admin.md)") from None
    differs = [s for s, d in file_documents.items()
               if any(r.scope == s and r.document != d for r in rows)]
    if differs:
        log.info("config.toml differs from the live configuration in %s; the database's is "
                 "used (giliran config import FILE applies a file)", ", ".join(differs))
    state = _state(core)
    with state.lock:
        core.config = config
        state.versions = versions
    _subscribe(core)


def _subscribe(core: Core) -> None:
    if getattr(core.bus, "_giliran_live_config", None) is core:
        return

    def on_event(event: TicketEvent) -> None:
        if event.kind == EVENT:
            refresh(core, str(event.detail.get("scope")),
                    int(event.detail.get("config_version") or 0))

    core.bus.subscribe(on_event, first=True)
    core.bus._giliran_live_config = core  # type: ignore[attr-defined]


def refresh(core: Core, scope: str | None = None, version: int = 0) -> bool:
    """Reload the configuration from the database unless this process already has
    `version` of `scope`. Returns True when it reloaded."""
    state = _state(core)
    if scope is not None and state.versions.get(scope, 0) >= version > 0:
        return False
    with core.db.read() as session:
        rows = _rows(session)
    try:
        config, versions = _from_rows(core, rows)
    except ConfigError:
        log.exception("the live configuration in the database is not valid; keeping the "
                      "previous one")
        return False
    with state.lock:
        if all(versions.get(s, 0) >= v for s, v in state.versions.items()):
            core.config = config
            state.versions = versions
    return True


POLL_SECONDS = 10.0


def poll(core: Core, every: float = POLL_SECONDS) -> bool:
    """Reload when the stored versions differ from this process's (at most every `every`
    seconds): the fallback for a change whose event never came (Redis down, or a
    `giliran config import` without Redis). Returns True when it reloaded."""
    state = _state(core)
    now = monotonic_time.monotonic()
    if now - state.checked < every:
        return False
    state.checked = now
    with core.db.read() as session:
        stored = {row.scope: row.version for row in session.execute(
            select(ConfigDocument.scope, ConfigDocument.version))}
    if stored == state.versions:
        return False
    return refresh(core)


def versions(core: Core) -> dict[str, int]:
    return dict(_state(core).versions)


# --- reading -------------------------------------------------------------------------------
def document(core: Core, scope: str) -> tuple[int, dict[str, Any]]:
    """(version, document) of one scope, as stored."""
    with core.db.read() as session:
        row = session.get(ConfigDocument, scope)
        if row is None:
            raise Refusal(404, "not_found", "Not found.")
        return row.version, copy.deepcopy(row.document)


# --- changing ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stored:
    scope: str
    version: int
    document: dict[str, Any]
    changed: bool


# English reasons of the loader and the Indonesian of each (by pattern); see config.py.
_REASONS: tuple[tuple[str, str], ...] = (
    (r"missing", "missing"),
    (r"expected (?P<kind>[\w/]+), got (?P<value>.*)", "expected {kind}, got {value}"),
    (r"unknown key; expected one of: (?P<keys>.*)", "unknown key; expected one of: {keys}"),
    (r"names unknown station (?P<station>.*)", "names unknown station {station}"),
    (r"expected a time HH:MM, got (?P<value>.*)", "expected a time HH:MM, got {value}"),
    (r"expected a date YYYY-MM-DD, got (?P<value>.*)",
     "expected a date YYYY-MM-DD, got {value}"),
    (r"letters, digits, - and _ only", "letters, digits, - and _ only"),
    (r"counter (?P<counter>.*) is defined twice", "counter {counter} is defined twice"),
    (r"a flow needs at least one station", "a flow needs at least one station"),
    (r"a counter needs at least one station", "a counter needs at least one station"),
    (r"an office needs at least one station", "an office needs at least one station"),
    (r"a name of 1-64 characters", "a name of 1-64 characters"),
    (r"expected a text of at most 500 characters", "expected a text of at most 500 characters"),
    (r"expected 0 \(no limit\) or more", "expected 0 (no limit) or more"),
    (r"expected a number from 0 to 1440", "expected a number from 0 to 1440"),
    (r'expected "demote" or "refuse"', 'expected "demote" or "refuse"'),
    (r'expected "first" or a ratio like "1:2"', 'expected "first" or a ratio like "1:2"'),
    (r"expected a table, got (?P<value>.*)", "expected a table, got {value}"),
    (r"unknown time zone (?P<value>.*)", "unknown time zone {value}"),
    (r"expected minutes from 1 to 1440", "expected minutes from 1 to 1440"),
    (r"expected distinct capital letters A-Z", "expected distinct capital letters A-Z"),
    (r"expected one capital letter A-Z", "expected one capital letter A-Z"),
    (r"letter (?P<letter>.*) is already used by (?P<key>.*)",
     "letter {letter} is already used by {key}"),
    (r"station (?P<station>.*) is defined twice", "station {station} is defined twice"),
    (r"service (?P<service>.*) is defined twice", "service {service} is defined twice"),
    (r"expected a time after opens \((?P<opens>.*)\)", "expected a time after opens ({opens})"),
    (r"expected a time from opens to closes \((?P<opens>[^-]*)-(?P<closes>.*)\)",
     "expected a time from opens to closes ({opens}-{closes})"),
    # The other checks a console change can meet (a station's service time, the kiosk's
    # code pattern, the announcer's table, a serial display's or a counter printer's
    # counter), and a document the loader cannot even read: Indonesian too.
    (r"expected minutes between 0\.5 and 240", "expected minutes between 0.5 and 240"),
    (r"expected seconds between 5 and 600", "expected seconds between 5 and 600"),
    (r"not a regular expression: (?P<error>.*)", "not a regular expression: {error}"),
    (r'expected "digits" or "words", got (?P<value>.*)',
     'expected "digits" or "words", got {value}'),
    (r"expected true or false, got (?P<value>.*)", "expected true or false, got {value}"),
    (r"expected a whole number, got (?P<value>.*)", "expected a whole number, got {value}"),
    (r"expected 1 to (?P<most>\d+), got (?P<value>.*)", "expected 1 to {most}, got {value}"),
    (r"expected a folder path, got (?P<value>.*)", "expected a folder path, got {value}"),
    (r"folder not found: (?P<path>.*)", "folder not found: {path}"),
    (r"unknown counter (?P<counter>.*) of office (?P<office>.*)",
     "unknown counter {counter} of office {office}"),
    (r"counter (?P<counter>.*) exists in offices (?P<offices>.*): name each office's printer "
     r"counter-<office>-(?P<same>.*) \(e\.g\. (?P<example>.*)\)",
     "counter {counter} exists in offices {offices}: name each office's printer "
     "counter-<office>-{same} (e.g. {example})"),
    (r"expected a table", "expected a table"),
    (r"not a valid configuration", "not a valid configuration"),
    (r"not a live table; expected one of: (?P<tables>.*) "
     r"\(the others stay in config\.toml\)",
     "not a live table; expected one of: {tables} (the others stay in config.toml)"),
)


def reason_of(message: str) -> dict[str, str]:
    """A loader message in both languages (the English as it is when no pattern fits)."""
    for pattern, template in _REASONS:
        match = re.fullmatch(pattern, message)
        if match:
            return bilingual(template, **match.groupdict())
    return {"id": message, "en": message}


def invalid(error: ConfigError, scope: str) -> Refusal:
    """The refusal of an invalid change: the key (within the document) and the reason."""
    key = error.key
    if scope != GLOBAL:
        key = re.sub(r"^offices\[\d+\]\.?", "", key) or "(office)"
    reason = reason_of(error.message)
    refusal = Refusal(422, "invalid_config", "This change is not valid: {field}.", field=key,
                      reason=reason)
    refusal.message = {lang: f"{refusal.message[lang]} {reason[lang]}" for lang in ("id", "en")}
    return refusal


def stale(current: int) -> Refusal:
    return Refusal(409, "stale_version",
                   "Someone else changed this in the meantime (now version {current_version}). "
                   "Reload and try again.", current_version=current)


@contextmanager
def _transaction(core: Core, office_id: str | None) -> Iterator[tuple[Session, list[Change]]]:
    """One write transaction: an office's (its lock and version), or every office's."""
    if office_id is not None:
        with core.change(office_id) as change:
            yield change.session, [change]
        return
    with core.change_all() as changes:
        session = changes[0].session
        if not core.db.is_sqlite:  # global writers in several processes: one at a time
            session.execute(select(ConfigDocument.scope)
                            .where(ConfigDocument.scope == GLOBAL).with_for_update())
        yield session, list(changes)


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """What changed between two documents, as [{"path", "old", "new"}] (lists of tables
    with ids compared by id)."""
    if isinstance(old, dict) and new is None:
        new = {}
    if old is None and isinstance(new, dict):
        old = {}
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[dict[str, Any]] = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            changes += diff(old.get(key), new.get(key), sub)
        return changes
    if (isinstance(old, list) and isinstance(new, list) and old and new
            and all(isinstance(i, dict) and "id" in i for i in old + new)):
        before = {str(i["id"]): i for i in old}
        after = {str(i["id"]): i for i in new}
        changes = []
        for key in list(before) + [k for k in after if k not in before]:
            changes += diff(before.get(key), after.get(key), f"{path}[{key}]")
        if not changes and [str(i["id"]) for i in old] != [str(i["id"]) for i in new]:
            changes.append({"path": f"{path}(order)", "old": list(before), "new": list(after)})
        return changes
    if old == new:
        return []
    return [{"path": path, "old": old, "new": new}]


def update(core: Core, scope: str, mutate: Mutation, who: str, action: str,
           expected_version: int | None = None, hook: Hook | None = None,
           note: Mapping[str, Any] | None = None) -> Stored:
    """Change one document: check the version, apply `mutate` to a copy, validate the whole
    configuration with the file's loader, store it with its audit entry, publish.

    `hook(session, change, config)` runs in the same transaction after validation (closing
    a counter returns its called ticket to the queue there), before the document is
    written: the session's stored document is still the old one. An edit that changes nothing
    stores nothing and is not audited."""
    office_id = scope_office(scope)
    if office_id is not None:
        core.office(office_id)
    elif scope != GLOBAL:
        raise Refusal(404, "not_found", "Not found.")
    stored: Stored
    config: Config | None = None
    with _transaction(core, office_id) as (session, changes):
        rows = _rows(session)
        row = next((r for r in rows if r.scope == scope), None)
        if row is None:
            raise Refusal(404, "not_found", "Not found.")
        if expected_version is not None and expected_version != row.version:
            raise stale(row.version)
        old = copy.deepcopy(row.document)
        new = copy.deepcopy(row.document)
        mutate(new)
        new = plain(new)
        if new == old:
            return Stored(scope, row.version, old, False)
        if scope == GLOBAL:
            _only_live_tables(old, new)
        documents = {r.scope: r.document for r in rows}
        documents[scope] = new
        try:
            config = build_config(core.config, documents,
                                  [r.scope for r in rows if r.scope != GLOBAL])
        except ConfigError as error:
            raise invalid(error, scope) from None
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            log.info("invalid live configuration change: %r", exc)
            raise invalid(ConfigError("(document)", "not a valid configuration"), scope) \
                from None
        if hook is not None:
            hook(session, changes[0] if office_id else None, config)
        row.document = new
        row.version += 1
        row.updated_at = core.now()
        row.updated_by = who[:64]
        detail: dict[str, Any] = {"scope": scope, "version": row.version,
                                  "changes": diff(old, new)}
        if note:
            detail.update(note)
        session.add(AuditEntry(at=core.now(), staff=who[:64], action=action[:64],
                               office_id=office_id, detail=detail))
        for change in changes:
            change.emit(EVENT, {}, staff=who,
                        detail={"scope": scope, "config_version": row.version})
        stored = Stored(scope, row.version, copy.deepcopy(new), True)
    state = _state(core)
    with state.lock:
        if state.versions.get(scope, 0) < stored.version:
            state.versions = {**state.versions, scope: stored.version}
            assert config is not None
            core.config = config
    return stored


def _only_live_tables(old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """The global document holds the live tables only: a [server] or [security] given to
    the console was stored, audited and exported, said "saved" and changed nothing (the
    installation's tables always come from the file). One stored before this check may
    still be removed (null)."""
    for key in new:
        if key not in LIVE_TABLES and new[key] != old.get(key):
            raise invalid(ConfigError(str(key), "not a live table; expected one of: "
                                      f"{', '.join(LIVE_TABLES)} (the others stay in "
                                      "config.toml)"), GLOBAL)


def audit(core: Core, who: str, action: str, office_id: str | None,
          detail: Mapping[str, Any]) -> None:
    """An audit entry for a change that is not a configuration document (staff, devices)."""
    with core.db.write() as session:
        session.add(AuditEntry(at=core.now(), staff=who[:64], action=action[:64],
                               office_id=office_id, detail=dict(detail)))


# --- export and import -----------------------------------------------------------------------
EXPORT_HEADER = """\
# Giliran live configuration, exported {at} (UTC) from the database.
# The tables an office changes while it runs: [policy], [numbering], [kiosk], [announce]
# and the [[offices]]. `giliran config import FILE` applies a file like this one; tables
# that equal the live ones change nothing. Installation tables ([server], [security],
# [printers], [serial], [retention]) stay in config.toml and are not exported.
"""


def export_toml(core: Core) -> str:
    import tomli_w

    with core.db.read() as session:
        rows = _rows(session)
    data: dict[str, Any] = {}
    for row in rows:
        if row.scope == GLOBAL:
            data.update(row.document)
    data["offices"] = [row.document for row in rows if row.scope != GLOBAL]
    header = EXPORT_HEADER.format(at=core.now().isoformat(timespec="seconds"))
    return header + "\n" + tomli_w.dumps(_without_none(data))


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value


def import_toml(core: Core, text: str, who: str,
                office_hook: Callable[[str], Hook] | None = None) -> dict[str, int]:
    """Apply a file's live tables (offices named in it, and its global tables when it has
    any). Returns {scope: version} of the documents it changed (empty: nothing to do).
    Raises ConfigError for a file the loader refuses (with the line), or a change of an
    office that `office_hook(office id)` refuses (shared.office_changes.import_hook: the
    admin routes' rules, given by the command)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigError("(syntax)", str(exc), int(line.group(1)) if line else None) from None
    # A table the loader does not know (a typo like [polcy] or [[ofices]]) is refused, as
    # config.toml refuses it, rather than skipped with "nothing changed".
    from shared.config import _Reader, check_tables
    check_tables(data, text)
    _check_office_entries(data, _Reader(text))
    incoming = documents_of(data)
    with core.db.read() as session:
        rows = _rows(session)
    documents = {row.scope: row.document for row in rows}
    if any(key in data for key in LIVE_TABLES):
        # The global tables the file has; one it leaves out stays as it is (a file with
        # only [policy] used to put [numbering], [kiosk] and [announce] back to their
        # defaults: other ticket letters and voice in the middle of the day).
        incoming[GLOBAL] = {**copy.deepcopy(documents.get(GLOBAL, {})), **incoming[GLOBAL]}
    else:
        incoming.pop(GLOBAL)
    order = [row.scope for row in rows if row.scope != GLOBAL]
    documents.update(incoming)
    order += [s for s in incoming if s != GLOBAL and s not in order]
    # The whole result first, with the file's lines in the messages.
    try:
        build_config(core.config, documents, order)
    except ConfigError as error:
        raise ConfigError(error.key, error.message, _Reader(text).line_of(error.key)) from None
    changed: dict[str, int] = {}
    for scope, new in incoming.items():
        if scope not in {row.scope for row in rows}:
            _add_office(core, scope, new, who, len(order))
            changed[scope] = 1
            continue

        def replace(document: dict[str, Any], new: dict[str, Any] = new) -> None:
            document.clear()
            document.update(new)

        office_id = scope_office(scope)
        try:
            stored = update(core, scope, replace, who, "config.import",
                            hook=office_hook(office_id) if office_id and office_hook else None)
        except Refusal as refusal:  # printed like the loader's errors (giliran config import)
            raise ConfigError(scope, f"{refusal.message['id']} / {refusal.message['en']}") \
                from None
        if stored.changed:
            changed[scope] = stored.version
    return changed


def _check_office_entries(data: Mapping[str, Any], reader: Any) -> None:
    """Each `[[offices]]` of an imported file names its office: an entry without an id
    (or with a number for one) was skipped and the command said "nothing changed", and
    `offices = 5` ended in a traceback. Raises ConfigError with the key and line."""
    offices = data.get("offices", [])
    if not isinstance(offices, list):
        raise reader.error("offices", f"expected list, got {offices!r}")
    for i, office in enumerate(offices):
        if not isinstance(office, Mapping):
            raise reader.error(f"offices[{i}]", "expected a table")
        office_id = office.get("id")
        if office_id is None:
            raise reader.error(f"offices[{i}].id", "missing")
        if not isinstance(office_id, str):
            raise reader.error(f"offices[{i}].id", f"expected str, got {office_id!r}")


def _add_office(core: Core, scope: str, document: dict[str, Any], who: str,
                position: int) -> None:
    office_id = scope_office(scope)
    assert office_id is not None
    with core.db.write() as session:
        if session.get(OfficeRow, office_id) is None:
            session.add(OfficeRow(id=office_id, name=str(document.get("name", office_id)),
                                  timezone=str(document.get("timezone", "UTC")), version=0))
        session.add(ConfigDocument(scope=scope, position=position, version=1, document=document,
                                   updated_at=core.now(), updated_by=who[:64]))
        detail = {"scope": scope, "version": 1, "changes": diff({}, document)}
        session.add(AuditEntry(at=core.now(), staff=who[:64], action="config.import",
                               office_id=office_id, detail=detail))
    refresh(core)
