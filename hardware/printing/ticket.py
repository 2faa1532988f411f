"""The queue ticket: what an applicant holds while waiting.

Bahasa Indonesia first, English second. The ticket carries no name and no ID number:
tickets get dropped on the floor of a waiting hall.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.printing.capabilities import Capabilities
from hardware.printing.layout import Block, LayoutBuilder, render_escpos, render_png


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on a ticket, already formatted by the core (office local time)."""

    office_name: str
    number: str  # "B012"
    service_name_id: str
    service_name_en: str
    slot_start: str | None  # "09:00"; None for a walk-in
    slot_end: str | None  # "10:00"
    station_name_id: str  # the first station of the flow
    station_name_en: str
    position: int | None  # place in its station's queue, 1 = next; None: not waiting
    estimated_wait_minutes: int
    issued_at_local: str  # "24-11-2026 09:14 WITA"
    status_url: str
    priority_label: str | None = None  # "Prioritas: Lansia / Priority: Elderly"


def ticket_layout(ticket: TicketPrint, caps: Capabilities) -> list[Block]:
    out = LayoutBuilder(caps)
    out.line(ticket.office_name, align="center", bold=True)
    out.rule()
    out.bilingual("Nomor Antrean", "Queue Number", align="center")
    out.line(ticket.number, align="center", bold=True, scale=caps.big_scale)
    if ticket.priority_label:
        out.line(f" {ticket.priority_label} ", align="center", bold=True, invert=True)
    out.feed()
    out.bilingual(ticket.service_name_id, ticket.service_name_en, align="center", bold=True)
    if ticket.slot_start and ticket.slot_end:
        out.line(f"Jadwal / Slot {ticket.slot_start}\u2013{ticket.slot_end}", align="center")
    else:
        out.line("Tanpa jadwal / Walk-in", align="center")
    out.rule()
    out.line("Menuju / Go to:")
    out.bilingual(ticket.station_name_id, ticket.station_name_en, bold=True, indent=2)
    if ticket.position is not None:  # a reprint of a called ticket has neither
        out.field("Urutan / Position", str(ticket.position))
        out.field("Perkiraan tunggu / Est. wait", _wait_text(ticket.estimated_wait_minutes))
    out.field("Waktu ambil / Issued", ticket.issued_at_local)
    out.rule()
    out.qr(ticket.status_url)
    out.feed()
    out.bilingual("Pindai untuk cek status antrean", "Scan to check your status", align="center")
    out.bilingual(
        "Tiket ini tanpa nama dan NIK.", "No name or ID number on this ticket.", align="center"
    )
    return out.blocks


def _wait_text(minutes: int) -> str:
    if minutes <= 0:
        return "segera / soon"
    return f"{minutes} menit / min"


def render_ticket(ticket: TicketPrint, caps: Capabilities) -> bytes:
    """ESC/POS bytes of the ticket for a printer with these capabilities, ending in a cut."""
    return render_escpos(ticket_layout(ticket, caps), caps)


def render_preview_png(ticket: TicketPrint, width_mm: int = 80, scale: int = 2) -> bytes:
    """The same ticket as a PNG for the kiosk screen (shown also when the printer fails)."""
    caps = Capabilities.for_width(width_mm)
    return render_png(ticket_layout(ticket, caps), caps, scale=scale)
