"""Reading what a kiosk scanner typed: a bare code, a URL holding it, or a signed token.

Pure functions. A signed token is `GLR1.<payload>.<signature>`: the payload is base64url
JSON `{"c": code, "o": office, "d": date, "s": slot_start}`, the signature base64url
HMAC-SHA256 of the payload text with `[security] qr_hmac_key`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

CODE_RE = re.compile(r"[A-Za-z0-9-]{6,32}")
TOKEN_PREFIX = "GLR1."


class ScanError(ValueError):
    """The scan is unreadable (garbled) or forged (bad signature)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason  # unreadable | bad_signature
        super().__init__(reason)


@dataclass(frozen=True)
class ScannedBooking:
    code: str
    office: str | None = None
    date: str | None = None
    slot_start: str | None = None
    signed: bool = False


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_token(code: str, office: str, date: str, slot_start: str, key: str) -> str:
    """Make a signed booking token (used by the demo sheet and by booking systems)."""
    payload = _b64encode(
        json.dumps({"c": code, "o": office, "d": date, "s": slot_start},
                   separators=(",", ":")).encode()
    )
    signature = hmac.new(key.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{TOKEN_PREFIX}{payload}.{_b64encode(signature)}"


def parse_scan(text: str, code_pattern: str, hmac_key: str) -> ScannedBooking:
    """Extract the booking from scanner text. Raises ScanError."""
    text = text.strip()
    if not text or len(text) > 2048 or not text.isprintable():
        raise ScanError("unreadable")
    if text.startswith(TOKEN_PREFIX):
        return _parse_token(text, hmac_key)
    if CODE_RE.fullmatch(text):
        return ScannedBooking(code=text.upper())
    match = re.search(code_pattern, text)
    if match:
        candidate = match.group(match.lastindex or 0)
        if CODE_RE.fullmatch(candidate):
            return ScannedBooking(code=candidate.upper())
    raise ScanError("unreadable")


def _parse_token(text: str, hmac_key: str) -> ScannedBooking:
    parts = text[len(TOKEN_PREFIX):].split(".")
    if len(parts) != 2:
        raise ScanError("unreadable")
    payload, signature = parts
    try:
        given = _b64decode(signature)
    except (binascii.Error, ValueError):
        raise ScanError("unreadable") from None
    expected = hmac.new(hmac_key.encode(), payload.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise ScanError("bad_signature")
    try:
        data = json.loads(_b64decode(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ScanError("unreadable") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        raise ScanError("unreadable")
    code = data["c"]
    if not CODE_RE.fullmatch(code):
        raise ScanError("unreadable")
    fields = {k: data.get(k) for k in ("o", "d", "s")}
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        raise ScanError("unreadable")
    return ScannedBooking(code.upper(), fields["o"], fields["d"], fields["s"], signed=True)
