"""Starting the office's hardware with the server and subscribing it to events.

Printers print kiosk tickets and, at a counter that has its own printer
(`[[printers]] id = "counter-<id>"`), the payment slip when a ticket finishes its last
station. Serial buses drive LED displays and turn call-button presses into calls.
Nothing here decides anything about the queue: it reacts to committed events and calls
the same service functions as the web terminal.
"""

from __future__ import annotations

import atexit
import logging
from typing import Any

from flask import Flask

from shared.clock import to_local
from shared.core import Core
from shared.events import TicketEvent

log = logging.getLogger(__name__)

PRIORITY_LABELS = {
    "lansia": ("Lansia", "Elderly"),
    "balita": ("Balita", "Small child"),
    "disabilitas": ("Disabilitas", "Disability"),
    "hamil": ("Ibu hamil", "Pregnant"),
    "sakit": ("Sakit", "Sick"),
}
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def ticket_print(core: Core, ticket: dict[str, Any]) -> Any:
    """The printed form of an API ticket (office time, bilingual names)."""
    from datetime import datetime

    from hardware.printing import TicketPrint

    office = core.office(ticket["office"])
    service = office.services.get(ticket["service"])
    station = office.stations.get(ticket["station"])
    issued = datetime.fromisoformat(ticket["issued_at"])
    group = PRIORITY_LABELS.get(ticket.get("priority_group") or "")
    slot = ticket.get("slot") or {}
    return TicketPrint(
        office_name=office.name,
        number=ticket["number"],
        service_name_id=service.name_id if service else ticket["service"],
        service_name_en=service.name_en if service else ticket["service"],
        slot_start=slot.get("start"),
        slot_end=slot.get("end"),
        station_name_id=station.name_id if station else ticket["station"],
        station_name_en=station.name_en if station else ticket["station"],
        position=int(ticket.get("position") or 0),
        estimated_wait_minutes=int(ticket.get("estimated_wait_minutes") or 0),
        issued_at_local=issued.strftime("%d-%m-%Y %H:%M ")
        + ZONE_NAMES.get(office.timezone, office.timezone),
        status_url=core.config.base_url + ticket["status_url"],
        priority_label=f"Prioritas: {group[0]} / Priority: {group[1]}" if group else None,
    )


def start_printing(app: Flask, core: Core) -> Any:
    from hardware.printing import PaymentSlip, PrintService, parse_printers

    service = PrintService(parse_printers(core.config.printers))
    core.printing = service
    atexit.register(service.close)
    printer_ids = set(service.health())

    def print_ticket(ticket: dict[str, Any], kiosk: str) -> dict[str, Any] | None:
        if kiosk not in printer_ids:
            return None
        job = service.submit(kiosk, ticket_print(core, ticket))
        return job.to_dict()  # type: ignore[no-any-return]

    app.extensions["giliran_print"] = print_ticket

    def print_slip(event: TicketEvent) -> None:
        printer = f"counter-{event.counter}"
        if event.kind != "done" or printer not in printer_ids:
            return
        office = core.office(event.office)
        service_cfg = office.services.get(str(event.ticket.get("service")))
        slip = PaymentSlip(
            office_name=office.name,
            number=str(event.ticket.get("number")),
            service_name_id=service_cfg.name_id if service_cfg else "",
            service_name_en=service_cfg.name_en if service_cfg else "",
            date_local=to_local(core.now(), office.tz).strftime("%d-%m-%Y"),
            pickup_id="Hari ini mulai 12:00" if service_cfg and service_cfg.express else None,
            pickup_en="Today from 12:00" if service_cfg and service_cfg.express else None,
        )
        service.submit(printer, slip, kind="slip")

    core.bus.subscribe(print_slip)
    return service


def start_serial(core: Core) -> Any:
    from hardware.serial.manager import BusManager
    from hardware.serial.settings import parse_buses
    from shared import visits
    from shared.errors import Refusal

    buses = parse_buses(core.config.serial, core.config.offices)
    if not buses:
        return None

    def on_press(office: str, counter: str, key: str) -> None:
        try:
            if key == "recall":
                state = visits.counter_state(core, office, counter)
                if state["current"] is not None:
                    visits.act(core, state["current"]["id"], "recall", f"button:{counter}",
                               (office,))
            else:
                visits.call_next(core, office, counter, f"button:{counter}")
        except Refusal as refusal:
            log.info("button %s at counter %s refused: %s", key, counter, refusal.code)

    from hardware.serial.current import current_numbers

    manager = BusManager(buses, core.bus, on_press, current=lambda: current_numbers(core))
    manager.start()
    core.devices["serial"] = manager
    atexit.register(manager.stop)
    return manager


def start_hardware(app: Flask, core: Core) -> None:
    start_printing(app, core)
    manager = start_serial(core)
    if manager is not None and getattr(manager, "simulators", None):
        from hardware.serial.sim_page import sim_blueprint

        app.register_blueprint(sim_blueprint, url_prefix="/sim/serial")
        app.extensions["giliran_serial_sim"] = manager
