"""Background chores of a serving process: the retention purge, run at start and every
few hours (it is idempotent), so personal data does not outlive `[retention]`."""

from __future__ import annotations

import logging
import threading

from shared.core import Core

log = logging.getLogger(__name__)


def start_housekeeping(core: Core, interval_seconds: float = 6 * 3600) -> threading.Event:
    """Start the chores on a daemon thread; set the returned event to stop them."""
    from shared.reports.retention import purge

    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                result = purge(core, "system")
                if result.names_erased:
                    log.info("retention: %d names erased", result.names_erased)
            except Exception:  # a database hiccup must not end the chores
                log.exception("retention purge failed; retrying later")
            stop.wait(interval_seconds)

    threading.Thread(target=run, name="giliran-housekeeping", daemon=True).start()
    return stop
