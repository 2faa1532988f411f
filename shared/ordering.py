"""The order in which a station calls its waiting tickets: one pure function.

No Flask, no database. `call_next`, the queue list on the terminals, the wait estimate
and the simulator all call `order_queue`, so what an officer sees is what happens.

Rules, in order (docs/api.md section 10 "Ordering rules"):
1. a ticket that has waited longer than `max_wait_minutes` at this station goes first,
   longest wait first. The wait counts from when the ticket became due here: the later of
   entering the station's queue and its place-key, so arriving three hours early for a
   later slot does not jump the slot order;
2. priority groups: all first, or a ratio (a priority calls in every b calls);
3. the place-key: booked slot start (walk-ins and demoted late arrivals: arrival time);
4. check-in time; then ticket id, so the order is total and repeatable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Waiting:
    """What the ordering needs to know of one waiting ticket."""

    ticket_id: int
    place_key: datetime
    checked_in_at: datetime
    entered_at: datetime
    priority: bool = False


@dataclass(frozen=True)
class Rules:
    max_wait_minutes: int | None = 90
    # None: every priority ticket before any other; (a, b): a priority calls in b calls.
    priority_ratio: tuple[int, int] | None = None
    # "slot" orders by the place-key; "fifo" by check-in only (kept for comparison).
    policy: str = "slot"


def due_since(item: Waiting) -> datetime:
    return max(item.entered_at, item.place_key)


def waited(item: Waiting, now: datetime) -> timedelta:
    """How long the ticket has been due at this station (never negative)."""
    return max(now - due_since(item), timedelta(0))


def _base_key(item: Waiting, policy: str) -> tuple[datetime, datetime, int]:
    if policy == "fifo":
        return (item.checked_in_at, item.checked_in_at, item.ticket_id)
    return (item.place_key, item.checked_in_at, item.ticket_id)


def order_queue(
    waiting: Iterable[Waiting],
    now: datetime,
    rules: Rules,
    recent_calls: Sequence[bool] = (),
) -> list[Waiting]:
    """Return the tickets in the order they will be called.

    `recent_calls` lists, oldest first, whether each of the station's latest calls was a
    priority ticket; only a ratio policy looks at it.
    """
    items = list(waiting)
    overdue: list[Waiting] = []
    rest: list[Waiting] = []
    limit = (
        timedelta(minutes=rules.max_wait_minutes) if rules.max_wait_minutes is not None else None
    )
    for item in items:
        if limit is not None and waited(item, now) > limit:
            overdue.append(item)
        else:
            rest.append(item)
    overdue.sort(key=lambda i: (-waited(i, now), _base_key(i, rules.policy)))

    priority = sorted((i for i in rest if i.priority), key=lambda i: _base_key(i, rules.policy))
    regular = sorted((i for i in rest if not i.priority), key=lambda i: _base_key(i, rules.policy))
    if rules.priority_ratio is None:
        return overdue + priority + regular
    return overdue + _interleave(priority, regular, rules.priority_ratio, recent_calls)


def _interleave(
    priority: list[Waiting],
    regular: list[Waiting],
    ratio: tuple[int, int],
    recent_calls: Sequence[bool],
) -> list[Waiting]:
    """Merge the two lanes so that every window of b calls holds at most a priority calls
    (fewer only when a lane runs dry)."""
    share, window = ratio
    history = list(recent_calls[-(window - 1):]) if window > 1 else []
    result: list[Waiting] = []
    p = r = 0
    while p < len(priority) or r < len(regular):
        recent_priority = sum(history[-(window - 1):]) if window > 1 else 0
        take_priority = p < len(priority) and (recent_priority < share or r >= len(regular))
        if take_priority:
            result.append(priority[p])
            p += 1
        else:
            result.append(regular[r])
            r += 1
        history.append(take_priority)
    return result


def estimate_wait_minutes(
    position: int, counters_open: int, mean_service_minutes: float
) -> float:
    """Minutes until a ticket with `position` tickets ahead of it is called.

    Counters work in parallel; each takes `mean_service_minutes` per applicant (call to
    finish). A waiting ticket is called when the (position + 1)-th counter frees up: the
    first of `c` busy counters frees after about mean / (c + 1) (the counters are at random
    points of their service), every further one about mean / c later. So position 0 at
    busy counters is not 0 minutes. Checked with the day simulator (docs/simulation.md):
    it lowers the mean absolute error on the Denpasar days by 4-7 %.
    """
    if position < 0:
        return 0.0
    counters = max(counters_open, 1)
    return mean_service_minutes / (counters + 1) + position * mean_service_minutes / counters


def is_overdue(item: Waiting, now: datetime, rules: Rules) -> bool:
    """Rule 1: waited longer than `max_wait_minutes` at this station."""
    return rules.max_wait_minutes is not None and waited(item, now) > timedelta(
        minutes=rules.max_wait_minutes)


def position_from_counts(*, overdue: bool, overdue_ahead: int, priority: bool,
                         lane_ahead: int, priority_total: int, regular_total: int,
                         rules: Rules, recent_calls: Sequence[bool] = ()) -> int:
    """A ticket's 0-based place in `order_queue`, from counts instead of the whole queue.

    `overdue_ahead`: overdue tickets called before it (all of them when it is not overdue
    itself). For a ticket that is not overdue: `lane_ahead` tickets of its own lane
    (priority or regular) come before it by the base key, and the lanes hold
    `priority_total` and `regular_total` tickets that are not overdue. The same rules as
    `order_queue`, so both always agree (tests/core/test_ordering.py checks it).
    """
    if overdue:
        return overdue_ahead
    if rules.priority_ratio is None:
        return overdue_ahead + (lane_ahead if priority else priority_total + lane_ahead)
    share, window = rules.priority_ratio
    history = list(recent_calls[-(window - 1):]) if window > 1 else []
    p = r = 0
    placed = 0
    while p < priority_total or r < regular_total:
        recent_priority = sum(history[-(window - 1):]) if window > 1 else 0
        take_priority = p < priority_total and (recent_priority < share or r >= regular_total)
        if take_priority:
            if priority and p == lane_ahead:
                return overdue_ahead + placed
            p += 1
        else:
            if not priority and r == lane_ahead:
                return overdue_ahead + placed
            r += 1
        placed += 1
        history.append(take_priority)
    raise ValueError("the ticket is not in its lane")
