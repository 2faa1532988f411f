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
from shared import __version__
from shared.auth import require
from shared.core import Core
from shared.i18n import bilingual
from shared.web import current_principal

STAFF_ROLES = ("officer", "supervisor", "admin")

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


def may_view_board(office_id: str) -> bool:
    """An enrolled display of this office, or staff who may see it."""
    principal = current_principal()
    if principal is None:
        return False
    if principal.role != "display" and principal.role not in STAFF_ROLES:
        return False
    return principal.may_see_office(office_id)


@display.get("/display/<office>")
def page(office: str) -> Any:
    core = _core()
    office_cfg = core.config.offices.get(office)
    if office_cfg is None:
        raise NotFound()
    if not may_view_board(office):
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
    principal = require(current_principal(), "display", "kiosk", *STAFF_ROLES)
    require(principal, office=office)
    return jsonify(snapshot(_core(), office))
