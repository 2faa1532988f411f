"""The REST API under /api/v1: thin translations from HTTP to service calls."""

from __future__ import annotations

import io
import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text

from shared import visits
from shared.auth import require
from shared.bookings import import_file, import_rows
from shared.core import Core
from shared.errors import Refusal
from shared.web import current_principal

api = Blueprint("api", __name__, url_prefix="/api/v1")

STAFF = ("officer", "supervisor", "admin")


def core() -> Core:
    return current_app.extensions["giliran"]  # type: ignore[no-any-return]


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400/415."""
    if not request.data:
        return {}
    if not request.is_json:
        raise Refusal(415, "invalid_request", "Send JSON (Content-Type: application/json).")
    try:
        data = json.loads(request.get_data(cache=True))
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "invalid_request", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Refusal(400, "invalid_request", "The request body must be a JSON object.")
    return data


def staff_offices() -> tuple[str, ...] | None:
    principal = current_principal()
    return principal.offices if principal else ()


def default_office_for(principal: Any) -> str:
    requested = request.args.get("office")
    if requested:
        return requested
    if principal is not None and principal.offices:
        return str(principal.offices[0])
    return core().config.default_office.id


@api.post("/checkin")
def checkin() -> tuple[Response, int]:
    principal = require(current_principal(), "kiosk", "officer", "supervisor", "admin")
    body = json_body()
    kiosk = body.get("kiosk")
    if principal.kind == "device":
        if kiosk not in (None, principal.name):
            raise Refusal(403, "forbidden", "A kiosk may only check in for itself.")
        kiosk = principal.name
    elif kiosk is not None and not isinstance(kiosk, str):
        raise Refusal(400, "invalid_request", "kiosk must be text.")
    office = default_office_for(principal)
    require(principal, office=office)
    result = visits.check_in(core(), office, body.get("scan"), kiosk)
    payload: dict[str, Any] = {"ticket": result.ticket, "reprint": result.reprint}
    printing = current_app.extensions.get("giliran_print")
    if printing is not None and kiosk:
        payload["print"] = printing(result.ticket, kiosk)
    return jsonify(payload), 200 if result.reprint else 201


@api.post("/walkins")
def walkins() -> tuple[Response, int]:
    principal = require(current_principal(), *STAFF)
    body = json_body()
    office = default_office_for(principal)
    require(principal, office=office)
    ticket = visits.walk_in(core(), office, body.get("service"), body.get("priority_group"),
                            principal.name)
    return jsonify({"ticket": ticket}), 201


@api.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int) -> Response:
    require(current_principal(), *STAFF)
    return jsonify({"ticket": visits.get_ticket(core(), ticket_id, staff_offices())})


@api.get("/tickets/<int:ticket_id>/timeline")
def ticket_timeline(ticket_id: int) -> Response:
    require(current_principal(), *STAFF)
    visits.get_ticket(core(), ticket_id, staff_offices())
    return jsonify({"timeline": visits.timeline(core(), ticket_id)})


@api.get("/t/<token>.json")
def public_ticket(token: str) -> Response:
    if len(token) > 64:
        raise Refusal(404, "not_found", "No such ticket.")
    data = visits.get_ticket_by_token(core(), token)
    data.pop("id", None)
    return jsonify({"ticket": data})


@api.get("/stations/<station>/queue")
def station_queue(station: str) -> Response:
    principal = require(current_principal(), *STAFF)
    office = default_office_for(principal)
    require(principal, office=office)
    return jsonify({"waiting": visits.station_queue(core(), office, station)})


@api.post("/counters/<counter>/next")
def call_next(counter: str) -> Response:
    principal = require(current_principal(), *STAFF)
    office = default_office_for(principal)
    require(principal, office=office)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= 128):
        raise Refusal(400, "invalid_request", "Idempotency-Key must be 1-128 characters.")
    called = visits.call_next(core(), office, counter, principal.name, key)
    if called is None:
        return Response(status=204)
    return jsonify({"ticket": called})


@api.get("/counters/<counter>")
def counter_state(counter: str) -> Response:
    principal = require(current_principal(), *STAFF)
    office = default_office_for(principal)
    require(principal, office=office)
    return jsonify(visits.counter_state(core(), office, counter))


@api.post("/tickets/<int:ticket_id>/<action>")
def ticket_action(ticket_id: int, action: str) -> Response:
    principal = require(current_principal(), *STAFF)
    body = json_body()
    data = visits.act(core(), ticket_id, action, principal.name, staff_offices(), body)
    return jsonify({"ticket": data})


@api.post("/bookings")
def bookings() -> Response:
    principal = require(current_principal(), "admin", "booking")
    if request.is_json or request.mimetype in ("", None):
        try:
            data = json.loads(request.get_data(cache=False) or b"null")
        except (ValueError, UnicodeDecodeError):
            raise Refusal(400, "invalid_request", "The request body is not valid JSON.") from None
        if not isinstance(data, list):
            raise Refusal(400, "invalid_request", "Send a JSON array of bookings.")
        for item in data:
            if isinstance(item, dict) and not principal.may_see_office(str(item.get("office"))):
                raise Refusal(403, "forbidden", "You are not allowed to do this.")
        summary = import_rows(core(), enumerate(data, start=1))
    elif request.mimetype in ("text/csv", "application/csv"):
        summary = import_file(core(), io.BytesIO(request.get_data()), "upload.csv")
    else:
        raise Refusal(415, "invalid_request", "Send JSON or CSV bookings.")
    return jsonify(summary.as_dict())


@api.post("/bookings/<code>/cancel")
def cancel_booking(code: str) -> Response:
    """A booking system withdraws a booking; a later scan is refused as `cancelled`."""
    principal = require(current_principal(), "admin", "booking")
    office = default_office_for(principal)
    require(principal, office=office)
    from shared.bookings import cancel

    cancel(core(), office, code)
    return jsonify({"code": code.upper(), "cancelled": True})


@api.get("/print-jobs/<job_id>")
def print_job(job_id: str) -> Response:
    """A kiosk follows its print job: printed, on the backup, or failed (show the screen)."""
    require(current_principal(), "kiosk", *STAFF)
    printing = core().printing
    job = printing.job(job_id) if printing is not None and len(job_id) <= 64 else None
    if job is None:
        raise Refusal(404, "not_found", "Not found.")
    return jsonify({"print": job.to_dict()})


@api.post("/tickets/<int:ticket_id>/reprint")
def reprint(ticket_id: int) -> Response:
    """Print a ticket again, on a kiosk's printer (default: the one that issued it)."""
    principal = require(current_principal(), *STAFF)
    body = json_body()
    data = visits.get_ticket(core(), ticket_id, staff_offices())
    printer = body.get("printer") or visits.issuing_kiosk(core(), ticket_id)
    printing = current_app.extensions.get("giliran_print")
    job = printing(data, printer) if printing is not None and isinstance(printer, str) else None
    if job is None or not isinstance(printer, str):
        raise Refusal(409, "no_printer", "No printer is available for this ticket.")
    visits.note_reprint(core(), ticket_id, principal.name, printer)
    return jsonify({"ticket": data, "print": job})


@api.get("/t/<token>/ticket.png")
def ticket_preview(token: str) -> Response:
    """The printed ticket as an image, for the kiosk screen when the printer fails."""
    if len(token) > 64:
        raise Refusal(404, "not_found", "No such ticket.")
    data = visits.get_ticket_by_token(core(), token)
    from hardware.printing import render_preview_png
    from hardware.wiring import ticket_print

    png = render_preview_png(ticket_print(core(), data), width_mm=80)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})


@api.get("/board/<office>")
def board(office: str) -> Response:
    principal = require(current_principal(), "display", "kiosk", *STAFF)
    require(principal, office=office)
    from display.board import snapshot

    return jsonify(snapshot(core(), office))


@api.get("/health")
def health() -> tuple[Response, int]:
    status: dict[str, Any] = {"db": "ok", "printers": {}, "devices": {}}
    healthy = True
    try:
        with core().db.read() as session:
            session.execute(text("SELECT 1"))
    except Exception:
        status["db"] = "down"
        healthy = False
    printing = core().printing
    if printing is not None:
        status["printers"] = printing.health()
        healthy = healthy and not any(p.get("alert") for p in status["printers"].values())
    for name, manager in core().devices.items():
        state = manager.health()
        status["devices"][name] = state
        healthy = healthy and all(b.get("status") == "up" for b in state.values())
    return jsonify(status), 200 if healthy else 503
