"""Properties of the one ordering function (Hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.ordering import (
    Rules,
    Waiting,
    due_since,
    is_overdue,
    order_queue,
    position_from_counts,
    waited,
)

START = datetime(2026, 12, 1, 0, 0)  # 08:00 WITA in UTC
SLOTS = [START + timedelta(hours=h) for h in range(7)]


@st.composite
def waiting_sets(draw: st.DrawFn, max_size: int = 30) -> list[Waiting]:
    count = draw(st.integers(0, max_size))
    items = []
    for ticket_id in range(1, count + 1):
        slot = draw(st.sampled_from(SLOTS))
        checked_in = slot + timedelta(minutes=draw(st.integers(-120, 75)))
        entered = checked_in + timedelta(minutes=draw(st.integers(0, 90)))
        items.append(Waiting(ticket_id, slot, checked_in, entered, draw(st.booleans())))
    return items


NOW = START + timedelta(hours=4)
rules_strategy = st.builds(
    Rules,
    max_wait_minutes=st.none() | st.integers(10, 240),
    priority_ratio=st.none() | st.tuples(st.integers(1, 3), st.integers(2, 5)).filter(
        lambda r: r[0] < r[1]),
)


@given(waiting_sets(), rules_strategy)
def test_order_is_a_permutation(items: list[Waiting], rules: Rules) -> None:
    ordered = order_queue(items, NOW, rules)
    assert sorted(i.ticket_id for i in ordered) == sorted(i.ticket_id for i in items)


@given(waiting_sets(), st.none() | st.integers(10, 240))
def test_earlier_slot_on_time_before_later_slot_at_first_station(
    items: list[Waiting], max_wait: int | None
) -> None:
    """At the first station (entered at check-in), an on-time applicant of an earlier slot
    is called before any non-priority applicant of a later slot."""
    first_station = [Waiting(i.ticket_id, i.place_key, i.checked_in_at, i.checked_in_at,
                             i.priority) for i in items]
    ordered = order_queue(first_station, NOW, Rules(max_wait_minutes=max_wait))
    rank = {item.ticket_id: index for index, item in enumerate(ordered)}
    for a in first_station:
        on_time = a.place_key - timedelta(minutes=15) <= a.checked_in_at <= \
            a.place_key + timedelta(hours=1)
        if not on_time:
            continue
        for b in first_station:
            if b.place_key > a.place_key and not b.priority:
                assert rank[a.ticket_id] < rank[b.ticket_id]


@given(waiting_sets(), st.integers(10, 240))
def test_overdue_tickets_come_first_longest_wait_first(items: list[Waiting],
                                                      max_wait: int) -> None:
    ordered = order_queue(items, NOW, Rules(max_wait_minutes=max_wait))
    limit = timedelta(minutes=max_wait)
    flags = [waited(i, NOW) > limit for i in ordered]
    assert flags == sorted(flags, reverse=True)
    overdue = [waited(i, NOW) for i in ordered if waited(i, NOW) > limit]
    assert overdue == sorted(overdue, reverse=True)


@given(waiting_sets())
def test_priority_first_puts_every_priority_ticket_ahead(items: list[Waiting]) -> None:
    ordered = order_queue(items, NOW, Rules(max_wait_minutes=None))
    flags = [i.priority for i in ordered]
    assert flags == sorted(flags, reverse=True)


@given(waiting_sets(), st.integers(1, 3), st.integers(2, 6))
def test_ratio_holds_in_every_window(items: list[Waiting], share: int, window: int) -> None:
    if share >= window:
        share = window - 1
    ordered = order_queue(items, NOW, Rules(max_wait_minutes=None,
                                            priority_ratio=(share, window)))
    flags = [i.priority for i in ordered]
    regular_left = [sum(1 for f in flags[k:] if not f) for k in range(len(flags))]
    for start in range(len(flags)):
        chunk = flags[start:start + window]
        if len(chunk) == window and regular_left[start] >= window:
            assert sum(chunk) <= share


@settings(max_examples=50)
@given(waiting_sets(max_size=15))
def test_nobody_is_skipped_forever(items: list[Waiting]) -> None:
    """Calling one ticket at a time while new later tickets keep arriving, every ticket
    present at the start is called within a bounded number of calls (max-wait guard)."""
    rules = Rules(max_wait_minutes=60, priority_ratio=None)
    now = NOW
    queue = list(items)
    pending = {i.ticket_id for i in items}
    next_id = 1000
    for _step in range(400):
        if not pending:
            break
        # a priority newcomer arrives before every call: the worst case for the others
        queue.append(Waiting(next_id, now, now, now, True))
        next_id += 1
        ordered = order_queue(queue, now, rules)
        chosen = ordered[0]
        queue.remove(chosen)
        pending.discard(chosen.ticket_id)
        now += timedelta(minutes=3)
    assert not pending


@given(waiting_sets())
def test_fifo_policy_orders_by_check_in(items: list[Waiting]) -> None:
    ordered = order_queue(items, NOW, Rules(max_wait_minutes=None, policy="fifo"))
    regular = [i for i in ordered if not i.priority]
    assert [i.checked_in_at for i in regular] == sorted(i.checked_in_at for i in regular)


def _base(item: Waiting, policy: str) -> tuple[datetime, datetime, int]:
    if policy == "fifo":
        return (item.checked_in_at, item.checked_in_at, item.ticket_id)
    return (item.place_key, item.checked_in_at, item.ticket_id)


@given(waiting_sets(), rules_strategy, st.sampled_from(["slot", "fifo"]),
       st.lists(st.booleans(), max_size=6))
def test_position_from_counts_agrees_with_the_whole_order(
        items: list[Waiting], rules: Rules, policy: str, recent: list[bool]) -> None:
    """What check-in counts in SQL (shared/visits.waiting_position) is the place the
    whole ordering gives, for every ticket, whatever the rules."""
    rules = Rules(rules.max_wait_minutes, rules.priority_ratio, policy)
    ordered = [i.ticket_id for i in order_queue(items, NOW, rules, recent)]
    late = {i.ticket_id for i in items if is_overdue(i, NOW, rules)}
    for item in items:
        key = _base(item, policy)
        if item.ticket_id in late:
            ahead = sum(1 for o in items if o.ticket_id in late and (
                due_since(o), _base(o, policy)) < (due_since(item), key))
        else:
            ahead = len(late)
        rest = [o for o in items if o.ticket_id not in late]
        position = position_from_counts(
            overdue=item.ticket_id in late, overdue_ahead=ahead, priority=item.priority,
            lane_ahead=sum(1 for o in rest if o.priority == item.priority
                           and _base(o, policy) < key),
            priority_total=sum(1 for o in rest if o.priority),
            regular_total=sum(1 for o in rest if not o.priority),
            rules=rules, recent_calls=recent)
        assert ordered.index(item.ticket_id) == position
