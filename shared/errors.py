"""Refusals: a 4xx answer with a code and a bilingual message, never a traceback."""

from __future__ import annotations

from typing import Any

from shared.i18n import bilingual

# Keyword values that also travel as fields of the error body (not only in the message).
EXTRA_FIELDS = ("retry_at", "field", "reason", "current_version", "choices", "ticket")


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        self.status = status
        self.code = code
        self.values = {k: v for k, v in extra.items() if not k.startswith("_")}
        self.message = bilingual(message, **self.values)
        self.extra = {k: v for k, v in extra.items() if k in EXTRA_FIELDS}
        super().__init__(f"{code}: {self.message['en']}")

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        error.update(self.extra)
        return {"error": error}
