"""Pages every surface shares: the index, device enrolment, staff login and logout."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)

from shared import roles
from shared.auth import DEVICE_COOKIE, check_login, enrol_device
from shared.errors import Refusal
from shared.web import current_principal, end_staff_session, start_staff_session

pages = Blueprint("pages", __name__)

DEVICE_COOKIE_AGE = 5 * 365 * 24 * 3600  # an enrolled kiosk stays enrolled


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        raise Refusal(400, "invalid_request", "The form expired. Please try again.")


def safe_next(target: str) -> str | None:
    r"""`target` when it is a path on this server, else None.

    Refused: anything with a scheme or host (`https://x`, `//x`), a backslash (`/\x`, which
    browsers read as `//x`), and any control or space character: browsers drop tabs and
    newlines from addresses, so `/%09/evil.example` would become `//evil.example`, and a
    newline would split the Location header.
    """
    if not target.startswith("/") or target.startswith("//") or len(target) > 2048:
        return None
    if "\\" in target or any(ch.isspace() or not ch.isprintable() for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("//"):
        return None
    return target


@pages.app_context_processor
def _template_helpers() -> dict[str, Any]:
    from shared.i18n import bilingual

    return {"t": bilingual, "csrf_token": csrf_token, "principal": current_principal()}


@pages.get("/")
def index() -> str:
    core = current_app.extensions["giliran"]
    return render_template("index.html", offices=list(core.config.offices.values()))


@pages.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says."""
    response = send_from_directory(current_app.static_folder or "static", "favicon.ico",
                                   mimetype="image/vnd.microsoft.icon", max_age=86400)
    return response


@pages.get("/enrol/<device_id>/<code>")
def enrol(device_id: str, code: str) -> Response:
    core = current_app.extensions["giliran"]
    try:
        if len(device_id) > 64 or len(code) > 64:
            raise Refusal(404, "not_found", "Not found.")
        principal, token = enrol_device(core, device_id, code)
    except Refusal as refusal:
        # A person opened this link on a screen: answer with a page, not the API's JSON.
        error = {"code": refusal.code, "message": refusal.message}
        page = render_template("enrol_refused.html", error=error)
        return Response(page, status=refusal.status, mimetype="text/html")
    target = (url_for("kiosk.page", kiosk_id=principal.name) if principal.role == roles.KIOSK
              else url_for("display.page", office=principal.offices[0]))  # type: ignore[index]
    response = redirect(target)
    response.set_cookie(DEVICE_COOKIE, token, max_age=DEVICE_COOKIE_AGE, httponly=True,
                        samesite="Lax", secure=core.config.security.secure_cookies)
    return response  # type: ignore[return-value]


@pages.route("/login", methods=["GET", "POST"])
def login() -> Any:
    core = current_app.extensions["giliran"]
    error = None
    next_url = safe_next(request.args.get("next", "")) or url_for("counter.terminal")
    if request.method == "POST":
        check_csrf()
        principal = check_login(core, request.form.get("username", "")[:64],
                                request.form.get("password", "")[:256])
        if principal is not None and principal.role in roles.STAFF:
            start_staff_session(principal.name)
            return redirect(next_url)
        error = "Wrong user name or password."
    return render_template("login.html", error=error, next_url=next_url), 401 if error else 200


@pages.post("/logout")
def logout() -> Response:
    """Log out: this account's sessions end on the server (a copied cookie is dead too)."""
    check_csrf()
    end_staff_session()
    session.clear()
    return redirect(url_for("pages.login"))  # type: ignore[return-value]
