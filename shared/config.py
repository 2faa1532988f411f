"""Loading and validating config.toml.

One loader for the whole product. A mistake in the file stops the program with a message
that names the key and, where it can be found, the line, so the IT person installing an
office can fix it without reading code.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.groups import PRIORITY_GROUPS  # noqa: F401  (re-exported)


class ConfigError(Exception):
    """A problem in config.toml, naming the key (dotted path) and the line if known."""

    def __init__(self, key: str, message: str, line: int | None = None) -> None:
        self.key = key
        self.message = message
        self.line = line
        where = f" (line {line})" if line else ""
        super().__init__(f"config: {key}{where}: {message}")


@dataclass(frozen=True)
class Station:
    id: str
    name_id: str
    name_en: str
    spoken: str = "loket"
    # Configured minutes from call to finish: the capacity plan uses it while the office
    # has too few recorded services to learn its own.
    service_minutes: float = 5.0


@dataclass(frozen=True)
class Service:
    id: str
    name_id: str
    name_en: str
    flow: tuple[str, ...]
    express: bool = False
    walkin_from: time | None = None
    walkin_until: time | None = None


@dataclass(frozen=True)
class Counter:
    id: str
    name: str
    stations: tuple[str, ...]
    priority_only: bool = False
    open: bool = True  # a closed counter calls nobody and counts in no estimate


@dataclass(frozen=True)
class Office:
    id: str
    name: str
    timezone: str
    opens: time
    last_checkin: time
    closes: time
    stations: dict[str, Station]
    services: dict[str, Service]
    counters: dict[str, Counter]
    info: tuple[str, ...] = ()
    # The office's own `policy` table: keys of [policy] that differ for this office.
    policy_overrides: tuple[tuple[str, Any], ...] = ()
    closed_days: tuple[date, ...] = ()
    quota_per_slot: int = 0  # bookings per slot and service day; 0: no limit

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_closed_on(self, day: date) -> bool:
        return day in self.closed_days


@dataclass(frozen=True)
class Policy:
    max_wait_minutes: int | None = 90
    priority: str = "first"
    early_checkin_minutes: int = 120
    late_grace_minutes: int = 15
    late_policy: str = "demote"
    no_show_after_calls: int = 2
    recall_cooldown_seconds: int = 5
    service_time_window: int = 20

    @property
    def priority_ratio(self) -> tuple[int, int] | None:
        """(priority calls, out of calls) for a ratio policy, None for "first"."""
        if self.priority == "first":
            return None
        a, b = self.priority.split(":")
        return int(a), int(b)


@dataclass(frozen=True)
class Numbering:
    first_slot: time = time(8, 0)
    slot_minutes: int = 60
    slot_letters: str = "ABCDEFGH"
    priority_letter: str = "P"
    walkin_letter: str = "W"
    express_letter: str = "X"


@dataclass(frozen=True)
class Security:
    qr_hmac_key: str
    secret_key: str
    secure_cookies: bool = False
    checkin_rate_per_minute: int = 120
    login_rate_per_minute: int = 10
    staff_idle_hours: float = 12          # a staff session unused this long ends
    staff_session_hours: float = 24       # a staff session ends this long after login
    max_connections_per_address: int = 50  # open Socket.IO connections per client address


# Signing keys: where they come from, and the values that must never sign anything.
SECRET_KEYS = {"secret_key": "GILIRAN_SECRET_KEY", "qr_hmac_key": "GILIRAN_QR_HMAC_KEY"}
MIN_SECRET_BYTES = 32
# Every example value that was ever shipped in config.toml, the docs or the tests: anyone
# can read them, so they sign nothing.
SHIPPED_SECRETS = frozenset({
    "dev-only-change-me", "change-me", "changeme", "secret", "...",
    "rahasia-dari-lingkungan", "kunci-qr-dari-lingkungan", "from-env", "secret-from-env",
})


def secrets_path() -> Path:
    """The per-installation secrets file: GILIRAN_SECRETS_FILE, else $GILIRAN_VAR/secrets.toml."""
    explicit = os.environ.get("GILIRAN_SECRETS_FILE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("GILIRAN_VAR", "var")) / "secrets.toml"


def _secrets_file_values() -> dict[str, str]:
    path = secrets_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError("(secrets)", f"cannot read {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(secrets)", f"{path}: {exc}") from None
    unknown = set(data) - set(SECRET_KEYS)
    if unknown:
        raise ConfigError("(secrets)", f"{path}: unknown key {sorted(unknown)[0]!r}; "
                                       f"expected {', '.join(SECRET_KEYS)}")
    for key, value in data.items():
        if not isinstance(value, str):
            raise ConfigError("(secrets)", f"{path}: {key} must be a string")
    return dict(data)


def secret_problem(value: str) -> str | None:
    """Why a signing key must not be used, or None when it may."""
    if not value:
        return "missing"
    if value.strip() in SHIPPED_SECRETS:
        return "is an example value shipped with Giliran (anyone can sign with it)"
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    return None


def check_secrets(config: Config) -> None:
    """Refuse to serve with a missing, short or shipped signing key, or one key for both
    uses. Raises ConfigError.

    The message names the key and how to set it: the environment variable, or the
    installation's secrets file (`giliran secrets init` writes one; `make run` calls it).
    """
    for key, env in SECRET_KEYS.items():
        problem = secret_problem(getattr(config.security, key))
        if problem:
            generate = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            raise ConfigError(
                f"security.{key}",
                f"{problem}. Set the environment variable {env} (e.g. {env}=$({generate})) "
                f"or {key} in {secrets_path()} (mode 600; `giliran secrets init` writes "
                "one). The server will not start with this key.")
    keys = [getattr(config.security, key) for key in SECRET_KEYS]
    if len(keys) == 2 and keys[0] and keys[0] == keys[1]:
        # The booking system holds the QR key: with the same value it could sign staff
        # sessions too.
        raise ConfigError(
            "security.secret_key",
            f"is the same as qr_hmac_key; each key must be its own. Give "
            f"{SECRET_KEYS['secret_key']} another value (`giliran secrets init` writes two "
            "different keys). The server will not start with this key.")


def write_secrets_file(path: Path | None = None) -> bool:
    """Create the secrets file with fresh random keys (mode 600); False if it exists."""
    import secrets

    path = path or secrets_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    lines = ["# Signing keys of this installation, generated once. Keep private (mode 600).",
             "# Environment variables GILIRAN_SECRET_KEY / GILIRAN_QR_HMAC_KEY override them."]
    lines += [f'{key} = "{secrets.token_urlsafe(48)}"' for key in SECRET_KEYS]
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return True


@dataclass(frozen=True)
class Kiosk:
    code_pattern: str
    return_to_welcome_seconds: int = 20


@dataclass(frozen=True)
class Config:
    offices: dict[str, Office]
    policy: Policy
    numbering: Numbering
    security: Security
    kiosk: Kiosk
    host: str = "127.0.0.1"
    port: int = 5000
    public_url: str = ""
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-* are believed
    # Socket.IO keep-alive: seconds between the server's pings of each open screen.
    ping_interval_seconds: int = 25
    printers: tuple[Mapping[str, Any], ...] = ()
    serial: tuple[Mapping[str, Any], ...] = ()
    announce: Mapping[str, Any] = field(default_factory=dict)
    retention: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    # The parsed TOML tables this configuration was built from (see shared/live_config.py).
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # The rooms' section checks it passed (load_config); a live change runs them again.
    checks: tuple[Callable[[Config], None], ...] = field(default=(), compare=False,
                                                         repr=False)

    def policy_for(self, office_id: str | None) -> Policy:
        """The office's policy: [policy] with the office's own `policy` table applied."""
        office = self.offices.get(office_id or "")
        if office is None or not office.policy_overrides:
            return self.policy
        return replace(self.policy, **dict(office.policy_overrides))

    @property
    def base_url(self) -> str:
        """Where phones reach the server (the QR on a ticket): [server] public_url, else
        the address this server listens on (`giliran serve --host/--port` set
        GILIRAN_BIND), else [server] host and port."""
        if self.public_url:
            return self.public_url
        bind = os.environ.get("GILIRAN_BIND", "")
        if re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+:\d{1,5}", bind):
            return f"http://{bind}"
        return f"http://{self.host}:{self.port}"

    @property
    def default_office(self) -> Office:
        return next(iter(self.offices.values()))


class _Reader:
    """Reads typed values from a TOML table, remembering the dotted path for messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def line_of(self, key: str) -> int | None:
        leaf = key.split(".")[-1]
        leaf = re.sub(r"\[\d+\]$", "", leaf)
        pattern = re.compile(rf'^\s*("{re.escape(leaf)}"|{re.escape(leaf)})\s*=')
        header = re.compile(rf"^\s*\[\[?[^\]]*\b{re.escape(leaf)}\]\]?\s*$")
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line) or header.match(line):
                return number
        return None

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(key, message, self.line_of(key))

    def check_keys(self, table: Mapping[str, Any], allowed: set[str], path: str) -> None:
        if not isinstance(table, Mapping):
            raise self.error(path, f"expected a table, got {table!r}")
        for key in table:
            if key not in allowed:
                full = f"{path}.{key}" if path else key
                known = ", ".join(sorted(allowed))
                raise self.error(full, f"unknown key; expected one of: {known}")

    def get(
        self,
        table: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        path: str,
        default: Any = ...,
    ) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if default is ...:
                raise self.error(full, "missing")
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            names = "/".join(k.__name__ for k in kinds)
            raise self.error(full, f"expected {names}, got {value!r}")
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.error(full, f"expected {names}, got {value!r}")
        return value

    def clock_time(self, table: Mapping[str, Any], key: str, path: str, default: Any = ...) -> Any:
        raw = self.get(table, key, str, path, default)
        if raw is None or isinstance(raw, time):
            return raw
        return parse_hhmm(raw, lambda msg: self.error(f"{path}.{key}", msg))


def parse_hhmm(raw: str, fail: Callable[[str], Exception] | None = None) -> time:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", raw.strip())
    if not match:
        message = f"expected a time HH:MM, got {raw!r}"
        raise fail(message) if fail else ValueError(message)
    return time(int(match.group(1)), int(match.group(2)))


def _localised_name(r: _Reader, table: Mapping[str, Any], path: str) -> tuple[str, str]:
    name = r.get(table, "name", (str, dict), path)
    if isinstance(name, str):
        return name, name
    r.check_keys(name, {"id", "en"}, f"{path}.name")
    name_id = r.get(name, "id", str, f"{path}.name")
    return name_id, r.get(name, "en", str, f"{path}.name", name_id)


def _office(r: _Reader, raw: Mapping[str, Any], path: str, policy: Policy) -> Office:
    r.check_keys(
        raw,
        {"id", "name", "timezone", "opens", "last_checkin", "closes", "info",
         "stations", "services", "counters", "policy", "closed_days", "quota_per_slot"},
        path,
    )
    office_id = r.get(raw, "id", str, path)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", office_id):
        raise r.error(f"{path}.id", "letters, digits, - and _ only")
    timezone = r.get(raw, "timezone", str, path)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise r.error(f"{path}.timezone", f"unknown time zone {timezone!r}") from None

    stations: dict[str, Station] = {}
    for i, item in enumerate(r.get(raw, "stations", list, path)):
        p = f"{path}.stations[{i}]"
        r.check_keys(item, {"id", "name", "spoken", "service_minutes"}, p)
        name_id, name_en = _localised_name(r, item, p)
        service_minutes = item.get("service_minutes", 5.0)
        if isinstance(service_minutes, bool) or not isinstance(service_minutes, int | float) \
                or not 0.5 <= service_minutes <= 240:
            raise r.error(f"{p}.service_minutes", "expected minutes between 0.5 and 240")
        station = Station(r.get(item, "id", str, p), name_id, name_en,
                          r.get(item, "spoken", str, p, "loket"), float(service_minutes))
        if station.id in stations:
            raise r.error(f"{p}.id", f"station {station.id!r} is defined twice")
        stations[station.id] = station
    if not stations:
        raise r.error(f"{path}.stations", "an office needs at least one station")

    services: dict[str, Service] = {}
    for i, item in enumerate(r.get(raw, "services", list, path)):
        p = f"{path}.services[{i}]"
        r.check_keys(item, {"id", "name", "flow", "express", "walkin_from", "walkin_until"}, p)
        flow = tuple(r.get(item, "flow", list, p))
        for station_id in flow:
            if station_id not in stations:
                raise r.error(f"{p}.flow", f"names unknown station {station_id!r}")
        if not flow:
            raise r.error(f"{p}.flow", "a flow needs at least one station")
        name_id, name_en = _localised_name(r, item, p)
        service = Service(
            r.get(item, "id", str, p), name_id, name_en, flow,
            r.get(item, "express", bool, p, False),
            r.clock_time(item, "walkin_from", p, None),
            r.clock_time(item, "walkin_until", p, None),
        )
        if service.id in services:
            raise r.error(f"{p}.id", f"service {service.id!r} is defined twice")
        services[service.id] = service

    counters: dict[str, Counter] = {}
    for i, item in enumerate(r.get(raw, "counters", list, path)):
        p = f"{path}.counters[{i}]"
        r.check_keys(item, {"id", "name", "stations", "priority_only", "open"}, p)
        served = tuple(r.get(item, "stations", list, p))
        for station_id in served:
            if station_id not in stations:
                raise r.error(f"{p}.stations", f"names unknown station {station_id!r}")
        if not served:
            raise r.error(f"{p}.stations", "a counter needs at least one station")
        counter_id = str(r.get(item, "id", (str, int), p))
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", counter_id):
            raise r.error(f"{p}.id", "letters, digits, - and _ only")
        if counter_id in counters:
            raise r.error(f"{p}.id", f"counter {counter_id!r} is defined twice")
        name = r.get(item, "name", str, p)
        if not name.strip() or len(name) > 64:
            raise r.error(f"{p}.name", "a name of 1-64 characters")
        counter = Counter(counter_id, name, served, r.get(item, "priority_only", bool, p, False),
                          r.get(item, "open", bool, p, True))
        counters[counter.id] = counter

    info = r.get(raw, "info", list, path, [])
    for i, line in enumerate(info):
        if not isinstance(line, str) or len(line) > 500:
            raise r.error(f"{path}.info[{i}]", "expected a text of at most 500 characters")
    closed_days: list[date] = []
    for i, day in enumerate(r.get(raw, "closed_days", list, path, [])):
        if isinstance(day, date):
            closed_days.append(day)
            continue
        try:
            if not isinstance(day, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                raise ValueError
            closed_days.append(date.fromisoformat(day))
        except ValueError:
            raise r.error(f"{path}.closed_days[{i}]",
                          f"expected a date YYYY-MM-DD, got {day!r}") from None
    quota = r.get(raw, "quota_per_slot", int, path, 0)
    if quota < 0:
        raise r.error(f"{path}.quota_per_slot", "expected 0 (no limit) or more")
    overrides = r.get(raw, "policy", dict, path, {})
    office_policy = _policy(r, overrides, f"{path}.policy", policy)
    opens = r.clock_time(raw, "opens", path, "08:00")
    last_checkin = r.clock_time(raw, "last_checkin", path, "15:00")
    closes = r.clock_time(raw, "closes", path, "16:00")
    if not opens < closes:
        raise r.error(f"{path}.closes", f"expected a time after opens ({opens:%H:%M})")
    if not opens <= last_checkin <= closes:
        raise r.error(f"{path}.last_checkin",
                      f"expected a time from opens to closes ({opens:%H:%M}-{closes:%H:%M})")

    return Office(
        id=office_id,
        name=r.get(raw, "name", str, path),
        timezone=timezone,
        opens=opens,
        last_checkin=last_checkin,
        closes=closes,
        stations=stations,
        services=services,
        counters=counters,
        info=tuple(info),
        policy_overrides=tuple((k, getattr(office_policy, k)) for k in overrides),
        closed_days=tuple(sorted(set(closed_days))),
        quota_per_slot=quota,
    )


def _policy(r: _Reader, raw: Mapping[str, Any], path: str, defaults: Policy) -> Policy:
    """A [policy] table over `defaults` (the built-in ones, or [policy] for an office)."""
    r.check_keys(raw, set(Policy.__dataclass_fields__), path)
    values: dict[str, Any] = {}
    for key in Policy.__dataclass_fields__:
        kind: type | tuple[type, ...] = str if key in ("priority", "late_policy") else int
        values[key] = r.get(raw, key, kind, path, getattr(defaults, key))
    if values["late_policy"] not in ("demote", "refuse"):
        raise r.error(f"{path}.late_policy", 'expected "demote" or "refuse"')
    if values["priority"] != "first" and not re.fullmatch(r"[1-9]\d*:[1-9]\d*",
                                                          values["priority"]):
        raise r.error(f"{path}.priority", 'expected "first" or a ratio like "1:2"')
    for key in ("early_checkin_minutes", "late_grace_minutes", "no_show_after_calls",
                "recall_cooldown_seconds", "service_time_window"):
        if not 0 <= values[key] <= 24 * 60:
            raise r.error(f"{path}.{key}", "expected a number from 0 to 1440")
    if values["max_wait_minutes"] is not None and values["max_wait_minutes"] <= 0:
        values["max_wait_minutes"] = None
    if values["max_wait_minutes"] is not None and values["max_wait_minutes"] > 24 * 60:
        # a day at most (0 switches it off): a huge one overflowed the ordering's time
        # arithmetic at every call
        raise r.error(f"{path}.max_wait_minutes", "expected a number from 0 to 1440")
    return Policy(**values)


#: The longest numbering slot: one a day (visits._slot_index divides by it).
MAX_SLOT_MINUTES = 24 * 60
# The one-letter settings of [numbering]: each begins its own numbers (`next_number` counts
# per letter, and the sequence table holds one character), so no two may share a letter.
SINGLE_LETTERS = ("priority_letter", "walkin_letter", "express_letter")


def _check_numbering(r: _Reader, numbering: Numbering) -> None:
    if not 1 <= numbering.slot_minutes <= MAX_SLOT_MINUTES:
        raise r.error("numbering.slot_minutes", f"expected minutes from 1 to {MAX_SLOT_MINUTES}")
    slots = numbering.slot_letters
    if not re.fullmatch(r"[A-Z]+", slots) or len(set(slots)) != len(slots):
        raise r.error("numbering.slot_letters", "expected distinct capital letters A-Z")
    used = {letter: "slot_letters" for letter in slots}
    for key in SINGLE_LETTERS:
        letter = getattr(numbering, key)
        if not re.fullmatch(r"[A-Z]", letter):
            raise r.error(f"numbering.{key}", "expected one capital letter A-Z")
        if letter in used:
            raise r.error(f"numbering.{key}",
                          f"letter {letter!r} is already used by {used[letter]}")
        used[letter] = key


def _trusted_proxies(r: _Reader, server: dict[str, Any]) -> int:
    count = r.get(server, "trusted_proxies", int, "server", 0)
    if not 0 <= count <= 5:
        raise r.error("server.trusted_proxies", "expected 0 (no proxy) to 5")
    return int(count)


#: How long a screen has to answer the server's ping (Socket.IO's ping timeout).
PING_TIMEOUT_SECONDS = 5


def _ping_interval(r: _Reader, server: dict[str, Any]) -> int:
    seconds = r.get(server, "ping_interval_seconds", int, "server", 25)
    if not 5 <= seconds <= 60:
        raise r.error("server.ping_interval_seconds", "expected 5 to 60 (seconds)")
    return int(seconds)


#: The top-level tables of config.toml; a file naming another (a typo like [polcy]) is
#: refused, be it loaded or imported (`giliran config import`, shared/live_config.py).
TABLES = frozenset({"server", "security", "kiosk", "policy", "numbering", "offices",
                    "printers", "serial", "announce", "retention"})


def check_tables(data: Mapping[str, Any], text: str = "") -> None:
    """Refuse an unknown top-level table, naming it (and its line when the text is given)."""
    _Reader(text).check_keys(data, set(TABLES), "")


def parse_config(text: str, source: str = "config.toml") -> Config:
    """Parse and validate the text of a config file. Raises ConfigError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigError("(syntax)", str(exc), int(line.group(1)) if line else None) from None
    return config_from_data(data, source, text)


def config_from_data(data: Mapping[str, Any], source: str = "config.toml",
                     text: str = "") -> Config:
    """Validate parsed TOML tables (the file's, or the live ones from the database).

    Raises ConfigError naming the key, and its line when the file text is given."""
    r = _Reader(text)
    r.check_keys(data, set(TABLES), "")
    server = r.get(data, "server", dict, "", {})
    r.check_keys(server, {"host", "port", "public_url", "trusted_proxies",
                                 "ping_interval_seconds"}, "server")

    policy = _policy(r, r.get(data, "policy", dict, "", {}), "policy", Policy())

    numbering_raw = r.get(data, "numbering", dict, "", {})
    r.check_keys(numbering_raw, set(Numbering.__dataclass_fields__), "numbering")
    numbering = Numbering(
        first_slot=r.clock_time(numbering_raw, "first_slot", "numbering", "08:00"),
        slot_minutes=r.get(numbering_raw, "slot_minutes", int, "numbering", 60),
        slot_letters=r.get(numbering_raw, "slot_letters", str, "numbering", "ABCDEFGH"),
        priority_letter=r.get(numbering_raw, "priority_letter", str, "numbering", "P"),
        walkin_letter=r.get(numbering_raw, "walkin_letter", str, "numbering", "W"),
        express_letter=r.get(numbering_raw, "express_letter", str, "numbering", "X"),
    )
    _check_numbering(r, numbering)

    security_raw = r.get(data, "security", dict, "", {})
    r.check_keys(security_raw, set(Security.__dataclass_fields__), "security")
    from_file = _secrets_file_values()
    keys = {key: os.environ.get(env) or from_file.get(key)
            or r.get(security_raw, key, str, "security", "")
            for key, env in SECRET_KEYS.items()}
    security = Security(
        qr_hmac_key=keys["qr_hmac_key"],
        secret_key=keys["secret_key"],
        secure_cookies=r.get(security_raw, "secure_cookies", bool, "security", False),
        checkin_rate_per_minute=r.get(security_raw, "checkin_rate_per_minute", int, "security",
                                      120),
        login_rate_per_minute=r.get(security_raw, "login_rate_per_minute", int, "security", 10),
        staff_idle_hours=r.get(security_raw, "staff_idle_hours", (int, float), "security", 12),
        staff_session_hours=r.get(security_raw, "staff_session_hours", (int, float),
                                  "security", 24),
        max_connections_per_address=r.get(security_raw, "max_connections_per_address", int,
                                          "security", 50),
    )
    for key in ("staff_idle_hours", "staff_session_hours", "max_connections_per_address"):
        if getattr(security, key) <= 0:
            raise r.error(f"security.{key}", "must be greater than 0")

    kiosk_raw = r.get(data, "kiosk", dict, "", {})
    r.check_keys(kiosk_raw, set(Kiosk.__dataclass_fields__), "kiosk")
    pattern = r.get(kiosk_raw, "code_pattern", str, "kiosk", r"([A-Za-z0-9][A-Za-z0-9-]{5,31})$")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise r.error("kiosk.code_pattern", f"not a regular expression: {exc}") from None
    kiosk = Kiosk(pattern, r.get(kiosk_raw, "return_to_welcome_seconds", int, "kiosk", 20))
    # The time an applicant has to read the ticket or the refusal on the screen: a
    # negative or tiny value sent the screen back to the start at once.
    if not 5 <= kiosk.return_to_welcome_seconds <= 600:
        raise r.error("kiosk.return_to_welcome_seconds", "expected seconds between 5 and 600")

    offices: dict[str, Office] = {}
    for i, raw_office in enumerate(r.get(data, "offices", list, "")):
        if not isinstance(raw_office, dict):
            raise r.error(f"offices[{i}]", "expected a table")
        office = _office(r, raw_office, f"offices[{i}]", policy)
        if office.id in offices:
            raise r.error(f"offices[{i}].id", f"office {office.id!r} is defined twice")
        offices[office.id] = office
    if not offices:
        raise r.error("offices", "at least one office is needed")

    printers = tuple(r.get(data, "printers", list, "", []))
    serial = tuple(r.get(data, "serial", list, "", []))
    for i, bus in enumerate(serial):
        office_id = bus.get("office", next(iter(offices)))
        if office_id not in offices:
            raise r.error(f"serial[{i}].office", f"unknown office {office_id!r}")

    port = r.get(server, "port", int, "server", 5000)
    if isinstance(port, bool) or not 1 <= port <= 65535:
        raise r.error("server.port", "expected a port number from 1 to 65535")
    return Config(
        offices=offices,
        policy=policy,
        numbering=numbering,
        security=security,
        kiosk=kiosk,
        host=r.get(server, "host", str, "server", "127.0.0.1"),
        port=port,
        public_url=r.get(server, "public_url", str, "server", "").rstrip("/"),
        trusted_proxies=_trusted_proxies(r, server),
        ping_interval_seconds=_ping_interval(r, server),
        printers=printers,
        serial=serial,
        announce=r.get(data, "announce", dict, "", {}),
        retention=r.get(data, "retention", dict, "", {}),
        source=source,
        raw=data,
    )


def config_path() -> Path:
    return Path(os.environ.get("GILIRAN_CONFIG", "config.toml"))


SectionCheck = Callable[[Config], None]


def load_config(path: Path | None = None, checks: Sequence[SectionCheck] = ()) -> Config:
    """Read the configured file (GILIRAN_CONFIG, default ./config.toml) and validate it.

    `checks` validate the sections the rooms own (printers, serial, announce, retention):
    `shared.config_checks.load_config` passes every room's `check_config` (shared.registry)."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("(file)", f"cannot read {path}: {exc.strerror}") from None
    config = replace(parse_config(text, str(path)), checks=tuple(checks))
    run_checks(config, checks, text)
    return config


def run_checks(config: Config, checks: Sequence[SectionCheck], text: str | None = None) -> None:
    """Run the rooms' section checks; a ConfigError gets its line when the text is known."""
    try:
        for check in checks:
            check(config)
    except ConfigError as error:
        if error.line is None and text is not None:
            raise ConfigError(error.key, error.message, _Reader(text).line_of(error.key)) from None
        raise
