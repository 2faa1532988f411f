"""The ticket and the payment slip as bytes: golden files, read back, QR decoded."""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from hardware.printing import (
    Capabilities,
    PaymentSlip,
    TicketPrint,
    render_preview_png,
    render_slip,
    render_slip_preview_png,
    render_ticket,
)
from tests.hardware import escpos_reader
from tests.hardware.escpos_reader import decode_qr

GOLDEN = Path(__file__).parent / "golden"
# 80 mm Epson with native QR; 58 mm clone without it (image QR).
PROFILES = {
    "ticket-80mm-TM-T88V.bin": ("TM-T88V", 80),
    "ticket-58mm-POS-5890.bin": ("POS-5890", 58),
}


def _golden(name: str, data: bytes) -> bytes:
    path = GOLDEN / name
    if os.environ.get("GILIRAN_UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    return path.read_bytes()


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_printing_ticket_matches_golden_bytes(name: str, printer_ticket: TicketPrint) -> None:
    profile, width = PROFILES[name]
    data = render_ticket(printer_ticket, Capabilities.for_printer(profile, width))
    assert data == _golden(name, data)


def test_printing_profiles_choose_the_qr_path() -> None:
    assert Capabilities.for_printer("TM-T88V", 80).native_qr
    assert not Capabilities.for_printer("POS-5890", 58).native_qr
    assert not Capabilities.for_printer("TM-T88V", 80, qr="image").native_qr
    narrow = Capabilities.for_printer("simple", 58)
    assert (narrow.dots, narrow.columns) == (384, 32)


def test_printing_80mm_ticket_reads_back_with_native_qr(printer_ticket: TicketPrint) -> None:
    caps = Capabilities.for_printer("TM-T88V", 80)
    reading = escpos_reader.read(render_ticket(printer_ticket, caps))
    texts = reading.texts
    assert texts[0] == "Kantor Imigrasi Kelas I TPI Denpasar"
    number = next(line for line in reading.lines if line.text == "B012")
    assert (number.width, number.height, number.bold, number.align) == (5, 5, True, "center")
    assert "Nomor Antrean / Queue Number" in texts
    assert "Paspor Baru / New passport" in texts
    assert "Jadwal / Slot 09:00-10:00" in texts
    assert "  Pemeriksaan Berkas / Document check" in texts
    assert "Urutan / Position: 5" in texts
    assert "  24-11-2026 09:14 WITA" in texts
    assert "Tiket ini tanpa nama dan NIK." in texts
    # Indonesian before English wherever both are printed.
    assert texts.index("Pindai untuk cek status antrean") < texts.index(
        "Scan to check your status"
    )
    assert reading.rasters == []
    assert [qr.data.decode() for qr in reading.native_qr] == [printer_ticket.status_url]
    assert reading.native_qr[0].error_correction == "M"
    assert reading.cuts == 1
    for line in reading.lines:
        assert len(line.text) * line.width <= caps.columns, line.text


def test_printing_58mm_ticket_reads_back_with_image_qr(printer_ticket: TicketPrint) -> None:
    caps = Capabilities.for_printer("POS-5890", 58)
    reading = escpos_reader.read(render_ticket(printer_ticket, caps))
    assert reading.native_qr == []
    assert len(reading.rasters) == 1
    raster = reading.rasters[0]
    assert raster.mode == 3  # double width and height: a quarter of the bytes
    assert raster.image.width <= caps.dots
    assert reading.qr_texts() == [printer_ticket.status_url]
    texts = reading.texts
    # Too narrow for both languages on one line: English goes to the next line.
    assert texts[texts.index("  Pemeriksaan Berkas") + 1] == "  Document check"
    for line in reading.lines:
        assert len(line.text) * line.width <= caps.columns, line.text
    assert not caps.has_cutter and reading.cuts == 0  # a tear bar only: fed, not cut


def test_printing_walk_in_and_priority_lines(printer_ticket: TicketPrint) -> None:
    walk_in = dataclasses.replace(
        printer_ticket,
        number="P003",
        slot_start=None,
        slot_end=None,
        estimated_wait_minutes=0,
        priority_label="Prioritas: Lansia / Priority: Elderly",
    )
    reading = escpos_reader.read(render_ticket(walk_in, Capabilities.for_printer("TM-T88V", 80)))
    assert "Tanpa jadwal / Walk-in" in reading.texts
    wait = reading.texts.index("Perkiraan tunggu / Est. wait:")
    assert reading.texts[wait + 1] == "  segera / soon"
    label = next(line for line in reading.lines if "Lansia" in line.text)
    assert label.invert and label.bold
    after = reading.lines[reading.lines.index(label) + 1]
    assert not after.invert


def test_printing_a_reprint_of_a_called_ticket_has_no_position(
        printer_ticket: TicketPrint) -> None:
    """Scanned again while its number is called: no "position 0, soon" on the paper."""
    called = dataclasses.replace(printer_ticket, position=None)
    reading = escpos_reader.read(render_ticket(called, Capabilities.for_printer("TM-T88V", 80)))
    assert not any("Urutan" in text or "Perkiraan" in text for text in reading.texts)
    assert "B012" in " ".join(reading.texts)


def test_printing_non_ascii_text_is_folded_for_the_printer(printer_ticket: TicketPrint) -> None:
    ticket = dataclasses.replace(printer_ticket, office_name="Kantor Imigrasi \u2013 Déli")
    reading = escpos_reader.read(render_ticket(ticket, Capabilities.for_printer("TM-T88V", 80)))
    assert reading.texts[0] == "Kantor Imigrasi - Deli"
    assert set(reading.codepages) <= {0}


@pytest.mark.parametrize("width", [58, 80])
def test_printing_preview_png_shows_the_same_ticket(
    width: int, printer_ticket: TicketPrint
) -> None:
    png = render_preview_png(printer_ticket, width)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.width == Capabilities.for_width(width).dots * 2
    assert decode_qr(image) == [printer_ticket.status_url]


def _slip(**changes: object) -> PaymentSlip:
    slip = PaymentSlip(
        office_name="Kantor Imigrasi Kelas I TPI Denpasar",
        number="B012",
        service_name_id="Paspor Baru",
        service_name_en="New passport",
        date_local="24-11-2026",
        billing_code="820261124000123",
    )
    return dataclasses.replace(slip, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("profile,width", [("TM-T88V", 80), ("POS-5890", 58)])
def test_printing_payment_slip_tells_how_to_pay_and_collect(profile: str, width: int) -> None:
    caps = Capabilities.for_printer(profile, width)
    reading = escpos_reader.read(render_slip(_slip(), caps))
    joined = " ".join(line.text.strip() for line in reading.lines)
    assert "BUKTI PENGANTAR PEMBAYARAN" in joined
    assert "Nomor antrean / Ticket: B012" in joined
    assert "24-11-2026" in joined
    billing = reading.texts.index("Kode billing / Billing code:")
    assert "820261124000123" in reading.texts[billing + 1]
    for words in ("PNBP", "bank", "kantor pos", "online", "Simpan bukti pembayaran",
                  "3-5 hari kerja", "post office", "Keep the payment receipt",
                  "3-5 working days"):
        assert words in joined, words
    # Indonesian first.
    assert joined.index("Simpan bukti pembayaran") < joined.index("Keep the payment receipt")
    assert reading.cuts == (1 if caps.has_cutter else 0)
    for line in reading.lines:
        assert len(line.text) * line.width <= caps.columns, line.text


def test_printing_payment_slip_without_billing_code_and_express_pickup() -> None:
    slip = _slip(
        billing_code=None,
        pickup_id="Paspor dapat diambil hari ini mulai pukul 12:00.",
        pickup_en="Collect the passport today from 12:00.",
    )
    reading = escpos_reader.read(render_slip(slip, Capabilities.for_printer("TM-T88V", 80)))
    joined = " ".join(line.text.strip() for line in reading.lines)
    assert "M-Paspor" in joined
    assert "hari ini mulai pukul 12:00" in joined
    assert "3-5 hari kerja" not in joined
    png = render_slip_preview_png(slip, 80)
    assert Image.open(io.BytesIO(png)).height > 200
