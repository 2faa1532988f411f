"""Golden frames of the serial codecs: the exact bytes docs/serial-protocols.md promises."""

from __future__ import annotations

import pytest

from hardware.serial.codecs import (
    CODECS,
    Ack,
    Blink,
    Clear,
    LineCodec,
    Message,
    Nak,
    Press,
    Show,
    StxCodec,
    display_text,
    get_codec,
)
from hardware.serial.codecs.stx import checksum

STX_GOLDEN: list[tuple[Message, str]] = [
    (Show(3, "B012"), "02 30 33 53 42 30 31 32 03 32 32"),
    (Blink(3, "B012"), "02 30 33 42 42 30 31 32 03 33 33"),
    (Clear(3), "02 30 33 43 03 34 33"),
    (Press(3, "next"), "02 30 33 50 4E 03 31 45"),
    (Press(12, "recall"), "02 31 32 50 52 03 30 32"),
    (Show(1, "P001"), "02 30 31 53 50 30 30 31 03 33 30"),
    (Show(12, "X105"), "02 31 32 53 58 31 30 35 03 33 46"),
    (Ack(3), "06 30 33"),
    (Nak(3), "15 30 33"),
]

LINE_GOLDEN: list[tuple[Message, bytes]] = [
    (Show(3, "B012"), b"L03 B012\r\n"),
    (Blink(3, "B012"), b"F03 B012\r\n"),
    (Clear(3), b"C03 CLR\r\n"),
    (Press(3, "next"), b"B03 N\r\n"),
    (Press(12, "recall"), b"B12 R\r\n"),
    (Ack(3), b"A03 OK\r\n"),
    (Nak(3), b"A03 NG\r\n"),
]


@pytest.mark.parametrize(("message", "frame"), STX_GOLDEN)
def test_stx_golden_frames(message: Message, frame: str) -> None:
    expected = bytes.fromhex(frame)
    assert StxCodec().encode(message) == expected
    assert StxCodec().decoder().feed(expected) == [message]


@pytest.mark.parametrize(("message", "frame"), LINE_GOLDEN)
def test_line_golden_frames(message: Message, frame: bytes) -> None:
    assert LineCodec().encode(message) == frame
    assert LineCodec().decoder().feed(frame) == [message]


def test_stx_checksum_is_xor_of_address_through_etx() -> None:
    body = b"03SB012\x03"
    value = 0
    for byte in body:
        value ^= byte
    assert checksum(body) == f"{value:02X}".encode() == b"22"


def test_stx_decoder_byte_by_byte() -> None:
    frames = b"".join(StxCodec().encode(m) for m, _ in STX_GOLDEN)
    decoder = StxCodec().decoder()
    decoded: list[Message] = []
    for byte in frames:
        decoded += decoder.feed(bytes([byte]))
    assert decoded == [m for m, _ in STX_GOLDEN]


def test_stx_rejects_bad_checksum_and_resynchronises() -> None:
    good = StxCodec().encode(Press(3, "next"))
    bad = good[:-2] + b"00"
    assert StxCodec().decoder().feed(bad + good) == [Press(3, "next")]


def test_stx_torn_frame_then_whole_frame() -> None:
    good = StxCodec().encode(Show(4, "A007"))
    torn = StxCodec().encode(Press(3, "next"))[:-1]
    assert StxCodec().decoder().feed(torn + good) == [Show(4, "A007")]


def test_stx_rejects_lower_case_checksum_and_bad_content() -> None:
    decoder = StxCodec().decoder()
    # Lower-case hex, address 00, unknown command, bad press key: all dropped.
    body = b"03PN\x03"
    assert checksum(body) == b"1E"
    assert decoder.feed(b"\x02" + body + b"1e") == []
    for body in (b"00C\x03", b"03X\x03", b"03PX\x03", b"03Sb12\x03", b"03C1\x03"):
        assert decoder.feed(b"\x02" + body + checksum(body)) == []
    assert decoder.feed(b"\x06\x30\x30\x15\x41\x42") == []


def test_line_accepts_cr_lf_or_both_and_ignores_blank_lines() -> None:
    decoder = LineCodec().decoder()
    assert decoder.feed(b"B03 N\nB04 R\r\r\n\nA05 OK\r") == [
        Press(3, "next"), Press(4, "recall"), Ack(5)]


def test_line_noise_before_a_line_costs_nothing() -> None:
    decoder = LineCodec().decoder()
    assert decoder.feed(b"L12 B03 N\r\n") == [Press(3, "next")]
    assert decoder.feed(b"\x00\xffB0xyzA03 OK\r\n") == [Ack(3)]
    assert decoder.feed(b"C03 XYZ\r\nB00 N\r\nB03 Q\r\nA03 MAYBE\r\n") == []


@pytest.mark.parametrize("name", sorted(CODECS))
def test_encoders_refuse_what_no_display_can_show(name: str) -> None:
    codec = get_codec(name)
    for message in (Show(3, "b012"), Show(3, ""), Show(3, "B012345678"), Show(100, "A001"),
                    Show(0, "A001"), Press(3, "maybe")):
        with pytest.raises(ValueError):
            codec.encode(message)


def test_registry_names_match_codec_names() -> None:
    assert set(CODECS) == {"stx", "line"}
    for name, codec_class in CODECS.items():
        assert codec_class.name == name


def test_display_text() -> None:
    assert display_text(" b012 ") == "B012"
    assert display_text("W001") == "W001"
    assert display_text("B 12") is None
    assert display_text("") is None
    assert display_text("Ä001") is None
