"""Request helpers shared by every surface: who is asking, staff sessions, the same-origin
rule for cookie-authenticated writes, and refusal answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, current_app, g, jsonify, request, session

from shared.auth import (
    DEVICE_COOKIE,
    Admission,
    Principal,
    hash_token,
    principal_for_token,
    session_generation,
    staff_principal,
)
from shared.config import Config
from shared.core import Core
from shared.errors import Refusal

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_KEYS = ("staff", "gen", "login", "seen")
SEEN_EVERY = 60  # seconds: how often a session's last-use time is written back
_EPOCH = datetime(1970, 1, 1)
View = TypeVar("View", bound=Callable[..., Any])


def current_principal() -> Principal | None:
    """Who is asking: a bearer token, a device cookie, or a staff session (cached in g).

    `g.principal_source` says which: "bearer", "device_cookie", "session" or None.
    """
    if "principal" in g:
        return g.principal  # type: ignore[no-any-return]
    core: Core = current_app.extensions["giliran"]
    principal: Principal | None = None
    source: str | None = None
    address = request.remote_addr
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and 0 < len(header) < 300:
        principal = principal_for_token(core, header[7:].strip(), address)
        source = "bearer" if principal else None
    if principal is None:
        device_token = request.cookies.get(DEVICE_COOKIE)
        if device_token and len(device_token) < 300:
            principal = principal_for_token(core, device_token, address)
            source = "device_cookie" if principal else None
    if principal is None:
        principal = session_staff()
        source = "session" if principal else None
    if principal is None and request.path.startswith("/socket.io"):
        # A phone following its ticket (kiosk/ticket_realtime.py): the status token in the
        # handshake's query is all it holds, and it only admits the /ticket namespace.
        principal = ticket_principal(core, request.args.get("ticket", ""))
        source = "ticket" if principal else None
    g.principal = principal
    g.principal_source = source
    return principal


def admission(principal: Principal) -> Admission:
    """What admitted `principal` to this request (the one `current_principal` found),
    for a connection that stays open: shared.connections checks it again every few
    seconds (shared.auth.ended_among)."""
    source = g.get("principal_source")
    if source == "bearer":
        token = request.headers.get("Authorization", "")[7:].strip()
        return Admission(principal, source, digest=hash_token(token))
    if source == "device_cookie":
        return Admission(principal, source,
                         digest=hash_token(request.cookies.get(DEVICE_COOKIE, "")))
    if source == "session":
        core: Core = current_app.extensions["giliran"]
        login, seen = session.get("login"), session.get("seen")
        ends = (_EPOCH + timedelta(seconds=login,
                                   hours=core.config.security.staff_session_hours)
                if isinstance(login, int) else None)
        return Admission(principal, source, generation=session.get("gen"), session_ends=ends,
                         session_seen=_EPOCH + timedelta(seconds=seen)
                         if isinstance(seen, int) else None)
    return Admission(principal, source)


def ticket_principal(core: Core, token: str) -> Principal | None:
    """The "ticket" principal of a ticket's public status token (kind "ticket", name the
    ticket's id, its office), or None."""
    from sqlalchemy import select

    from shared.models import Ticket

    if not token or len(token) > 64 or not token.replace("-", "").replace("_", "").isalnum():
        return None
    with core.db.read() as db:
        row = db.execute(select(Ticket.id, Ticket.office_id)
                         .where(Ticket.public_token == token)).first()
    if row is None:
        return None
    return Principal("ticket", str(row.id), "ticket", (row.office_id,))


# --- staff sessions ------------------------------------------------------------------------
def _seconds(core: Core) -> int:
    return int((core.now() - _EPOCH).total_seconds())


def staff_session_values(core: Core, username: str) -> dict[str, Any]:
    """What a new staff session cookie holds: who, the account's session generation (a
    later logout, password change, disable or "end all sessions" raises it), the login
    time and the last use."""
    now = _seconds(core)
    return {"staff": username, "gen": session_generation(core, username), "login": now,
            "seen": now}


def start_staff_session(username: str) -> None:
    """Log a staff member in on this browser (a fresh session: no fixation)."""
    core: Core = current_app.extensions["giliran"]
    session.clear()
    session.update(staff_session_values(core, username))
    session.permanent = True
    g.pop("principal", None)


def session_staff() -> Principal | None:
    """The staff member of this browser's session, if the session is still good.

    A session ends when the account's generation moved on (logout, password change,
    disabled, ended by an admin), after `[security] staff_idle_hours` without use, and
    `staff_session_hours` after login, whichever comes first.
    """
    name = session.get("staff")
    if not name:
        return None
    core: Core = current_app.extensions["giliran"]
    values = [session.get(key) for key in SESSION_KEYS[1:]]
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    if len(numbers) != len(values):
        return None
    generation, login, seen = numbers
    now = _seconds(core)
    security = core.config.security
    if now - seen > security.staff_idle_hours * 3600 or \
            now - login > security.staff_session_hours * 3600:
        for key in SESSION_KEYS:
            session.pop(key, None)
        return None
    principal = staff_principal(core, str(name), generation)
    if principal is not None and now - seen >= SEEN_EVERY:
        session["seen"] = now
    return principal


def end_staff_session() -> None:
    """Log out: end every session of this account (the generation moves on) and forget
    it on this browser. A copy of the old cookie signs nothing afterwards."""
    from shared.auth import end_sessions

    core: Core = current_app.extensions["giliran"]
    name = session.get("staff")
    principal = session_staff()
    if principal is not None and name:
        end_sessions(core, str(name))
    for key in SESSION_KEYS:
        session.pop(key, None)
    g.pop("principal", None)


# --- the same-origin rule --------------------------------------------------------------------
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def own_origins(config: Config, scheme: str, host: str) -> set[tuple[str, str, int]]:
    """The origins that are this server: the address the request came to (its Host
    header, after any trusted proxy fix) and the configured `[server] public_url`."""
    origins = set()
    for url in (f"{scheme}://{host}", config.public_url):
        origin = origin_of(url) if url else None
        if origin:
            origins.add(origin)
    return origins


def is_own_origin(config: Config, origin: str | None, scheme: str, host: str) -> bool:
    found = origin_of(origin) if origin else None
    return found is not None and found in own_origins(config, scheme, host)


def socketio_origin_check(config: Config) -> Callable[[str | None, Mapping[str, Any]], bool]:
    """Socket.IO's `cors_allowed_origins`: a browser may connect from our own origins only.
    (Clients that send no Origin, such as python-socketio, are not browsers: they
    authenticate with a token like any API client.)"""

    def allowed(origin: str | None, environ: Mapping[str, Any]) -> bool:
        return is_own_origin(config, origin, str(environ.get("wsgi.url_scheme", "http")),
                             str(environ.get("HTTP_HOST", "")))

    return allowed


def accepts_bodies(*mimetypes: str) -> Callable[[View], View]:
    """Mark an API route that takes bodies other than JSON (e.g. CSV bookings)."""

    def mark(view: View) -> View:
        view.giliran_accepts = frozenset(mimetypes) | {"application/json"}  # type: ignore[attr-defined]
        return view

    return mark


def carries_cookie() -> bool:
    names = (current_app.config.get("SESSION_COOKIE_NAME", "session"), DEVICE_COOKIE)
    return any(name in request.cookies for name in names)


def check_same_origin() -> None:
    """A state-changing request that a cookie may speak for must come from our own origin.

    Browsers attach cookies to requests that other sites' pages make (another port or a
    sibling subdomain is "same site", so SameSite=Lax does not help). The browser's
    `Origin` (or, without one, `Referer`) says where the request came from: a foreign one
    is refused with 403. With neither header the request is not a cross-site browser
    request (modern browsers send Origin on every cross-origin POST), and the JSON rule
    and the forms' CSRF tokens still apply. On the API, such a request must carry JSON
    (415 otherwise): a page on another origin cannot send JSON without a CORS preflight,
    which this server never grants. Bearer-token clients are not affected.
    """
    if request.method not in STATE_CHANGING:
        return
    current_principal()
    if g.get("principal_source") == "bearer" or not carries_cookie():
        return
    core: Core = current_app.extensions["giliran"]
    claimed = request.headers.get("Origin")
    if claimed is None:
        claimed = request.headers.get("Referer")
    if claimed is not None and not is_own_origin(core.config, claimed, request.scheme,
                                                 request.host):
        raise Refusal(403, "cross_origin",
                      "This request came from another site and was refused.")
    if request.path.startswith("/api/"):
        view = current_app.view_functions.get(request.endpoint or "")
        accepted = getattr(view, "giliran_accepts", frozenset({"application/json"}))
        mimetype = request.mimetype
        has_body = bool(request.content_length) or "chunked" in request.headers.get(
            "Transfer-Encoding", "").lower()
        if (mimetype and mimetype not in accepted) or (not mimetype and has_body):
            raise Refusal(415, "invalid_request", "Send JSON (Content-Type: application/json).")


def error_response(refusal: Refusal) -> Response:
    response = jsonify(refusal.body())
    response.status_code = refusal.status
    return response
