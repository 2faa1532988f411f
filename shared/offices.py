"""Which office a request means: one rule for every page, API call and Socket.IO room.

- An office named explicitly (`?office=`, a path, a room to join) must exist (404
  `unknown_office`) and be one the principal may see (403 `forbidden`), in that order.
- A device is bound to its own office: it never acts for another one. A staff member acting
  on a device (a walk-in issued on a kiosk) is bound to that device's office, if they may
  see it (403 otherwise).
- Nothing named: the surface's own preference (the office a kiosk is registered in) when
  the principal may see it, else the principal's first office, else the default office.
"""

from __future__ import annotations

from flask import current_app, request

from shared.auth import Principal
from shared.config import Office
from shared.core import Core
from shared.errors import Refusal


def _forbidden() -> Refusal:
    return Refusal(403, "forbidden", "You are not allowed to do this.")


def check(core: Core, principal: Principal, office_id: str) -> Office:
    """An office the principal named: 404 when unknown, 403 when not theirs to see."""
    office = core.office(office_id)
    if not principal.may_see_office(office.id):
        raise _forbidden()
    return office


def resolve(core: Core, principal: Principal | None, requested: str | None = None, *,
            bound: str | None = None, preferred: str | None = None) -> Office:
    """The office a principal's request means (the rules above)."""
    if principal is None:
        raise Refusal(401, "unauthorized", "Please log in.")
    if principal.kind == "device" and principal.offices:
        bound = principal.offices[0]
    if requested:
        office = check(core, principal, requested)
        if bound is not None and office.id != bound:
            raise _forbidden()
        return office
    if bound is not None:
        return check(core, principal, bound)
    if preferred and preferred in core.config.offices and principal.may_see_office(preferred):
        return core.office(preferred)
    if principal.offices:
        return check(core, principal, principal.offices[0])
    return core.config.default_office


def from_request(principal: Principal | None, *, bound: str | None = None,
                 preferred: str | None = None) -> Office:
    """`resolve` for the current request, whose `?office=` names the office, if any."""
    core: Core = current_app.extensions["giliran"]
    return resolve(core, principal, request.args.get("office") or None, bound=bound,
                   preferred=preferred)


def visible(core: Core, principal: Principal) -> list[Office]:
    """Every office the principal may see, in configuration order."""
    return [office for office in core.config.offices.values()
            if principal.may_see_office(office.id)]
