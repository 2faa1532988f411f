"""The messages every serial codec speaks, and the two things a codec must provide.

Codecs are pure: bytes in, messages out, and back. They never touch a port, so they can
be tested with golden bytes and fed random noise without any hardware.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

#: Device addresses on one bus. Two decimal digits on the wire in both built-in codecs.
MIN_ADDRESS = 1
MAX_ADDRESS = 99

#: What an LED number display can show. Ticket numbers are a letter and three digits;
#: the margin allows vendor displays with longer texts, and the character set keeps every
#: byte of a frame printable, which is what lets the decoders resynchronise.
MAX_TEXT = 8
TEXT_PATTERN = re.compile(r"[0-9A-Z-]{1,8}")

#: Button keys as the rest of the application names them.
KEY_NEXT = "next"
KEY_RECALL = "recall"
KEYS = (KEY_NEXT, KEY_RECALL)


@dataclass(frozen=True)
class Show:
    """Host to device: show `text` steadily."""

    address: int
    text: str


@dataclass(frozen=True)
class Blink:
    """Host to device: show `text` blinking (a recall)."""

    address: int
    text: str


@dataclass(frozen=True)
class Clear:
    """Host to device: blank the display."""

    address: int


@dataclass(frozen=True)
class Press:
    """Device to host: a call button was pressed; key is "next" or "recall"."""

    address: int
    key: str


@dataclass(frozen=True)
class Ack:
    """Device to host: the last command to this address was carried out."""

    address: int


@dataclass(frozen=True)
class Nak:
    """Device to host: the last command to this address was refused (bad frame or data)."""

    address: int


Command = Show | Blink | Clear
Message = Show | Blink | Clear | Press | Ack | Nak


def check_address(address: int) -> int:
    if not MIN_ADDRESS <= address <= MAX_ADDRESS:
        raise ValueError(f"address {address} outside {MIN_ADDRESS}..{MAX_ADDRESS}")
    return address


def check_text(text: str) -> str:
    if not TEXT_PATTERN.fullmatch(text):
        raise ValueError(f"display text {text!r} is not 1-{MAX_TEXT} of 0-9 A-Z -")
    return text


def display_text(number: str) -> str | None:
    """The text to send for a ticket number, or None if no display could show it.

    Lower case is folded because LED segment displays have no lower case; anything else
    outside the character set is refused rather than silently mangled, so a display never
    shows a number that differs from the board's.
    """
    text = number.strip().upper()
    return text if TEXT_PATTERN.fullmatch(text) else None


class Decoder(ABC):
    """Incremental decoder: feed any slice of the byte stream, get whole messages back.

    A decoder never raises on input. Garbage and torn frames are dropped, and decoding
    resumes with the next well-formed frame.
    """

    @abstractmethod
    def feed(self, data: bytes) -> list[Message]:
        """Consume `data` and return the messages completed by it, in stream order."""


class Codec(ABC):
    """One wire protocol. Register new vendor protocols in `hardware.serial.codecs.CODECS`."""

    name: ClassVar[str]

    @abstractmethod
    def encode(self, message: Message) -> bytes:
        """The exact bytes for one message. Raises ValueError for an invalid message."""

    @abstractmethod
    def decoder(self) -> Decoder:
        """A fresh decoder (one per open port: a reopen must not inherit a torn frame)."""
