"""The REST API under /api/v1: thin translations from HTTP to service calls."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text

from shared import offices, outbox, roles, visits
from shared.auth import require
from shared.bookings import import_file
from shared.core import Core
from shared.errors import Refusal, loads
from shared.web import accepts_bodies, current_principal

api = Blueprint("api", __name__, url_prefix="/api/v1")

def core() -> Core:
    return current_app.extensions["giliran"]  # type: ignore[no-any-return]


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400/415."""
    if not request.data:
        return {}
    if not request.is_json:
        raise Refusal(415, "invalid_request", "Send JSON (Content-Type: application/json).")
    try:
        data = loads(request.get_data(cache=True))
    except ValueError:
        raise Refusal(400, "invalid_request", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Refusal(400, "invalid_request", "The request body must be a JSON object.")
    return data


def idempotency_key() -> str | None:
    """The request's `Idempotency-Key` header: the same key again repeats nothing."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= 128):
        raise Refusal(400, "invalid_request", "Idempotency-Key must be 1-128 characters.")
    return key


def staff_offices() -> tuple[str, ...] | None:
    principal = current_principal()
    return principal.offices if principal else ()


@api.post("/checkin")
def checkin() -> tuple[Response, int]:
    principal = require(current_principal(), *roles.KIOSK_AND_STAFF)
    body = json_body()
    kiosk = body.get("kiosk")
    if principal.kind == "device":
        if kiosk not in (None, principal.name):
            raise Refusal(403, "forbidden", "A kiosk may only check in for itself.")
        kiosk = principal.name
    elif kiosk is not None and not isinstance(kiosk, str):
        raise Refusal(400, "invalid_request", "kiosk must be text.")
    office = offices.from_request(principal).id
    if principal.kind != "device" and kiosk:
        # Staff checking in on a kiosk's behalf: a registered kiosk (its printer prints the
        # ticket), of this office only.
        kiosk_office = outbox.kiosk_office(core(), kiosk)
        if kiosk_office is None:
            raise Refusal(403, "forbidden",
                          "Staff check in only for a registered kiosk of this office.")
        if kiosk_office != office:
            raise Refusal(403, "forbidden", "This kiosk belongs to another office.")
    result = visits.check_in(core(), office, body.get("scan"), kiosk)
    payload: dict[str, Any] = {"ticket": result.ticket, "reprint": result.reprint}
    if result.print is not None:
        payload["print"] = result.print
    return jsonify(payload), 200 if result.reprint else 201


@api.post("/walkins")
def walkins() -> tuple[Response, int]:
    principal = require(current_principal(), *roles.STAFF)
    body = json_body()
    office = offices.from_request(principal).id
    counter = body.get("counter")
    if counter is not None and (not isinstance(counter, str)
                                or counter not in core().office(office).counters):
        raise Refusal(422, "invalid_request", "Unknown counter.")
    printer = outbox.counter_printer(core().printers, office, counter) if counter else None
    issued = visits.issue_walk_in(core(), office, body.get("service"),
                                  body.get("priority_group"), principal.name, printer,
                                  idempotency_key())
    payload: dict[str, Any] = {"ticket": issued.ticket}
    if issued.print is not None:
        payload["print"] = issued.print
    return jsonify(payload), 201


@api.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int) -> Response:
    require(current_principal(), *roles.STAFF)
    return jsonify({"ticket": visits.get_ticket(core(), ticket_id, staff_offices())})


@api.get("/tickets/<int:ticket_id>/timeline")
def ticket_timeline(ticket_id: int) -> Response:
    require(current_principal(), *roles.STAFF)
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
    principal = require(current_principal(), *roles.STAFF)
    office = offices.from_request(principal).id
    return jsonify({"waiting": visits.station_queue(core(), office, station)})


@api.post("/counters/<counter>/next")
def call_next(counter: str) -> Response:
    principal = require(current_principal(), *roles.STAFF)
    office = offices.from_request(principal).id
    called = visits.call_next(core(), office, counter, principal.name, idempotency_key())
    if called is None:
        return Response(status=204)
    return jsonify({"ticket": called})


@api.get("/counters/<counter>")
def counter_state(counter: str) -> Response:
    principal = require(current_principal(), *roles.STAFF)
    office = offices.from_request(principal).id
    return jsonify(visits.counter_state(core(), office, counter))


@api.post("/tickets/<int:ticket_id>/<action>")
def ticket_action(ticket_id: int, action: str) -> Response:
    principal = require(current_principal(), *roles.STAFF)
    body = json_body()
    data = visits.act(core(), ticket_id, action, principal.name, staff_offices(), body,
                      idempotency_key())
    return jsonify({"ticket": data})


@api.post("/bookings")
@accepts_bodies("text/csv", "application/csv", "multipart/form-data")
def bookings() -> Response:
    """Upsert bookings from a JSON array, a CSV body, or an uploaded file (field `file`).

    Every format goes through the same import, which checks the account's office scope
    on each row: a row of another office is refused, the others are stored.
    """
    principal = require(current_principal(), *roles.BOOKING_IMPORT)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Refusal(400, "invalid_request",
                          "Send the bookings file in the form field named file.")
        summary = import_file(core(), upload.stream, upload.filename or "upload",  # type: ignore[arg-type]
                              offices=principal.offices)
    elif request.is_json or request.mimetype in ("", None):
        summary = import_file(core(), request.stream, "upload.json",  # type: ignore[arg-type]
                              offices=principal.offices, kind="json")
    elif request.mimetype in ("text/csv", "application/csv"):
        summary = import_file(core(), request.stream, "upload.csv",  # type: ignore[arg-type]
                              offices=principal.offices, kind="csv")
    else:
        raise Refusal(415, "invalid_request", "Send JSON or CSV bookings.")
    if summary.stopped is not None and summary.read == 0:
        # Nothing could be read at all: the body itself is wrong.
        stopped = summary.stopped
        raise Refusal(400, "invalid_request", stopped.message, **stopped.values)
    return jsonify(summary.as_dict())


@api.post("/bookings/<code>/cancel")
def cancel_booking(code: str) -> Response:
    """A booking system withdraws a booking; a later scan is refused as `cancelled`."""
    principal = require(current_principal(), *roles.BOOKING_IMPORT)
    office = offices.from_request(principal).id
    from shared.bookings import cancel

    cancel(core(), office, code)
    return jsonify({"code": code.upper(), "cancelled": True})


@api.get("/print-jobs/<job_id>")
def print_job(job_id: str) -> Response:
    """A kiosk follows its print job: printed, on the backup, or failed (show the screen)."""
    require(current_principal(), *roles.KIOSK_AND_STAFF)
    # Only a job of the caller's offices (a kiosk's: its own office); another office's
    # answers like none.
    job = outbox.get(core(), job_id, staff_offices()) if len(job_id) <= 64 else None
    if job is None:
        raise Refusal(404, "not_found", "Not found.")
    return jsonify({"print": job})


@api.post("/tickets/<int:ticket_id>/reprint")
def reprint(ticket_id: int) -> Response:
    """Print a ticket again, on a kiosk's printer (default: the one that issued it)."""
    principal = require(current_principal(), *roles.STAFF)
    body = json_body()
    printer = body.get("printer") or None
    if isinstance(printer, str):
        # A printer named by the caller is one of the ticket's office (a kiosk's, a
        # counter's, or their backup); another office's answers like an unknown one.
        office = visits.get_ticket(core(), ticket_id, staff_offices())["office"]
        if office not in outbox.printer_offices(core(), printer):
            raise Refusal(403, "forbidden", "This printer is not one of the ticket's office.")
    issued = visits.reprint(core(), ticket_id, principal.name, printer, staff_offices())
    return jsonify({"ticket": issued.ticket, "print": issued.print})


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
    for check in core().health_checks:
        part, ok = check()
        for key, value in part.items():
            if isinstance(status.get(key), dict) and isinstance(value, dict):
                status[key].update(value)
            else:
                status[key] = value
        healthy = healthy and ok
    return jsonify(status), 200 if healthy else 503
