"""The OpenAPI 3 description of the REST API, served at GET /api/v1/openapi.json.

Written by hand next to shared/api.py: every route there has an entry here, with its
request body, its answers and the one error shape. tests/security/test_schemathesis.py
fuzzes the API from this description, and fails if a route is missing from it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from shared import lifecycle, roles
from shared.groups import PRIORITY_GROUPS

openapi = Blueprint("openapi", __name__, url_prefix="/api/v1")

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"$ref": "#/components/responses/Error", "description": description}


# Every answer may be a refusal; these are the ones each kind of route can give.
COMMON_ERRORS: dict[str, Any] = {
    "400": _error("Malformed request"),
    "401": _error("No or unknown credentials"),
    "403": _error("Not allowed for this role or office"),
    "413": _error("Body too large"),
    "415": _error("Not JSON"),
    "503": _error("Database unavailable (temporary)"),
}


def _errors(*codes: str) -> dict[str, Any]:
    answers = dict(COMMON_ERRORS)
    for code in codes:
        answers[code] = _error("Refused")
    return answers


def _ticket_answer(description: str) -> dict[str, Any]:
    return _json({"type": "object", "required": ["ticket"],
                  "properties": {"ticket": _ref("Ticket")}}, description)


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}


OFFICE_QUERY = {"name": "office", "in": "query", "required": False,
                "schema": {"type": "string", "maxLength": 32},
                "description": "Office id; default: the caller's office, or the first one."}
TICKET_ID = _path("ticket_id", {"type": "integer", "minimum": 0}, "Ticket id")
STAFF_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]
DEVICE_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"device": []},
                                               {"session": []}]

SCHEMAS: dict[str, Any] = {
    "Bilingual": {
        "type": "object", "required": ["id", "en"],
        "properties": {"id": {"type": "string", "description": "Bahasa Indonesia"},
                       "en": {"type": "string", "description": "English"}},
    },
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": [
                    "invalid_request", "unauthorized", "forbidden", "not_found",
                    "invalid_scan", "unknown_booking", "wrong_office", "wrong_day",
                    "too_early", "too_late", "cancelled", "closed", "rate_limited",
                    "counter_busy", "internal"]},
                "message": _ref("Bilingual"),
                "retry_at": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$",
                             "description": "too_early: when to scan again (office time)"},
            },
        }},
    },
    "Slot": {
        "type": ["object", "null"], "required": ["start", "end"],
        "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
    },
    "Ticket": {
        "type": "object",
        "required": ["number", "office", "service", "slot", "priority_group", "status",
                     "station", "counter", "position", "estimated_wait_minutes",
                     "status_url", "issued_at"],
        "properties": {
            "id": {"type": "integer", "description": "absent in the public /t/ answer"},
            "number": {"type": "string", "examples": ["B012"]},
            "office": {"type": "string"},
            "service": {"type": "string"},
            "slot": _ref("Slot"),
            "priority_group": {"type": ["string", "null"],
                               "enum": [*PRIORITY_GROUPS, None]},
            "status": {"type": "string", "enum": list(lifecycle.STATES)},
            "station": {"type": ["string", "null"]},
            "counter": {"type": ["string", "null"]},
            "position": {"type": ["integer", "null"]},
            "estimated_wait_minutes": {"type": "integer"},
            "status_url": {"type": "string"},
            "issued_at": {"type": "string", "description": "office time, ISO 8601"},
        },
    },
    "CheckinRequest": {
        "type": "object", "required": ["scan"],
        "properties": {"scan": {"type": "string", "maxLength": 2048,
                                "description": "what the scanner typed"},
                       "kiosk": {"type": "string", "maxLength": 64}},
    },
    "CheckinAnswer": {
        "type": "object", "required": ["ticket", "reprint"],
        "properties": {"ticket": _ref("Ticket"), "reprint": {"type": "boolean"},
                       "print": {"description": "the print job, when the kiosk has a printer"}},
    },
    "WalkinRequest": {
        "type": "object", "required": ["service"],
        "properties": {"service": {"type": "string"},
                       "priority_group": {"type": ["string", "null"],
                                          "enum": ["", *PRIORITY_GROUPS, None]}},
    },
    "ActionRequest": {
        "type": "object",
        "properties": {"station": {"type": "string", "description": "transfer: target"},
                       "reason": {"type": "string", "description": "hold: why"}},
    },
    "TimelineEntry": {
        "type": "object", "required": ["at", "action", "status"],
        "properties": {"at": {"type": "string"}, "action": {"type": "string"},
                       "status": {"type": "string"}, "station": {"type": ["string", "null"]},
                       "counter": {"type": ["string", "null"]},
                       "staff": {"type": ["string", "null"]},
                       "detail": {"type": ["object", "null"]}},
    },
    "Booking": {
        "type": "object",
        "required": ["code", "office", "date", "slot_start", "slot_end", "service"],
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Za-z0-9-]{6,32}$"},
            "office": {"type": "string"},
            "date": {"type": "string", "format": "date"},
            "slot_start": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
            "slot_end": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
            "service": {"type": "string"},
            "priority_group": {"type": "string",
                               "enum": ["", *PRIORITY_GROUPS]},
            "name": {"type": "string"},
        },
    },
    "ImportSummary": {
        "type": "object", "required": ["created", "updated", "refused_count", "refused"],
        "properties": {
            "created": {"type": "integer"}, "updated": {"type": "integer"},
            "refused_count": {"type": "integer"},
            "refused": {"type": "array", "items": {
                "type": "object", "properties": {"line": {"type": "integer"},
                                                 "reason": _ref("Bilingual")}}},
        },
    },
    "BoardEntry": {
        "type": "object", "required": ["number", "counter", "station"],
        "properties": {"number": {"type": "string"}, "counter": {"type": ["string", "null"]},
                       "counter_name": {"type": ["string", "null"]},
                       "station": {"type": ["string", "null"]},
                       "called_at": {"type": ["string", "null"]}},
    },
    "Board": {
        "type": "object",
        "required": ["version", "now_serving", "recent", "waiting", "serving_slot", "info"],
        "properties": {
            "version": {"type": "integer", "description": "rises by one per change"},
            "office": {"type": "object"},
            "now": {"type": "string"},
            "now_serving": {"type": "array", "items": _ref("BoardEntry")},
            "recent": {"type": "array", "items": _ref("BoardEntry")},
            "waiting": {"type": "object", "additionalProperties": {"type": "integer"}},
            "stations": {"type": "object"},
            "serving_slot": _ref("Slot"),
            "info": {"type": "array", "items": {"type": "string"}},
        },
    },
    "CounterState": {
        "type": "object", "required": ["counter", "current", "waiting", "open_counters"],
        "properties": {
            "counter": {"type": "object", "properties": {
                "id": {"type": "string"}, "name": {"type": "string"},
                "stations": {"type": "array", "items": {"type": "string"}},
                "priority_only": {"type": "boolean"}, "open": {"type": "boolean"}}},
            "current": {"oneOf": [_ref("Ticket"), {"type": "null"}]},
            "waiting": {"type": "object", "additionalProperties": {"type": "integer"}},
            "open_counters": {
                "description": "Per station of the office, the open counters that would "
                               "call a regular or a priority ticket there.",
                "type": "object", "additionalProperties": {
                    "type": "object", "required": ["regular", "priority"],
                    "properties": {"regular": {"type": "integer"},
                                   "priority": {"type": "integer"}}}},
        },
    },
    "Health": {
        "type": "object", "required": ["db", "printers", "devices"],
        "properties": {"db": {"type": "string", "enum": ["ok", "down"]},
                       "printers": {"type": "object"}, "devices": {"type": "object"}},
    },
}

ACTIONS = list(lifecycle.ACTIONS)

PATHS: dict[str, Any] = {
    "/checkin": {"post": {
        "operationId": "checkin", "tags": ["kiosk"],
        "summary": "Scan a booking: a ticket, or the same ticket again (reprint)",
        "security": DEVICE_SECURITY,
        "requestBody": {"required": True,
                        "content": {JSON: {"schema": _ref("CheckinRequest")}}},
        "responses": {"201": _json(_ref("CheckinAnswer"), "New ticket"),
                      "200": _json(_ref("CheckinAnswer"), "Already checked in: same ticket"),
                      **_errors("404", "409", "429")},
    }},
    "/walkins": {"post": {
        "operationId": "walkin", "tags": ["counter"], "summary": "A ticket without a booking",
        "security": STAFF_SECURITY, "parameters": [OFFICE_QUERY],
        "requestBody": {"required": True,
                        "content": {JSON: {"schema": _ref("WalkinRequest")}}},
        "responses": {"201": _ticket_answer("New ticket"), **_errors("404", "409", "422")},
    }},
    "/tickets/{ticket_id}": {"get": {
        "operationId": "getTicket", "tags": ["counter"], "security": STAFF_SECURITY,
        "parameters": [TICKET_ID],
        "responses": {"200": _ticket_answer("The ticket"), **_errors("404")},
    }},
    "/tickets/{ticket_id}/timeline": {"get": {
        "operationId": "getTimeline", "tags": ["counter"], "security": STAFF_SECURITY,
        "parameters": [TICKET_ID],
        "responses": {"200": _json({"type": "object", "required": ["timeline"],
                                    "properties": {"timeline": {
                                        "type": "array", "items": _ref("TimelineEntry")}}},
                                   "Every step of the visit"),
                      **_errors("404")},
    }},
    "/t/{token}.json": {"get": {
        "operationId": "publicTicket", "tags": ["public"], "security": [],
        "summary": "A ticket by its unguessable status token (the QR on the ticket)",
        "parameters": [_path("token", {"type": "string", "maxLength": 64}, "Status token")],
        "responses": {"200": _ticket_answer("The ticket, without its id"), **_errors("404")},
    }},
    # The SKM survey (shared/reports/views.py, Permenpan RB 14/2017): the applicant's own,
    # by the ticket's status token, once the visit is done and only once.
    "/survey/{token}": {
        "get": {
            "operationId": "surveyState", "tags": ["public"], "security": [],
            "summary": "Whether the ticket may answer the SKM survey, and the nine questions",
            "parameters": [_path("token", {"type": "string", "maxLength": 64},
                                 "Status token")],
            "responses": {"200": _json({"type": "object", "required": ["survey"],
                                        "properties": {"survey": {
                                            "type": "object",
                                            "required": ["number", "status", "answered",
                                                         "open", "questions"]}}},
                                       "{survey: {number, status, answered, open, "
                                       "questions: [{element, question, choices}]}}"),
                          **_errors("404")},
        },
        "post": {
            "operationId": "surveyAnswer", "tags": ["public"], "security": [],
            "summary": "The ticket's one SKM answer: nine scores 1-4 (409 not_done before "
                       "the visit is complete, already_answered after)",
            "parameters": [_path("token", {"type": "string", "maxLength": 64},
                                 "Status token")],
            "requestBody": {"required": True, "content": {JSON: {"schema": {
                "type": "object",
                "description": "{\"u1\": 4, ..., \"u9\": 3} or {\"answers\": [4, ..., 3]}",
                "properties": {
                    "answers": {"type": "array", "minItems": 9, "maxItems": 9,
                                "items": {"type": "integer", "minimum": 1, "maximum": 4}},
                    **{f"u{i}": {"type": "integer", "minimum": 1, "maximum": 4}
                       for i in range(1, 10)}}}}}},
            "responses": {"201": _json({"type": "object", "required": ["survey"],
                                        "properties": {"survey": {
                                            "type": "object",
                                            "required": ["answered_at", "scores"]}}},
                                       "Stored"),
                          **_errors("404", "409", "422")},
        },
    },
    "/stations/{station}/queue": {"get": {
        "operationId": "stationQueue", "tags": ["counter"], "security": STAFF_SECURITY,
        "parameters": [_path("station", {"type": "string"}, "Station id"), OFFICE_QUERY],
        "responses": {"200": _json({"type": "object", "required": ["waiting"],
                                    "properties": {"waiting": {
                                        "type": "array", "items": _ref("Ticket")}}},
                                   "Waiting tickets in calling order"),
                      **_errors("404")},
    }},
    "/counters/{counter}/next": {"post": {
        "operationId": "callNext", "tags": ["counter"], "security": STAFF_SECURITY,
        "parameters": [
            _path("counter", {"type": "string"}, "Counter id"), OFFICE_QUERY,
            {"name": "Idempotency-Key", "in": "header", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 128},
             "description": "The same key twice gives the same answer and calls nobody new"},
        ],
        "responses": {"200": _ticket_answer("Ticket now called"),
                      "204": {"description": "Nobody waiting"},
                      **_errors("404", "409")},
    }},
    "/counters/{counter}": {"get": {
        "operationId": "counterState", "tags": ["counter"], "security": STAFF_SECURITY,
        "parameters": [_path("counter", {"type": "string"}, "Counter id"), OFFICE_QUERY],
        "responses": {"200": _json(_ref("CounterState"), "Current ticket and queue lengths"),
                      **_errors("404")},
    }},
    "/tickets/{ticket_id}/{action}": {"post": {
        "operationId": "ticketAction", "tags": ["counter"], "security": STAFF_SECURITY,
        "parameters": [TICKET_ID,
                       _path("action", {"type": "string", "enum": ACTIONS}, "What to do"),
                       {"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 128},
                        "description": "The same key again on this ticket acts no more and "
                                       "answers with the ticket as it is now"}],
        "requestBody": {"required": False,
                        "content": {JSON: {"schema": _ref("ActionRequest")}}},
        "responses": {"200": _ticket_answer("The ticket after the action"),
                      **_errors("400", "404", "409", "422")},
    }},
    "/tickets/{ticket_id}/reprint": {"post": {
        "operationId": "reprintTicket", "tags": ["counter"], "security": STAFF_SECURITY,
        "summary": "Print a ticket again (default: on the kiosk that issued it)",
        "parameters": [TICKET_ID],
        "requestBody": {"required": False, "content": {JSON: {"schema": {
            "type": "object", "properties": {"printer": {"type": "string"}}}}}},
        "responses": {"200": _json({"type": "object", "required": ["ticket", "print"],
                                    "properties": {"ticket": _ref("Ticket"),
                                                   "print": {"type": "object"}}},
                                   "Reprint queued"),
                      **_errors("404", "409")},
    }},
    "/print-jobs/{job_id}": {"get": {
        "operationId": "printJob", "tags": ["kiosk"], "security": DEVICE_SECURITY,
        "parameters": [_path("job_id", {"type": "string", "maxLength": 64}, "Print job id")],
        "responses": {"200": _json({"type": "object", "required": ["print"],
                                    "properties": {"print": {"type": "object"}}},
                                   "Printed, on the backup printer, or failed"),
                      **_errors("404")},
    }},
    "/t/{token}/ticket.png": {"get": {
        "operationId": "ticketPreview", "tags": ["public"], "security": [],
        "summary": "The printed ticket as an image (kiosk screen when the printer fails)",
        "parameters": [_path("token", {"type": "string", "maxLength": 64}, "Status token")],
        "responses": {"200": {"description": "PNG",
                              "content": {"image/png": {"schema": {"type": "string",
                                                                   "format": "binary"}}}},
                      **_errors("404")},
    }},
    "/bookings": {"post": {
        "operationId": "importBookings", "tags": ["bookings"], "security": [{"bearer": []}],
        "summary": "Upsert bookings (JSON array, or CSV with the same header)",
        "requestBody": {"required": True, "content": {
            JSON: {"schema": {"type": "array", "items": _ref("Booking")}},
            "text/csv": {"schema": {"type": "string"}}}},
        "responses": {"200": _json(_ref("ImportSummary"), "Created, updated, refused rows"),
                      **_errors()},
    }},
    "/bookings/{code}/cancel": {"post": {
        "operationId": "cancelBooking", "tags": ["bookings"], "security": [{"bearer": []}],
        "parameters": [_path("code", {"type": "string"}, "Booking code"), OFFICE_QUERY],
        "responses": {"200": _json({"type": "object", "required": ["code", "cancelled"],
                                    "properties": {"code": {"type": "string"},
                                                   "cancelled": {"type": "boolean"}}},
                                   "Cancelled"),
                      **_errors("404", "409")},
    }},
    "/board/{office}": {"get": {
        "operationId": "board", "tags": ["display"], "security": DEVICE_SECURITY,
        "parameters": [_path("office", {"type": "string"}, "Office id")],
        "responses": {"200": _json(_ref("Board"), "The board snapshot"), **_errors("404")},
    }},
    "/health": {"get": {
        "operationId": "health", "tags": ["operations"], "security": [],
        "responses": {"200": _json(_ref("Health"), "All well"),
                      "503": _json(_ref("Health"), "Database, a printer or a device down")},
    }},
    "/openapi.json": {"get": {
        "operationId": "openapi", "tags": ["operations"], "security": [],
        "responses": {"200": {"description": "This document",
                              "content": {JSON: {"schema": {"type": "object"}}}}},
    }},
}

# --- administration (shared/admin_api.py; role admin, limited to its offices) ---------------
# A configuration edit may name the version it started from: `If-Match: "<version>"` or
# "version" in the body; a stale one is 409 `stale_version` with `current_version`. An
# invalid one is 422 `invalid_config` with `field` (the key, as in config.toml) and
# `reason` {"id", "en"}; nothing changes.
OFFICE = _path("office", {"type": "string", "maxLength": 32}, "Office id")
COUNTER_ID = _path("counter_id", {"type": "string", "maxLength": 32}, "Counter id")
IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "schema": {"type": "string", "maxLength": 20},
            "description": "The version this edit started from (an ETag)."}
VERSIONED = {"type": "object", "required": ["version"],
             "properties": {"version": {"type": "integer"}}}
ADMIN_ERRORS = ("404", "409", "422")
VERSION_FIELD = {"version": {"type": "integer", "minimum": 1,
                             "description": "The version this edit started from"}}
COUNTER_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "id": {"type": "string", "maxLength": 32}, "name": {"type": "string", "maxLength": 64},
    "stations": {"type": "array", "items": {"type": "string"}},
    "priority_only": {"type": "boolean"}, "open": {"type": "boolean"}}}
CLOSE_CHOICE = {
    "ticket": {"type": "string", "enum": ["return", "transfer"],
               "description": "What to do with the counter's called ticket when it closes"},
    "station": {"type": "string", "description": "Where `transfer` sends that ticket"}}


def _admin_op(operation_id: str, summary: str, answer: str, *, status: str = "200",
              body: dict[str, Any] | None = None, parameters: list[Any] | None = None,
              errors: tuple[str, ...] = ADMIN_ERRORS) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id, "tags": ["admin"], "security": STAFF_SECURITY,
        "summary": summary, "parameters": parameters or [],
        "responses": {status: _json({"type": "object"}, answer), **_errors(*errors)},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return operation


NULLABLE_TEXT = {"type": ["string", "null"]}
SCHEMAS["Device"] = {
    "type": "object", "required": ["id", "kind", "office", "status"],
    "properties": {
        "id": {"type": "string"}, "kind": {"type": "string", "enum": list(roles.DEVICE_KINDS)},
        "office": {"type": "string"}, "name": NULLABLE_TEXT,
        "status": {"type": "string", "enum": ["pending", "enrolled", "revoked"]},
        "created_at": NULLABLE_TEXT, "enrolled_at": NULLABLE_TEXT,
        "last_seen_at": NULLABLE_TEXT, "last_ip": NULLABLE_TEXT, "revoked_at": NULLABLE_TEXT,
        "online": {"type": "boolean"},
        "version": {**NULLABLE_TEXT, "description": "The product version the device's page "
                    "was loaded with (reported when its socket connects)"},
        "browser": {**NULLABLE_TEXT, "examples": ["Chrome 131 (Linux)"]},
        "user_agent": NULLABLE_TEXT,
        "outdated": {"type": "boolean",
                     "description": "The page is older than the server: reload it"},
        "printer": {"type": ["object", "null"], "description": "A kiosk's printer as the "
                    "process owning it last wrote it (status, alert, last_error, "
                    "updated_at, stale: not refreshed for 150 s)"},
        "sound": {"type": ["object", "null"], "description": "A board's sound state as the "
                  "process its socket is connected to last wrote it (status connected/"
                  "disconnected, sound locked/unlocked/unknown, alert, last_check, "
                  "updated_at, stale)"},
    },
}


def _devices_answer(description: str, key: str = "device", many: bool = False,
                    status: str = "200") -> dict[str, Any]:
    item = {"type": "array", "items": _ref("Device")} if many else _ref("Device")
    return {status: _json({"type": "object", "required": [key], "properties": {key: item}},
                          description)}


ADMIN_PATHS: dict[str, Any] = {
    "/offices": {"get": _admin_op("offices", "The offices the caller administers",
                                  "Offices with their configuration versions", errors=())},
    "/offices/{office}/config": {
        "get": _admin_op("officeConfig", "The office's live configuration document",
                         "{version, config}", parameters=[OFFICE], errors=("404",)),
        "patch": _admin_op(
            "patchOfficeConfig", "Merge patch of the office's [[offices]] table (null "
            "removes a key): hours, info, stations, services and flows, counters, policy "
            "overrides, closed_days, quota_per_slot", "{version, config}",
            parameters=[OFFICE, IF_MATCH],
            body={"type": "object", "properties": VERSION_FIELD}),
    },
    "/config": {
        "get": _admin_op("globalConfig", "The global live tables (admins of every office)",
                         "{version, config}", errors=("404",)),
        "patch": _admin_op("patchGlobalConfig", "Merge patch of [policy], [numbering], "
                           "[kiosk] and [announce]", "{version, config}",
                           parameters=[IF_MATCH],
                           body={"type": "object", "properties": VERSION_FIELD}),
    },
    "/offices/{office}/info": {"put": _admin_op(
        "putInfo", "The information lines of every board's next snapshot", "{version, info}",
        parameters=[OFFICE, IF_MATCH],
        body={"type": "object", "required": ["info"], "properties": {
            "info": {"type": "array", "items": {"type": "string", "maxLength": 500}},
            **VERSION_FIELD}})},
    "/offices/{office}/counters": {
        "get": _admin_op("counters", "Counters with their called ticket", "{version, counters}",
                         parameters=[OFFICE], errors=("404",)),
        "post": _admin_op("addCounter", "Add a counter (it can call next at once)",
                          "{version, counter}", status="201", parameters=[OFFICE, IF_MATCH],
                          body={**COUNTER_SCHEMA, "required": ["id", "name", "stations"],
                                "properties": {**COUNTER_SCHEMA["properties"],
                                               **VERSION_FIELD}}),
    },
    "/offices/{office}/counters/{counter_id}": {
        "patch": _admin_op("patchCounter", "Rename, stations, priority-only, open/close "
                           "(closing with a called ticket: 409 counter_has_ticket with "
                           "choices, then send `ticket`)", "{version, counter}",
                           parameters=[OFFICE, COUNTER_ID, IF_MATCH],
                           body={"type": "object", "properties": {
                               **COUNTER_SCHEMA["properties"], **CLOSE_CHOICE,
                               **VERSION_FIELD}}),
        "delete": _admin_op("deleteCounter", "Remove a counter (its called ticket: as for "
                            "closing, `ticket` and `station` in the query)",
                            "{version, deleted}",
                            parameters=[OFFICE, COUNTER_ID, IF_MATCH,
                                        {"name": "ticket", "in": "query", "required": False,
                                         "schema": CLOSE_CHOICE["ticket"]},
                                        {"name": "station", "in": "query", "required": False,
                                         "schema": {"type": "string"}}]),
    },
    "/offices/{office}/announcement": {"post": _admin_op(
        "announce", "A one-off text on every board now (spoken where voice is on)",
        "{announcement}", status="201", parameters=[OFFICE],
        body={"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 300}}})},
    "/audit": {"get": _admin_op(
        "audit", "Who changed what, when, old -> new (CSV with format=csv)", "{audit}",
        parameters=[{"name": "office", "in": "query", "required": False,
                     "schema": {"type": "string"}},
                    {"name": "who", "in": "query", "required": False,
                     "schema": {"type": "string"}},
                    {"name": "since", "in": "query", "required": False,
                     "schema": {"type": "string"}, "description": "YYYY-MM-DD[THH:MM] (UTC)"},
                    {"name": "format", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["json", "csv"]}}],
        errors=("404",))},
    "/staff": {
        "get": _admin_op("staff", "Accounts, and who is logged in where (admins and "
                         "supervisors)", "{staff}", errors=()),
        "post": _admin_op("addStaff", "Create an account", "{staff}", status="201",
                          body={"type": "object", "required": ["username", "role"],
                                "properties": {
                                    "username": {"type": "string", "maxLength": 64},
                                    "role": {"type": "string",
                                             "enum": list(roles.ACCOUNT_ROLES)},
                                    "offices": {"type": "array", "maxItems": 1,
                                                "items": {"type": "string"}},
                                    "password": {"type": "string", "maxLength": 256},
                                    "token": {"type": "boolean"}}}),
    },
    "/staff/{name}": {"patch": _admin_op(
        "patchStaff", "Role, offices, active (false ends live sessions), password, "
        "end_sessions", "{staff}",
        parameters=[_path("name", {"type": "string", "maxLength": 64}, "Username")],
        body={"type": "object", "properties": {
            "role": {"type": "string", "enum": list(roles.ACCOUNT_ROLES)},
            "offices": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
            "active": {"type": "boolean"}, "password": {"type": "string", "maxLength": 256},
            "end_sessions": {"type": "boolean"}}})},
    "/devices": {
        "get": {**_admin_op("devices", "Kiosks and boards: status, last seen, address, "
                            "version and browser, printer state (kiosks), sound state "
                            "(boards), from whichever process answers", "{devices}",
                            errors=()),
                "responses": {**_devices_answer("Every device the caller administers",
                                                "devices", many=True), **_errors()}},
        "post": _admin_op("addDevice", "Register a kiosk or board: its one-time enrolment "
                          "URL and QR", "{device, enrol_url, enrol_qr}", status="201",
                          body={"type": "object", "required": ["kind", "id"], "properties": {
                              "kind": {"type": "string", "enum": list(roles.DEVICE_KINDS)},
                              "id": {"type": "string", "maxLength": 64},
                              "name": {"type": "string", "maxLength": 100},
                              "office": {"type": "string", "maxLength": 32}}}),
    },
    "/devices/{device_id}": {
        "patch": _admin_op("renameDevice", "Rename a device", "{device}",
                           parameters=[_path("device_id", {"type": "string"}, "Device id")],
                           body={"type": "object", "properties": {
                               "name": {"type": ["string", "null"], "maxLength": 100}}}),
        "delete": _admin_op("revokeDevice", "Revoke: its next request is 401, its sockets "
                            "are dropped", "{device}",
                            parameters=[_path("device_id", {"type": "string"}, "Device id")]),
    },
    "/offices/{office}/sound-check": {"post": {
        **_admin_op("soundCheck", "Play the chime and a test phrase on every board of the "
                    "office, in every process (supervisors too); each board's answer shows "
                    "in its `sound` (GET /devices) and in /health", "{check, office, boards, "
                    "status_url}; at most 4 started checks a minute per office (429 "
                    "after)", status="202", parameters=[OFFICE], errors=("404", "429")),
        "tags": ["display"]}},
    "/devices/{device_id}/test-print": {"post": _admin_op(
        "testPrint", "A test ticket on a kiosk's printer", "{print}", status="201",
        parameters=[_path("device_id", {"type": "string"}, "Device id")])},
}
PATHS.update(ADMIN_PATHS)


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Giliran REST API",
        "version": "1",
        "description": "Antrean kantor imigrasi / immigration office queues. Every refusal "
                       "is {\"error\":{\"code\",\"message\":{\"id\",\"en\"}}} with a 4xx "
                       "status; 503 when the database is unavailable.",
        "license": {"name": "AGPL-3.0-or-later"},
    },
    "servers": [{"url": "/api/v1"}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": {"Error": _json(_ref("Error"), "A refusal")},
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "Staff API token (giliran staff add --token) or an "
                                      "enrolled device's token"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session",
                        "description": "Staff session after /login"},
            "device": {"type": "apiKey", "in": "cookie", "name": "giliran_device",
                       "description": "Enrolled kiosk or board"},
        },
    },
}


@openapi.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(SPEC)
