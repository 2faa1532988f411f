"""The ticket's life: its states and every transition, in one table.

Each row says what happens: the `step` (what the service layer does; for a counter
action it is the action's REST name, `POST /api/v1/tickets/{id}/{action}`), the states it
is allowed from, the state after it, the `timeline` entry it appends (stored, so these
names never change) and the `event` kind it publishes (the Socket.IO `/counter` `update`
`kind`). `finish` has two outcomes: the next station of the flow, or done after the last.

The service layer (shared.visits), the timeline readers (reports, the supervisor view,
the simulator's service times), the OpenAPI enums, the devices that react to events and
the counter terminal's buttons (served as `allowed_actions` per state) all read this
module: it is the only place a state, an action, a timeline entry or an event kind is
spelled.
"""

from __future__ import annotations

from dataclasses import dataclass

# States (the Ticket's `status`).
WAITING = "waiting"
CALLED = "called"
SERVING = "serving"
HELD = "held"
MISSED = "missed"
DONE = "done"
CANCELLED = "cancelled"
STATES = (WAITING, CALLED, SERVING, HELD, MISSED, DONE, CANCELLED)
ACTIVE = (WAITING, CALLED, SERVING, HELD)  # still in the office's queues
AT_COUNTER = (CALLED, SERVING)  # holding a counter

# Outcomes of `finish`.
NEXT_STATION = "next_station"
LAST_STATION = "last_station"


@dataclass(frozen=True)
class Transition:
    step: str  # a counter action (REST name) or a service step (check_in, call, reprint)
    sources: tuple[str, ...]  # states it is allowed from (empty: a new ticket)
    target: str | None  # the state after it (None: unchanged)
    timeline: str  # the timeline entry's `action`
    event: str  # the event kind published
    outcome: str | None = None  # for a step with several outcomes (finish)
    counter_action: bool = False  # staff may ask for it on a ticket (REST, terminal)


TRANSITIONS: tuple[Transition, ...] = (
    Transition("check_in", (), WAITING, "checked_in", "checked_in"),
    Transition("reprint", STATES, None, "reprinted", "reprinted"),
    Transition("call", (WAITING,), CALLED, "called", "called"),
    Transition("recall", (CALLED,), CALLED, "recall", "recalled", counter_action=True),
    Transition("start", (CALLED,), SERVING, "start", "started", counter_action=True),
    Transition("finish", (CALLED, SERVING), WAITING, "moved", "moved", NEXT_STATION,
               counter_action=True),
    Transition("finish", (CALLED, SERVING), DONE, "finished", "done", LAST_STATION,
               counter_action=True),
    Transition("no-show", (CALLED,), MISSED, "no_show", "missed", counter_action=True),
    Transition("hold", (CALLED, SERVING), HELD, "hold", "held", counter_action=True),
    Transition("resume", (HELD,), WAITING, "resume", "resumed", counter_action=True),
    Transition("transfer", (WAITING, CALLED, SERVING, HELD), WAITING, "transfer",
               "transferred", counter_action=True),
    Transition("reinstate", (MISSED,), WAITING, "reinstate", "reinstated", counter_action=True),
    Transition("cancel", (WAITING, CALLED, SERVING, HELD, MISSED), CANCELLED, "cancel",
               "cancelled", counter_action=True),
)


def transition(step: str, outcome: str | None = None) -> Transition:
    for row in TRANSITIONS:
        if row.step == step and row.outcome == outcome:
            return row
    raise KeyError((step, outcome))


# Counter actions, in the order the REST API and the terminal list them.
ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(
    row.step for row in TRANSITIONS if row.counter_action))


def sources_of(action: str) -> tuple[str, ...]:
    """The states a counter action is allowed from."""
    return next(row.sources for row in TRANSITIONS if row.step == action)


def allowed_actions(state: str) -> list[str]:
    """The counter actions a ticket in `state` allows (the terminal's enabled buttons)."""
    return [action for action in ACTIONS if state in sources_of(action)]


def allowed_by_state() -> dict[str, list[str]]:
    return {state: allowed_actions(state) for state in STATES}


EVENT_KINDS: tuple[str, ...] = tuple(dict.fromkeys(row.event for row in TRANSITIONS))
TIMELINE_ENTRIES: tuple[str, ...] = tuple(dict.fromkeys(row.timeline for row in TRANSITIONS))

# Timeline entries the statistics read.
CHECKED_IN = transition("check_in").timeline
CALL = transition("call").timeline
START = transition("start").timeline
NO_SHOW = transition("no-show").timeline
FINISHED = transition("finish", LAST_STATION).timeline
MOVED = transition("finish", NEXT_STATION).timeline
TRANSFER = transition("transfer").timeline
# A service at a station opens with the first call (or a start) and ends when the ticket
# moves on or finishes; a ticket (re)enters a station's queue by moving or a transfer.
SERVICE_STARTS = (CALL, START)
SERVICE_ENDS = (MOVED, FINISHED)
QUEUE_ENTRIES = (MOVED, TRANSFER)

# Event kinds devices react to.
CALL_EVENTS = (transition("call").event, transition("recall").event)
RECALL_EVENT = transition("recall").event
# A counter's display goes blank when its ticket leaves the counter.
LEAVES_COUNTER_EVENTS = tuple(dict.fromkeys(
    row.event for row in TRANSITIONS
    if set(row.sources) & set(AT_COUNTER) and row.target not in AT_COUNTER))
