"""Real-time status (DLE EOT n) as Epson documents it, shared by most ESC/POS clones.

Every status byte has bit 1 and bit 4 set and bits 0 and 7 clear; a byte that does not
look like that is noise (a printer echoing, a wrong baud rate) and is ignored.
"""

from __future__ import annotations

from typing import Literal

PrinterState = Literal["online", "paper_near_end", "paper_out", "offline", "unknown"]

DLE_EOT = b"\x10\x04"
QUERY_PRINTER = DLE_EOT + b"\x01"  # printer status: bit 3 = offline
QUERY_PAPER = DLE_EOT + b"\x04"  # roll paper sensor: bits 2,3 near end; bits 5,6 paper out

_OFFLINE = 0x08
_NEAR_END = 0x0C
_PAPER_OUT = 0x60


def is_status_byte(value: int) -> bool:
    return value & 0x93 == 0x12


def interpret(printer_byte: int | None, paper_byte: int | None) -> PrinterState:
    """The state from the answers to QUERY_PRINTER and QUERY_PAPER (None: no answer)."""
    paper = paper_byte if paper_byte is not None and is_status_byte(paper_byte) else None
    printer = printer_byte if printer_byte is not None and is_status_byte(printer_byte) else None
    # Paper first: a printer out of paper also reports itself offline, and "paper out" is
    # the message that tells staff what to do.
    if paper is not None and paper & _PAPER_OUT:
        return "paper_out"
    if printer is not None and printer & _OFFLINE:
        return "offline"
    if paper is not None and paper & _NEAR_END:
        return "paper_near_end"
    if printer is not None or paper is not None:
        return "online"
    return "unknown"
