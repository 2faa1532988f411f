"""The display room's plug (shared.registry): the board page and its JSON, the
`/display` Socket.IO namespace, the spoken announcements and their `[announce]` section."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request

from display.announce.blueprint import announce_blueprint
from display.announce.calls import CallError, call_announcement, settings_for
from display.announce.settings import announce_defaults
from display.board import snapshot
from display.checks import check_config
from display.realtime import DisplayNamespace
from display.soundcheck import install as install_board_sound
from display.soundcheck import soundcheck
from display.views import display
from shared.core import Core
from shared.events import TicketEvent
from shared.limits import LimitedView, caller_key, limit_view
from shared.realtime import socketio

log = logging.getLogger(__name__)

#: Sound checks one office's boards play per minute at most.
SOUND_CHECKS_PER_MINUTE = 4
#: Whole calls one caller may ask for per minute, of announce.wav and of announce.json
#: each: a PA system asks once per call; these routes are public, and each new call is
#: rendered on the server.
ANNOUNCEMENTS_PER_MINUTE = 120

__all__ = ["announcer", "check_config", "register", "snapshot"]


def office_of_request() -> str:
    """The office a request names in its path (the key of the office's limits)."""
    return f"office:{(request.view_args or {}).get('office', '')}"


def register(app: Flask, core: Core) -> None:
    app.register_blueprint(display)
    app.register_blueprint(announce_blueprint, config=core.config)
    socketio.on_namespace(DisplayNamespace("/display"))
    app.register_blueprint(soundcheck)
    # A sound check plays in the whole waiting room: a few a minute per office at most,
    # counting only checks that were started (a refused caller uses up nobody's).
    limit_view(app, "soundcheck.start_sound_check",
               LimitedView("sound_check", office_of_request, ["POST"],
                           counts=lambda response: response.status_code == 202),
               SOUND_CHECKS_PER_MINUTE)
    for endpoint in ("announce.announce_wav", "announce.announce_json"):
        limit_view(app, endpoint, LimitedView("announcement", caller_key, ["GET"]),
                   ANNOUNCEMENTS_PER_MINUTE)
    install_board_sound(app, core)
    core.table_defaults["announce"] = announce_defaults()


def announcer(core: Core) -> Any:
    """The clip URLs a board plays for a call and how many times it speaks them, from the
    office's [announce] settings."""
    cached: dict[str, Any] = {"config": core.config, "settings": settings_for(core.config)}

    def urls(office: str, event: TicketEvent) -> tuple[list[str], int]:
        if cached["config"] is not core.config:  # the live configuration changed
            cached.update(config=core.config, settings=settings_for(core.config))
        try:
            call = call_announcement(core.config, cached["settings"],
                                     str(event.ticket.get("number")),
                                     str(event.counter), event.station, office)
        except CallError:
            log.warning("no announcement for %s at %s", event.ticket.get("number"), event.counter)
            return [], 1
        return list(call.urls), call.repeat

    return urls
