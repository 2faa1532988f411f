"""Framed binary protocol: STX address command data ETX checksum, answered by ACK / NAK.

Frame (host to device, and button presses from device to host)::

    0x02 | A A | C | data ... | 0x03 | H H

    A A   address, two ASCII decimal digits "01".."99"
    C     command, one ASCII letter: S show, B blink, C clear, P press (device to host)
    data  S and B: the text, 1-8 of 0-9 A-Z -;  C: nothing;  P: "N" next or "R" recall
    H H   checksum: XOR of every byte from the first address digit up to and including
          ETX, written as two upper-case ASCII hex digits

Answer (device to host)::

    0x06 | A A      ACK: carried out
    0x15 | A A      NAK: refused (bad checksum, unknown command, text it cannot show)

Every byte inside a frame is printable ASCII, so STX, ETX, ACK and NAK never occur
inside one; that is why the checksum is sent as hex rather than as a raw byte. It makes
resynchronising exact: after any noise the next STX, ACK or NAK starts a message.
See docs/serial-protocols.md for worked examples.
"""

from __future__ import annotations

from .base import (
    KEY_NEXT,
    KEY_RECALL,
    MAX_TEXT,
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

STX = 0x02
ETX = 0x03
ACK = 0x06
NAK = 0x15

_STARTS = bytes([STX, ACK, NAK])
_KEY_BYTES = {KEY_NEXT: b"N", KEY_RECALL: b"R"}
_BYTE_KEYS = {value: key for key, value in _KEY_BYTES.items()}
_HEX = b"0123456789ABCDEF"
_DIGITS = b"0123456789"
#: Longest body between STX and ETX: two address digits, a command and the longest text.
_MAX_BODY = 2 + 1 + MAX_TEXT


def checksum(body: bytes) -> bytes:
    """XOR of `body` (address through ETX) as two upper-case hex digits."""
    value = 0
    for byte in body:
        value ^= byte
    return b"%02X" % value


def _address(value: int) -> bytes:
    return b"%02d" % check_address(value)


class StxCodec(Codec):
    name = "stx"

    def encode(self, message: Message) -> bytes:
        if isinstance(message, Ack):
            return bytes([ACK]) + _address(message.address)
        if isinstance(message, Nak):
            return bytes([NAK]) + _address(message.address)
        if isinstance(message, Show):
            command, data = b"S", check_text(message.text).encode("ascii")
        elif isinstance(message, Blink):
            command, data = b"B", check_text(message.text).encode("ascii")
        elif isinstance(message, Clear):
            command, data = b"C", b""
        elif isinstance(message, Press):
            if message.key not in _KEY_BYTES:
                raise ValueError(f"unknown key {message.key!r}")
            command, data = b"P", _KEY_BYTES[message.key]
        else:
            raise ValueError(f"not a message: {message!r}")
        body = _address(message.address) + command + data + bytes([ETX])
        return bytes([STX]) + body + checksum(body)

    def decoder(self) -> StxDecoder:
        return StxDecoder()


class _Incomplete(Exception):
    """The buffer holds the start of a message that may still become valid."""


class _Invalid(Exception):
    """The buffer's first byte cannot start a valid message."""


class StxDecoder(Decoder):
    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        messages: list[Message] = []
        while True:
            start = next((i for i, byte in enumerate(self._buffer) if byte in _STARTS), None)
            if start is None:
                self._buffer.clear()
                return messages
            del self._buffer[:start]
            try:
                message, length = self._parse(self._buffer)
            except _Incomplete:
                return messages
            except _Invalid:
                # Drop only the start byte: a real frame may begin inside the rejected one
                # (a torn frame followed by a whole one), and the scan above finds it.
                del self._buffer[:1]
                continue
            del self._buffer[:length]
            messages.append(message)

    @staticmethod
    def _parse(buffer: bytearray) -> tuple[Message, int]:
        kind = buffer[0]
        if kind in (ACK, NAK):
            if len(buffer) < 3:
                if any(byte not in _DIGITS for byte in buffer[1:]):
                    raise _Invalid
                raise _Incomplete
            digits = bytes(buffer[1:3])
            if any(byte not in _DIGITS for byte in digits) or digits == b"00":
                raise _Invalid
            address = int(digits)
            return (Ack(address) if kind == ACK else Nak(address)), 3

        end = None
        for index in range(1, min(len(buffer), _MAX_BODY + 2)):
            byte = buffer[index]
            if byte == ETX:
                end = index
                break
            if not 0x20 <= byte <= 0x7E:
                raise _Invalid
        if end is None:
            if len(buffer) >= _MAX_BODY + 2:
                raise _Invalid
            raise _Incomplete
        if len(buffer) < end + 3:
            if any(byte not in _HEX for byte in buffer[end + 1 :]):
                raise _Invalid
            raise _Incomplete
        body = bytes(buffer[1 : end + 1])
        if bytes(buffer[end + 1 : end + 3]) != checksum(body):
            raise _Invalid
        return _message(body[:-1]), end + 3


def _message(body: bytes) -> Message:
    """The message in a frame whose checksum matched; raises _Invalid for bad content."""
    if len(body) < 3 or any(byte not in _DIGITS for byte in body[:2]) or body[:2] == b"00":
        raise _Invalid
    address = int(body[:2])
    command, data = body[2:3], body[3:]
    try:
        if command == b"S":
            return Show(address, check_text(data.decode("ascii")))
        if command == b"B":
            return Blink(address, check_text(data.decode("ascii")))
    except ValueError:
        raise _Invalid from None
    if command == b"C" and not data:
        return Clear(address)
    if command == b"P" and data in _BYTE_KEYS:
        return Press(address, _BYTE_KEYS[data])
    raise _Invalid
