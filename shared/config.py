"""Loading and validating config.toml.

One loader for the whole product. A mistake in the file stops the program with a message
that names the key and, where it can be found, the line, so the IT person installing an
office can fix it without reading code.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRIORITY_GROUPS = ("lansia", "balita", "disabilitas", "hamil", "sakit")


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

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


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
    """Refuse to serve with a missing, short or shipped signing key. Raises ConfigError.

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
    languages: tuple[str, ...] = ("id", "en")
    printers: tuple[Mapping[str, Any], ...] = ()
    serial: tuple[Mapping[str, Any], ...] = ()
    announce: Mapping[str, Any] = field(default_factory=dict)
    retention: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def base_url(self) -> str:
        """Where phones reach the server (the QR on a ticket): [server] public_url."""
        return self.public_url or f"http://{self.host}:{self.port}"

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


def _office(r: _Reader, raw: Mapping[str, Any], path: str) -> Office:
    r.check_keys(
        raw,
        {"id", "name", "timezone", "opens", "last_checkin", "closes", "info",
         "stations", "services", "counters"},
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
        r.check_keys(item, {"id", "name", "spoken"}, p)
        name_id, name_en = _localised_name(r, item, p)
        station = Station(r.get(item, "id", str, p), name_id, name_en,
                          r.get(item, "spoken", str, p, "loket"))
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
        services[service.id] = service

    counters: dict[str, Counter] = {}
    for i, item in enumerate(r.get(raw, "counters", list, path)):
        p = f"{path}.counters[{i}]"
        r.check_keys(item, {"id", "name", "stations", "priority_only"}, p)
        served = tuple(r.get(item, "stations", list, p))
        for station_id in served:
            if station_id not in stations:
                raise r.error(f"{p}.stations", f"names unknown station {station_id!r}")
        counter = Counter(str(r.get(item, "id", (str, int), p)), r.get(item, "name", str, p),
                          served, r.get(item, "priority_only", bool, p, False))
        counters[counter.id] = counter

    return Office(
        id=office_id,
        name=r.get(raw, "name", str, path),
        timezone=timezone,
        opens=r.clock_time(raw, "opens", path, "08:00"),
        last_checkin=r.clock_time(raw, "last_checkin", path, "15:00"),
        closes=r.clock_time(raw, "closes", path, "16:00"),
        stations=stations,
        services=services,
        counters=counters,
        info=tuple(r.get(raw, "info", list, path, [])),
    )


def _trusted_proxies(r: _Reader, server: dict[str, Any]) -> int:
    count = r.get(server, "trusted_proxies", int, "server", 0)
    if not 0 <= count <= 5:
        raise r.error("server.trusted_proxies", "expected 0 (no proxy) to 5")
    return int(count)


def parse_config(text: str, source: str = "config.toml") -> Config:
    """Parse and validate the text of a config file. Raises ConfigError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigError("(syntax)", str(exc), int(line.group(1)) if line else None) from None
    r = _Reader(text)
    r.check_keys(
        data,
        {"server", "security", "kiosk", "policy", "numbering", "offices", "printers", "serial",
         "announce", "retention"},
        "",
    )
    server = r.get(data, "server", dict, "", {})
    r.check_keys(server, {"host", "port", "languages", "public_url", "trusted_proxies"},
                 "server")

    policy_raw = r.get(data, "policy", dict, "", {})
    r.check_keys(policy_raw, set(Policy.__dataclass_fields__), "policy")
    defaults = Policy()
    policy_values: dict[str, Any] = {}
    for key in Policy.__dataclass_fields__:
        kind: type | tuple[type, ...] = str if key in ("priority", "late_policy") else int
        policy_values[key] = r.get(policy_raw, key, kind, "policy", getattr(defaults, key))
    if policy_values["late_policy"] not in ("demote", "refuse"):
        raise r.error("policy.late_policy", 'expected "demote" or "refuse"')
    if policy_values["priority"] != "first" and not re.fullmatch(
        r"[1-9]\d*:[1-9]\d*", policy_values["priority"]
    ):
        raise r.error("policy.priority", 'expected "first" or a ratio like "1:2"')
    if policy_values["max_wait_minutes"] is not None and policy_values["max_wait_minutes"] <= 0:
        policy_values["max_wait_minutes"] = None
    policy = Policy(**policy_values)

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
    letters = numbering.slot_letters + numbering.priority_letter + numbering.walkin_letter
    letters += numbering.express_letter
    if len(set(letters)) != len(letters) or not letters.isalpha():
        raise r.error("numbering.slot_letters", "letters must be distinct A-Z letters")

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

    offices: dict[str, Office] = {}
    for i, raw_office in enumerate(r.get(data, "offices", list, "")):
        office = _office(r, raw_office, f"offices[{i}]")
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

    return Config(
        offices=offices,
        policy=policy,
        numbering=numbering,
        security=security,
        kiosk=kiosk,
        host=r.get(server, "host", str, "server", "127.0.0.1"),
        port=r.get(server, "port", int, "server", 5000),
        public_url=r.get(server, "public_url", str, "server", "").rstrip("/"),
        trusted_proxies=_trusted_proxies(r, server),
        languages=tuple(r.get(server, "languages", list, "server", ["id", "en"])),
        printers=printers,
        serial=serial,
        announce=r.get(data, "announce", dict, "", {}),
        retention=r.get(data, "retention", dict, "", {}),
        source=source,
    )


def config_path() -> Path:
    return Path(os.environ.get("GILIRAN_CONFIG", "config.toml"))


def load_config(path: Path | None = None) -> Config:
    """Read the configured file (GILIRAN_CONFIG, default ./config.toml) and validate it."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("(file)", f"cannot read {path}: {exc.strerror}") from None
    config = parse_config(text, str(path))
    from shared.sections import validate_sections

    validate_sections(config, text)
    return config
