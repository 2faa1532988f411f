"""How the process is served: gevent greenlets (production) or OS threads (tests, tools).

`giliran serve` runs gunicorn's gevent worker (shared/serving.py), which monkey-patches
the standard library before the application is imported: `threading.Thread` becomes a
greenlet, `threading.Lock` a gevent lock, sockets, `select` and `time.sleep` cooperate
with the one hub. Every websocket is then a few greenlets (kilobytes), not OS threads.

What does not cooperate blocks every connection of the process while it runs: a C call
that waits (a USB or device-file printer write, SQLite's busy handler) or a long stretch
of pure Python. The helpers here keep those off the hub:

- `run_in_os_thread` runs a blocking call on a real OS thread (gevent's thread pool)
  while the calling greenlet waits cooperatively;
- `cooperate` yields to other greenlets in long loops (a large booking import);
- `sleep` is a cooperative sleep for retry loops.

Under plain threading every helper does the obvious thing, so the code paths are the same
in tests and in production.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any


def is_green() -> bool:
    """True when gevent has monkey-patched threads in this process."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("threading"))


def async_mode() -> str:
    """Flask-SocketIO's async mode for this process."""
    return "gevent" if is_green() else "threading"


#: How long `cooperate` pauses under gevent: one turn of the hub's loop.
GREEN_PAUSE_SECONDS = 0.0005


def cooperate() -> None:
    """Let other greenlets (or threads) run, the hub's timers and sockets included: call
    every few hundred items, or every few tens of milliseconds, of a long loop.

    Under gevent a zero sleep runs only the greenlets already woken, never the hub's
    timers or its sockets: a sleeping board writer, a Socket.IO ping or gunicorn's
    heartbeat waited as long as the loop ran (about 1.2 s at a time in the simulator). A
    short timed sleep turns the hub's loop once."""
    time.sleep(GREEN_PAUSE_SECONDS if is_green() else 0)  # gevent.sleep under gevent


def give_way(passes: int = 1) -> None:
    """Under gevent, let the greenlets that are ready run `passes` times before this one
    goes on; under threads, nothing.

    Each pass runs the greenlets that were ready when it began, in the order they were
    woken. One pass runs the event dispatcher a commit just woke. What the dispatcher
    itself wakes (each board's websocket writer, when it emits a `called`) queues behind
    this greenlet, so those only run in the next pass."""
    if is_green():
        for _ in range(passes):
            time.sleep(0)  # gevent.sleep(0): the greenlets already woken, nothing more


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def run_in_os_thread(target: Callable[[], Any], name: str) -> Callable[[float], bool]:
    """Start `target` on a real OS thread; return `wait(timeout) -> finished`.

    Under gevent the thread comes from the hub's thread pool, so a device write that blocks
    in C (USB, /dev/usb/lp0, CUPS) holds one pool thread, never the hub. The waiting
    greenlet is woken through the hub, which is safe across threads. Without gevent this is
    a daemon thread and an Event.
    """
    if is_green():
        import gevent

        result = gevent.get_hub().threadpool.spawn(target)

        def wait_green(timeout: float) -> bool:
            result.wait(timeout)
            return bool(result.ready())

        return wait_green
    finished = threading.Event()

    def run() -> None:
        try:
            target()
        finally:
            finished.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    return finished.wait


def psycopg_wait(gen: Any, fileno: int, interval: float = 0.0,
                 timeout: float | None = None) -> Any:
    """psycopg's wait function on gevent's own watchers (`install_psycopg_wait`).

    psycopg drives each operation as a generator that yields what it waits for on the
    socket (read, write or both) and is sent what became ready. Under gevent psycopg
    picks `wait_poll`, which goes through gevent's emulation of `select.poll`: a poll
    object, its watchers, a result and a timeout built again at every wait, about 0.1 ms
    of the worker's CPU per pipelined round trip on the benchmarks' machine
    (docs/benchmarks.md, fifteenth round). Here one io watcher waits, and the hub hands
    back which events fired.

    `interval` (psycopg's periodic wake-up, so that a thread notices a signal) is not
    needed under gevent, where the hub delivers signals; `timeout` is kept: past it,
    psycopg's own `_WaitTimeout` is raised, as its wait functions do (`notifies(timeout=)`
    relies on it)."""
    from time import monotonic

    from gevent.hub import Waiter, get_hub
    from psycopg import errors

    hub = get_hub()
    loop = hub.loop
    deadline = None if timeout is None else monotonic() + timeout
    try:
        wanted = next(gen)
        while True:
            waiter = Waiter(hub)
            # psycopg's Wait.R / W / RW are 1 / 2 / 3, as libev's READ / WRITE flags;
            # what fired comes back the same way, as psycopg's Ready.R / W / RW.
            watcher = loop.io(fileno, int(wanted))
            watcher.start(waiter.switch, pass_events=True)
            timer = None
            if deadline is not None:
                timer = loop.timer(max(0.0, deadline - monotonic()))
                timer.start(waiter.switch, 0)
            try:
                fired = waiter.get()
            finally:
                watcher.stop()
                if timer is not None:
                    timer.stop()
            ready = fired & 3
            if not ready:
                raise errors._WaitTimeout("wait timeout expired")
            # A socket in error (the server went away) fires as readable and writable:
            # psycopg then reads, and libpq reports what happened.
            wanted = gen.send(ready)
    except StopIteration as stopped:
        return stopped.value


def install_psycopg_wait() -> None:
    """Under gevent, let psycopg wait through `psycopg_wait`; otherwise nothing (psycopg's
    C wait, which blocks the thread, is the right one for OS threads)."""
    if is_green():
        import psycopg.waiting

        psycopg.waiting.wait = psycopg_wait
