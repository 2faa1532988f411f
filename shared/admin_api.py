"""Administration REST resources under /api/v1 (role admin, limited to its offices).

Every configuration change goes through `shared.live_config.update`: validated like
config.toml, stored with its audit entry, applied at once in every process. An edit may
name the version it started from (`If-Match: "<version>"` or `"version"` in the body);
a stale one gets 409 `stale_version` with `current_version`. Without a version the edit
applies to whatever is current (scripts, integrations).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from shared import live_config, visits
from shared.api import core, json_body
from shared.auth import Principal, require
from shared.config import Config
from shared.core import Change
from shared.errors import Refusal
from shared.models import Ticket
from shared.reports.models import AuditEntry
from shared.web import current_principal

admin_api = Blueprint("admin_api", __name__, url_prefix="/api/v1")

COUNTER_FIELDS = ("id", "name", "stations", "priority_only", "open")
ANNOUNCEMENT_MAX = 300


# --- helpers ---------------------------------------------------------------------------------
def admin(office: str | None = None) -> Principal:
    principal = require(current_principal(), "admin", office=office)
    if office is not None:
        core().office(office)
    return principal


def all_offices_admin() -> Principal:
    principal = admin()
    if principal.offices is not None:
        raise Refusal(403, "forbidden", "You are not allowed to do this.")
    return principal


def expected_version(body: dict[str, Any]) -> int | None:
    """The version an edit started from: If-Match (an ETag) or the body's "version"."""
    header = request.headers.get("If-Match")
    raw: Any = body.pop("version", None)
    if header is not None and header.strip() != "*":
        raw = header.strip().removeprefix("W/").strip('"')
    if raw is None:
        return None
    if isinstance(raw, bool):
        raw = None
    try:
        version = int(raw) if raw is not None else None
    except (TypeError, ValueError):
        version = None
    if version is None or not 0 < version < 2**31:
        raise Refusal(400, "invalid_request",
                      "The version must be a whole number (If-Match or \"version\").")
    return version


def answer(stored: live_config.Stored, payload: dict[str, Any], status: int = 200) -> Response:
    payload = {"version": stored.version, **payload}
    response = jsonify(payload)
    response.status_code = status
    response.headers["ETag"] = f'"{stored.version}"'
    return response


def office_document(office: str) -> tuple[int, dict[str, Any]]:
    return live_config.document(core(), live_config.office_scope(office))


def counter_view(item: dict[str, Any], busy: dict[str, str]) -> dict[str, Any]:
    counter_id = str(item.get("id"))
    return {"id": counter_id, "name": item.get("name"), "stations": item.get("stations", []),
            "priority_only": bool(item.get("priority_only", False)),
            "open": bool(item.get("open", True)), "ticket": busy.get(counter_id)}


def busy_counters(office: str) -> dict[str, str]:
    """counter id -> the number of its called or serving ticket."""
    with core().db.read() as session:
        rows = session.execute(
            select(Ticket.counter, Ticket.number).where(
                Ticket.office_id == office, Ticket.status.in_(("called", "serving")),
                Ticket.counter.is_not(None))
        ).all()
    return {str(row.counter): row.number for row in rows}


def find_counter(document: dict[str, Any], counter_id: str) -> dict[str, Any]:
    for item in document.get("counters", []):
        if isinstance(item, dict) and str(item.get("id")) == counter_id:
            return item
    raise Refusal(404, "unknown_counter", "Unknown counter {counter}.", counter=counter_id)


def release_hook(office: str, counter_id: str, choice: Any, station: Any,
                 who: str) -> live_config.Hook:
    """Closing or removing a counter: its called ticket returns or moves first."""

    def hook(_session: Any, change: live_config.Change | None, config: Config) -> None:
        assert isinstance(change, Change)  # an office's change (shared.core)
        visits.release_counter(core(), change, config.offices[office], counter_id, choice,
                               station, who)

    return hook


# --- offices and their configuration ----------------------------------------------------------
@admin_api.get("/offices")
def offices() -> Response:
    principal = admin()
    versions = live_config.versions(core())
    return jsonify({"offices": [
        {"id": o.id, "name": o.name, "timezone": o.timezone,
         "version": versions.get(live_config.office_scope(o.id), 0)}
        for o in core().config.offices.values() if principal.may_see_office(o.id)
    ]})


@admin_api.get("/offices/<office>/config")
def office_config(office: str) -> Response:
    admin(office)
    version, document = office_document(office)
    return answer(live_config.Stored("", version, document, False), {"config": document})


@admin_api.patch("/offices/<office>/config")
def patch_office_config(office: str) -> Response:
    """A merge patch of the office's `[[offices]]` table: the keys given replace the
    stored ones (null removes a key); the same keys and checks as config.toml."""
    principal = admin(office)
    body = json_body()
    version = expected_version(body)
    if "id" in body and body["id"] != office:
        raise Refusal(422, "invalid_config", "The office id cannot change.", field="id")

    def patch(document: dict[str, Any]) -> None:
        for key, value in body.items():
            if value is None:
                document.pop(key, None)
            else:
                document[key] = value

    stored = live_config.update(core(), live_config.office_scope(office), patch, principal.name,
                                "config.update", version)
    return answer(stored, {"config": stored.document})


@admin_api.get("/config")
def global_config() -> Response:
    all_offices_admin()
    version, document = live_config.document(core(), live_config.GLOBAL)
    return answer(live_config.Stored("", version, document, False), {"config": document})


@admin_api.patch("/config")
def patch_global_config() -> Response:
    """A merge patch of the global live tables ([policy], [numbering], [kiosk],
    [announce]): each table given is merged key by key (null removes a key)."""
    principal = all_offices_admin()
    body = json_body()
    version = expected_version(body)

    def patch(document: dict[str, Any]) -> None:
        for table, values in body.items():
            if isinstance(values, dict) and isinstance(document.get(table), dict):
                for key, value in values.items():
                    if value is None:
                        document[table].pop(key, None)
                    else:
                        document[table][key] = value
            elif values is None:
                document.pop(table, None)
            else:
                document[table] = values

    stored = live_config.update(core(), live_config.GLOBAL, patch, principal.name,
                                "config.update", version)
    return answer(stored, {"config": stored.document})


@admin_api.put("/offices/<office>/info")
def put_info(office: str) -> Response:
    """The information lines of every board of the office (their next snapshot)."""
    principal = admin(office)
    body = json_body()
    version = expected_version(body)
    info = body.get("info")
    if set(body) - {"info"} or not isinstance(info, list):
        raise Refusal(422, "invalid_config", "This change is not valid: {field}.", field="info")

    def put(document: dict[str, Any]) -> None:
        document["info"] = info

    stored = live_config.update(core(), live_config.office_scope(office), put, principal.name,
                                "info.update", version)
    return answer(stored, {"info": stored.document.get("info", [])})


# --- counters ---------------------------------------------------------------------------------
@admin_api.get("/offices/<office>/counters")
def counters(office: str) -> Response:
    admin(office)
    version, document = office_document(office)
    busy = busy_counters(office)
    return answer(live_config.Stored("", version, document, False), {
        "counters": [counter_view(c, busy) for c in document.get("counters", [])
                     if isinstance(c, dict)]})


@admin_api.post("/offices/<office>/counters")
def add_counter(office: str) -> Response:
    principal = admin(office)
    body = json_body()
    version = expected_version(body)
    counter_id = body.get("id")
    if isinstance(counter_id, int) and not isinstance(counter_id, bool):
        counter_id = body["id"] = str(counter_id)
    if not isinstance(counter_id, str):
        raise Refusal(422, "invalid_config", "This change is not valid: {field}.", field="id")
    body.setdefault("priority_only", False)
    body.setdefault("open", True)

    def add(document: dict[str, Any]) -> None:
        items = document.setdefault("counters", [])
        if any(isinstance(c, dict) and str(c.get("id")) == counter_id for c in items):
            raise Refusal(409, "counter_exists", "Counter {counter} exists already.",
                          counter=counter_id)
        items.append(body)

    stored = live_config.update(core(), live_config.office_scope(office), add, principal.name,
                                "counter.add", version)
    counter = find_counter(stored.document, counter_id)
    return answer(stored, {"counter": counter_view(counter, {})}, 201)


@admin_api.patch("/offices/<office>/counters/<counter_id>")
def patch_counter(office: str, counter_id: str) -> Response:
    """Rename, stations, priority-only, open/close. Closing a counter that has called a
    ticket asks first (409 `counter_has_ticket` with `choices`); send `"ticket": "return"`
    (back to the queue at its place) or `"ticket": "transfer"` with `"station"`."""
    principal = admin(office)
    body = json_body()
    version = expected_version(body)
    choice = body.pop("ticket", None)
    station = body.pop("station", None)
    if "id" in body and str(body["id"]) != counter_id:
        raise Refusal(422, "invalid_config", "A counter's id cannot change.", field="id")

    def patch(document: dict[str, Any]) -> None:
        counter = find_counter(document, counter_id)
        for key, value in body.items():
            if value is None:
                counter.pop(key, None)
            else:
                counter[key] = value

    hook = None
    if body.get("open") is False:
        hook = release_hook(office, counter_id, choice, station, principal.name)
    stored = live_config.update(core(), live_config.office_scope(office), patch, principal.name,
                                "counter.update", version, hook)
    counter = find_counter(stored.document, counter_id)
    return answer(stored, {"counter": counter_view(counter, busy_counters(office))})


@admin_api.delete("/offices/<office>/counters/<counter_id>")
def delete_counter(office: str, counter_id: str) -> Response:
    principal = admin(office)
    body = json_body() if request.data else {}
    version = expected_version(body)
    choice = body.get("ticket", request.args.get("ticket"))
    station = body.get("station", request.args.get("station"))

    def remove(document: dict[str, Any]) -> None:
        find_counter(document, counter_id)
        document["counters"] = [c for c in document.get("counters", [])
                                if not (isinstance(c, dict) and str(c.get("id")) == counter_id)]

    stored = live_config.update(core(), live_config.office_scope(office), remove,
                                principal.name, "counter.delete", version,
                                release_hook(office, counter_id, choice, station,
                                             principal.name))
    return answer(stored, {"deleted": counter_id})


# --- announcements ------------------------------------------------------------------------------
@admin_api.post("/offices/<office>/announcement")
def announce(office: str) -> tuple[Response, int]:
    """A one-off text on every board of the office now (spoken where voice is on)."""
    principal = admin(office)
    body = json_body()
    text = body.get("text")
    if (not isinstance(text, str) or not text.strip() or len(text) > ANNOUNCEMENT_MAX
            or set(body) - {"text"}):
        raise Refusal(422, "invalid_request",
                      "An announcement is a text of 1-{limit} characters.",
                      limit=ANNOUNCEMENT_MAX, field="text")
    text = " ".join(text.split())
    with core().change(office) as change:
        change.emit("announcement", {}, staff=principal.name, detail={"text": text})
        change.session.add(AuditEntry(at=change.now, staff=principal.name[:64],
                                      action="announcement", office_id=office,
                                      detail={"text": text}))
    return jsonify({"announcement": {"text": text, "version": change.version}}), 201


# --- audit ----------------------------------------------------------------------------------------
def audit_entries(principal: Principal) -> list[dict[str, Any]]:
    office = request.args.get("office") or None
    who = request.args.get("who") or None
    since_raw = request.args.get("since") or None
    if office is not None:
        require(principal, office=office)
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if office is not None:
        query = query.where(AuditEntry.office_id == office)
    elif principal.offices is not None:
        query = query.where(AuditEntry.office_id.in_(principal.offices))
    if who is not None:
        query = query.where(AuditEntry.staff == who[:64])
    if since_raw is not None:
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][\d:.]+)?", since_raw):
                raise ValueError
            since = datetime.fromisoformat(since_raw)
        except ValueError:
            raise Refusal(400, "invalid_request",
                          "since must be a date or date-time (YYYY-MM-DD[THH:MM]).") from None
        query = query.where(AuditEntry.at >= since)
    try:
        limit = min(max(int(request.args.get("limit", "500")), 1), 5000)
    except ValueError:
        limit = 500
    with core().db.read() as session:
        rows = session.execute(query.limit(limit)).scalars().all()
    return [{"id": r.id, "at": r.at.isoformat(timespec="seconds") + "Z", "who": r.staff,
             "office": r.office_id, "action": r.action, "detail": r.detail or {}}
            for r in rows]


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv(entries: list[dict[str, Any]]) -> str:
    """One line per change: who, when, what, path, old -> new."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["at", "who", "office", "action", "path", "old", "new"])
    for entry in entries:
        changes = entry["detail"].get("changes") or [
            {"path": "", "old": "", "new": {k: v for k, v in entry["detail"].items()
                                            if k not in ("scope", "version")}}]
        for change in changes:
            writer.writerow([_cell(entry["at"]), _cell(entry["who"]), _cell(entry["office"]),
                             _cell(entry["action"]), _cell(change.get("path")),
                             _cell(_short(change.get("old"))), _cell(_short(change.get("new")))])
    return buffer.getvalue()


def _short(value: Any) -> str:
    import json

    if value is None or value == "":
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@admin_api.get("/audit")
def audit() -> Response:
    """Who changed what, when, old -> new (filters: office, who, since); CSV with
    `format=csv` or `Accept: text/csv`."""
    principal = admin()
    entries = audit_entries(principal)
    if request.args.get("format") == "csv" or request.accept_mimetypes.best == "text/csv":
        return Response(audit_csv(entries), mimetype="text/csv", headers={
            "Content-Disposition": "attachment; filename=giliran-audit.csv"})
    return jsonify({"audit": entries})
