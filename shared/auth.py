"""Staff accounts, devices and who may do what.

Staff log in to pages with a session, or call the API with `Authorization: Bearer`.
Kiosks and boards are enrolled once through a one-time URL, after which they hold their
own token (a cookie on the device's browser) and may make only their own calls.

Access ends on the server: a staff account's `session_generation` is carried in its
session cookie, and raising it (logout, password change, disable, "end all sessions")
ends every session of the account at its next request. A revoked device's token is
forgotten. Either way a `ControlEvent("revoked", ...)` tells every process to drop the
principal's live Socket.IO connections.

The service functions below (list/revoke/rename devices, list staff, enable/disable,
set a password, end sessions) are what the CLI and the admin console call.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, NamedTuple, TypeGuard, TypeVar, cast

from sqlalchemy import (
    DateTime,
    String,
    bindparam,
    delete,
    literal,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from shared import driver, roles
from shared.core import Core
from shared.errors import Refusal
from shared.events import ControlEvent
from shared.models import Device, DeviceState, Staff

DEVICE_COOKIE = "giliran_device"
MIN_PASSWORD = 8
DEVICE_NAME_MAX = 100
_USERNAME = re.compile(r"[A-Za-z0-9._-]{2,64}")
_DEVICE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


# The rules for what staff type, the same in the admin console and on the command line:
# a name a login form and a URL carry as it is, a password of 8-256 characters.
def valid_username(username: object) -> TypeGuard[str]:
    return isinstance(username, str) and _USERNAME.fullmatch(username) is not None


def valid_password(password: object) -> TypeGuard[str]:
    return isinstance(password, str) and MIN_PASSWORD <= len(password) <= 256


def valid_device_id(device_id: object) -> TypeGuard[str]:
    return isinstance(device_id, str) and _DEVICE_ID.fullmatch(device_id) is not None
LAST_SEEN_EVERY = timedelta(seconds=60)  # how often a device's last use is written


_STAFF_T = Staff.__table__    # Core tables for the per-request lookups
_DEVICE_T = Device.__table__


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

    @property
    def key(self) -> str:
        """"device:<id>" or "staff:<username>": how control events name a principal."""
        return f"{self.kind}:{self.name}"


@contextmanager
def _account_write(core: Core) -> Iterator[Session]:
    """A write to who an account or device is or what it may do: this process forgets
    what it kept of who is asking once it commits (the other processes when PostgreSQL's
    notification reaches them, shared.account_cache)."""
    try:
        with core.db.write() as session:
            yield session
    finally:
        core.accounts.forget_all()


def create_staff(core: Core, username: str, password: str | None, role: str,
                 office: str | None = None, token: bool = False) -> str | None:
    """Create (or reset) a staff account; returns a new API token when asked for one."""
    if role not in roles.ACCOUNT_ROLES:
        raise ValueError(f"role must be one of {', '.join(roles.ACCOUNT_ROLES)}")
    if office is not None:
        core.office(office)
    api_token = secrets.token_urlsafe(32) if token else None
    with _account_write(core) as session:
        staff = session.execute(
            select(Staff).where(Staff.username == username)
        ).scalar_one_or_none()
        if staff is None:
            staff = Staff(username=username, created_at=core.now(), active=True,
                          session_generation=0)
            session.add(staff)
        else:  # a reset account: its old sessions end
            staff.session_generation = (staff.session_generation or 0) + 1
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


def _device_principal(device_id: str, kind: str, office: str | None) -> Principal:
    return Principal("device", device_id, kind, (str(office),))  # a device has an office


def staff_principal(core: Core, username: str, generation: int | None = None
                    ) -> Principal | None:
    """An active staff account; with `generation`, only if its sessions were not ended
    since a session carrying that generation began."""
    key = ("staff", username)
    staff = core.accounts.get(key)
    if staff is None:
        stamp = core.accounts.stamp()
        with core.db.connect() as connection:
            staff = connection.execute(
                select(_STAFF_T.c.username, _STAFF_T.c.role, _STAFF_T.c.office_id,
                       _STAFF_T.c.session_generation)
                .where(_STAFF_T.c.username == username, _STAFF_T.c.active.is_(True))
            ).first()
        if staff is not None:
            core.accounts.put(key, staff, stamp)
    if staff is None or (generation is not None and staff.session_generation != generation):
        return None
    return _staff_principal(core, cast(Staff, staff))  # a row with the account's columns


def session_generation(core: Core, username: str) -> int:
    """The account's current session generation (0 for an unknown account)."""
    with core.db.read() as session:
        found = session.execute(
            select(Staff.session_generation).where(Staff.username == username)
        ).scalar_one_or_none()
        return int(found or 0)


# One round trip for a bearer token or device cookie: the staff account or the device
# holding it, as plain rows (Core, not ORM objects: the lookup runs on every request).
_TOKEN_LOOKUP = union_all(
    select(literal("device").label("kind"), _DEVICE_T.c.id.label("name"),
           _DEVICE_T.c.kind.label("role"), _DEVICE_T.c.office_id.label("office"),
           _DEVICE_T.c.last_seen_at.label("seen"), _DEVICE_T.c.last_ip.label("ip"))
    .where(_DEVICE_T.c.token_hash == bindparam("digest"), _DEVICE_T.c.revoked_at.is_(None)),
    select(literal("staff"), _STAFF_T.c.username, _STAFF_T.c.role, _STAFF_T.c.office_id,
           type_coerce(null(), DateTime), type_coerce(null(), String))
    .where(_STAFF_T.c.api_token_hash == bindparam("digest"), _STAFF_T.c.active.is_(True)),
)


class TokenHolder(NamedTuple):
    """Who holds a token, as _TOKEN_LOOKUP reads it (and shared.account_cache keeps it)."""

    kind: str                 # "staff" | "device"
    name: str                 # the username or the device's id
    role: str
    office: str | None
    seen: datetime | None     # a device's last use, as last written
    ip: str | None


def principal_for_token(core: Core, token: str, address: str | None = None
                        ) -> Principal | None:
    """The staff account or enrolled, unrevoked device holding this token.

    One indexed query, whose answer each process keeps on PostgreSQL until the database
    says an account or device changed (shared.account_cache): a revoked device, a
    disabled account or a changed role takes effect in every process as soon as the
    change commits. An unknown token is read again every time. A device's last use
    (`last_seen_at`, `last_ip`) is written at most once a minute per process.
    """
    digest = hash_token(token)
    key = ("token", digest)
    row = core.accounts.get(key)
    if row is None:
        stamp = core.accounts.stamp()
        with core.db.connect() as connection:
            rows = driver.rows(connection, _TOKEN_LOOKUP, {"digest": digest})
        if not rows:
            return None
        found = min(rows, key=lambda r: r.kind != "staff")  # a staff token wins, as before
        row = TokenHolder(*found)
        core.accounts.put(key, row, stamp)
    # a device always has an office; a staff account may have none (every office)
    if row.kind == "staff":
        account = SimpleNamespace(username=row.name, role=row.role, office_id=row.office)
        return _staff_principal(core, cast(Staff, account))
    principal = _device_principal(row.name, row.role, row.office)
    now = core.now()
    stale = row.seen is None or now - row.seen >= LAST_SEEN_EVERY or \
        (address is not None and row.ip != address)
    if stale:
        with core.db.write() as session:
            session.execute(update(Device).where(Device.id == principal.name).values(
                last_seen_at=now, last_ip=(address or "")[:64] or None))
        core.accounts.replace(key, row, row._replace(seen=now,
                                                     ip=(address or "")[:64] or None))
    return principal


def create_device(core: Core, kind: str, device_id: str, office: str | None = None) -> str:
    """Register a kiosk or board; returns its one-time enrolment code."""
    if kind not in roles.DEVICE_KINDS:
        raise ValueError("kind must be kiosk or display")
    office_id = office or core.config.default_office.id
    core.office(office_id)
    code = secrets.token_urlsafe(18)
    with _account_write(core) as session:
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
    with _account_write(core) as session:
        device = session.get(Device, device_id)
        if (device is None or device.enrol_code_hash is None
                or not secrets.compare_digest(device.enrol_code_hash, hash_token(code))):
            raise Refusal(403, "forbidden", "This enrolment link is not valid (any more).")
        token = secrets.token_urlsafe(32)
        device.token_hash = hash_token(token)
        device.enrol_code_hash = None
        device.enrolled_at = core.now()
        device.revoked_at = None  # a re-registered device starts afresh with a new token
        return Principal("device", device.id, device.kind, (device.office_id,)), token


def device_office(core: Core, device_id: str) -> str | None:
    with core.db.read() as session:
        device = session.get(Device, device_id)
        return device.office_id if device else None


# --- devices: list, rename, revoke ------------------------------------------------------------
@dataclass(frozen=True)
class DeviceInfo:
    """A kiosk or board as the admin sees it."""

    id: str
    kind: str
    office: str
    name: str | None
    status: str                      # pending (not enrolled yet) | enrolled | revoked
    created_at: datetime
    enrolled_at: datetime | None
    last_seen_at: datetime | None
    last_ip: str | None
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {key: value.isoformat() + "Z" if isinstance(value, datetime) else value
                for key, value in self.__dict__.items()}


def _device_info(device: Device) -> DeviceInfo:
    status = ("revoked" if device.revoked_at is not None
              else "enrolled" if device.token_hash else "pending")
    return DeviceInfo(device.id, device.kind, device.office_id, device.name, status,
                      device.created_at, device.enrolled_at, device.last_seen_at,
                      device.last_ip, device.revoked_at)


def list_devices(core: Core, office: str | None = None) -> list[DeviceInfo]:
    """Every registered device (of one office), by id."""
    with core.db.read() as session:
        query = select(Device).order_by(Device.id)
        if office is not None:
            query = query.where(Device.office_id == office)
        return [_device_info(d) for d in session.execute(query).scalars()]


def _device(session: Any, device_id: str) -> Device:
    device = session.get(Device, device_id) if len(device_id) <= 64 else None
    if device is None:
        # named (shortened), so that a typo on the command line or in the console shows
        raise Refusal(404, "not_found", "There is no device {device}.", device=device_id[:64])
    return device  # type: ignore[no-any-return]


def rename_device(core: Core, device_id: str, name: str | None) -> DeviceInfo:
    """Give a device a name people recognise ("Kiosk lobby"); None or "" clears it."""
    name = (name or "").strip() or None
    if name is not None and (len(name) > DEVICE_NAME_MAX or not name.isprintable()):
        raise Refusal(400, "invalid_request", "A device name is 1-100 printable characters.")
    with core.db.write() as session:
        device = _device(session, device_id)
        device.name = name
        return _device_info(device)


def revoke_device(core: Core, device_id: str) -> DeviceInfo:
    """Revoke a device: its token (and any unused enrolment link) stop working at its
    next request, and every process drops its live Socket.IO connections. Registering
    it again (`giliran device add`) gives a new enrolment link."""
    with _account_write(core) as session:
        device = _device(session, device_id)
        device.token_hash = None
        device.enrol_code_hash = None
        if device.revoked_at is None:
            device.revoked_at = core.now()
        # What the board last said of its sound goes with it (shared.device_states).
        session.execute(delete(DeviceState).where(DeviceState.key == f"board:{device_id}"))
        info = _device_info(device)
    core.bus.publish_control(ControlEvent("revoked", f"device:{device_id}"))
    return info


@dataclass(frozen=True)
class Admission:
    """What admitted a long-lived connection (a Socket.IO connection), kept to check it
    again while it stays open: its principal as admitted, and the credential it showed.

    source: "bearer", "device_cookie" or "session" (shared.web), "ticket" for a phone.
    """

    principal: Principal
    source: str | None
    digest: str | None = None               # the bearer token's or device cookie's hash
    generation: int | None = None           # a staff session's generation
    session_ends: datetime | None = None    # a staff session's absolute end (UTC)
    session_seen: datetime | None = None    # a staff session's last use when admitted (UTC)


Handle = TypeVar("Handle")


def ended_among(core: Core, admitted: Mapping[Handle, Admission]) -> set[Handle]:
    """The connections whose admission no longer holds, in two reads whatever their
    number: the device revoked, gone or enrolled again with a new token; the staff
    account disabled or gone, its role or office changed, its API token replaced, or,
    for a browser session, its sessions ended (logout, password, an admin), its lifetime
    over, or the account unused for `[security] staff_idle_hours` (its last use: the
    session's when it was admitted, or the account's presence, written by its requests
    from any browser, if later). Principals that were admitted as they are now stay (a
    phone following its ticket always does). For the changes no event reaches this
    process with: the CLI of another process without Redis, a restore, `psql`."""
    devices = {a.principal.name for a in admitted.values() if a.principal.kind == "device"}
    staff = {a.principal.name for a in admitted.values() if a.principal.kind == "staff"}
    with core.db.read() as session:
        device_rows = {row.id: row for row in session.execute(
            select(Device.id, Device.kind, Device.office_id, Device.token_hash)
            .where(Device.id.in_(devices), Device.revoked_at.is_(None)))} if devices else {}
        staff_rows = {row.username: row for row in session.execute(
            select(Staff.username, Staff.role, Staff.office_id, Staff.active,
                   Staff.session_generation, Staff.api_token_hash, Staff.last_seen_at)
            .where(Staff.username.in_(staff)))} if staff else {}
    now = core.now()
    idle = timedelta(hours=core.config.security.staff_idle_hours)
    ended: set[Handle] = set()
    for handle, admission in admitted.items():
        principal = admission.principal
        if principal.kind == "device":
            device = device_rows.get(principal.name)
            holds = (device is not None and device.token_hash is not None
                     and admission.digest in (None, device.token_hash)
                     and principal == _device_principal(device.id, device.kind,
                                                        device.office_id))
        elif principal.kind == "staff":
            account = staff_rows.get(principal.name)
            holds = (account is not None and bool(account.active)
                     and principal == _staff_principal(core, cast(Staff, account)))
            if holds and account is not None and admission.source == "session":
                used = admission.session_seen
                if used is not None and account.last_seen_at is not None:
                    used = max(used, account.last_seen_at)
                holds = (account.session_generation == admission.generation
                         and admission.session_ends is not None
                         and now <= admission.session_ends
                         and used is not None and now - used <= idle)
            elif holds and account is not None:  # a token: the header or the cookie
                holds = account.api_token_hash == admission.digest
        else:
            continue
        if not holds:
            ended.add(handle)
    return ended


# --- staff: list, enable/disable, password, sessions -------------------------------------------
@dataclass(frozen=True)
class StaffInfo:
    """A staff account as the admin sees it (never its password or token)."""

    username: str
    role: str
    office: str | None
    active: bool
    has_api_token: bool
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {key: value.isoformat() + "Z" if isinstance(value, datetime) else value
                for key, value in self.__dict__.items()}


def _staff_info(staff: Staff) -> StaffInfo:
    return StaffInfo(staff.username, staff.role, staff.office_id, bool(staff.active),
                     staff.api_token_hash is not None, staff.created_at)


def _staff(session: Any, username: str) -> Staff:
    staff = session.execute(
        select(Staff).where(Staff.username == username)
    ).scalar_one_or_none() if len(username) <= 64 else None
    if staff is None:
        raise Refusal(404, "not_found", "There is no staff account {user}.", user=username[:64])
    return staff  # type: ignore[no-any-return]


def list_staff(core: Core, office: str | None = None) -> list[StaffInfo]:
    """Every staff account (of one office, with the accounts for every office), by name."""
    with core.db.read() as session:
        query = select(Staff).order_by(Staff.username)
        if office is not None:
            query = query.where((Staff.office_id == office) | Staff.office_id.is_(None))
        return [_staff_info(s) for s in session.execute(query).scalars()]


def _ended(core: Core, username: str) -> None:
    core.bus.publish_control(ControlEvent("revoked", f"staff:{username}"))


def end_sessions(core: Core, username: str) -> StaffInfo:
    """End every browser session of the account now (its API token stays valid)."""
    with _account_write(core) as session:
        staff = _staff(session, username)
        staff.session_generation = (staff.session_generation or 0) + 1
        info = _staff_info(staff)
    _ended(core, username)
    return info


def set_staff_active(core: Core, username: str, active: bool) -> StaffInfo:
    """Disable (or enable again) an account. Disabling ends its sessions, and its API
    token is refused while it stays disabled."""
    with _account_write(core) as session:
        staff = _staff(session, username)
        staff.active = active
        if not active:
            staff.session_generation = (staff.session_generation or 0) + 1
        info = _staff_info(staff)
    if not active:
        _ended(core, username)
    return info


def set_role(core: Core, username: str, role: str, office: str | None) -> StaffInfo:
    """Change an account's role and office (None: every office). Its next request
    already has the new rights, and its live Socket.IO connections are dropped in every
    process (they reconnect with the new rights: no more pushes from an office it left)."""
    if role not in roles.ACCOUNT_ROLES:
        raise Refusal(400, "invalid_request", "Unknown role.")
    if office is not None:
        core.office(office)
    with _account_write(core) as session:
        staff = _staff(session, username)
        changed = (staff.role, staff.office_id) != (role, office)
        staff.role = role
        staff.office_id = office
        info = _staff_info(staff)
    if changed:
        _ended(core, username)
    return info


def set_password(core: Core, username: str, password: str) -> StaffInfo:
    """Set a new password (at least 8 characters); every session of the account ends."""
    if not valid_password(password):
        raise Refusal(400, "invalid_request", "A password is 8-256 characters.")
    with _account_write(core) as session:
        staff = _staff(session, username)
        staff.password_hash = generate_password_hash(password)
        staff.session_generation = (staff.session_generation or 0) + 1
        info = _staff_info(staff)
    _ended(core, username)
    return info


def require(principal: Any, *roles: str) -> Principal:
    """Refuse unless the principal has one of the roles (its office: shared/offices.py)."""
    if principal is None:
        raise Refusal(401, "unauthorized", "Please log in.")
    if roles and principal.role not in roles:
        raise Refusal(403, "forbidden", "You are not allowed to do this.")
    return principal  # type: ignore[no-any-return]
