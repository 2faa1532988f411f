"""The end-of-service slip, printed at the counter when a ticket leaves its last station.

Offices hand out a "bukti pengantar pembayaran" at the end (Probolinggo study, seed 000):
the applicant pays the PNBP fee with the billing code at a bank, a post office or online,
keeps the receipt, and collects the passport after 3-5 working days. The slip says so in
both languages so staff need not repeat it to every applicant.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.printing.capabilities import Capabilities
from hardware.printing.layout import Block, LayoutBuilder, render_escpos, render_png


@dataclass(frozen=True)
class PaymentSlip:
    office_name: str
    number: str  # the ticket number, "B012"
    service_name_id: str
    service_name_en: str
    date_local: str  # "24-11-2026"
    billing_code: str | None = None  # from the immigration system, when the counter has it
    # Overrides of the pickup step, e.g. percepatan (express): "hari ini mulai 12:00".
    pickup_id: str | None = None
    pickup_en: str | None = None


def slip_layout(slip: PaymentSlip, caps: Capabilities) -> list[Block]:
    out = LayoutBuilder(caps)
    out.line(slip.office_name, align="center", bold=True)
    out.rule()
    out.bilingual("BUKTI PENGANTAR PEMBAYARAN", "PAYMENT SLIP", align="center", bold=True)
    out.feed()
    out.field("Nomor antrean / Ticket", slip.number)
    out.field("Tanggal / Date", slip.date_local)
    out.line("Layanan / Service:")
    out.bilingual(slip.service_name_id, slip.service_name_en, indent=2)
    out.line("Kode billing / Billing code:")
    if slip.billing_code:
        scale = 2 if len(slip.billing_code) <= out.width(2) else 1
        out.line(slip.billing_code, align="center", bold=True, scale=scale)
    else:
        out.bilingual(
            "Lihat aplikasi M-Paspor atau tanya petugas.",
            "See the M-Paspor app or ask the officer.",
            indent=2,
        )
    out.rule()
    out.bilingual("Langkah berikutnya", "Next steps", bold=True)
    out.hanging(
        "1. ",
        "Bayar PNBP paspor dengan kode billing di bank, kantor pos, atau secara online "
        "(m-banking, internet banking).",
    )
    out.hanging(
        "   ", "Pay the PNBP passport fee with the billing code at a bank, a post office or online."
    )
    out.hanging("2. ", "Simpan bukti pembayaran.")
    out.hanging("   ", "Keep the payment receipt.")
    pickup_id = slip.pickup_id or (
        "Paspor dapat diambil 3-5 hari kerja setelah pembayaran. "
        "Bawa slip ini dan bukti pembayaran."
    )
    pickup_en = slip.pickup_en or (
        "Collect the passport 3-5 working days after payment. "
        "Bring this slip and the receipt."
    )
    out.hanging("3. ", pickup_id)
    out.hanging("   ", pickup_en)
    out.rule()
    out.bilingual(
        "Bayar hanya PNBP resmi. Waspada calo.",
        "Pay only the official fee. Beware of brokers.",
        align="center",
    )
    return out.blocks


def render_slip(slip: PaymentSlip, caps: Capabilities) -> bytes:
    """ESC/POS bytes of the payment slip, ending in a cut."""
    return render_escpos(slip_layout(slip, caps), caps)


def render_slip_preview_png(slip: PaymentSlip, width_mm: int = 80, scale: int = 2) -> bytes:
    """The slip as a PNG, for a counter screen or when its printer is down."""
    caps = Capabilities.for_width(width_mm)
    return render_png(slip_layout(slip, caps), caps, scale=scale)
