"""Staff accounts, devices and who may do what.

Staff log in to pages with a session, or call the API with `Authorization: Bearer`.
Kiosks and boards are enrolled once through a one-time URL, after which they hold their
own token (a cookie on the device's browser) and may make only their own calls.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from shared.core import Core
from shared.errors import Refusal
from shared.models import Device, Staff

ROLES = ("officer", "supervisor", "admin", "booking")
STAFF_ROLES = ("officer", "supervisor", "admin")
DEVICE_KINDS = ("kiosk", "display")
DEVICE_COOKIE = "giliran_device"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is making a request."""

    kind: str                      # staff | device
    name: str                      # username or device id
    role: str                      # officer | supervisor | admin | booking | kiosk | display
    offices: tuple[str, ...] | None  # None: every office

    def may_see_office(self, office_id: str) -> bool:
        return self.offices is None or office_id in self.offices

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


def create_staff(core: Core, username: str, password: str | None, role: str,
                 office: str | None = None, token: bool = False) -> str | None:
    """Create (or reset) a staff account; returns a new API token when asked for one."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if office is not None:
        core.office(office)
    api_token = secrets.token_urlsafe(32) if token else None
    with core.db.write() as session:
        staff = session.execute(
            select(Staff).where(Staff.username == username)
        ).scalar_one_or_none()
        if staff is None:
            staff = Staff(username=username, created_at=core.now(), active=True)
            session.add(staff)
        staff.role = role
        staff.office_id = office
        staff.password_hash = generate_password_hash(password or secrets.token_urlsafe(24))
        if api_token:
            staff.api_token_hash = hash_token(api_token)
    return api_token


def check_login(core: Core, username: str, password: str) -> Principal | None:
    with core.db.read() as session:
        staff = session.execute(
            select(Staff).where(Staff.username == username, Staff.active.is_(True))
        ).scalar_one_or_none()
        if staff is None or not check_password_hash(staff.password_hash, password):
            return None
        return _staff_principal(core, staff)


def _staff_principal(core: Core, staff: Staff) -> Principal:
    offices = (staff.office_id,) if staff.office_id else None
    return Principal("staff", staff.username, staff.role, offices)


def staff_principal(core: Core, username: str) -> Principal | None:
    with core.db.read() as session:
        staff = session.execute(
            select(Staff).where(Staff.username == username, Staff.active.is_(True))
        ).scalar_one_or_none()
        return _staff_principal(core, staff) if staff else None


def principal_for_token(core: Core, token: str) -> Principal | None:
    digest = hash_token(token)
    with core.db.read() as session:
        staff = session.execute(
            select(Staff).where(Staff.api_token_hash == digest, Staff.active.is_(True))
        ).scalar_one_or_none()
        if staff is not None:
            return _staff_principal(core, staff)
        device = session.execute(
            select(Device).where(Device.token_hash == digest)
        ).scalar_one_or_none()
        if device is not None:
            return Principal("device", device.id, device.kind, (device.office_id,))
    return None


def create_device(core: Core, kind: str, device_id: str, office: str | None = None) -> str:
    """Register a kiosk or board; returns its one-time enrolment code."""
    if kind not in DEVICE_KINDS:
        raise ValueError("kind must be kiosk or display")
    office_id = office or core.config.default_office.id
    core.office(office_id)
    code = secrets.token_urlsafe(18)
    with core.db.write() as session:
        device = session.get(Device, device_id)
        if device is None:
            device = Device(id=device_id, created_at=core.now())
            session.add(device)
        device.kind = kind
        device.office_id = office_id
        device.enrol_code_hash = hash_token(code)
    return code


def enrol_device(core: Core, device_id: str, code: str) -> tuple[Principal, str]:
    """Exchange a one-time enrolment code for the device's token."""
    with core.db.write() as session:
        device = session.get(Device, device_id)
        if (device is None or device.enrol_code_hash is None
                or not secrets.compare_digest(device.enrol_code_hash, hash_token(code))):
            raise Refusal(403, "forbidden", "This enrolment link is not valid (any more).")
        token = secrets.token_urlsafe(32)
        device.token_hash = hash_token(token)
        device.enrol_code_hash = None
        device.enrolled_at = core.now()
        return Principal("device", device.id, device.kind, (device.office_id,)), token


def device_office(core: Core, device_id: str) -> str | None:
    with core.db.read() as session:
        device = session.get(Device, device_id)
        return device.office_id if device else None


class RateLimiter:
    """At most `limit` events per `window` seconds per key (in this process)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10000:  # forget idle keys so memory stays bounded
                for stale in [k for k, v in self._hits.items() if not v]:
                    del self._hits[stale]
            return True


def require(principal: Any, *roles: str, office: str | None = None) -> Principal:
    """Refuse unless the principal has one of the roles (and may see the office)."""
    if principal is None:
        raise Refusal(401, "unauthorized", "Please log in.")
    if roles and principal.role not in roles:
        raise Refusal(403, "forbidden", "You are not allowed to do this.")
    if office is not None and not principal.may_see_office(office):
        raise Refusal(403, "forbidden", "You are not allowed to do this.")
    return principal  # type: ignore[no-any-return]
