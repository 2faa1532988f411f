"""Plain ASCII line protocol, for displays driven by a simple microcontroller or a terminal.

Every line is: one letter, two address digits, one space, a payload, then CR LF::

    L03 B012    host: show B012 on address 3
    F03 B012    host: show B012 blinking (flash) on address 3
    C03 CLR     host: blank address 3
    B03 N       device: button "next" pressed on address 3 (B03 R: "recall")
    A03 OK      device: acknowledged
    A03 NG      device: refused ("no good")

The host sends CR LF; the decoder accepts CR, LF or both as the end of a line. Because
every message has the space after the address and display texts have none, the end of a
line can only ever hold one message: the decoder takes the shortest tail of a line that
is a whole message, so noise or a torn line glued in front of a good one costs nothing.
Bytes outside printable ASCII (line noise) throw away the partial line.
"""

from __future__ import annotations

import re

from .base import (
    KEY_NEXT,
    KEY_RECALL,
    Ack,
    Blink,
    Clear,
    Codec,
    Decoder,
    Message,
    Nak,
    Press,
    Show,
    check_address,
    check_text,
)

_KEY_LETTERS = {KEY_NEXT: "N", KEY_RECALL: "R"}
_LETTER_KEYS = {value: key for key, value in _KEY_LETTERS.items()}
_LINE = re.compile(r"([LFCBA])(\d\d) ([0-9A-Z-]{1,8})")
_SHORTEST = 5  # "B03 N"
#: The longest message is "L03 " and an 8-character text; a partial line only needs to
#: keep that many trailing bytes to find it, however much noise came first.
_KEEP = 12


class LineCodec(Codec):
    name = "line"

    def encode(self, message: Message) -> bytes:
        address = check_address(message.address)
        if isinstance(message, Show):
            text = f"L{address:02d} {check_text(message.text)}"
        elif isinstance(message, Blink):
            text = f"F{address:02d} {check_text(message.text)}"
        elif isinstance(message, Clear):
            text = f"C{address:02d} CLR"
        elif isinstance(message, Press):
            if message.key not in _KEY_LETTERS:
                raise ValueError(f"unknown key {message.key!r}")
            text = f"B{address:02d} {_KEY_LETTERS[message.key]}"
        elif isinstance(message, Ack):
            text = f"A{address:02d} OK"
        elif isinstance(message, Nak):
            text = f"A{address:02d} NG"
        else:
            raise ValueError(f"not a message: {message!r}")
        return text.encode("ascii") + b"\r\n"

    def decoder(self) -> LineDecoder:
        return LineDecoder()


class LineDecoder(Decoder):
    def __init__(self) -> None:
        self._line = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        messages: list[Message] = []
        for byte in data:
            if byte in (0x0D, 0x0A):
                if self._line:
                    message = _tail_message(self._line.decode("ascii"))
                    if message is not None:
                        messages.append(message)
                    self._line.clear()
            elif 0x20 <= byte <= 0x7E:
                self._line.append(byte)
                if len(self._line) > _KEEP:
                    del self._line[0]
            else:
                self._line.clear()
        return messages


def _tail_message(line: str) -> Message | None:
    for start in range(len(line) - _SHORTEST, -1, -1):
        message = _parse(line[start:])
        if message is not None:
            return message
    return None


def _parse(text: str) -> Message | None:
    match = _LINE.fullmatch(text)
    if match is None:
        return None
    letter, digits, payload = match.groups()
    address = int(digits)
    if address == 0:
        return None
    if letter == "L":
        return Show(address, payload)
    if letter == "F":
        return Blink(address, payload)
    if letter == "C":
        return Clear(address) if payload == "CLR" else None
    if letter == "B":
        return Press(address, _LETTER_KEYS[payload]) if payload in _LETTER_KEYS else None
    if payload == "OK":
        return Ack(address)
    if payload == "NG":
        return Nak(address)
    return None
