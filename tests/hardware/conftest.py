"""Fixtures for the hardware tests. Printing fixtures are prefixed printer_."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from hardware.printing import PrintService, TicketPrint, parse_printers
from tests.hardware.fake_printer import FakeNetworkPrinter


@pytest.fixture
def printer_ticket() -> TicketPrint:
    """The fixed ticket of the golden files: change it and the goldens must be redone."""
    return TicketPrint(
        office_name="Kantor Imigrasi Kelas I TPI Denpasar",
        number="B012",
        service_name_id="Paspor Baru",
        service_name_en="New passport",
        slot_start="09:00",
        slot_end="10:00",
        station_name_id="Pemeriksaan Berkas",
        station_name_en="Document check",
        position=5,
        estimated_wait_minutes=25,
        issued_at_local="24-11-2026 09:14 WITA",
        status_url="https://antrian.example.go.id/t/Xk3v9QpL2mNs8RtY",
        priority_label=None,
    )


@pytest.fixture
def printer_fake() -> Iterator[Callable[[str], FakeNetworkPrinter]]:
    """Start fake network printers on 127.0.0.1: ``printer_fake("paper_out")``."""
    started: list[FakeNetworkPrinter] = []

    def start(mode: str = "online") -> FakeNetworkPrinter:
        printer = FakeNetworkPrinter(mode)
        started.append(printer)
        return printer

    yield start
    for printer in started:
        printer.close()


@pytest.fixture
def printer_service() -> Iterator[Callable[..., PrintService]]:
    """Build a PrintService from [[printers]]-like dicts; closed after the test."""
    services: list[PrintService] = []

    def build(raw: Sequence[Mapping[str, Any]], **options: Any) -> PrintService:
        service = PrintService(parse_printers(raw), **options)
        services.append(service)
        return service

    yield build
    for service in services:
        service.close(timeout=0.5)
