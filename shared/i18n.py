"""People's text, Bahasa Indonesia first and English second, from gettext catalogues.

Source strings (msgid) are English; `shared/translations/id/LC_MESSAGES/messages.po` holds
the Indonesian. The catalogue is read once with Babel; `bilingual()` returns both languages
at once, which is what the API's refusal messages and the bilingual screens need.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("id", "en")


@cache
def catalogue(language: str) -> dict[str, str]:
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def gettext(language: str, message: str, **values: Any) -> str:
    text = catalogue(language).get(message, message) if language != "en" else message
    return text.format(**values) if values else text


def bilingual(message: str, **values: Any) -> dict[str, str]:
    """{"id": Indonesian, "en": English} for one catalogue message."""
    return {language: gettext(language, message, **values) for language in LANGUAGES}
