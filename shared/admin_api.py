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
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from shared import device_states, lifecycle, live_config, office_changes, outbox, roles
from shared import offices as office_rules
from shared.api import core, json_body
from shared.auth import (
    DEVICE_NAME_MAX,
    DeviceInfo,
    Principal,
    StaffInfo,
    create_device,
    create_staff,
    end_sessions,
    list_devices,
    list_staff,
    rename_device,
    require,
    revoke_device,
    set_password,
    set_role,
    set_staff_active,
    valid_device_id,
    valid_password,
    valid_username,
)
from shared.errors import Refusal
from shared.models import Ticket
from shared.reports.models import AuditEntry
from shared.web import current_principal

admin_api = Blueprint("admin_api", __name__, url_prefix="/api/v1")

COUNTER_FIELDS = ("id", "name", "stations", "priority_only", "open")
ANNOUNCEMENT_MAX = 300


# --- helpers ---------------------------------------------------------------------------------
def admin(office: str | None = None) -> Principal:
    principal = require(current_principal(), roles.ADMIN)
    if office is not None:
        office_rules.check(core(), principal, office)
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
                Ticket.office_id == office, Ticket.status.in_(lifecycle.AT_COUNTER),
                Ticket.service_day == core().today(core().office(office)),
                Ticket.counter.is_not(None))
        ).all()
    return {str(row.counter): row.number for row in rows}


def find_counter(document: dict[str, Any], counter_id: str) -> dict[str, Any]:
    for item in document.get("counters", []):
        if isinstance(item, dict) and str(item.get("id")) == counter_id:
            return item
    raise Refusal(404, "unknown_counter", "Unknown counter {counter}.", counter=counter_id)


# --- offices and their configuration ----------------------------------------------------------
@admin_api.get("/offices")
def offices() -> Response:
    principal = admin()
    versions = live_config.versions(core())
    return jsonify({"offices": [
        {"id": o.id, "name": o.name, "timezone": o.timezone,
         "version": versions.get(live_config.office_scope(o.id), 0)}
        for o in office_rules.visible(core(), principal)
    ]})


@admin_api.get("/offices/<office>/config")
def office_config(office: str) -> Response:
    admin(office)
    version, document = office_document(office)
    return answer(live_config.Stored("", version, document, False), {"config": document})


@admin_api.patch("/offices/<office>/config")
def patch_office_config(office: str) -> Response:
    """A merge patch of the office's `[[offices]]` table: the keys given replace the
    stored ones (null removes a key); the same keys and checks as config.toml.

    A patch that closes or removes a counter with a called ticket asks first, like the
    counter's own routes (409 `counter_has_ticket`): send `?ticket=return` or
    `?ticket=transfer&station=<id>`. Removing a station tickets of today still need (409
    `station_has_tickets`) or a service with bookings from today on (409
    `service_has_bookings`) is refused (keep_what_is_used)."""
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

    hook = office_changes.office_hook(core(), office, request.args.get("ticket"),
                                      request.args.get("station"),
                       principal.name)
    stored = live_config.update(core(), live_config.office_scope(office), patch, principal.name,
                                "config.update", version, hook)
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
        hook = office_changes.release_hook(core(), office, [counter_id], choice, station,
                                           principal.name)
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
                                office_changes.release_hook(core(), office, [counter_id],
                                                            choice, station,
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
        office_rules.check(core(), principal, office)
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


# --- staff --------------------------------------------------------------------------------------
STAFF_FIELDS = ("username", "role", "offices", "password", "active", "token")
PRESENT_FOR = timedelta(minutes=15)   # seen this recently: counted as logged in


def _where() -> str | None:
    """Where a staff request comes from, in words a supervisor reads ("counter 3")."""
    path = request.path
    if path.startswith("/counter/supervisor"):
        return "supervisor"
    if path == "/counter" and request.args.get("c"):
        return f"counter {request.args['c'][:32]}"
    if path.startswith("/api/v1/counters/"):
        return f"counter {path.split('/')[4][:32]}"
    if path.startswith("/admin"):
        return "admin"
    if path.startswith("/reports"):
        return "reports"
    return None


@admin_api.before_app_request
def _poll_live_config() -> None:
    """A change whose event never reached this process is picked up within seconds."""
    live_config.poll(core())


@admin_api.before_app_request
def _note_presence() -> None:
    """Remember where staff work and that they still do (written after the answer, at
    most once a minute per person and place: shared.presence). Every staff request
    counts as a use of the account, also a page's polling that names no place: an open
    socket of the account's sessions lives as long as that (shared.auth.ended_among)."""
    if (request.endpoint or "static").endswith("static"):  # a page's files
        return
    principal = current_principal()
    if principal is None or not principal.is_staff:
        return
    core().presence.note(principal.name, core().now(), request.remote_addr, _where())


def _offices_of(value: Any) -> str | None:
    """The API's `offices` (a list; empty or null: every office) as the account's office."""
    if value is None or value == []:
        return None
    if (not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str)):
        raise Refusal(422, "invalid_request",
                      "offices is a list with one office, or empty for every office.",
                      field="offices")
    core().office(value[0])
    return value[0]


def staff_view(info: StaffInfo, presence: dict[str, Any]) -> dict[str, Any]:
    data = info.as_dict()
    data["offices"] = [info.office] if info.office else []
    seen = presence.get(info.username)
    data["last_seen_at"] = seen[0].isoformat(timespec="seconds") + "Z" if seen else None
    data["last_seen_where"] = seen[1] if seen else None
    data["last_seen_ip"] = seen[2] if seen else None
    data["logged_in"] = bool(seen and info.active and core().now() - seen[0] < PRESENT_FOR)
    return data


def staff_presence() -> dict[str, Any]:
    return core().presence.read()


def _may_manage(principal: Principal, info: StaffInfo) -> None:
    """An office admin manages the accounts of its offices only."""
    if principal.offices is not None and info.office not in principal.offices:
        raise Refusal(403, "forbidden", "You are not allowed to do this.")


def _one_staff(name: str) -> StaffInfo:
    found = [s for s in list_staff(core()) if s.username == name]
    if not found:
        raise Refusal(404, "not_found", "There is no staff account {user}.", user=name[:64])
    return found[0]


def visible_staff(principal: Principal) -> list[dict[str, Any]]:
    """The accounts a supervisor or admin sees, with where each was last seen: every
    account for one of every office, else the accounts of their own offices (not the
    accounts for every office)."""
    presence = staff_presence()
    return [staff_view(s, presence) for s in list_staff(core())
            if principal.offices is None or s.office in principal.offices]


@admin_api.get("/staff")
def staff_list() -> Response:
    """Accounts with where each person was last seen (supervisors read, admins manage)."""
    return jsonify({"staff": visible_staff(require(current_principal(), *roles.SUPERVISORS))})


@admin_api.post("/staff")
def staff_add() -> tuple[Response, int]:
    principal = admin()
    body = json_body()
    unknown = set(body) - set(STAFF_FIELDS)
    if unknown:
        raise Refusal(422, "invalid_request", "Unknown field {field}.", field=sorted(unknown)[0])
    username, role, password = body.get("username"), body.get("role"), body.get("password")
    if not valid_username(username):
        raise Refusal(422, "invalid_request",
                      "A username is 2-64 letters, digits, '.', '-' or '_'.", field="username")
    if role not in roles.ACCOUNT_ROLES:
        raise Refusal(422, "invalid_request", "Unknown role.", field="role")
    if role not in roles.PASSWORDLESS and not valid_password(password):
        raise Refusal(422, "invalid_request", "A password is 8-256 characters.",
                      field="password")
    office = _offices_of(body.get("offices"))
    if principal.offices is not None and office not in principal.offices:
        raise Refusal(403, "forbidden", "You are not allowed to do this.")
    if any(s.username == username for s in list_staff(core())):
        raise Refusal(409, "staff_exists", "An account {username} exists already.",
                      username=username)
    token = create_staff(core(), username, password if isinstance(password, str) else None,
                         str(role), office, token=body.get("token") is True)
    live_config.audit(core(), principal.name, "staff.add", office,
                      {"changes": [{"path": f"staff[{username}]", "old": None,
                                    "new": {"role": role, "offices": [office] if office
                                            else []}}]})
    data = staff_view(_one_staff(username), {})
    if token:
        data["token"] = token
    return jsonify({"staff": data}), 201


@admin_api.patch("/staff/<name>")
def staff_change(name: str) -> Response:
    """Role, office, active (false ends live sessions), password (ends sessions too),
    `"end_sessions": true` (log out everywhere).

    The whole body is checked before anything is written: a refused field changes nothing
    (a role given with a password that is too short used to be stored, unaudited, and the
    answer said it was refused)."""
    principal = admin()
    body = json_body()
    unknown = set(body) - {"role", "offices", "active", "password", "end_sessions"}
    if unknown:
        raise Refusal(422, "invalid_request", "Unknown field {field}.", field=sorted(unknown)[0])
    before = _one_staff(name)
    _may_manage(principal, before)
    role, office = before.role, before.office
    if "role" in body or "offices" in body:
        role = body.get("role", before.role)
        if role not in roles.ACCOUNT_ROLES:
            raise Refusal(422, "invalid_request", "Unknown role.", field="role")
        office = _offices_of(body["offices"]) if "offices" in body else before.office
        if principal.offices is not None and office not in principal.offices:
            raise Refusal(403, "forbidden", "You are not allowed to do this.")
        if name == principal.name and (role != roles.ADMIN or office != before.office):
            raise Refusal(409, "own_account", "You cannot change your own role or offices.")
    if "password" in body and not valid_password(body["password"]):
        raise Refusal(422, "invalid_request", "A password is 8-256 characters.",
                      field="password")
    if "active" in body:
        if not isinstance(body["active"], bool):
            raise Refusal(422, "invalid_request", "active is true or false.", field="active")
        if name == principal.name and body["active"] is False:
            raise Refusal(409, "own_account", "You cannot disable your own account.")
    changes: list[dict[str, Any]] = []
    if "role" in body or "offices" in body:
        set_role(core(), name, str(role), office)
        changes += [{"path": "role", "old": before.role, "new": role}] \
            if role != before.role else []
        changes += [{"path": "offices", "old": [before.office] if before.office else [],
                     "new": [office] if office else []}] if office != before.office else []
    if "password" in body:
        set_password(core(), name, body["password"])
        changes.append({"path": "password", "old": "***", "new": "***"})
    if "active" in body:
        set_staff_active(core(), name, body["active"])
        if body["active"] != before.active:
            changes.append({"path": "active", "old": before.active, "new": body["active"]})
    if body.get("end_sessions") is True:
        end_sessions(core(), name)
        changes.append({"path": "sessions", "old": "open", "new": "ended"})
    if changes:
        live_config.audit(core(), principal.name, "staff.update", before.office,
                          {"staff": name, "changes": [
                              {**c, "path": f"staff[{name}].{c['path']}"} for c in changes]})
    return jsonify({"staff": staff_view(_one_staff(name), staff_presence())})


# --- devices ------------------------------------------------------------------------------------
def hardware_states() -> dict[str, dict[str, dict[str, Any]]]:
    """Printers, serial buses and boards as every process knows them (shared.device_states):
    a printer's state comes from the process owning it, a board's from the process its
    socket is connected to, whichever process answers this request."""
    return device_states.shared_states(core())


def device_view(info: DeviceInfo, states: dict[str, Any],
                clients: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A device as the admin sees it: `states` is `hardware_states()` (or {})."""
    data = info.as_dict()
    printers, boards = states.get("printer", {}), states.get("board", {})
    printer = printers.get(outbox.kiosk_printer(info.id)) if info.kind == roles.KIOSK else None
    data["printer"] = printer
    data["sound"] = boards.get(info.id) if info.kind == roles.DISPLAY else None
    client = (clients if clients is not None else device_states.clients(core())).get(
        info.id, {})
    data["version"] = client.get("version")
    data["browser"] = client.get("browser")
    data["user_agent"] = client.get("user_agent")
    data["outdated"] = bool(client.get("outdated"))
    data["online"] = bool(info.last_seen_at and core().now() - info.last_seen_at
                          < timedelta(minutes=2))
    return data


def _one_device(principal: Principal, device_id: str) -> DeviceInfo:
    found = [d for d in list_devices(core()) if d.id == device_id]
    if not found or not principal.may_see_office(found[0].office):
        raise Refusal(404, "not_found", "Not found.")
    return found[0]


def enrol_qr(url: str) -> str:
    """The one-time enrolment URL as a PNG data URI (shown on the admin screen)."""
    import base64

    import qrcode

    image = qrcode.make(url, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@admin_api.get("/devices")
def devices() -> Response:
    principal = admin()
    states = hardware_states()
    clients = device_states.clients(core())
    return jsonify({"devices": [device_view(d, states, clients) for d in list_devices(core())
                                if principal.may_see_office(d.office)]})


@admin_api.post("/devices")
def device_add() -> tuple[Response, int]:
    """Register a kiosk or board: the answer holds its one-time enrolment URL (and QR)."""
    principal = admin()
    body = json_body()
    kind, device_id = body.get("kind"), body.get("id")
    office = body.get("office") or (principal.offices[0] if principal.offices
                                    else core().config.default_office.id)
    if kind not in roles.DEVICE_KINDS:
        raise Refusal(422, "invalid_request", "kind is kiosk or display.", field="kind")
    if not valid_device_id(device_id):
        raise Refusal(422, "invalid_request",
                      "A device id is 1-64 letters, digits, '.', '-' or '_'.", field="id")
    if not isinstance(office, str):
        raise Refusal(422, "invalid_request", "Unknown office {office}.", office="?",
                      field="office")
    admin(office)
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise Refusal(422, "invalid_request", "A device name is 1-100 printable characters.",
                      field="name")
    name = (name or "").strip() or None
    if name is not None and (len(name) > DEVICE_NAME_MAX or not name.isprintable()):
        # Checked before the device is registered: a refused name left a pending device
        # behind, unaudited, whose enrolment link nobody ever saw.
        raise Refusal(422, "invalid_request", "A device name is 1-100 printable characters.",
                      field="name")
    existing = [d for d in list_devices(core()) if d.id == device_id]
    # Another office's device, whatever its state (pending, revoked), answers like an
    # enrolled one: an office admin neither takes it over nor learns more than that the id
    # is in use. An admin of every office may still re-register it.
    if existing and (existing[0].status == "enrolled"
                     or not principal.may_see_office(existing[0].office)):
        raise Refusal(409, "device_exists",
                      "Device {device} is enrolled. Revoke it first to enrol it again.",
                      device=device_id)
    code = create_device(core(), str(kind), device_id, office)
    if name is not None:
        rename_device(core(), device_id, name)
    base = core().config.public_url or request.host_url.rstrip("/")
    url = f"{base}/enrol/{device_id}/{code}"
    live_config.audit(core(), principal.name, "device.add", office, {"changes": [
        {"path": f"devices[{device_id}]", "old": None, "new": {"kind": kind}}]})
    return jsonify({"device": device_view(_one_device(principal, device_id), {}),
                    "enrol_url": url, "enrol_qr": enrol_qr(url)}), 201


@admin_api.patch("/devices/<device_id>")
def device_rename(device_id: str) -> Response:
    principal = admin()
    before = _one_device(principal, device_id)
    body = json_body()
    if set(body) - {"name"}:
        raise Refusal(422, "invalid_request", "Unknown field {field}.",
                      field=sorted(set(body) - {"name"})[0])
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise Refusal(422, "invalid_request", "A device name is 1-100 printable characters.",
                      field="name")
    info = rename_device(core(), device_id, name)
    live_config.audit(core(), principal.name, "device.rename", before.office, {"changes": [
        {"path": f"devices[{device_id}].name", "old": before.name, "new": info.name}]})
    return jsonify({"device": device_view(info, hardware_states())})


@admin_api.delete("/devices/<device_id>")
def device_revoke(device_id: str) -> Response:
    """Revoke: the device's next request is 401 and its sockets are dropped."""
    principal = admin()
    before = _one_device(principal, device_id)
    info = revoke_device(core(), device_id)
    live_config.audit(core(), principal.name, "device.revoke", before.office, {"changes": [
        {"path": f"devices[{device_id}].status", "old": before.status, "new": info.status}]})
    return jsonify({"device": device_view(info, {})})


@admin_api.post("/devices/<device_id>/test-print")
def device_test_print(device_id: str) -> tuple[Response, int]:
    """A test ticket on a kiosk's printer (the process that owns the printer prints it)."""
    principal = admin()
    device = _one_device(principal, device_id)
    office = core().office(device.office)
    now_local = core().local_now(office)
    payload = {"office": office.id, "number": "TEST", "service": "Uji cetak / Test print",
               "station": next(iter(office.stations)), "issued_at": now_local.isoformat(),
               "status_url": "/", "position": 0, "estimated_wait_minutes": 0, "slot": None}
    with core().change(office.id) as change:
        job = outbox.request(change, outbox.kiosk_printer(device.id), "ticket", payload, None)
        if job is None:
            raise Refusal(409, "no_printer", "No printer is available for this ticket.")
        change.emit("test_print", {}, staff=principal.name, detail={"device": device.id})
    live_config.audit(core(), principal.name, "device.test_print", office.id,
                      {"device": device.id, "print_job": job["id"]})
    return jsonify({"print": job}), 201
