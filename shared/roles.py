"""Who is who: the role names and the groups of roles each surface admits, in one place.

A staff account has one of `ACCOUNT_ROLES`; an enrolled device's role is its kind
(`DEVICE_KINDS`). Every module that decides by a role reads the names and groups here
(tests/core/test_roles.py checks that no other product module spells one).
"""

from __future__ import annotations

# Staff accounts.
OFFICER = "officer"
SUPERVISOR = "supervisor"
ADMIN = "admin"
BOOKING = "booking"  # the booking system's account: imports bookings, nothing else

# Devices: the role of an enrolled device is its kind.
KIOSK = "kiosk"
DISPLAY = "display"

ACCOUNT_ROLES: tuple[str, ...] = (OFFICER, SUPERVISOR, ADMIN, BOOKING)
DEVICE_KINDS: tuple[str, ...] = (KIOSK, DISPLAY)

# People who work the floor: counter terminal, walk-ins, boards, tickets.
STAFF: tuple[str, ...] = (OFFICER, SUPERVISOR, ADMIN)
# The supervisor's view, the staff list, reports and the boards' sound check.
SUPERVISORS: tuple[str, ...] = (SUPERVISOR, ADMIN)
REPORTS = SUPERVISORS
SOUND_CHECK = SUPERVISORS
# A kiosk, or staff on its behalf: check-in, following a print job.
KIOSK_AND_STAFF: tuple[str, ...] = (KIOSK, *STAFF)
# Who may import bookings and read the booking export.
BOOKING_IMPORT: tuple[str, ...] = (ADMIN, BOOKING)
# Who may follow a board: its REST snapshot and the /display namespace.
ADMITTED_TO_BOARD: tuple[str, ...] = (DISPLAY, KIOSK, *STAFF)
# Who may open the board page itself (a kiosk shows its own screen, not the board).
BOARD_PAGE: tuple[str, ...] = (DISPLAY, *STAFF)
# An account that logs in without a password (it holds an API token only).
PASSWORDLESS: tuple[str, ...] = (BOOKING,)

# What people read for a role (through the translation catalogue: "Petugas / Officer");
# the role's own name stays the identifier in forms, the API and the command line.
LABELS: dict[str, str] = {
    OFFICER: "Officer",
    SUPERVISOR: "Supervisor",
    ADMIN: "Administrator",
    BOOKING: "Booking system",
    KIOSK: "Kiosk",
    DISPLAY: "Board",
}
