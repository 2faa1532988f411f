"""Wire protocols for LED number displays and call-button boxes.

A bus names its codec in config.toml (`codec = "stx"`). Supporting another vendor is
one new module with a `Codec` subclass and one line in `CODECS` below.
"""

from __future__ import annotations

from .base import (
    KEY_NEXT,
    KEY_RECALL,
    KEYS,
    MAX_ADDRESS,
    MIN_ADDRESS,
    Ack,
    Blink,
    Clear,
    Codec,
    Command,
    Decoder,
    Message,
    Nak,
    Press,
    Show,
    display_text,
)
from .line import LineCodec
from .stx import StxCodec

CODECS: dict[str, type[Codec]] = {
    StxCodec.name: StxCodec,
    LineCodec.name: LineCodec,
}


def get_codec(name: str) -> Codec:
    """A codec instance by its config name; KeyError if unknown."""
    return CODECS[name]()


__all__ = [
    "CODECS",
    "KEYS",
    "KEY_NEXT",
    "KEY_RECALL",
    "MAX_ADDRESS",
    "MIN_ADDRESS",
    "Ack",
    "Blink",
    "Clear",
    "Codec",
    "Command",
    "Decoder",
    "LineCodec",
    "Message",
    "Nak",
    "Press",
    "Show",
    "StxCodec",
    "display_text",
    "get_codec",
]
