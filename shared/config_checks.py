"""config.toml checked with every room's own tables, without building the application.

The second composition root beside shared.app: it imports each room's `checks` module
only, which knows the room's settings and nothing of its web parts, so the command line
(`giliran serve`, `giliran staff`, ...) checks the whole file in a fraction of the time
it takes to import the rooms. Each room's room.py exposes the same `check_config`
(tests/core/test_layers.py holds the two lists together).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import counter.checks
import display.checks
import hardware.checks
import kiosk.checks
import shared.reports.checks
from shared import config as config_module
from shared.config import Config

# In the order of shared.app.ROOMS.
CHECKS: tuple[Callable[[Config], None], ...] = (
    kiosk.checks.check_config,
    display.checks.check_config,
    counter.checks.check_config,
    shared.reports.checks.check_config,
    hardware.checks.check_config,
)


def load_config(path: Path | None = None) -> Config:
    """config.toml checked with every room's own sections (printers, serial, announce...)."""
    return config_module.load_config(path, checks=list(CHECKS))
