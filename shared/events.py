"""The one event publisher.

Service functions publish a `TicketEvent` only after their transaction committed. Boards,
terminals, LED displays, printers and the announcer subscribe; none of them decides
anything. Delivery runs on one dispatcher thread per process, so subscribers see an
office's events in version order and a slow subscriber never holds up a request.

With `GILIRAN_REDIS_URL` set, events also travel through Redis pub/sub, and every process
(web servers, device workers) dispatches every office's events to its own subscribers:

- in version order per office. A process's own events come straight to its dispatcher
  and another process's through Redis, so when both processes change an office at once,
  version 8 (made here) may be ready before version 7 (made there) arrived. An event
  that is not the next of its office waits for the ones before it, at most `HOLD`
  seconds (a version may have no event, or its event was lost with Redis); then what
  waited is delivered in order;
- without holding up the change that made them. Redis is written by one publisher
  thread per process, in the order the events were committed, so a Redis that hangs or
  cannot be reached costs each request nothing (it used to cost its socket timeout, 2 s,
  inside the office's lock). An event that could not leave within `MAX_DELAY` is
  dropped rather than sent late (a board would announce a call long after it was made);
- after a loss, every process is told to send its boards a fresh picture: a
  `ControlEvent("resync")` delivered by the listener that subscribed again after losing
  Redis, and published by a publisher that could not publish and can again.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "giliran:events"
#: The control event after which every process sends its boards a fresh snapshot (events
#: may have been lost): principal "office:*".
RESYNC = "resync"
#: Longest an event waits for the versions before it (seconds).
HOLD = 2.0
#: An event not published to Redis within this many seconds is dropped, not sent late.
MAX_DELAY = 2.0
#: While Redis fails, how often the publisher tries it again when it has nothing to send.
RETRY_SECONDS = 1.0
#: TCP keepalive on the connections to Redis. The listener waits on its subscription
#: without a timeout, so a peer gone without a word (a cable pulled, a firewall that
#: forgot the connection) would otherwise be noticed after the kernel's two hours: now
#: after about 5 + 3 x 2 seconds of silence, and the listener subscribes again (and
#: resyncs the boards).
KEEPALIVE: dict[int, int] = {
    option: value for option, value in (
        (getattr(socket, "TCP_KEEPIDLE", None), 5),
        (getattr(socket, "TCP_KEEPINTVL", None), 2),
        (getattr(socket, "TCP_KEEPCNT", None), 3),
    ) if option is not None}


@dataclass(frozen=True)
class TicketEvent:
    """One committed change of an office's queue.

    kind: one of shared.lifecycle.EVENT_KINDS (the table of the ticket's transitions).
    """

    office: str
    version: int
    kind: str
    ticket: dict[str, Any]
    counter: str | None = None
    counter_name: str | None = None
    station: str | None = None
    staff: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, raw: str | bytes) -> TicketEvent:
        return cls(**_known_fields(cls, json.loads(raw)))


@dataclass(frozen=True)
class ControlEvent:
    """Not a change of a queue: an instruction every process carries out for itself.

    kind "revoked": `principal` ("device:<id>" or "staff:<username>") lost its access (a
    device revoked, a staff member's sessions ended or account disabled); each process
    drops that principal's Socket.IO connections. Control events never reach the ticket
    subscribers (boards, printers, LEDs); they go to `subscribe_control` subscribers.

    kind "sound_check": `principal` is "office:<id>", `detail` the check to play on that
    office's boards; each process sends it to the boards connected to it.

    kind "resync" (RESYNC): `principal` is "office:*"; events may have been lost between
    processes (Redis went away and is back), so each process sends its boards a fresh
    snapshot (shared.realtime).
    """

    kind: str
    principal: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> ControlEvent:
        return cls(**_known_fields(cls, json.loads(raw)))


def _known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The fields this version knows: during a rolling upgrade a newer process may send
    more, and an older one must still take the event."""
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


Subscriber = Callable[[TicketEvent], None]
ControlSubscriber = Callable[[ControlEvent], None]


class _Deferred:
    """Work a subscriber asked to run later on the dispatcher (see `EventBus.defer`)."""

    __slots__ = ("work", "due", "deadline")

    def __init__(self, work: Callable[[], None], due: float, deadline: float) -> None:
        self.work, self.due, self.deadline = work, due, deadline


_WAKE = object()  # a queue item that only makes the dispatcher look at its deferred work


class EventBus:
    """In-process publish/subscribe with an ordered dispatcher thread."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._control_subscribers: list[ControlSubscriber] = []
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._pending = 0
        # Deferred work by key; runs on the dispatcher thread (see `defer`).
        self._deferred: dict[str, _Deferred] = {}

    def subscribe(self, subscriber: Subscriber, first: bool = False) -> None:
        """Add a subscriber; `first` puts it before the others (the configuration reload
        runs before the boards' snapshot of the same event)."""
        with self._lock:
            if first:
                self._subscribers.insert(0, subscriber)
            else:
                self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def subscribe_control(self, subscriber: ControlSubscriber) -> None:
        with self._lock:
            self._control_subscribers.append(subscriber)

    def unsubscribe_control(self, subscriber: ControlSubscriber) -> None:
        with self._lock:
            if subscriber in self._control_subscribers:
                self._control_subscribers.remove(subscriber)

    def publish(self, event: TicketEvent) -> None:
        """Hand a committed event to the subscribers (asynchronously, in order)."""
        self._deliver_locally(event)

    def publish_control(self, event: ControlEvent) -> None:
        """Hand a control event to this process's control subscribers (and, with Redis,
        every other process's)."""
        self._deliver_locally(event)

    def defer(self, key: str, work: Callable[[], None], delay: float, at_most: float) -> None:
        """Run `work` on the dispatcher thread once no event has been waiting and `delay`
        seconds passed without another `defer` of the same key, but never later than
        `at_most` seconds after the first one that is still waiting.

        For a subscriber that sends whole pictures (the board's snapshot): a burst of
        changes costs one picture, built after the burst, and the events of the burst
        are delivered first. Queued events always go before deferred work that is due,
        until its `at_most` is reached.
        """
        now = time.monotonic()
        with self._idle:
            waiting = self._deferred.get(key)
            if waiting is None:
                self._pending += 1
                self._deferred[key] = _Deferred(work, now + delay, now + at_most)
            else:
                waiting.work = work
                waiting.due = min(now + delay, waiting.deadline)
        if threading.current_thread() is not self._thread:
            self._ensure_thread()
            self._queue.put(_WAKE)  # the dispatcher may be asleep on an older deadline

    def _deliver_locally(self, event: TicketEvent | ControlEvent) -> None:
        self._ensure_thread()
        with self._idle:
            self._pending += 1
        self._queue.put(event)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="giliran-events", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            with self._idle:
                wake = min((d.due for d in self._deferred.values()), default=None)
            try:
                if wake is None:
                    event = self._queue.get()
                else:
                    event = self._queue.get(timeout=max(0.0, wake - time.monotonic()))
            except queue.Empty:
                self._run_deferred(overdue_only=False)
                continue
            if event is None:
                return
            if event is not _WAKE:
                self._dispatch(event)
            # Events first; deferred work waits for a quiet queue unless it is overdue.
            self._run_deferred(overdue_only=not self._queue.empty())

    def _dispatch(self, event: TicketEvent | ControlEvent) -> None:
        with self._lock:
            subscribers: list[Any] = list(
                self._control_subscribers if isinstance(event, ControlEvent)
                else self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # a broken subscriber must not stop the others
                log.exception("event subscriber %r failed", subscriber)
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _run_deferred(self, overdue_only: bool) -> None:
        now = time.monotonic()
        with self._idle:
            ready = [(key, d) for key, d in self._deferred.items()
                     if (d.deadline if overdue_only else d.due) <= now]
            for key, _ in ready:
                del self._deferred[key]
        for key, deferred in ready:
            try:
                deferred.work()
            except Exception:
                log.exception("deferred work %r failed", key)
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every published event was delivered and the deferred work it
        asked for has run (tests, shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=2)


class _Order:
    """Where an office's events stand in one process: the last version delivered and the
    later ones waiting for those before them."""

    __slots__ = ("last", "held")

    def __init__(self) -> None:
        self.last: int | None = None
        self.held: dict[int, TicketEvent] = {}


class RedisEventBus(EventBus):
    """Events go through Redis so that every process sees every office's events.

    If Redis cannot be reached, the event is still delivered in this process: a single
    server keeps its own boards and terminals current.
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self._origin = uuid.uuid4().hex
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                           socket_keepalive=True,
                                           socket_keepalive_options=KEEPALIVE)
        self._stopping = threading.Event()
        # Per office: the events in version order (see the module's text).
        self._order_lock = threading.Lock()
        self._orders: dict[str, _Order] = {}
        # The envelopes to publish, with the time.monotonic() they were queued.
        self._outgoing: queue.Queue[tuple[float, str] | None] = queue.Queue()
        self._publisher = threading.Thread(target=self._send, name="giliran-redis-publish",
                                           daemon=True)
        self._listener = threading.Thread(target=self._listen, name="giliran-redis", daemon=True)
        self._publisher.start()
        self._listener.start()
        # A command-line process publishes and exits: what it queued goes out first.
        atexit.register(_flush_at_exit, weakref.ref(self))

    def publish(self, event: TicketEvent) -> None:
        envelope = json.dumps({"origin": self._origin, "event": event.to_json()})
        # Local subscribers get the event directly: a Redis outage never silences this
        # process's own boards, and the listener skips our own envelopes.
        self._in_order(event)
        self._outgoing.put((time.monotonic(), envelope))

    def publish_control(self, event: ControlEvent) -> None:
        """As publish: here at once, to the other processes through the publisher thread
        (a revocation or a sound check made while Redis hangs never waits for it; the
        other processes still refuse a revoked device through the database)."""
        envelope = json.dumps({"origin": self._origin, "control": event.to_json()})
        self._deliver_locally(event)
        self._outgoing.put((time.monotonic(), envelope))

    # --- version order -------------------------------------------------------------
    def _in_order(self, event: TicketEvent) -> None:
        """Deliver `event` once the versions before it were (or HOLD passed)."""
        office = event.office
        with self._order_lock:
            order = self._orders.setdefault(office, _Order())
            if order.last is not None and event.version > order.last + 1:
                order.held[event.version] = event
                wait = True
            else:
                # The next one, the first this process sees, or one that comes after its
                # successors were delivered (HOLD passed; a restored database): now.
                wait = False
                self._deliver_locally(event)
                if order.last is None or event.version > order.last:
                    order.last = event.version
                while order.last + 1 in order.held:
                    order.last += 1
                    self._deliver_locally(order.held.pop(order.last))
        if wait:
            self.defer(f"events-order:{office}", lambda: self._release(office), HOLD, HOLD)

    def _release(self, office: str) -> None:
        """HOLD passed: what still waits is delivered, in order (the versions it waited
        for had no event here, or theirs was lost)."""
        with self._order_lock:
            order = self._orders.get(office)
            if order is None or not order.held:
                return
            for version in sorted(order.held):
                self._deliver_locally(order.held.pop(version))
                order.last = max(order.last or 0, version)

    # --- publishing ----------------------------------------------------------------
    def _send(self) -> None:
        """The publisher thread: the queued envelopes, in order, to Redis."""
        failing = False
        dropped = 0
        while True:
            try:
                item = self._outgoing.get(timeout=RETRY_SECONDS if failing else None)
            except queue.Empty:
                item = None if self._stopping.is_set() else (time.monotonic(), "")
            if item is None:
                return
            queued_at, envelope = item
            try:
                if envelope and time.monotonic() - queued_at > MAX_DELAY:
                    dropped += 1  # too late to be news: the resync after this shows it
                    continue
                try:
                    if envelope:
                        self._redis.publish(CHANNEL, envelope)
                    else:
                        self._redis.ping()
                except Exception as exc:  # Redis away: other processes miss it, not this one
                    if not failing:
                        log.warning("redis publish failed (%s); events delivered locally "
                                    "only until it is back", exc)
                    failing = True
                    dropped += 1 if envelope else 0
                    continue
                if failing or dropped:
                    log.warning("redis is back; %d events did not reach the other "
                                "processes: they resync their boards", dropped)
                    self.publish_control(ControlEvent(RESYNC, "office:*"))
                    failing, dropped = False, 0
            finally:
                if envelope:
                    self._outgoing.task_done()

    def _flush(self, timeout: float) -> None:
        """Wait until what was queued for Redis was published (or dropped)."""
        deadline = time.monotonic() + timeout
        while (self._publisher.is_alive() and self._outgoing.unfinished_tasks
               and time.monotonic() < deadline):
            time.sleep(0.01)

    # --- listening -----------------------------------------------------------------
    def _listen(self) -> None:
        subscribed_before = False
        while not self._stopping.is_set():
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                try:
                    pubsub.subscribe(CHANNEL)
                    if subscribed_before:
                        # Whatever was published while we were not subscribed is lost:
                        # this process's boards get the whole picture again.
                        log.warning("redis listener subscribed again; resyncing boards")
                        self._deliver_locally(ControlEvent(RESYNC, "office:*"))
                    subscribed_before = True
                    for message in pubsub.listen():
                        if self._stopping.is_set():
                            return
                        self._received(message)
                finally:
                    pubsub.close()
            except Exception as exc:
                log.warning("redis listener lost (%s); retrying", exc)
                self._stopping.wait(1.0)

    def _received(self, message: dict[str, Any]) -> None:
        try:
            data = json.loads(message["data"])
            if data["origin"] == self._origin:
                return
            if "control" in data:
                self._deliver_locally(ControlEvent.from_json(data["control"]))
            else:
                self._in_order(TicketEvent.from_json(data["event"]))
        except (ValueError, TypeError, KeyError) as exc:
            # One message this process cannot read is skipped; the others keep coming on
            # the same subscription.
            log.warning("unreadable event on the bus skipped (%s)", exc)

    def close(self) -> None:
        self._flush(MAX_DELAY)
        self._stopping.set()
        self._outgoing.put(None)
        super().close()


def _flush_at_exit(ref: weakref.ref[RedisEventBus]) -> None:
    bus = ref()
    if bus is not None:
        bus._flush(MAX_DELAY)
