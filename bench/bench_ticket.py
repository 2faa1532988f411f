"""B3: from a ticket to ESC/POS bytes ready to send, and what those bytes cost on a wire.

Run: .venv/bin/python bench/bench_ticket.py [--renders 500]
Prints a markdown table: render time p50/p99, bytes per ticket with native QR and with
image QR, and the transfer time at 9600 baud 8N1 (ten bits per byte).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# Stand-alone: the repository root, not bench/, must be importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hardware.printing import (  # noqa: E402
    Capabilities,
    TicketPrint,
    render_preview_png,
    render_ticket,
)

BAUD = 9600


def ticket(n: int) -> TicketPrint:
    # A different number and status token per render, as at a real kiosk.
    return TicketPrint(
        office_name="Kantor Imigrasi Kelas I TPI Denpasar",
        number=f"B{n % 1000:03d}",
        service_name_id="Paspor Baru",
        service_name_en="New passport",
        slot_start="09:00",
        slot_end="10:00",
        station_name_id="Pemeriksaan Berkas",
        station_name_en="Document check",
        position=1 + n % 40,
        estimated_wait_minutes=5 + n % 60,
        issued_at_local="24-11-2026 09:14 WITA",
        status_url=f"https://antrean.example.go.id/t/{n:08d}Xk3v9QpL2mNs8RtY",
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(caps: Capabilities, renders: int) -> tuple[float, float, float]:
    render_ticket(ticket(0), caps)  # first call loads the QR tables; not what a scan pays
    times: list[float] = []
    sizes: list[int] = []
    for n in range(renders):
        started = time.perf_counter()
        data = render_ticket(ticket(n), caps)
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(len(data))
    return percentile(times, 0.5), percentile(times, 0.99), statistics.mean(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=500)
    args = parser.parse_args()

    cases = [
        ("80 mm TM-T88V, native QR (GS ( k)", Capabilities.for_printer("TM-T88V", 80)),
        ("80 mm TM-T88V, image QR (GS v 0)", Capabilities.for_printer("TM-T88V", 80, "image")),
        ("58 mm POS-5890, image QR (GS v 0)", Capabilities.for_printer("POS-5890", 58)),
        ("58 mm RP-F10, native QR (GS ( k)", Capabilities.for_printer("RP-F10-58mm", 58)),
    ]
    print(f"B3 ticket rendering, {args.renders} renders per row, Python {sys.version.split()[0]}")
    print()
    print("| printer / QR path | render p50 | render p99 | bytes per ticket | 9600 baud transfer |")
    print("|---|---|---|---|---|")
    for label, caps in cases:
        p50, p99, size = measure(caps, args.renders)
        wire = size * 10 / BAUD
        print(f"| {label} | {p50:.2f} ms | {p99:.2f} ms | {size:.0f} B | {wire:.2f} s |")

    preview_times = []
    for n in range(50):
        started = time.perf_counter()
        render_preview_png(ticket(n), 80)
        preview_times.append((time.perf_counter() - started) * 1000)
    print()
    print(
        f"Kiosk preview PNG (80 mm, 2x): p50 {percentile(preview_times, 0.5):.1f} ms, "
        f"p99 {percentile(preview_times, 0.99):.1f} ms over 50 renders."
    )
    print("Targets: bytes ready p99 <= 100 ms; a serial ticket under 2 s.")


if __name__ == "__main__":
    main()
