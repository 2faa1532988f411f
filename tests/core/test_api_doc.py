"""docs/api.md against the running application: nothing undocumented, nothing invented.

docs/api.md is the product's contract for other systems. These tests read its tables and
compare them with what the application really has:

- HTTP: every rule of `app.url_map` (static folders aside) is a row `METHOD /path` and
  every such row is a rule. The serial simulator's routes (registered only in the process
  that owns a `sim://` bus) are registered here the same way and are documented too.
  Path parameters compare by position: `<int:ticket_id>` and `{id}` are the same.
- Socket.IO: every event a namespace handles (its `on_*` methods, or decorator
  handlers) is a row "client → server", every event the product emits (a source scan of
  `socketio.emit(...)` and flask_socketio's `emit(...)`) a row "server → client", and
  every such row exists.
- Refusals: every error code the source can answer (`Refusal(status, "code")`, the HTTP
  error names of shared/app.py) is in a refusal table with that status, and vice versa.
- OpenAPI: shared/openapi.py describes exactly the app's /api/v1 routes and methods.
- CLI: every `giliran` command (a walk of the click group) is a row, with each of its
  options and arguments; every row is a command.

A failure lists exactly what to add to docs/api.md (or what to remove from it).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from flask import Flask

from shared.app import HTTP_CODES, create_app
from shared.core import Core
from shared.realtime import socketio

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"
PRODUCT = ("shared", "kiosk", "display", "counter", "hardware")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BUILT_IN_EVENTS = {"connect", "disconnect"}

ROUTE_CELL = re.compile(r"^`(" + "|".join(METHODS) + r") (/[^`\s]*)`$")
NAMESPACE_CELL = re.compile(r"^`(/[a-z_]*)`$")
EVENT_CELL = re.compile(r"^`([a-z_]+)`$")
STATUS_CELL = re.compile(r"^\d{3}(, \d{3})*$")
COMMAND_CELL = re.compile(r"^`giliran ([^`]+)`$")
PARAMETER = re.compile(r"<[^>]+>|\{[^}]+\}")


# --- reading docs/api.md ------------------------------------------------------------------------
def table_rows(text: str) -> Iterator[list[str]]:
    """The cells of every markdown table row (`\\|` inside a cell is not a separator)."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|") or set(line) <= {"|", "-", " ", ":"}:
            continue
        cells = re.split(r"(?<!\\)\|", line.strip("|"))
        yield [cell.strip().replace("\\|", "|") for cell in cells]


def doc_rows() -> list[list[str]]:
    return list(table_rows(DOC.read_text(encoding="utf-8")))


def normal(path: str) -> str:
    """A path with its parameters unnamed: /tickets/<int:ticket_id> == /tickets/{id}."""
    return PARAMETER.sub("{}", path)


def report(title: str, items: set[str] | list[str]) -> str:
    return f"{title}:\n  " + "\n  ".join(sorted(items))


# --- the application ---------------------------------------------------------------------------
@pytest.fixture
def app(core: Core) -> Flask:
    from hardware.serial.sim_page import init_sim_page

    app = create_app(core=core)
    # What hardware.wiring.start_hardware adds when a bus is `sim://`: documented as well.
    init_sim_page(app, {})
    return app


def app_routes(app: Flask) -> dict[tuple[str, str], str]:
    routes: dict[tuple[str, str], str] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue  # the rooms' static folders
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes[(method, normal(rule.rule))] = f"{method} {rule.rule}  ({rule.endpoint})"
    return routes


def test_every_route_is_documented_and_every_documented_route_exists(app: Flask) -> None:
    documented: dict[tuple[str, str], str] = {}
    for cells in doc_rows():
        match = ROUTE_CELL.match(cells[0])
        if match:
            method, path = match.groups()
            documented[(method, normal(path))] = f"{method} {path}"
    served = app_routes(app)
    missing = set(served) - set(documented)
    invented = set(documented) - set(served)
    problems = []
    if missing:
        problems.append(report("routes the app serves that docs/api.md does not list "
                               "(add a row `METHOD /path` with who, body, answer, refusals)",
                               {served[key] for key in missing}))
    if invented:
        problems.append(report("rows of docs/api.md that are no route of the app",
                               {documented[key] for key in invented}))
    assert not problems, "\n".join(problems)


def test_openapi_describes_every_api_route_and_nothing_else(app: Flask) -> None:
    """shared/openapi.py and the app agree on /api/v1 (methods included)."""
    from shared.openapi import SPEC

    described = {(method.upper(), normal("/api/v1" + path))
                 for path, item in SPEC["paths"].items() for method in item}
    served = {key: text for key, text in app_routes(app).items()
              if key[1].startswith("/api/v1/")}
    problems = []
    if set(served) - described:
        problems.append(report("/api/v1 routes missing from shared/openapi.py",
                               {served[key] for key in set(served) - described}))
    if described - set(served):
        problems.append(report("operations of shared/openapi.py the app does not serve",
                               {f"{m} {p}" for m, p in described - set(served)}))
    assert not problems, "\n".join(problems)


# --- Socket.IO -----------------------------------------------------------------------------------
def handled_events() -> set[tuple[str, str]]:
    """(namespace, event) of every event a server-side handler takes."""
    server = socketio.server
    assert server is not None
    events: set[tuple[str, str]] = set()
    for namespace, handler in server.namespace_handlers.items():
        for name in dir(handler):
            if name.startswith("on_") and callable(getattr(handler, name)):
                events.add((namespace, name[len("on_"):]))
    for namespace, handlers in server.handlers.items():
        events.update((namespace, event) for event in handlers)
    return {(ns, event) for ns, event in events if event not in BUILT_IN_EVENTS}


def namespace_classes() -> dict[tuple[str, str], str]:
    """(module, class name) -> namespace, for the class-based namespaces registered."""
    server = socketio.server
    assert server is not None
    return {(type(handler).__module__, type(handler).__qualname__): namespace
            for namespace, handler in server.namespace_handlers.items()}


def product_files() -> Iterator[Path]:
    for package in PRODUCT:
        yield from sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


class EmitScan(ast.NodeVisitor):
    """The Socket.IO emits of one module: `socketio.emit(...)`, flask_socketio's `emit(...)`
    and `self.emit(...)` inside a registered namespace class."""

    def __init__(self, path: Path, tree: ast.Module,
                 classes: dict[tuple[str, str], str]) -> None:
        self.where = str(path.relative_to(ROOT))
        self.module = module_name(path)
        self.classes = classes
        self.cls: list[str] = []
        self.found: set[tuple[str, str]] = set()
        self.unreadable: list[str] = []
        self.emit_names = {alias.asname or alias.name
                           for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                           and node.module == "flask_socketio"
                           for alias in node.names if alias.name == "emit"}
        self.constants = {target.id: node.value.value
                          for node in tree.body if isinstance(node, ast.Assign)
                          and isinstance(node.value, ast.Constant)
                          and isinstance(node.value.value, str)
                          for target in node.targets if isinstance(target, ast.Name)}

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.cls.append(node.name)
        self.generic_visit(node)
        self.cls.pop()

    def namespace_class(self) -> str | None:
        return self.classes.get((self.module, ".".join(self.cls)))

    def is_emit(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in self.emit_names
        if not (isinstance(func, ast.Attribute) and func.attr == "emit"):
            return False
        owner = func.value
        return ((isinstance(owner, ast.Name) and owner.id == "socketio")
                or (isinstance(owner, ast.Attribute) and owner.attr == "socketio")
                or (isinstance(owner, ast.Name) and owner.id == "self"
                    and self.namespace_class() is not None))

    def visit_Call(self, call: ast.Call) -> None:
        self.generic_visit(call)
        if not self.is_emit(call.func):
            return
        where = f"{self.where}:{call.lineno}"
        event = call.args[0] if call.args else None
        if not (isinstance(event, ast.Constant) and isinstance(event.value, str)):
            self.unreadable.append(f"{where}: the event name is not a string literal")
            return
        namespace = self.namespace_class()
        for keyword in call.keywords:
            if keyword.arg != "namespace":
                continue
            value = keyword.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                namespace = value.value
            elif isinstance(value, ast.Name) and value.id in self.constants:
                namespace = self.constants[value.id]
            else:
                self.unreadable.append(f"{where}: namespace is not a literal or constant")
                return
        if namespace is None:
            self.unreadable.append(f"{where}: emit of {event.value!r} outside a namespace "
                                   "class and without namespace=")
            return
        self.found.add((namespace, event.value))


def emitted_events() -> tuple[set[tuple[str, str]], list[str]]:
    """(namespace, event) of every Socket.IO emit in the product's source, and the emits
    this scan cannot read (an event name or namespace that is not a literal)."""
    classes = namespace_classes()
    found: set[tuple[str, str]] = set()
    unreadable: list[str] = []
    for path in product_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        scan = EmitScan(path, tree, classes)
        scan.visit(tree)
        found |= scan.found
        unreadable += scan.unreadable
    return found, unreadable


def documented_events() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(client → server rows, server → client rows) of docs/api.md."""
    incoming: set[tuple[str, str]] = set()
    outgoing: set[tuple[str, str]] = set()
    for cells in doc_rows():
        if len(cells) < 3:
            continue
        namespace, event = NAMESPACE_CELL.match(cells[0]), EVENT_CELL.match(cells[1])
        if not (namespace and event):
            continue
        key = (namespace.group(1), event.group(1))
        if cells[2].startswith("client"):
            incoming.add(key)
        elif cells[2].startswith("server"):
            outgoing.add(key)
    return incoming, outgoing


def test_every_socketio_event_is_documented_and_every_documented_event_exists(
        app: Flask) -> None:
    handled = handled_events()
    emitted, unreadable = emitted_events()
    incoming, outgoing = documented_events()
    assert handled and emitted and incoming and outgoing  # the scans found something
    assert not unreadable, report("Socket.IO emits this test cannot read (use a literal "
                                  "event name and namespace)", unreadable)

    def names(keys: set[tuple[str, str]]) -> set[str]:
        return {f"{namespace} {event}" for namespace, event in keys}

    problems = []
    if handled - incoming:
        problems.append(report("events the server handles that docs/api.md does not list "
                               "(add a row: namespace | event | client → server | payload "
                               "| room and when)", names(handled - incoming)))
    if incoming - handled:
        problems.append(report("client → server rows of docs/api.md that no handler takes",
                               names(incoming - handled)))
    if emitted - outgoing:
        problems.append(report("events the server emits that docs/api.md does not list "
                               "(add a row: namespace | event | server → client | payload "
                               "| room and when)", names(emitted - outgoing)))
    if outgoing - emitted:
        problems.append(report("server → client rows of docs/api.md that nothing emits",
                               names(outgoing - emitted)))
    served = set(socketio.server.namespace_handlers) | set(socketio.server.handlers)
    unknown = {namespace for namespace, _ in incoming | outgoing} - served
    if unknown:
        problems.append(report("namespaces of docs/api.md the server does not have", unknown))
    assert not problems, "\n".join(problems)


# --- refusal codes ------------------------------------------------------------------------------
REFUSAL = re.compile(r"\b(?:Refusal|_error)\(\s*(\d{3}),\s*\"([a-z_]+)\"")
LITERAL_CODE = re.compile(r"\"error\":\s*\{\s*\"code\":\s*\"([a-z_]+)\"")


def source_refusals() -> dict[str, set[int]]:
    """Every error code the product can answer, with the statuses it comes with."""
    codes: dict[str, set[int]] = {}
    for path in product_files():
        text = path.read_text(encoding="utf-8")
        for status, code in REFUSAL.findall(text):
            codes.setdefault(code, set()).add(int(status))
        for code in LITERAL_CODE.findall(text):
            codes.setdefault(code, set())
    for status, (code, _message) in HTTP_CODES.items():
        codes.setdefault(code, set()).add(status)
    return codes


def test_every_refusal_code_is_documented_with_its_status() -> None:
    documented: dict[str, set[int]] = {}
    for cells in doc_rows():
        if len(cells) >= 3 and STATUS_CELL.match(cells[1]):
            statuses = {int(s) for s in cells[1].split(", ")}
            for code in re.findall(r"`([a-z_]+)`", cells[0]):
                documented.setdefault(code, set()).update(statuses)
    source = source_refusals()
    problems = []
    missing = set(source) - set(documented)
    if missing:
        problems.append(report("refusal codes the app answers that docs/api.md section 3 "
                               "does not list (add a row: code | status | when)",
                               {f"{c} ({', '.join(map(str, sorted(source[c]))) or '?'})"
                                for c in missing}))
    wrong = {f"{code}: answered with {sorted(source[code] - documented[code])}, "
             f"documented {sorted(documented[code])}"
             for code in set(source) & set(documented) if source[code] - documented[code]}
    if wrong:
        problems.append(report("refusal codes documented with another status", wrong))
    invented = set(documented) - set(source)
    if invented:
        problems.append(report("refusal codes of docs/api.md the app never answers", invented))
    assert not problems, "\n".join(problems)


# --- the command line ---------------------------------------------------------------------------
def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    """Every leaf command under `group`, with its path of names."""
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))
        elif not command.hidden:
            yield prefix + (name,), command


def test_every_cli_command_and_option_is_documented() -> None:
    from shared.cli import main

    rows: dict[tuple[str, ...], list[str]] = {}
    for cells in doc_rows():
        match = COMMAND_CELL.match(cells[0])
        if match:
            words = match.group(1).split()
            path = tuple(w for w in words[:next((i for i, w in enumerate(words)
                                                 if not re.fullmatch(r"[a-z][a-z-]*", w)),
                                                len(words))])
            rows[path] = cells
    leaves = dict(commands(main))
    problems = []
    missing = set(leaves) - set(rows)
    if missing:
        problems.append(report("giliran commands docs/api.md does not list (add a row to "
                               "section 12: command | options | does)",
                               {"giliran " + " ".join(p) for p in missing}))
    invented = set(rows) - set(leaves)
    if invented:
        problems.append(report("command rows of docs/api.md that are no giliran command",
                               {"giliran " + " ".join(p) for p in invented}))
    undocumented = []
    for path in set(leaves) & set(rows):
        text = " ".join(rows[path])
        for param in leaves[path].params:
            if isinstance(param, click.Option):
                if param.hidden:
                    continue
                flag = max(param.opts, key=len)
                if not re.search(re.escape(flag) + r"(?![\w-])", text):
                    undocumented.append(f"giliran {' '.join(path)} {flag}")
            elif (isinstance(param, click.Argument)
                  and param.human_readable_name not in rows[path][0]):
                undocumented.append(f"giliran {' '.join(path)} "
                                        f"{param.human_readable_name} (argument)")
    if undocumented:
        problems.append(report("options and arguments docs/api.md does not name in the "
                               "command's row", undocumented))
    assert not problems, "\n".join(problems)


# --- no pointers to files a user's checkout does not have ---------------------------------------
def test_nothing_points_at_the_team_brief() -> None:
    """The team's brief (contract, domain, architecture, benchmarks) is not in the
    repository: the product and its docs point at docs/api.md and docs/benchmarks.md."""
    brief = tuple(name + ".md" for name in ("CONTRACT", "DOMAIN", "ARCHITECTURE", "BENCHMARKS"))
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *product_files(),
             *sorted((ROOT / "bench").rglob("*.py"))]
    mentions = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                for path in texts
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if any(name in line for name in brief) or "shared/brief" in line]
    assert not mentions, report("mentions of the team brief, which a user's checkout does "
                                "not have (point at docs/api.md or docs/benchmarks.md)",
                                mentions)
