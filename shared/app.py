"""The Flask application factory."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from shared.config import Config, check_secrets, load_config
from shared.core import Core
from shared.errors import Refusal
from shared.green import async_mode
from shared.i18n import bilingual
from shared.realtime import bridge, socketio
from shared.web import current_principal, error_response

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024            # API bodies
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


def create_app(config: Config | None = None, core: Core | None = None,
               start_hardware: bool = False) -> Flask:
    config = config or (core.config if core else load_config())
    check_secrets(config)  # no server signs anything with a missing, short or shipped key
    core = core or Core(config)
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=config.security.secret_key,
        MAX_CONTENT_LENGTH=MAX_BOOKINGS_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.security.secure_cookies,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["giliran"] = core

    @app.before_request
    def _limit_body() -> None:
        if request.path != "/api/v1/bookings":
            request.max_content_length = MAX_BODY
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
        if code in HTTP_CODES and (request.path.startswith("/api/") or request.is_json):
            name, message = HTTP_CODES[code]
            return error_response(Refusal(code, name, message))
        if code in HTTP_CODES:
            name, message = HTTP_CODES[code]
            text = bilingual(message)
            body = f"<!doctype html><title>{code}</title><p>{text['id']}</p><p>{text['en']}</p>"
            return Response(body, status=code, mimetype="text/html")
        return exc

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unexpected error on %s %s", request.method, request.path)
        body = {"error": {"code": "internal", "message": bilingual(
            "Something went wrong on our side. Please try again or ask an officer.")}}
        # A database that is down or restarting is a temporary condition: say 503.
        return jsonify(body), 503

    from shared.api import api
    from shared.openapi import openapi
    from shared.pages import pages

    app.register_blueprint(api)
    app.register_blueprint(openapi)
    app.register_blueprint(pages)
    _register_surfaces(app)
    from display.announce.blueprint import announce_blueprint

    app.register_blueprint(announce_blueprint, config=config)

    socketio.init_app(app, async_mode=async_mode(), cors_allowed_origins=[],
                      ping_interval=5, ping_timeout=5)
    from counter.realtime import CounterNamespace
    from display.realtime import DisplayNamespace

    socketio.on_namespace(DisplayNamespace("/display"))
    socketio.on_namespace(CounterNamespace("/counter"))
    from shared.limits import init_limits

    init_limits(app, config)
    core.bus.subscribe(bridge(core, _announcer(core)))
    if start_hardware:
        # The process that owns the devices also runs the chores (one per deployment).
        _start_hardware(app, core)
        from shared.housekeeping import start_housekeeping

        app.extensions["giliran_housekeeping"] = start_housekeeping(core)
    return app


def _register_surfaces(app: Flask) -> None:
    """The blueprints of the screens and reports."""
    from counter.views import counter
    from display.views import display
    from kiosk.views import kiosk
    from shared.reports.views import reports

    for blueprint in (kiosk, display, counter, reports):
        app.register_blueprint(blueprint)


def _announcer(core: Core) -> Any:
    """The clip URLs a board plays for a call, from the office's [announce] settings."""
    from display.announce.calls import CallError, call_announcement, settings_for

    settings = settings_for(core.config)

    def urls(office: str, event: Any) -> list[str]:
        try:
            call = call_announcement(core.config, settings, str(event.ticket.get("number")),
                                     str(event.counter), event.station, office)
        except CallError:
            log.warning("no announcement for %s at %s", event.ticket.get("number"), event.counter)
            return []
        return list(call.urls)

    return urls


def _start_hardware(app: Flask, core: Core) -> None:
    """Printers and serial buses (simulated ones under make run)."""
    from hardware.wiring import start_hardware

    start_hardware(app, core)
