"""The kiosk (self check-in screen) and the public ticket status page.

`/kiosk/<kiosk_id>` is the full-screen touch page of an enrolled kiosk (or of a logged-in
officer); it posts scans to `/api/v1/checkin`. `/t/<token>` is the phone-sized status page
whose address is the QR code on the ticket; its changes are pushed in the `/ticket`
Socket.IO namespace (kiosk/ticket_realtime.py), `/api/v1/t/<token>.json` is polled only
while that connection is down.
`/kiosk/qr.svg` draws that QR code, and only for the product's own `/t/` addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
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

from shared import __version__, lifecycle, offices, outbox, roles, visits
from shared.auth import Principal, device_office, require
from shared.clock import to_local
from shared.config import Office
from shared.core import Core
from shared.errors import Refusal
from shared.groups import PRIORITY_GROUPS, SCREEN_NAMES
from shared.i18n import bilingual
from shared.pages import check_csrf
from shared.web import current_principal, end_staff_session, session_staff

kiosk = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
                  static_url_path="/kiosk/static")

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
STATUS_PATH_RE = re.compile(r"/t/([A-Za-z0-9_-]{1,64})")
MAX_QR_DATA = 300

# Priority groups as a person reads them (English source; the catalogue has the Indonesian).
PRIORITY_NAMES = SCREEN_NAMES
NO_PRIORITY = "No priority"

# Ticket states in words, for the kiosk and the status page.
STATUS_WORDS = {
    lifecycle.WAITING: "Waiting",
    lifecycle.CALLED: "Called",
    lifecycle.SERVING: "Being served",
    lifecycle.HELD: "On hold: please wait near the counter",
    lifecycle.MISSED: "Missed: please ask an officer at the information desk",
    lifecycle.DONE: "Finished",
    lifecycle.CANCELLED: "Cancelled",
}
# The ticket states the pages' scripts test for, named by shared.lifecycle (the scripts
# spell none themselves): `active` is every state still in the office's queues.
TICKET_STATES = {"waiting": lifecycle.WAITING, "called": lifecycle.CALLED,
                 "done": lifecycle.DONE, "active": list(lifecycle.ACTIVE)}

# What the applicant can do next, per refusal code: shown under the API's own message.
NEXT_STEPS = {
    "invalid_scan": "Hold the code still in front of the scanner, or type it on the keypad.",
    "unknown_booking": "Check the code in the M-Paspor app, or ask an officer at the "
                       "information desk.",
    "wrong_office": "Please go to the office named in your booking, or ask an officer.",
    "wrong_day": "Please come back on your booking date, or reschedule in the M-Paspor app.",
    "too_early": "You may wait in the waiting room until then.",
    "too_late": "Your booking was not used and no ticket was issued. An officer at the "
                "information desk will tell you whether you can still be served today or "
                "help you book a new slot in the M-Paspor app.",
    "cancelled": "Please ask an officer at the information desk.",
    "missed": "Please ask an officer at the information desk: they can put you back in "
              "the queue.",
    "visit_done": "Nothing more to do here today. Thank you for coming.",
    "closed": "Please come back on the next working day, or ask an officer.",
    "rate_limited": "Please wait a moment, then scan again.",
    "forbidden": "This kiosk is not allowed to check in. Please ask an officer.",
    "unauthorized": "This kiosk is not enrolled. Please ask an officer.",
    "offline": "Please ask an officer. Your booking is safe.",
    "camera": "Use the scanner below the screen, or type your booking code.",
    "other": "Please try again, or ask an officer.",
}

# Sentences the kiosk script composes at run time; {placeholders} are filled in there.
SCRIPT_MESSAGES = (
    "Your slot",
    "Go to",
    "Position in queue",
    "Estimated wait",
    "about {minutes} min",
    "less than a minute",
    "Your ticket was reprinted",
    "Printer problem: take a photo of this screen",
    "Your ticket is being printed",
    "Take your printed ticket",
    "Back to the start in {seconds} s",
    "The kiosk cannot reach the server.",
    "The camera could not be started.",
    "Called: go to {counter}",
    "Updated {time}",
    "No connection: the page will retry by itself.",
    "You came after your booked slot {start}–{end} and its {grace} minutes of grace.",
    "You now queue as a late arrival in slot {start}–{end}, after those who came on time.",
)


def core() -> Core:
    return current_app.extensions["giliran"]  # type: ignore[no-any-return]


def messages(sources: Any) -> dict[str, dict[str, str]]:
    """English source -> {"id", "en"}, for the page scripts."""
    return {source: bilingual(source) for source in sources}


def office_names(office: Office) -> dict[str, Any]:
    """The office's public names: stations, services and counters (no personal data)."""
    return {
        "office": office.name,
        "stations": {s.id: {"id": s.name_id, "en": s.name_en} for s in office.stations.values()},
        "services": {s.id: {"id": s.name_id, "en": s.name_en} for s in office.services.values()},
        "counters": {c.id: c.name for c in office.counters.values()},
    }


# The check-in window as the welcome screen says it, per late policy.
WINDOW_TEXT = {
    "demote": "Check in from {early} minutes before your slot. More than {grace} minutes "
              "after it, you queue as a late arrival.",
    "refuse": "Check in from {early} minutes before your slot until {grace} minutes after it.",
}


def live_settings(office: Office) -> dict[str, Any]:
    """What the kiosk page shows from the live configuration; `GET /kiosk/<id>/live.json`
    gives it again when the page hears `config_changed` (it re-renders without a reload)."""
    policy = core().config.policy_for(office.id)
    window = WINDOW_TEXT.get(policy.late_policy, WINDOW_TEXT["demote"])
    return {
        "office_name": office.name,
        "info": [line for line in office.info if line.strip()],
        "window": bilingual(window, early=policy.early_checkin_minutes,
                            grace=policy.late_grace_minutes),
        "return_seconds": core().config.kiosk.return_to_welcome_seconds,
        "late_grace_minutes": policy.late_grace_minutes,
        "names": office_names(office),
        "services": [{"id": s.id, "name": {"id": s.name_id, "en": s.name_en}}
                     for s in office.services.values()],
    }


def _session_staff() -> Principal | None:
    """The officer logged in on this browser, even when a device cookie is present."""
    principal = current_principal()
    if principal is not None and principal.is_staff:
        return principal if principal.role in roles.STAFF else None
    staff = session_staff()
    return staff if staff is not None and staff.role in roles.STAFF else None


@dataclass(frozen=True)
class KioskViewer:
    """Who opens a kiosk's screen: the kiosk itself, or staff on its behalf."""

    principal: Principal | None  # the request's own principal (device, bearer or session)
    staff: Principal | None      # a staff member, by session or bearer token
    office: Office | None        # the kiosk's office; None: nobody who may open it


def _kiosk_viewer(kiosk_id: str) -> KioskViewer:
    """The kiosk's page and its live data: the enrolled kiosk of that id, or staff. The
    office is the kiosk's own; an officer on a browser gets the office this kiosk is
    registered in when they may see it, else their own (shared/offices.py)."""
    principal = current_principal()
    is_device = (principal is not None and principal.kind == "device"
                 and principal.role == roles.KIOSK and principal.name == kiosk_id)
    staff = _session_staff()
    if len(kiosk_id) > 64 or not (is_device or staff is not None):
        return KioskViewer(principal, staff, None)
    office = offices.resolve(core(), principal if is_device else staff,
                             preferred=device_office(core(), kiosk_id))
    return KioskViewer(principal, staff, office)


@kiosk.get("/kiosk/<kiosk_id>")
def page(kiosk_id: str) -> tuple[str, int]:
    viewer = _kiosk_viewer(kiosk_id)
    principal, staff, office = viewer.principal, viewer.staff, viewer.office
    if office is None:
        return render_template("kiosk/not_enrolled.html", kiosk_id=kiosk_id[:64]), 403
    staff_direct = principal is not None and principal.is_staff
    live = live_settings(office)
    settings = {
        **live,
        "kiosk": kiosk_id,
        "office": office.id,
        "live_url": url_for("kiosk.live", kiosk_id=kiosk_id),
        "app_version": __version__,  # reported on connect: the admin's devices list shows it
        "checkin_url": url_for("api.checkin", office=office.id),
        "walkin_url": (url_for("api.walkins", office=office.id) if staff_direct
                       else url_for("kiosk.walkin", kiosk_id=kiosk_id)),
        "print_job_url": "/api/v1/print-jobs/",
        "qr_url": url_for("kiosk.qr"),
        "camera": request.args.get("camera") == "1",
        "messages": messages(SCRIPT_MESSAGES),
        "next_steps": {code: bilingual(text) for code, text in NEXT_STEPS.items()},
        "status_words": {code: bilingual(text) for code, text in STATUS_WORDS.items()},
        "states": TICKET_STATES,
        "priority_names": {code: bilingual(text) for code, text in PRIORITY_NAMES.items()},
    }
    services = [(s.id, {"id": s.name_id, "en": s.name_en}) for s in office.services.values()]
    groups = [("", bilingual(NO_PRIORITY))] + [
        (group, bilingual(PRIORITY_NAMES[group])) for group in PRIORITY_GROUPS
    ]
    return render_template(
        "kiosk/page.html", kiosk_id=kiosk_id, office=office, settings=settings, staff=staff,
        services=services, groups=groups, live=live,
    ), 200


@kiosk.get("/kiosk/<kiosk_id>/live.json")
def live(kiosk_id: str) -> Response:
    """The page's live part again (office name, information lines, check-in window,
    names, services), for the same kiosk or officer that may open the page."""
    viewer = _kiosk_viewer(kiosk_id)
    if viewer.office is None:
        anonymous = viewer.principal is None and viewer.staff is None
        raise Refusal(401 if anonymous else 403, "unauthorized" if anonymous else "forbidden",
                      "This kiosk is not enrolled. Please ask an officer.")
    response = jsonify(live_settings(viewer.office))
    response.headers["Cache-Control"] = "no-store"
    return response


@kiosk.post("/kiosk/<kiosk_id>/walkins")
def walkin(kiosk_id: str) -> tuple[Response, int]:
    """A walk-in ticket issued by the officer logged in on this kiosk.

    The same as `POST /api/v1/walkins`, for a kiosk whose device cookie would otherwise
    speak for the request instead of the officer's session; the ticket prints here.
    """
    staff = require(_session_staff(), *roles.STAFF)
    if not request.is_json:
        raise Refusal(415, "invalid_request", "Send JSON (Content-Type: application/json).")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Refusal(400, "invalid_request", "The request body must be a JSON object.")
    principal = current_principal()
    # The officer acts on this device: the device's office, if theirs to see.
    device = principal if principal is not None and principal.kind == "device" else None
    office = offices.resolve(core(), staff, bound=device.offices[0] if device and device.offices
                             else None, preferred=device_office(core(), kiosk_id)).id
    on_kiosk = (principal is not None and principal.kind == "device"
                and principal.name == kiosk_id)
    issued = visits.issue_walk_in(core(), office, body.get("service"),
                                  body.get("priority_group"), staff.name,
                                  outbox.kiosk_printer(kiosk_id) if on_kiosk else None)
    payload: dict[str, Any] = {"ticket": issued.ticket}
    if issued.print is not None:
        payload["print"] = issued.print
    return jsonify(payload), 201


@kiosk.post("/kiosk/<kiosk_id>/staff-logout")
def staff_logout(kiosk_id: str) -> Response:
    """End the officer's session on the kiosk and show the kiosk again (it stays enrolled)."""
    check_csrf()
    end_staff_session()
    return redirect(url_for("kiosk.page", kiosk_id=kiosk_id[:64]))  # type: ignore[return-value]


def status_address(data: str) -> str | None:
    """The absolute status-page address for `data`, or None if it is not one of ours.

    The address starts with `[server] public_url` when it is set (the kiosk may reach the
    server on an address phones cannot), else with the address this request came to.
    """
    if not data or len(data) > MAX_QR_DATA:
        return None
    try:
        parts = urlsplit(data)
    except ValueError:  # "http://[::1/t/…" and the like: not an address at all
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    base = public_base()
    ours = (request.host, urlsplit(base).netloc)
    foreign = parts.scheme not in ("http", "https") or parts.netloc not in ours
    if (parts.scheme or parts.netloc) and foreign:
        return None
    if not STATUS_PATH_RE.fullmatch(parts.path):
        return None
    return base + parts.path


def public_base() -> str:
    """Where phones reach the server: [server] public_url, else the address the kiosk used."""
    return (core().config.public_url or request.host_url).rstrip("/")


def qr_svg(text: str) -> str:
    code = qrcode.QRCode(border=2, box_size=10,
                         error_correction=qrcode.constants.ERROR_CORRECT_M,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(text)
    code.make(fit=True)
    return str(code.make_image().to_string(encoding="unicode"))


@kiosk.get("/kiosk/qr.svg")
def qr() -> Response:
    """An SVG QR code of a ticket's public status page (never of anything else)."""
    address = status_address(request.args.get("data", ""))
    if address is None:
        raise Refusal(400, "invalid_request", "This QR code can only show a ticket address.")
    response = Response(qr_svg(address), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@kiosk.get("/t/<token>")
def status(token: str) -> tuple[str, int]:
    """The applicant's own ticket on their phone; no login, the token is the secret."""
    ticket: dict[str, Any] | None = None
    if TOKEN_RE.fullmatch(token):
        try:
            ticket = visits.get_ticket_by_token(core(), token)
        except Refusal:
            ticket = None
    if ticket is None:
        return render_template("kiosk/status_missing.html"), 404
    ticket.pop("id", None)
    office = core().office(ticket["office"])
    local_now = to_local(core().now(), office.tz)
    offset = local_now.utcoffset()
    settings = {
        "api_url": url_for("api.public_ticket", token=token),
        # Pushed over Socket.IO (kiosk/ticket_realtime.py); polled only while it is down.
        "socket_namespace": "/ticket",
        "token": token,
        "fallback_poll_seconds": 30,
        "now": local_now.isoformat(timespec="seconds"),
        "utc_offset_minutes": int(offset.total_seconds() // 60) if offset else 0,
        "ticket": ticket,
        "names": office_names(office),
        "messages": messages(SCRIPT_MESSAGES),
        "status_words": {code: bilingual(text) for code, text in STATUS_WORDS.items()},
        "states": TICKET_STATES,
    }
    return render_template("kiosk/status.html", ticket=ticket, office=office,
                           settings=settings, token=token), 200
