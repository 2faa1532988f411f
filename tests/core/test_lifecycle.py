"""The ticket's life in one table (shared/lifecycle.py): the service layer, the events,
the timeline, the API description and the terminal's buttons all follow it."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from shared import lifecycle, visits
from shared.bookings import import_rows
from shared.core import Core
from shared.events import TicketEvent
from tests.conftest import ROOT, booking_row

NAMES = set(lifecycle.STATES) | set(lifecycle.TIMELINE_ENTRIES) | set(lifecycle.EVENT_KINDS)
NAMES |= set(lifecycle.ACTIONS)
PRODUCT = ("shared", "kiosk", "display", "counter", "hardware")


def test_every_counter_action_has_its_states_and_the_dead_kind_is_gone() -> None:
    assert lifecycle.ACTIONS == ("recall", "start", "finish", "no-show", "hold", "resume",
                                 "transfer", "reinstate", "cancel")
    assert "finished" not in lifecycle.EVENT_KINDS  # a finish publishes `moved` or `done`
    assert lifecycle.allowed_actions(lifecycle.CALLED) == [
        "recall", "start", "finish", "no-show", "hold", "transfer", "cancel"]
    assert lifecycle.allowed_actions(lifecycle.DONE) == []
    assert lifecycle.allowed_actions(lifecycle.HELD) == ["resume", "transfer", "cancel"]
    for row in lifecycle.TRANSITIONS:
        assert row.target is None or row.target in lifecycle.STATES
        assert set(row.sources) <= set(lifecycle.STATES)


def _comparisons(path: Path) -> list[tuple[int, str]]:
    """String constants a module compares with (==, !=, in) or passes to SQL `in_`."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        operands: list[ast.AST] = []
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "in_":
            operands = list(node.args)
        for operand in operands:
            items = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) \
                else [operand]
            found += [(node.lineno, item.value) for item in items
                      if isinstance(item, ast.Constant) and isinstance(item.value, str)]
    return found


def test_no_module_but_the_table_decides_by_a_state_or_action_name() -> None:
    offenders = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "shared" / "lifecycle.py" or "static" in path.parts:
                continue
            offenders += [f"{path.relative_to(ROOT)}:{line}: {value!r}"
                          for line, value in _comparisons(path) if value in NAMES]
    # Same words, other meanings: the service layer dispatches on the REST action's name,
    # the simulator's figures have a "checked_in" count, a serial button is "recall".
    allowed = {("shared/visits.py", f"'{action}'") for action in lifecycle.ACTIONS}
    allowed |= {("shared/simulation/metrics.py", "'checked_in'"),
                ("hardware/wiring.py", "'recall'")}
    offenders = [o for o in offenders
                 if (o.split(":")[0], o.rsplit(": ", 1)[1]) not in allowed]
    assert not offenders, ("compare with shared.lifecycle's names instead of spelling them:"
                           "\n  " + "\n  ".join(offenders))


def test_the_service_layer_records_and_publishes_what_the_table_says(core: Core) -> None:
    events: list[TicketEvent] = []
    core.bus.subscribe(events.append)
    import_rows(core, enumerate([booking_row("LIFE-0001", group="lansia")], start=1))
    ticket = visits.check_in(core, "DPS", "LIFE-0001", "kiosk-1").ticket
    flow = core.office("DPS").services["paspor-baru"].flow
    steps: list[tuple[str, str | None]] = [("check_in", None)]
    for index in range(len(flow)):
        visits.call_next(core, "DPS", "3", "petugas")
        steps.append(("call", None))
        visits.act(core, ticket["id"], "start", "petugas", None)
        steps.append(("start", None))
        visits.act(core, ticket["id"], "finish", "petugas", None)
        last = index == len(flow) - 1
        steps.append(("finish", lifecycle.LAST_STATION if last else lifecycle.NEXT_STATION))
    assert core.bus.wait_idle()
    rows = [lifecycle.transition(step, outcome) for step, outcome in steps]
    assert [e.kind for e in events] == [row.event for row in rows]
    entries = visits.timeline(core, ticket["id"])
    assert [e["action"] for e in entries] == [row.timeline for row in rows]
    assert entries[-1]["status"] == lifecycle.DONE


def test_the_api_description_and_the_terminal_read_the_table(core: Core) -> None:
    from shared.openapi import SPEC

    document: dict[str, Any] = SPEC
    ticket = document["components"]["schemas"]["Ticket"]["properties"]
    assert ticket["status"]["enum"] == list(lifecycle.STATES)
    from counter.views import _names

    assert _names(core.office("DPS"))["allowed_actions"] == lifecycle.allowed_by_state()
    script = (ROOT / "counter" / "static" / "terminal.js").read_text(encoding="utf-8")
    assert "DATA.allowed_actions" in script and 't.status === "called"' not in script
