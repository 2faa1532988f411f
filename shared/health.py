"""`GET /api/v1/health`: the database, every printer and every device, one state each.

The state table is documented in docs/devices.md ("Device health"). The answer is 503
when the database is down, a printer is in a problem state (`alert`), a serial bus is
down or one of its displays does not answer, or a connected board's sound is locked.
A board that is switched off (disconnected) is listed but does not fail the check.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from shared.core import Core


def _bad(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    if "alert" in entry:
        return bool(entry["alert"])
    return entry.get("status") == "down"


def health_report(core: Core) -> tuple[dict[str, Any], bool]:
    """The report and whether all is well."""
    status: dict[str, Any] = {"db": "ok", "printers": {}, "devices": {}}
    healthy = True
    try:
        with core.db.read() as session:
            session.execute(text("SELECT 1"))
    except Exception:
        status["db"] = "down"
        healthy = False
    if core.printing is not None:
        status["printers"] = core.printing.health()
        healthy = healthy and not any(p.get("alert") for p in status["printers"].values())
    for name, manager in core.devices.items():
        state = manager.health()
        status["devices"][name] = state
        healthy = healthy and not any(_bad(entry) for entry in state.values())
    return status, healthy


__all__ = ["health_report"]
