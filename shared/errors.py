"""Refusals: a 4xx answer with a code and a bilingual message, never a traceback.

Also the parsing guards: a JSON body nested deeper than the parser can follow is a
`ValueError` like any other bad JSON (Flask answers 400), never a RecursionError that would
reach the catch-all as a 5xx with a traceback in the log. So is text with an unpaired
surrogate (`"\\ud800"`): JSON's grammar allows the escape, but no UTF-8 page, file or
database can hold the character, so a stored office name carrying it made every page of the
office answer 500.
"""

from __future__ import annotations

import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

from shared.i18n import bilingual

# Keyword values that also travel as fields of the error body (not only in the message).
EXTRA_FIELDS = ("retry_at", "field", "reason", "current_version", "choices", "ticket")


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with "nested too deeply" as an ordinary parse error."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)


#: The escape of a UTF-16 surrogate: only through one can parsed JSON hold a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """json.loads whose every failure on bad input is a ValueError, refusing text that
    cannot be written as UTF-8 (an unpaired surrogate) as well."""
    import json

    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    pattern: Any = _SURROGATE_ESCAPE if isinstance(data, str) else _SURROGATE_ESCAPE_BYTES
    if pattern.search(data) and not _encodable(value):  # a pair is a character; one alone not
        raise ValueError("JSON text with an unpaired surrogate")
    return value


def _encodable(value: Any) -> bool:
    """Whether every text in a parsed JSON value can be written as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


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
