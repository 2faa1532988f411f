"""ESC/POS ticket and slip printing built on python-escpos.

python-escpos pickles its printer capability database when it is first imported, into a
fresh ``mkdtemp()`` directory unless ``ESCPOS_CAPABILITIES_PICKLE_DIR`` is set. A kiosk
that restarts many times a day would leave one directory in /tmp per start, so the
variable is set here, before any module of this package imports escpos.

python-escpos 3.1 also calls ``mkdtemp()`` when the variable *is* set (it is the default
argument of ``os.environ.get``), so the first import is made with the temporary directory
pointed at the cache directory, and the empty directory it leaves there is removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import tempfile
from pathlib import Path


def _capabilities_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for candidate in (
        Path(base) / "giliran" / "escpos",
        # A service account without a writable home still gets one fixed directory,
        # not a new one per start.
        Path(tempfile.gettempdir()) / "giliran-escpos",
    ):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return str(candidate)
    return tempfile.gettempdir()


if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", _capabilities_cache_dir())
else:
    # escpos opens the pickle for writing without creating the directory: a directory
    # named by someone else (a test run, a service unit) must exist before the import.
    try:
        Path(os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"]).mkdir(parents=True, exist_ok=True)
    except OSError:
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = _capabilities_cache_dir()


def _import_escpos_without_litter() -> None:
    if "escpos.capabilities" in sys.modules:
        return
    cache = Path(os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"])
    before = set(cache.iterdir())
    saved = tempfile.tempdir
    tempfile.tempdir = str(cache)
    # escpos writes its capabilities pickle on first import; two processes starting at
    # once (test workers, gunicorn) would read a half-written file. One at a time.
    with (cache / ".import.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            import escpos.capabilities  # noqa: F401
        finally:
            tempfile.tempdir = saved
            fcntl.flock(lock, fcntl.LOCK_UN)
    for entry in set(cache.iterdir()) - before - {cache / ".import.lock"}:
        if entry.is_dir() and entry.name.startswith("tmp"):
            with contextlib.suppress(OSError):
                entry.rmdir()  # only ever empty: escpos writes nothing into it


_import_escpos_without_litter()

# Imported after the environment is set: these modules import escpos.
from hardware.printing.capabilities import Capabilities  # noqa: E402
from hardware.printing.service import PrintJob, PrintService  # noqa: E402
from hardware.printing.settings import PrinterSettings, parse_printers  # noqa: E402
from hardware.printing.slip import PaymentSlip, render_slip, render_slip_preview_png  # noqa: E402
from hardware.printing.ticket import TicketPrint, render_preview_png, render_ticket  # noqa: E402

__all__ = [
    "Capabilities",
    "PaymentSlip",
    "PrintJob",
    "PrintService",
    "PrinterSettings",
    "TicketPrint",
    "parse_printers",
    "render_preview_png",
    "render_slip",
    "render_slip_preview_png",
    "render_ticket",
]
