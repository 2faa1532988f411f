"""What every command checks before it starts, and how it says what it cannot use
(shared.cli, shared.reports.cli)."""

from __future__ import annotations

import os
from datetime import datetime


class Unusable(Exception):
    """Something of the installation (the environment, the database, a file) that a command
    cannot use: one line in both languages and an exit status, never a traceback."""

    def __init__(self, message_id: str, message_en: str, status: int = 1) -> None:
        super().__init__(f"{message_id} / {message_en}")
        self.status = status


#: The databases Giliran runs on (docs/deployment.md): SQLite and PostgreSQL (psycopg 3).
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def check_environment() -> None:
    """The environment variables a command reads before it builds a core: an unreadable
    GILIRAN_CLOCK or GILIRAN_DATABASE_URL is a one-line message and status 2."""
    raw_clock = os.environ.get("GILIRAN_CLOCK")
    if raw_clock:
        try:
            datetime.fromisoformat(raw_clock)
        except ValueError:
            raise Unusable(
                f"GILIRAN_CLOCK tidak terbaca: {raw_clock!r} (tanggal-waktu kantor, contoh "
                "2026-12-01T08:30; kosongkan untuk jam sebenarnya)",
                f"GILIRAN_CLOCK is not readable: {raw_clock!r} (an office local date-time, "
                "e.g. 2026-12-01T08:30; unset it for the real time)", 2) from None
    raw_url = os.environ.get("GILIRAN_DATABASE_URL")
    if raw_url:
        scheme = raw_url.split("://", 1)[0].lower() if "://" in raw_url else ""
        if scheme not in DATABASE_SCHEMES:
            shown = raw_url.split("@")[-1] if "@" in raw_url else raw_url
            raise Unusable(
                f"GILIRAN_DATABASE_URL tidak didukung: {shown!r} (gunakan "
                "postgresql://user:sandi@host/nama atau sqlite:////jalur/berkas.sqlite3)",
                f"GILIRAN_DATABASE_URL is not supported: {shown!r} (use "
                "postgresql://user:password@host/name or sqlite:////path/file.sqlite3)", 2)
