"""Loading a simulation scenario: the office day (TOML), its bookings and its arrivals (CSV).

Every mistake in a file raises `ScenarioError` naming the file, the line where it can be
found and the key or column, so a supervisor can fix the file without reading code.

Scenario TOML (see bench/scenarios/denpasar-peak.toml):

    office, timezone, opens, last_checkin, closes, flow, flow_percepatan
    [[stations]]  id, counters, service_mean, service_sd   (minutes, lognormal)
    [policy]      early_checkin_minutes, late_grace_minutes, walk_to_counter_seconds,
                  and optionally max_wait_minutes, priority ("first" or "a:b"),
                  late_policy ("demote" or "refuse")

Arrivals CSV: `code,arrive_at,behaviour,walkin_service,priority_group`; a walk-in row has
no code and names its service.
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Any

from shared.groups import PRIORITY_GROUPS

BEHAVIOURS = ("early", "on-time", "late", "walk-in")
EXPRESS_PREFIX = "percepatan"
# What the capacity planner varies: counters staffed, or the hourly booking quota
# (shared.simulation.planner).
MODES = ("counters", "quota")

# Bounds of the numbers a scenario may hold: one day replays at most a day of minutes, and
# TOML also reads `nan`, `inf` and 1e300, which no clock can add (a traceback, not a
# message). Counters: far more than any office has, still a number the planner can count.
MAX_MINUTES = 24 * 60
MIN_SERVICE_MINUTES = 0.01
MAX_COUNTERS = 1000

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_CODE = re.compile(r"^[A-Za-z0-9-]{6,32}$")


class ScenarioError(Exception):
    """A problem in a scenario, bookings or arrivals file."""

    def __init__(self, source: str | Path, message: str, line: int | None = None) -> None:
        self.source = str(source)
        self.line = line
        self.message = message
        where = f":{line}" if line else ""
        super().__init__(f"{self.source}{where}: {message}")


@dataclass(frozen=True)
class StationSpec:
    id: str
    counters: int
    service_mean: float  # minutes
    service_sd: float  # minutes; 0 gives a fixed service time


@dataclass(frozen=True)
class Scenario:
    office: str
    timezone: str
    opens: time
    last_checkin: time
    closes: time
    flow: tuple[str, ...]
    flow_percepatan: tuple[str, ...]
    stations: dict[str, StationSpec]
    early_checkin_minutes: int = 120
    late_grace_minutes: int = 15
    walk_to_counter_seconds: float = 30.0
    max_wait_minutes: int | None = 90
    priority: str = "first"
    late_policy: str = "demote"
    name: str = "scenario"

    @property
    def counters(self) -> dict[str, int]:
        return {sid: spec.counters for sid, spec in self.stations.items()}

    @property
    def priority_ratio(self) -> tuple[int, int] | None:
        if self.priority == "first":
            return None
        a, b = self.priority.split(":")
        return int(a), int(b)

    def flow_for(self, service: str) -> tuple[str, ...]:
        """The stations a ticket of `service` passes, in order."""
        return self.flow_percepatan if service.startswith(EXPRESS_PREFIX) else self.flow

    def with_counters(self, counters: Mapping[str, int]) -> Scenario:
        """The same day with other staffing (stations not named keep theirs)."""
        unknown = set(counters) - set(self.stations)
        if unknown:
            raise ValueError(f"unknown stations: {sorted(unknown)}")
        stations = {
            sid: replace(spec, counters=int(counters.get(sid, spec.counters)))
            for sid, spec in self.stations.items()
        }
        return replace(self, stations=stations)


@dataclass(frozen=True)
class Booking:
    code: str
    date: date
    slot_start: time
    slot_end: time
    service: str
    priority_group: str = ""
    line: int = 0


@dataclass(frozen=True)
class Arrival:
    code: str  # empty for a walk-in
    arrive_at: time
    behaviour: str
    walkin_service: str = ""
    priority_group: str = ""
    line: int = 0

    @property
    def is_walkin(self) -> bool:
        return not self.code


@dataclass(frozen=True)
class DayData:
    """A scenario with its bookings and arrivals, checked against each other."""

    scenario: Scenario
    bookings: tuple[Booking, ...]
    arrivals: tuple[Arrival, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def parse_time(raw: Any, source: str | Path, what: str, line: int | None = None) -> time:
    if isinstance(raw, time):
        return raw
    if not isinstance(raw, str):
        raise ScenarioError(source, f"{what}: expected a time HH:MM, got {raw!r}", line)
    match = _TIME.match(raw.strip())
    if not match:
        raise ScenarioError(source, f"{what}: expected a time HH:MM, got {raw!r}", line)
    return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def _line_of(lines: list[str], key: str, after: int = 0) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, text in enumerate(lines[after:], start=after + 1):
        if pattern.match(text):
            return number
    return None


class _Toml:
    def __init__(self, source: str | Path, text: str) -> None:
        self.source = source
        self.lines = text.splitlines()

    def fail(self, key: str, message: str) -> ScenarioError:
        line = _line_of(self.lines, key.split(".")[-1])
        return ScenarioError(self.source, f"{key}: {message}", line)

    def get(self, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
            path: str, default: Any = ...) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if default is ...:
                raise self.fail(full, "missing")
            return default
        value = table[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(full, f"expected a number or text, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(full, f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
        return value

    def check_keys(self, table: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(f"{path}.{key}" if path else key,
                                f"unknown key (allowed: {', '.join(sorted(allowed))})")


def parse_scenario(text: str, source: str | Path = "scenario.toml") -> Scenario:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, f"not valid TOML: {exc}") from None
    t = _Toml(source, text)
    t.check_keys(raw, {"office", "timezone", "opens", "last_checkin", "closes", "flow",
                       "flow_percepatan", "stations", "policy", "name"}, "")

    def clock(key: str, default: str) -> time:
        value = t.get(raw, key, str, "", default)
        try:
            return parse_time(value, source, key)
        except ScenarioError:
            raise t.fail(key, f"expected a time HH:MM, got {value!r}") from None

    opens = clock("opens", "08:00")
    last_checkin = clock("last_checkin", "15:00")
    closes = clock("closes", "16:00")
    if not opens <= last_checkin <= closes:
        raise t.fail("closes", "expected opens <= last_checkin <= closes")

    stations_raw = t.get(raw, "stations", list, "")
    if not stations_raw:
        raise t.fail("stations", "at least one [[stations]] table is needed")
    stations: dict[str, StationSpec] = {}
    for index, item in enumerate(stations_raw):
        path = f"stations[{index}]"
        if not isinstance(item, dict):
            raise t.fail("stations", "each station must be a [[stations]] table")
        t.check_keys(item, {"id", "counters", "service_mean", "service_sd", "name"}, path)
        sid = t.get(item, "id", str, path)
        if sid in stations:
            raise t.fail(f"{path}.id", f"station {sid!r} appears twice")
        counters = t.get(item, "counters", int, path)
        mean = float(t.get(item, "service_mean", (int, float), path))
        sd = float(t.get(item, "service_sd", (int, float), path, 0.0))
        if not 1 <= counters <= MAX_COUNTERS:
            raise t.fail(f"{path}.counters",
                         f"a station needs from 1 to {MAX_COUNTERS} counters")
        if not math.isfinite(mean) or mean <= 0:
            raise t.fail(f"{path}.service_mean", "must be more than 0 minutes")
        if not MIN_SERVICE_MINUTES <= mean <= MAX_MINUTES:
            raise t.fail(f"{path}.service_mean",
                         f"expected minutes from {MIN_SERVICE_MINUTES} to {MAX_MINUTES}")
        if not math.isfinite(sd) or sd < 0:
            raise t.fail(f"{path}.service_sd", "must not be negative")
        if sd > MAX_MINUTES:
            raise t.fail(f"{path}.service_sd", f"expected minutes from 0 to {MAX_MINUTES}")
        stations[sid] = StationSpec(sid, counters, mean, sd)

    def flow(key: str, default: Any = ...) -> tuple[str, ...]:
        value = t.get(raw, key, list, "", default)
        if not value or not all(isinstance(s, str) for s in value):
            raise t.fail(key, "expected a non-empty list of station ids")
        for sid in value:
            if sid not in stations:
                raise t.fail(key, f"unknown station {sid!r} (stations: {', '.join(stations)})")
        return tuple(value)

    main_flow = flow("flow")
    express_flow = flow("flow_percepatan", list(main_flow))

    policy = t.get(raw, "policy", dict, "", {})
    t.check_keys(policy, {"early_checkin_minutes", "late_grace_minutes",
                          "walk_to_counter_seconds", "max_wait_minutes", "priority",
                          "late_policy"}, "policy")
    early = t.get(policy, "early_checkin_minutes", int, "policy", 120)
    grace = t.get(policy, "late_grace_minutes", int, "policy", 15)
    walk = float(t.get(policy, "walk_to_counter_seconds", (int, float), "policy", 30))
    max_wait_raw = t.get(policy, "max_wait_minutes", (int, bool), "policy", 90)
    if max_wait_raw is True:
        raise t.fail("policy.max_wait_minutes", "expected minutes, or false to switch it off")
    max_wait = None if max_wait_raw is False else int(max_wait_raw)
    if max_wait is not None and not 1 <= max_wait <= MAX_MINUTES:
        raise t.fail("policy.max_wait_minutes",
                     f"expected minutes from 1 to {MAX_MINUTES}, or false to switch it off")
    priority = t.get(policy, "priority", str, "policy", "first")
    if priority != "first" and not re.fullmatch(r"[1-9]\d*:[1-9]\d*", priority):
        raise t.fail("policy.priority",
                     f"expected \"first\" or a ratio like \"1:2\", got {priority!r}")
    if priority != "first":
        a, b = (int(x) for x in priority.split(":"))
        if a > b:
            raise t.fail("policy.priority", "a ratio a:b needs a <= b")
    late_policy = t.get(policy, "late_policy", str, "policy", "demote")
    if late_policy not in ("demote", "refuse"):
        raise t.fail("policy.late_policy", f"expected demote or refuse, got {late_policy!r}")
    if early < 0 or grace < 0 or walk < 0:
        raise t.fail("policy", "minutes and seconds must not be negative")
    for key, value in (("early_checkin_minutes", early), ("late_grace_minutes", grace)):
        if value > MAX_MINUTES:
            raise t.fail(f"policy.{key}", f"expected minutes from 0 to {MAX_MINUTES}")
    if not math.isfinite(walk) or walk > MAX_MINUTES * 60:
        raise t.fail("policy.walk_to_counter_seconds",
                     f"expected seconds from 0 to {MAX_MINUTES * 60}")

    return Scenario(
        office=t.get(raw, "office", str, "", "OFFICE"),
        timezone=t.get(raw, "timezone", str, "", "Asia/Jakarta"),
        opens=opens,
        last_checkin=last_checkin,
        closes=closes,
        flow=main_flow,
        flow_percepatan=express_flow,
        stations=stations,
        early_checkin_minutes=early,
        late_grace_minutes=grace,
        walk_to_counter_seconds=walk,
        max_wait_minutes=max_wait,
        priority=priority,
        late_policy=late_policy,
        name=t.get(raw, "name", str, "", Path(str(source)).stem),
    )


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(path, f"cannot read: {exc.strerror or exc}") from None
    return parse_scenario(text, path)


def _rows(path: Path, required: Iterable[str]) -> Iterable[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ScenarioError(path, f"cannot read: {exc.strerror or exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise ScenarioError(path, f"header lacks column(s) {', '.join(missing)}", 1)
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items()
                                    if isinstance(k, str) and isinstance(v, str)}


def load_bookings(path: str | Path) -> list[Booking]:
    """Bookings in the contract's CSV form (`code,office,date,slot_start,slot_end,service,
    priority_group,name`)."""
    path = Path(path)
    bookings: list[Booking] = []
    seen: dict[str, int] = {}
    for line, row in _rows(path, ("code", "date", "slot_start", "slot_end", "service")):
        code = row["code"]
        if not _CODE.match(code):
            raise ScenarioError(path, f"code {code!r}: expected 6-32 of A-Z a-z 0-9 -", line)
        if code in seen:
            raise ScenarioError(path, f"code {code!r} already on line {seen[code]}", line)
        seen[code] = line
        try:
            day = date.fromisoformat(row["date"])
        except ValueError:
            raise ScenarioError(path, f"date {row['date']!r}: expected YYYY-MM-DD", line) from None
        start = parse_time(row["slot_start"], path, "slot_start", line)
        end = parse_time(row["slot_end"], path, "slot_end", line)
        if end <= start:
            raise ScenarioError(path, "slot_end must be after slot_start", line)
        group = row.get("priority_group", "")
        if group and group not in PRIORITY_GROUPS:
            raise ScenarioError(path, f"priority_group {group!r}: expected one of "
                                      f"{', '.join(PRIORITY_GROUPS)} or empty", line)
        if not row["service"]:
            raise ScenarioError(path, "service is empty", line)
        bookings.append(Booking(code, day, start, end, row["service"], group, line))
    dates = {b.date for b in bookings}
    if len(dates) > 1:
        days = ", ".join(sorted(map(str, dates)))
        raise ScenarioError(path, f"bookings span several days ({days}); "
                                  "a scenario replays one day")
    return bookings


def load_arrivals(path: str | Path) -> list[Arrival]:
    path = Path(path)
    arrivals: list[Arrival] = []
    for line, row in _rows(path, ("code", "arrive_at", "behaviour")):
        behaviour = row["behaviour"]
        if behaviour not in BEHAVIOURS:
            raise ScenarioError(path, f"behaviour {behaviour!r}: expected one of "
                                      f"{', '.join(BEHAVIOURS)}", line)
        code = row["code"]
        service = row.get("walkin_service", "")
        if behaviour == "walk-in":
            if code:
                raise ScenarioError(path, "a walk-in row has no booking code", line)
            if not service:
                raise ScenarioError(path, "a walk-in row needs walkin_service", line)
        elif not code:
            raise ScenarioError(path, f"a {behaviour} row needs a booking code", line)
        group = row.get("priority_group", "")
        if group and group not in PRIORITY_GROUPS:
            raise ScenarioError(path, f"priority_group {group!r}: expected one of "
                                      f"{', '.join(PRIORITY_GROUPS)} or empty", line)
        arrive_at = parse_time(row["arrive_at"], path, "arrive_at", line)
        arrivals.append(Arrival(code, arrive_at, behaviour, service, group, line))
    return arrivals


def load_day(scenario: str | Path, bookings: str | Path, arrivals: str | Path) -> DayData:
    """Load and cross-check the three files of one simulated day."""
    sc = load_scenario(scenario)
    bk = load_bookings(bookings)
    ar = load_arrivals(arrivals)
    known = {b.code for b in bk}
    notes: list[str] = []
    unknown = [a for a in ar if a.code and a.code not in known]
    if unknown:
        first = unknown[0]
        notes.append(f"{len(unknown)} arrival(s) scan an unknown code (first: line "
                     f"{first.line}, {first.code!r}); the kiosk refuses them")
    return DayData(sc, tuple(bk), tuple(ar), tuple(notes))
