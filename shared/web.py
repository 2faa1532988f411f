"""Request helpers shared by every surface: who is asking, and refusal answers."""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, request, session

from shared.auth import DEVICE_COOKIE, Principal, principal_for_token, staff_principal
from shared.core import Core
from shared.errors import Refusal


def current_principal() -> Principal | None:
    """Who is asking: a bearer token, a device cookie, or a staff session (cached in g)."""
    if "principal" in g:
        return g.principal  # type: ignore[no-any-return]
    core: Core = current_app.extensions["giliran"]
    principal: Principal | None = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and 0 < len(header) < 300:
        principal = principal_for_token(core, header[7:].strip())
    if principal is None:
        device_token = request.cookies.get(DEVICE_COOKIE)
        if device_token and len(device_token) < 300:
            principal = principal_for_token(core, device_token)
    if principal is None and session.get("staff"):
        principal = staff_principal(core, str(session["staff"]))
    g.principal = principal
    return principal


def error_response(refusal: Refusal) -> Response:
    response = jsonify(refusal.body())
    response.status_code = refusal.status
    return response
