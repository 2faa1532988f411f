"""Dependencies point one way: `shared/` (the core) imports no room except through the
composition root, and its modules import each other without a cycle.

Imports are read from the source (ast), wherever they are written: at the top of a module,
inside a function, or under `if TYPE_CHECKING:`. A lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

ROOMS = ("kiosk", "display", "counter", "hardware")
# The composition root builds the application from the rooms (shared.registry).
# shared.config_checks lists the rooms' checks of config.toml alone, for the command line.
ROOT_MODULES = {"shared.app", "shared.config_checks"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def shared_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / "shared").rglob("*.py"))
            if "static" not in path.parts}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every module `path` imports (resolving `from package import module`)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            for alias in node.names:
                if f"{target}.{alias.name}" in known:
                    found.add(f"{target}.{alias.name}")
    return found


def test_the_core_imports_no_room_except_the_composition_root() -> None:
    modules = shared_modules()
    offenders = []
    for name, path in modules.items():
        if name in ROOT_MODULES:
            continue
        for target in sorted(imports_of(path, set(modules))):
            if target.split(".")[0] in ROOMS:
                offenders.append(f"{path.relative_to(ROOT)} imports {target}")
    assert not offenders, (
        "shared/ must not import kiosk/display/counter/hardware (only shared/app.py and "
        "shared/config_checks.py may); "
        "let the room register itself in its room.py instead (shared/registry.py):\n  "
        + "\n  ".join(offenders))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, as the list of modules round it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_core_has_no_import_cycle() -> None:
    modules = shared_modules()
    known = set(modules)
    graph = {name: {target for target in imports_of(path, known)
                    if target in known and target != name}
             for name, path in modules.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in shared/: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_each_room_checks_its_sections_through_the_light_composition_root() -> None:
    """The command line checks config.toml through shared.config_checks; a room's check
    missing there would be skipped by `giliran serve` until the worker failed to boot."""
    from shared.app import ROOMS
    from shared.config_checks import CHECKS

    assert [room.check_config for room in ROOMS] == list(CHECKS)


def test_the_command_line_checks_config_toml_without_building_the_application() -> None:
    """Every `giliran` command, `serve` included, checks the whole of config.toml before it
    starts. With the rooms' web parts imported for it, that took 1.8 s of each start (the
    worker imports them again after `serve` hands over to gunicorn); the checks alone
    need neither Flask nor SQLAlchemy."""
    import subprocess
    import sys

    code = ("import sys; from shared.config_checks import load_config; load_config(); "
            "print(sorted(m for m in ('flask', 'flask_socketio', 'sqlalchemy', 'gevent') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_a_server_loads_the_simulator_only_when_a_plan_is_asked_for() -> None:
    """The simulator needs numpy (about 0.15 s of every start and 12 MB of every worker);
    the supervisor's plan page imports it on the first plan, not the application."""
    import subprocess
    import sys

    code = ("import sys, shared.app, shared.reports.planning, shared.simulation; "
            "print('numpy' in sys.modules, shared.simulation.run_day.__module__)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.split() == ["False", "shared.simulation.engine"], result.stderr
