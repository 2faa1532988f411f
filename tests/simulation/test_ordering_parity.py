"""The simulator orders a station's waiting set exactly as the server does."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.ordering import Rules, Waiting, order_queue
from shared.simulation.engine import queue_order, rules_for, select_next

from .helpers import one_counter

BASE = datetime(2026, 12, 1, 7, 0)
minutes = st.integers(min_value=0, max_value=9 * 60)


@st.composite
def waiting_sets(draw: st.DrawFn) -> list[Waiting]:
    count = draw(st.integers(min_value=0, max_value=25))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count, unique=True))
    items = []
    for ticket_id in ids:
        checked_in = BASE + timedelta(minutes=draw(minutes))
        slot = BASE + timedelta(hours=draw(st.integers(1, 8)))
        place_key = draw(st.sampled_from([slot, checked_in]))
        entered = checked_in + timedelta(minutes=draw(st.integers(0, 120)))
        items.append(Waiting(ticket_id, place_key, checked_in, entered, draw(st.booleans())))
    return items


rules_strategy = st.builds(
    Rules,
    max_wait_minutes=st.one_of(st.none(), st.integers(1, 180)),
    priority_ratio=st.one_of(st.none(), st.sampled_from([(1, 2), (1, 3), (2, 5)])),
    policy=st.sampled_from(["slot", "fifo"]),
)


@settings(max_examples=300, deadline=None)
@given(
    waiting=waiting_sets(),
    now_minutes=st.integers(0, 10 * 60),
    rules=rules_strategy,
    recent=st.lists(st.booleans(), max_size=6),
)
def test_engine_order_is_the_servers_order(
    waiting: list[Waiting], now_minutes: int, rules: Rules, recent: list[bool]
) -> None:
    now = BASE + timedelta(minutes=now_minutes)
    expected = order_queue(waiting, now, rules, recent)
    assert queue_order(waiting, now, rules, recent) == expected
    # whatever order the set comes in
    assert queue_order(list(reversed(waiting)), now, rules, recent) == expected
    chosen = select_next(waiting, now, rules, recent)
    assert chosen == (expected[0] if expected else None)


def test_scenario_policy_becomes_server_rules() -> None:
    scenario = one_counter()
    assert rules_for(scenario, "slot") == Rules(max_wait_minutes=90, priority_ratio=None,
                                                policy="slot")
    assert rules_for(scenario, "fifo").policy == "fifo"
