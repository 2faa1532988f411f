"""The admin console (`/admin`, role admin, limited to its offices).

Static shells filled from the live configuration; their script (`admin.js`) edits through
the administration REST resources (/api/v1, shared/admin_api.py), always naming the
version the page was loaded with, so a second admin editing the same office gets the
409 and a fresh page instead of overwriting.

`GET /admin/api/overview` is the multi-office overview the first page polls: per office,
waiting by station, the longest wait, counters open, devices offline and printer faults.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from counter.views import overview as office_overview
from shared import device_states, live_config, offices, outbox, roles
from shared.admin_api import device_view, hardware_states, visible_staff
from shared.auth import DeviceInfo, Principal, list_devices, require
from shared.config import PRIORITY_GROUPS, Office
from shared.core import Core
from shared.errors import Refusal
from shared.web import current_principal

admin = Blueprint("admin", __name__, static_folder="static",
                  static_url_path="/admin/static", template_folder="templates")

# A device not heard from for this long counts as offline on the overview.
OFFLINE_AFTER = timedelta(minutes=2)


def _core() -> Core:
    return current_app.extensions["giliran"]  # type: ignore[no-any-return]


def _admin_or_login() -> Principal | BaseResponse:
    principal = current_principal()
    if principal is None or not principal.is_staff:
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("pages.login", next=target))
    if principal.role != roles.ADMIN:
        return Response(render_template("counter/forbidden.html", only="administrators"),
                        status=403)
    return principal


def _offices(principal: Principal) -> list[Office]:
    return offices.visible(_core(), principal)


def _office(principal: Principal, office_id: str) -> Office:
    """An office's page (shared/offices.py); one the admin may not open is not found."""
    try:
        return offices.check(_core(), principal, office_id)
    except Refusal:
        raise NotFound() from None


def _page(template: str, principal: Principal, **values: Any) -> str:
    from shared.public_url import public_url_warning

    return render_template(template, principal=principal, offices=_offices(principal),
                           all_offices=principal.offices is None,
                           public_url_warning=public_url_warning(_core().config), **values)


@admin.get("/admin")
def home() -> Any:
    principal = _admin_or_login()
    if isinstance(principal, BaseResponse):
        return principal
    return _page("admin/overview.html", principal)


@admin.get("/admin/office/<office_id>")
def office_page(office_id: str) -> Any:
    principal = _admin_or_login()
    if isinstance(principal, BaseResponse):
        return principal
    office = _office(principal, office_id)
    version, document = live_config.document(_core(), live_config.office_scope(office.id))
    policy = _core().config.policy_for(office.id)
    return _page("admin/office.html", principal, office=office, version=version,
                 document=document, policy=policy, groups=PRIORITY_GROUPS,
                 global_policy=_core().config.policy)


# The global live tables (config.toml's [policy], [numbering], [kiosk] and [announce]) as
# the settings page shows them: key, input kind, label (English source, translated) and,
# for a choice, its options. Validation stays the loader's (PATCH /api/v1/config).
GLOBAL_FIELDS: dict[str, tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...]] = {
    "policy": (
        ("early_checkin_minutes", "number", "Check-in opens (minutes before the slot)", ()),
        ("late_grace_minutes", "number", "Grace after the slot (minutes)", ()),
        ("late_policy", "choice", "Late arrivals", (("demote", "Queue as a late arrival"),
                                                    ("refuse", "Refuse"))),
        ("priority", "text", "Priority groups served: first, or a ratio like 1:2", ()),
        ("max_wait_minutes", "number", "Longest wait before going first (minutes)", ()),
        ("no_show_after_calls", "number", "A no-show may be marked after this many calls", ()),
        ("recall_cooldown_seconds", "number", "Seconds before a number may be recalled again",
         ()),
        ("service_time_window", "number", "Recent services the wait estimate averages", ()),
    ),
    "numbering": (
        ("first_slot", "text", "First slot starts (HH:MM)", ()),
        ("slot_minutes", "number", "Slot length (minutes)", ()),
        ("slot_letters", "text", "Slot letters, one per slot", ()),
        ("priority_letter", "text", "Letter of priority tickets", ()),
        ("walkin_letter", "text", "Letter of walk-in tickets", ()),
        ("express_letter", "text", "Letter of express tickets", ()),
    ),
    "kiosk": (
        ("return_to_welcome_seconds", "number", "Back to the start after (seconds)", ()),
        ("code_pattern", "text", "Booking code pattern (regular expression)", ()),
    ),
    "announce": (
        ("numbers", "choice", "Numbers are spoken as", (("digits", "Digits (B nol satu dua)"),
                                                        ("words", "Words (B dua belas)"))),
        ("english", "check", "Also in English", ()),
        ("repeat", "number", "Times each call is spoken", ()),
    ),
}
GLOBAL_TITLES = {"policy": "Queue policy", "numbering": "Ticket numbers",
                 "kiosk": "Kiosk", "announce": "Spoken calls"}


def _global_values(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each field's value now: the stored one, else what the loaded config has."""
    config = _core().config
    room_defaults = _core().table_defaults
    values: dict[str, dict[str, Any]] = {}
    for table, fields in GLOBAL_FIELDS.items():
        raw = document.get(table)
        stored: dict[str, Any] = raw if isinstance(raw, dict) else {}
        effective = getattr(config, table, None)
        values[table] = {}
        for key, _kind, _label, _options in fields:
            if key in stored:
                value = stored[key]
            elif table in room_defaults:  # a room's own table: its defaults from that room
                value = (effective or {}).get(key, room_defaults[table].get(key))
            else:
                value = getattr(effective, key, None)
            if hasattr(value, "strftime"):
                value = value.strftime("%H:%M")
            values[table][key] = value
    return values


@admin.get("/admin/settings")
def settings_page() -> Any:
    """The global live tables, for an admin of every office (PATCH /api/v1/config)."""
    principal = _admin_or_login()
    if isinstance(principal, BaseResponse):
        return principal
    if principal.offices is not None:
        return Response(render_template("counter/forbidden.html", only="all_offices_admin"),
                        status=403)
    version, document = live_config.document(_core(), live_config.GLOBAL)
    return _page("admin/settings.html", principal, version=version, fields=GLOBAL_FIELDS,
                 titles=GLOBAL_TITLES, values=_global_values(document))


@admin.get("/admin/staff")
def staff_page() -> Any:
    """Accounts and who is logged in where (supervisors see; admins also manage)."""
    principal = current_principal()
    if principal is None or not principal.is_staff:
        return redirect(url_for("pages.login", next=request.path))
    if principal.role not in roles.SUPERVISORS:
        return Response(render_template("counter/forbidden.html"), status=403)
    return _page("admin/staff.html", principal, staff=visible_staff(principal),
                 manage=principal.role == roles.ADMIN, account_roles=roles.ACCOUNT_ROLES)


@admin.get("/admin/devices")
def devices_page() -> Any:
    principal = _admin_or_login()
    if isinstance(principal, BaseResponse):
        return principal
    core = _core()
    states = hardware_states()  # every process's printers, buses and boards
    clients = device_states.clients(core)
    all_devices = list_devices(core)
    devices = [device_view(d, states, clients) for d in all_devices
               if principal.may_see_office(d.office)]
    owners = hardware_offices(core, states, all_devices)
    health: dict[str, Any] = {
        kind: {device_id: state for device_id, state in states[key].items()
               if _may_see_hardware(principal, owners.get(f"{key}:{device_id}"))}
        for kind, key in (("printers", "printer"), ("serial", "serial"))}
    return _page("admin/devices.html", principal, devices=devices, health=health)


@admin.get("/admin/audit")
def audit_page() -> Any:
    principal = _admin_or_login()
    if isinstance(principal, BaseResponse):
        return principal
    return _page("admin/audit.html", principal)


# --- which office a printer or serial bus serves -----------------------------------------------
def hardware_offices(core: Core, states: dict[str, dict[str, dict[str, Any]]],
                     devices: list[DeviceInfo]) -> dict[str, str | None]:
    """"printer:<id>" / "serial:<id>" -> the office it serves (None: not known).

    A kiosk prints on the printer with its own id, a counter's printer is
    `counter-<office>-<counter>` or `counter-<counter>` (shared.outbox), a backup printer
    serves the office of the printer it backs up, and a serial bus says its office in its
    state."""
    owners: dict[str, str | None] = {}
    kiosks = {d.id: d.office for d in devices if d.kind == roles.KIOSK}
    counters = {outbox.counter_printer(core.printers, office.id, counter): office.id
                for office in core.config.offices.values() for counter in office.counters}
    printers = states.get("printer", {})
    for printer_id in printers:
        owners[f"printer:{printer_id}"] = kiosks.get(printer_id) or counters.get(printer_id)
    for printer_id, printer in printers.items():
        backup = printer.get("backup")
        if isinstance(backup, str) and owners.get(f"printer:{backup}") is None:
            owners[f"printer:{backup}"] = owners.get(f"printer:{printer_id}")
    for bus_id, bus in states.get("serial", {}).items():
        office = bus.get("office")
        owners[f"serial:{bus_id}"] = office if isinstance(office, str) else None
    return owners


def _may_see_hardware(principal: Principal, office: str | None) -> bool:
    """An office's admin sees its own hardware; hardware of no known office only an admin
    of every office."""
    return principal.offices is None if office is None else principal.may_see_office(office)


# --- the overview's data ---------------------------------------------------------------------
def _device_health(core: Core, office: Office, devices: list[DeviceInfo],
                   states: dict[str, dict[str, dict[str, Any]]],
                   owners: dict[str, str | None]) -> dict[str, Any]:
    """This office's devices offline (enrolled, not seen for OFFLINE_AFTER) and its printer
    and serial bus faults."""
    offline: list[str] = []
    now = core.now()
    for device in devices:
        if device.office == office.id and device.status == "enrolled" and (
                device.last_seen_at is None or now - device.last_seen_at > OFFLINE_AFTER):
            offline.append(device.name or device.id)
    faults: list[str] = []
    for printer_id, printer in states["printer"].items():
        if printer.get("alert") and owners.get(f"printer:{printer_id}") == office.id:
            faults.append(printer_id)
    for bus_id, bus in states["serial"].items():
        if bus.get("status") != "up" and owners.get(f"serial:{bus_id}") == office.id:
            faults.append(f"serial:{bus_id}")
    return {"devices_offline": offline, "faults": faults}


@admin.get("/admin/api/overview")
def overview_data() -> Response:
    principal = require(current_principal(), roles.ADMIN)
    core = _core()
    result = []
    # Read once for every office of the page (every process's printers, buses and boards).
    states = device_states.shared_states(core)
    devices = list_devices(core)
    owners = hardware_offices(core, states, devices)
    for office in _offices(principal):
        data = office_overview(core, office)
        counters = data.get("counters", [])
        result.append({
            "id": office.id, "name": office.name,
            "stations": [{"id": s["id"], "name": s["name"], "waiting": s["waiting"],
                          "longest_wait_minutes": s["longest_wait_minutes"]}
                         for s in data.get("stations", [])],
            "longest_wait_minutes": max((s["longest_wait_minutes"] or 0
                                         for s in data.get("stations", [])), default=0),
            "waiting": sum(s["waiting"] for s in data.get("stations", [])),
            "counters_open": sum(1 for c in office.counters.values() if c.open),
            "counters": len(counters),
            **_device_health(core, office, devices, states, owners),
        })
    return jsonify({"offices": result})
