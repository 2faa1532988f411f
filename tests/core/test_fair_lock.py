"""The office lock is granted in arrival order, also to a waiter that a running holder
would otherwise overtake, and a waiter killed while queued does not stall the queue."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from shared.db import FairLock
from tests.scaleout.helpers import wait_for


def test_waiters_get_the_lock_in_the_order_they_asked() -> None:
    lock = FairLock()
    order: list[int] = []
    lock.acquire()

    def waiter(index: int) -> None:
        with lock:
            order.append(index)

    threads = []
    for index in range(6):
        thread = threading.Thread(target=waiter, args=(index,))
        thread.start()
        threads.append(thread)
        wait_for(lambda count=index + 1: len(lock._waiters) == count, 5,
                 "a waiter queued")
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == list(range(6))


def test_a_holder_that_asks_again_queues_behind_the_waiter() -> None:
    """A plain lock is usually taken back by the thread that just released it (it is
    running; the waiter still has to wake up): one kiosk could overtake the queue."""
    lock = FairLock()
    order: list[str] = []
    lock.acquire()

    def waiter() -> None:
        with lock:
            order.append("waiter")

    thread = threading.Thread(target=waiter)
    thread.start()
    wait_for(lambda: len(lock._waiters) == 1, 5, "the waiter queued")
    lock.release()
    with lock:
        order.append("holder again")
    thread.join(5)
    assert order == ["waiter", "holder again"]


def test_a_waiter_killed_in_the_queue_does_not_stall_it() -> None:
    """Under gevent (as served): a queued greenlet killed while waiting leaves the queue;
    one killed after the lock was handed to it hands it on."""
    script = textwrap.dedent("""
        from gevent import monkey; monkey.patch_all()
        import gevent
        from shared.db import FairLock

        lock = FairLock()
        got = []
        lock.acquire()

        def wait(name):
            with lock:
                got.append(name)

        doomed = gevent.spawn(wait, "doomed")
        gevent.sleep(0.01)
        survivor = gevent.spawn(wait, "survivor")
        gevent.sleep(0.01)
        doomed.kill()              # still queued: leaves the queue
        lock.release()
        survivor.join(2)
        assert got == ["survivor"], got

        lock.acquire()
        late = gevent.spawn(wait, "late")
        gevent.sleep(0.01)
        after = gevent.spawn(wait, "after")
        gevent.sleep(0.01)
        late.kill(block=False)     # lands first (callbacks run in order) ...
        lock.release()             # ... after the lock was handed to "late": handed on
        after.join(2)
        assert got == ["survivor", "after"], got
        assert not lock._waiters
        lock.acquire()             # and it is free again
        lock.release()
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=30)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
