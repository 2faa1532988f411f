"""Staff screens: the counter terminal (`/counter`) and the supervisor view.

Both pages are static shells; their scripts read the REST API (/api/v1) and two staff
endpoints of this blueprint, and refetch whenever the office's room in the `/counter`
Socket.IO namespace says something changed:

`GET /counter/api/tickets?status=held,missed[&station=a,b][&office=X]`
    `{"tickets": [ticket…]}` of today, oldest first, each with `reason` (the last hold
    reason, if any). Any staff role.
`GET /counter/api/overview[?office=X]`
    Every counter's state, per station the queue length and the longest current wait,
    and today's totals (no-shows among them). Supervisors and admins.
`GET /counter/api/health[?office=X]`
    `{db, printers, devices: {serial}}` of that office only, as every process knows them
    (shared.device_states): the supervisor's "printers and devices". Supervisors and
    admins.
"""

from __future__ import annotations

from datetime import datetime
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
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from shared import device_states, lifecycle, offices, roles, visits
from shared.auth import Principal, list_devices, require
from shared.clock import to_local
from shared.config import Office
from shared.core import Core
from shared.errors import Refusal
from shared.groups import PRIORITY_GROUPS, SCREEN_NAMES
from shared.i18n import bilingual
from shared.models import Ticket, TimelineEntry
from shared.web import current_principal

# The names offices use for their zone on screens.
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
LISTABLE = lifecycle.STATES
MAX_LISTED = 200

counter = Blueprint(
    "counter",
    __name__,
    static_folder="static",
    static_url_path="/counter/static",
    template_folder="templates",
)

PRIORITY_NAMES = SCREEN_NAMES

STATUS_NAMES = {
    lifecycle.WAITING: "Waiting",
    lifecycle.CALLED: "Called",
    lifecycle.SERVING: "Being served",
    lifecycle.HELD: "On hold",
    lifecycle.MISSED: "Did not come",
    lifecycle.DONE: "Done",
    lifecycle.CANCELLED: "Cancelled",
}


def _entry(step: str, outcome: str | None = None) -> str:
    return lifecycle.transition(step, outcome).timeline


# Timeline entries in words (the ticket's history on the terminal).
ACTION_NAMES = {
    _entry("check_in"): "Checked in",
    _entry("reprint"): "Ticket reprinted",
    _entry("call"): "Called",
    _entry("recall"): "Called again",
    _entry("start"): "Service started",
    _entry("finish", lifecycle.NEXT_STATION): "Sent to the next station",
    _entry("finish", lifecycle.LAST_STATION): "Finished",
    _entry("no-show"): "Marked as not present",
    _entry("hold"): "Put on hold",
    _entry("resume"): "Back in the queue",
    _entry("transfer"): "Transferred",
    _entry("reinstate"): "Back in the queue after missing the call",
    _entry("cancel"): "Cancelled",
}

# Text the terminal's script shows; English sources, translated in messages.po.
TERMINAL_TEXT = {
    "nobody_waiting": "Nobody is waiting at your stations.",
    "called": "Now calling {number}.",
    "done": "Done.",
    "offline": "Offline: reconnecting",
    "network": "The server cannot be reached. Check the network and try again.",
    "no_ticket": "No ticket at this counter. Press Next to call one.",
    "empty_queue": "Nobody waiting.",
    "empty_list": "None.",
    "walkin_issued": "Ticket {number} issued.",
    "minutes": "{minutes} min",
    "calls": "called {count}x",
    "reason": "Reason",
    "idle": "Idle",
    "counter_closed": "Counter closed",
    "no_open_counter": "No open counter calls this ticket here: it waits until one opens.",
    "confirm_cancel": "Cancel ticket {number}? This cannot be undone.",
    "priority_only": "Priority counter: only priority tickets are called here.",
    "closed": "This counter is closed by an administrator: it calls nobody until it is "
              "opened again.",
    "session_expired": "Your session has ended. Please log in again.",
    "resume": "Resume",
    "reinstate": "Reinstate",
    "cancel": "Cancel",
    "service": "Service",
    "station": "Station",
    "slot": "Slot",
    "priority": "Priority",
    "issued": "Issued at",
    "late": "late",
    "database": "Database",
    "server": "Server",
    "no_hardware": "No printers or devices registered.",
}


def _core() -> Core:
    return current_app.extensions["giliran"]  # type: ignore[no-any-return]


def _staff_or_login() -> Principal | BaseResponse:
    """The logged-in staff member, or a redirect to the login page that comes back here."""
    principal = current_principal()
    if principal is None or principal.role not in roles.STAFF:
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("pages.login", next=target))
    return principal


def _office_for(principal: Principal) -> Office:
    """A page's office (shared/offices.py); one the person may not open is not found."""
    try:
        return offices.from_request(principal)
    except Refusal:
        raise NotFound() from None


def _names(office: Office) -> dict[str, Any]:
    return {
        "stations": {s.id: {"id": s.name_id, "en": s.name_en} for s in office.stations.values()},
        "services": {s.id: {"id": s.name_id, "en": s.name_en} for s in office.services.values()},
        "priority_groups": {g: bilingual(PRIORITY_NAMES[g]) for g in PRIORITY_GROUPS},
        "statuses": {k: bilingual(v) for k, v in STATUS_NAMES.items()},
        "actions": {k: bilingual(v) for k, v in ACTION_NAMES.items()},
        "allowed_actions": lifecycle.allowed_by_state(),
        "text": {k: bilingual(v) for k, v in TERMINAL_TEXT.items()},
    }


def _counter_dict(office: Office, counter_id: str) -> dict[str, Any]:
    cfg = office.counters[counter_id]
    return {"id": cfg.id, "name": cfg.name, "stations": list(cfg.stations),
            "priority_only": cfg.priority_only, "open": cfg.open}


def _office_arg(office: Office) -> str | None:
    """The `office` the page's own links carry: the one the request named, so that a
    person who may see several offices stays in the office they opened (a counter picked
    on JKT's list is JKT's counter, not the default office's counter of the same id)."""
    return office.id if request.args.get("office") else None


# --- pages ---------------------------------------------------------------------------------
@counter.get("/counter")
def terminal() -> Any:
    principal = _staff_or_login()
    if isinstance(principal, BaseResponse):
        return principal
    core = _core()
    office = _office_for(principal)
    chosen = request.args.get("c")
    unknown = chosen is not None and chosen not in office.counters
    selected = chosen if chosen in office.counters else None
    data: dict[str, Any] = {
        "office": office.id,
        "counter": _counter_dict(office, selected) if selected else None,
        "counters": [_counter_dict(office, c) for c in office.counters],
        "services": [
            {"id": s.id, "express": s.express} for s in office.services.values()
        ],
        "no_show_after_calls": core.config.policy.no_show_after_calls,
        "staff": {"name": principal.name, "role": principal.role},
        **_names(office),
    }
    return render_template(
        "counter/terminal.html", office=office, data=data, selected=selected,
        unknown=unknown, principal=principal, office_arg=_office_arg(office),
        counters=list(office.counters.values()),
        is_supervisor=principal.role in roles.SUPERVISORS,
    )


@counter.get("/counter/supervisor")
def supervisor() -> Any:
    principal = _staff_or_login()
    if isinstance(principal, BaseResponse):
        return principal
    if principal.role not in roles.SUPERVISORS:
        return render_template("counter/forbidden.html"), 403
    office = _office_for(principal)
    data = {"office": office.id, "counters": [_counter_dict(office, c) for c in office.counters],
            "station_order": list(office.stations), **_names(office),
            # Device times (printers, serial displays) are shown in the office's zone.
            "timezone": office.timezone,
            "zone_name": ZONE_NAMES.get(office.timezone, office.timezone)}
    from shared.public_url import public_url_warning

    return render_template("counter/supervisor.html", office=office, data=data,
                           principal=principal, office_arg=_office_arg(office),
                           public_url_warning=public_url_warning(_core().config))


# --- staff JSON ----------------------------------------------------------------------------
def _hold_reasons(core: Core, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    reasons: dict[int, str] = {}
    with core.db.read() as session:
        for ticket_id, detail in session.execute(
            select(TimelineEntry.ticket_id, TimelineEntry.detail)
            .where(TimelineEntry.ticket_id.in_(ids),
                   TimelineEntry.action == lifecycle.transition("hold").timeline)
            .order_by(TimelineEntry.id)
        ):
            reason = (detail or {}).get("reason")
            if isinstance(reason, str) and reason:
                reasons[ticket_id] = reason
    return reasons


@counter.get("/counter/api/tickets")
def tickets() -> Response:
    principal = require(current_principal(), *roles.STAFF)
    core = _core()
    office = offices.from_request(principal)
    statuses = [s for s in request.args.get("status", "held,missed").split(",") if s]
    if not statuses or any(s not in LISTABLE for s in statuses):
        raise Refusal(400, "invalid_request", "Unknown ticket status.")
    stations = [s for s in request.args.get("station", "").split(",") if s]
    if any(s not in office.stations for s in stations):
        raise Refusal(404, "unknown_station", "Unknown station {station}.",
                      station=",".join(s for s in stations if s not in office.stations))
    query = select(Ticket).where(
        Ticket.office_id == office.id, Ticket.service_day == core.today(office),
        Ticket.status.in_(statuses),
    )
    if stations:
        query = query.where(Ticket.station.in_(stations))
    query = query.order_by(Ticket.entered_station_at, Ticket.id).limit(MAX_LISTED)
    with core.db.read() as session:
        found = session.execute(query).scalars().all()
        result = [visits.ticket_dict(core, session, t) for t in found]
    reasons = _hold_reasons(core, [t["id"] for t in result
                                   if t["status"] == lifecycle.HELD])
    for item in result:
        item["reason"] = reasons.get(item["id"])
    return jsonify({"tickets": result})


def _minutes(now: datetime, since: datetime | None) -> int | None:
    if since is None:
        return None
    return max(0, int((now - since).total_seconds() // 60))


def overview(core: Core, office: Office) -> dict[str, Any]:
    """What a supervisor watches: counters, queues, longest waits and today's totals."""
    today = core.today(office)
    now = core.now()
    with core.db.read() as session:
        mine = (Ticket.office_id == office.id, Ticket.service_day == today)
        active = session.execute(
            select(Ticket).where(*mine, Ticket.status.in_(lifecycle.AT_COUNTER))
            .order_by(Ticket.last_called_at)
        ).scalars().all()
        at_counter = {t.counter: t for t in active if t.counter}
        counters = []
        for cfg in office.counters.values():
            ticket = at_counter.get(cfg.id)
            current = None
            if ticket is not None:
                current = {
                    "id": ticket.id, "number": ticket.number, "status": ticket.status,
                    "station": ticket.station, "service": ticket.service,
                    "priority_group": ticket.priority_group, "call_count": ticket.call_count,
                    "called_at": to_local(ticket.last_called_at, office.tz)
                    .isoformat(timespec="seconds") if ticket.last_called_at else None,
                    "minutes": _minutes(now, ticket.last_called_at),
                }
            counters.append({**_counter_dict(office, cfg.id), "current": current})
        waiting = dict(session.execute(
            select(Ticket.station, func.count())
            .where(*mine, Ticket.status == lifecycle.WAITING).group_by(Ticket.station)
        ).all())  # type: ignore[arg-type]
        stations = []
        for station in office.stations.values():
            count = int(waiting.get(station.id, 0))
            # The longest wait as the counters' ordering counts it (shared.ordering).
            longest = visits.longest_waiting(core, session, office, station.id) if count \
                else None
            oldest_number = session.get_one(Ticket, longest[0]).number if longest else None
            serving_here = sum(1 for t in active if t.station == station.id)
            stations.append({
                "id": station.id, "name": {"id": station.name_id, "en": station.name_en},
                "waiting": count, "being_served": serving_here,
                "longest_wait_minutes": int(longest[1].total_seconds() // 60) if longest else 0,
                "longest_waiting_number": oldest_number,
                "counters": [c.id for c in office.counters.values() if station.id in c.stations],
            })
        by_status: dict[str, int] = {
            row[0]: int(row[1]) for row in session.execute(
                select(Ticket.status, func.count()).where(*mine).group_by(Ticket.status))
        }
        no_shows = session.execute(
            select(func.count()).select_from(TimelineEntry)
            .join(Ticket, Ticket.id == TimelineEntry.ticket_id)
            .where(*mine, TimelineEntry.action == lifecycle.NO_SHOW)
        ).scalar_one()
    return {
        "office": {"id": office.id, "name": office.name},
        "now": core.local_now(office).isoformat(timespec="seconds"),
        "version": core.office_version(office.id),
        "counters": counters,
        "stations": stations,
        "today": {
            "tickets": int(sum(by_status.values())),
            "no_shows": int(no_shows),
            "missed_now": int(by_status.get(lifecycle.MISSED, 0)),
            "held": int(by_status.get(lifecycle.HELD, 0)),
            "waiting": int(by_status.get(lifecycle.WAITING, 0)),
            "done": int(by_status.get(lifecycle.DONE, 0)),
            "cancelled": int(by_status.get(lifecycle.CANCELLED, 0)),
        },
    }


@counter.get("/counter/api/overview")
def overview_json() -> Response:
    principal = require(current_principal(), *roles.SUPERVISORS)
    office = offices.from_request(principal)
    return jsonify(overview(_core(), office))


def _shown_state(state: dict[str, Any]) -> dict[str, Any]:
    """A printer's or bus's state as the supervisor reads it: without the name of the
    process that reported it, and `stale` only when it is."""
    shown = {k: v for k, v in state.items() if k not in ("process", "stale")}
    if state.get("stale"):
        shown["stale"] = True
    return shown


@counter.get("/counter/api/health")
def health_json() -> Response:
    """The office's printers and serial buses for the supervisor view.

    Not `GET /api/v1/health`, which answers for every office, and only with the
    hardware of the process that happens to answer: a supervisor of one office saw the
    other offices' printers and buses there, and on a web process without hardware
    (`giliran serve --no-hardware`) none at all. Hardware of no known office is shown
    only to someone who may see every office (as on the admin pages)."""
    principal = require(current_principal(), *roles.SUPERVISORS)
    office = offices.from_request(principal)
    core = _core()
    # admin_views imports this module (the overview): imported here, not at the top.
    from counter.admin_views import hardware_offices

    try:
        states = device_states.shared_states(core)
        owners = hardware_offices(core, states, list_devices(core))
    except SQLAlchemyError:
        return jsonify({"db": "down", "printers": {}, "devices": {}})

    def mine(key: str) -> bool:
        owner = owners.get(key)
        return owner == office.id if owner is not None else principal.offices is None

    printers = {pid: _shown_state(state) for pid, state in states["printer"].items()
                if mine(f"printer:{pid}")}
    serial = {bus: _shown_state(state) for bus, state in states["serial"].items()
              if mine(f"serial:{bus}")}
    return jsonify({"db": "ok", "printers": printers,
                    "devices": {"serial": serial} if serial else {}})
