"""Serial caller hardware: LED number displays and call buttons on RS-485 buses.

The application needs three names::

    buses = parse_buses(config.serial, config.offices)
    manager = BusManager(buses, event_bus, on_press)   # on_press(office, counter, key)
    manager.start(); ...; manager.health(); manager.stop()

and, in development, `hardware.serial.sim_page.init_sim_page(app, manager.simulators)`.
"""

from __future__ import annotations

from .manager import BusManager
from .settings import BusSettings, parse_buses

__all__ = ["BusManager", "BusSettings", "parse_buses"]
