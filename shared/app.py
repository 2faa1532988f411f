"""The composition root: the Flask application factory and the list of rooms.

With shared.config_checks (the rooms' checks of config.toml alone, for the command line)
this is the only module of `shared/` that imports the rooms (kiosk, display, counter,
hardware); everything else in `shared/` knows none of them. Each room plugs itself in
through its `room.py` (see shared.registry); `shared.wsgi` builds the application through
here.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

import counter.room
import display.room
import hardware.room
import kiosk.room
import shared.reports.room
from shared import config_checks, roles
from shared.config import PING_TIMEOUT_SECONDS, Config, check_secrets
from shared.core import Core
from shared.errors import GuardedJSONProvider, Refusal
from shared.green import async_mode
from shared.i18n import bilingual
from shared.realtime import bridge, socketio
from shared.registry import Room, start_room
from shared.web import (
    check_same_origin,
    current_principal,
    error_response,
    socketio_origin_check,
)

log = logging.getLogger(__name__)

# Every room, in registration order (shared.registry).
ROOMS: tuple[Room, ...] = (kiosk.room, display.room, counter.room, shared.reports.room,
                           hardware.room)


# config.toml checked with every room's own sections (printers, serial, announce...).
load_config = config_checks.load_config

MAX_BODY = 1024 * 1024            # API bodies
# Paths that never answer with an HTML page: the API, Socket.IO, and the board's calls for
# other players (display/announce/blueprint.py answers its errors in JSON; so does a 429).
NO_PAGES = ("/api/", "/socket.io", "/display/announce")
MAX_BOOKINGS_BODY = 64 * 1024 * 1024

HTTP_CODES = {
    400: ("invalid_request", "The request could not be understood."),
    401: ("unauthorized", "Please log in."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("too_large", "The request is too large."),
    415: ("invalid_request", "Send JSON (Content-Type: application/json)."),
    429: ("rate_limited", "Too many requests. Please wait a moment."),
}


def _warn_public_url(config: Config) -> None:
    """Say at start when ticket QR codes would point where phones cannot go."""
    from shared.public_url import public_url_warning

    warning = public_url_warning(config)
    if warning is not None:
        log.warning("%s / %s", warning["message"]["id"], warning["message"]["en"])


def create_app(config: Config | None = None, core: Core | None = None,
               start_hardware: bool = False) -> Flask:
    config = config or (core.config if core else load_config())
    check_secrets(config)  # no server signs anything with a missing, short or shipped key
    _warn_public_url(config)
    core = core or Core(config)
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.jinja_env.globals["roles"] = roles  # templates name roles as shared.roles spells them
    app.config.update(
        SECRET_KEY=config.security.secret_key,
        MAX_CONTENT_LENGTH=MAX_BOOKINGS_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.security.secure_cookies,
        JSON_SORT_KEYS=False,
    )
    app.json = GuardedJSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["giliran"] = core

    @app.before_request
    def _limit_body() -> None:
        if request.path != "/api/v1/bookings":
            request.max_content_length = MAX_BODY
        if not request.path.startswith(NO_PAGES):
            # Pages' inline scripts carry it; the API and Socket.IO serve no page, and
            # os.urandom cost a measurable share of a check-in (bench/profile_hot.py).
            g.csp_nonce = secrets.token_urlsafe(12)

    @app.url_value_preprocessor
    def _bounded_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        # Database ids are 64-bit: a larger number names nothing and must not reach SQL
        # (SQLite raises OverflowError, which would be a 5xx).
        if values and any(isinstance(v, int) and not -(2**63) <= v < 2**63
                          for v in values.values()):
            raise Refusal(404, "not_found", "Not found.")

    @app.before_request
    def _principal() -> None:
        current_principal()
        check_same_origin()  # cookie-authenticated writes only from our own origin

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            # Scripts only from our own files (or an inline block carrying this request's
            # nonce); media from our own clips, blobs and the kiosk camera.
            response.headers.setdefault("Content-Security-Policy", (
                f"default-src 'self'; script-src 'self' 'nonce-{g.get('csp_nonce', '')}'; "
                "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; "
                "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"))
        return response

    @app.errorhandler(Refusal)
    def _refusal(refusal: Refusal) -> Response:
        return error_response(refusal)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | HTTPException:
        code = exc.code or 500
        if code not in HTTP_CODES:
            return exc
        name, message = HTTP_CODES[code]
        if request.path.startswith(NO_PAGES) or request.is_json:
            answer = error_response(Refusal(code, name, message))
        else:
            text = bilingual(message)
            body = f"<!doctype html><title>{code}</title><p>{text['id']}</p><p>{text['en']}</p>"
            answer = Response(body, status=code, mimetype="text/html")
        for header, value in exc.get_headers():  # Allow on 405, Retry-After, ...
            if header.lower() != "content-type":
                answer.headers[header] = value
        return answer

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        if isinstance(exc, RecursionError):  # input nested too deeply for a parser
            log.warning("refused %s %s: input nested too deeply", request.method, request.path)
            return error_response(Refusal(400, "invalid_request",
                                          "The request body is not valid JSON.")), 400
        log.exception("unexpected error on %s %s", request.method, request.path)
        body = {"error": {"code": "internal", "message": bilingual(
            "Something went wrong on our side. Please try again or ask an officer.")}}
        # A database that is down or restarting is a temporary condition: say 503.
        return jsonify(body), 503

    from shared.admin_api import admin_api
    from shared.api import api
    from shared.openapi import openapi
    from shared.pages import pages

    app.register_blueprint(api)
    app.register_blueprint(admin_api)
    app.register_blueprint(openapi)
    app.register_blueprint(pages)
    socketio.init_app(app, async_mode=async_mode(),
                      cors_allowed_origins=socketio_origin_check(config),
                      ping_interval=config.ping_interval_seconds,
                      ping_timeout=PING_TIMEOUT_SECONDS)
    from shared.connections import install

    install(app, socketio, core)  # authenticated, capped connects; revocations drop sockets
    for room in ROOMS:
        room.register(app, core)
    core.bus.subscribe(bridge(core, display.room.announcer(core),
                              snapshot=display.room.snapshot))
    from shared.limits import init_limits

    init_limits(app, config)
    if start_hardware:
        # The process that owns the devices starts them and runs the chores (one per
        # deployment).
        for room in ROOMS:
            start_room(room, app, core)
        from shared.housekeeping import start_housekeeping

        app.extensions["giliran_housekeeping"] = start_housekeeping(core)
    return app
