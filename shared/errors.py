"""Refusals: a 4xx answer with a code and a bilingual message, never a traceback.

Also the parsing guards: a JSON body nested deeper than the parser can follow is a
`ValueError` like any other bad JSON (Flask answers 400), never a RecursionError that would
reach the catch-all as a 5xx with a traceback in the log.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from shared.i18n import bilingual

# Keyword values that also travel as fields of the error body (not only in the message).
EXTRA_FIELDS = ("retry_at", "field", "reason", "current_version", "choices", "ticket")


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with "nested too deeply" as an ordinary parse error."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """json.loads whose every failure on bad input is a ValueError."""
    import json

    try:
        return json.loads(data, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


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
