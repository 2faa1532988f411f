"""The waiting-room board: `/display/<office>`, a 1920x1080 screen read from across the hall.

The page renders the current snapshot at once, then joins the office's room in the
`/display` Socket.IO namespace and applies `called` and `snapshot` events by version (see
display/static/board.js). Only an enrolled display of that office or logged-in staff may
open it; anyone else gets a bilingual 403 page. The board never shows names.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import NotFound

from display.board import snapshot
from shared import __version__, offices, roles
from shared.auth import require
from shared.core import Core
from shared.errors import Refusal
from shared.i18n import bilingual
from shared.web import current_principal

display = Blueprint(
    "display",
    __name__,
    static_folder="static",
    static_url_path="/display/static",
    template_folder="templates",
)

# Text the board's script shows; English sources, translated in messages.po.
BOARD_TEXT = {
    "offline": "Offline: reconnecting",
    "audio_locked": "Sound is off: touch the screen to turn it on",
    "no_call": "Waiting for the next call",
    "refused": "This board may not show this office",
}

DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember")


def _core() -> Core:
    return current_app.extensions["giliran"]  # type: ignore[no-any-return]


@display.get("/display/<office>")
def page(office: str) -> Any:
    """The board: an enrolled display of this office, or staff who may see it."""
    core = _core()
    principal = current_principal()
    try:
        office_cfg = core.office(office)
        if principal is None or principal.role not in roles.BOARD_PAGE:
            raise Refusal(403, "forbidden", "You are not allowed to do this.")
        offices.check(core, principal, office)
    except Refusal as refusal:
        if refusal.status == 404:
            raise NotFound() from None
        login = url_for("pages.login", next=request.path)
        return render_template("display/forbidden.html", login_url=login), 403
    board = snapshot(core, office)
    local_now = core.local_now(office_cfg)
    data = {
        "office": office,
        "snapshot": board,
        "station_order": list(office_cfg.stations),
        "text": {key: bilingual(message) for key, message in BOARD_TEXT.items()},
        "days_id": DAYS_ID,
        "months_id": MONTHS_ID,
        "app_version": __version__,  # reported on connect: the devices list shows it
    }
    today = f"{DAYS_ID[local_now.weekday()]}, {local_now.day} {MONTHS_ID[local_now.month - 1]} " \
            f"{local_now.year}"
    return render_template("display/board.html", office=office_cfg, board=board, data=data,
                           today=today, clock=local_now.strftime("%H:%M"))


@display.get("/api/v1/board/<office>")
def board_json(office: str) -> Any:
    """The board snapshot as JSON (REST twin of the Socket.IO `snapshot`)."""
    principal = require(current_principal(), *roles.ADMITTED_TO_BOARD)
    offices.check(_core(), principal, office)
    return jsonify(snapshot(_core(), office))
