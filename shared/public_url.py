"""Is the address printed in the ticket QR one that applicants' phones can open?

`public_url_warning(config)` is shared by the start-up log and the staff pages (the
supervisor view now, the admin console later): None when `[server] public_url` is set to
an address that is not loopback, else a bilingual warning naming what the QR would hold.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from shared.config import Config
from shared.i18n import bilingual

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def is_loopback_host(host: str) -> bool:
    """True for localhost, 127.0.0.0/8, ::1 and the wildcard 0.0.0.0 / :: (no phone can
    reach an address that only means "this machine")."""
    name = host.strip("[]").lower().rstrip(".")
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def public_url_warning(config: Config) -> dict[str, Any] | None:
    """{"code", "qr_base", "message": {"id", "en"}} when phones could not open the QR."""
    base = config.base_url
    if not config.public_url:
        message = (
            "[server] public_url is empty: ticket QR codes point at {base}, which applicants' "
            "phones cannot open. Set public_url to the address phones use (see "
            "docs/deployment.md)."
        )
        return {"code": "public_url_empty", "qr_base": base,
                "message": bilingual(message, base=base)}
    host = urlsplit(config.public_url).hostname or ""
    if is_loopback_host(host):
        message = (
            "[server] public_url is {base}, an address of this machine only: applicants' "
            "phones cannot open the ticket QR codes. Use the address phones reach (see "
            "docs/deployment.md)."
        )
        return {"code": "public_url_loopback", "qr_base": base,
                "message": bilingual(message, base=base)}
    return None


__all__ = ["is_loopback_host", "public_url_warning"]
