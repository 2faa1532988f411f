"""Properties of the incremental decoders under noise, torn frames and bad checksums.

What a bus really delivers: bytes split anywhere, noise when a device powers up, a frame
cut off when a cable is pulled. The decoders must never crash, never report a button
press that is not on the wire, and pick up again at the next good frame.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.serial.codecs import (
    KEYS,
    Ack,
    Blink,
    Clear,
    Codec,
    Message,
    Nak,
    Press,
    Show,
    get_codec,
)

CODEC_NAMES = ["stx", "line"]

addresses = st.integers(min_value=1, max_value=99)
texts = st.from_regex(r"[0-9A-Z-]{1,8}", fullmatch=True)
presses = st.builds(Press, addresses, st.sampled_from(KEYS))
messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(Show, addresses, texts),
    st.builds(Blink, addresses, texts),
    st.builds(Clear, addresses),
    presses,
    st.builds(Ack, addresses),
    st.builds(Nak, addresses),
)


def feed_in_pieces(codec: Codec, data: bytes, cuts: list[int]) -> list[Message]:
    decoder = codec.decoder()
    decoded: list[Message] = []
    start = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]:
        decoded += decoder.feed(data[start:cut])
        start = cut
    return decoded


def on_the_wire(codec: Codec, message: Message, data: bytes) -> bool:
    """True if `data` holds the message's frame (a line's own terminator may differ)."""
    return codec.encode(message).rstrip(b"\r\n") in data


cuts = st.lists(st.integers(min_value=0, max_value=10_000), max_size=12)


@pytest.mark.parametrize("name", CODEC_NAMES)
@given(sent=st.lists(messages, max_size=12), pieces=cuts)
def test_round_trip_however_the_stream_is_split(name: str, sent: list[Message],
                                                pieces: list[int]) -> None:
    codec = get_codec(name)
    data = b"".join(codec.encode(m) for m in sent)
    assert feed_in_pieces(codec, data, pieces) == sent


@pytest.mark.parametrize("name", CODEC_NAMES)
@settings(max_examples=300)
@given(data=st.binary(max_size=400), pieces=cuts)
def test_random_bytes_never_crash_nor_invent_a_press(name: str, data: bytes,
                                                     pieces: list[int]) -> None:
    codec = get_codec(name)
    for message in feed_in_pieces(codec, data, pieces):
        assert isinstance(message, Show | Blink | Clear | Press | Ack | Nak)
        if isinstance(message, Press):
            assert on_the_wire(codec, message, data)


@st.composite
def noisy_streams(draw: st.DrawFn, codec: Codec) -> bytes:
    """Random bytes mixed with whole, torn and corrupted frames: nastier than plain noise."""
    parts: list[bytes] = []
    for _ in range(draw(st.integers(min_value=0, max_value=10))):
        kind = draw(st.sampled_from(["noise", "frame", "torn", "flipped"]))
        if kind == "noise":
            parts.append(draw(st.binary(max_size=12)))
            continue
        frame = codec.encode(draw(messages))
        if kind == "torn":
            frame = frame[: draw(st.integers(min_value=0, max_value=len(frame) - 1))]
        elif kind == "flipped":
            index = draw(st.integers(min_value=0, max_value=len(frame) - 1))
            frame = frame[:index] + bytes([draw(st.integers(0, 255))]) + frame[index + 1 :]
        parts.append(frame)
    return b"".join(parts)


@pytest.mark.parametrize("name", CODEC_NAMES)
@settings(max_examples=300)
@given(data=st.data(), pieces=cuts)
def test_noisy_streams_never_invent_a_press(name: str, data: st.DataObject,
                                            pieces: list[int]) -> None:
    codec = get_codec(name)
    stream = data.draw(noisy_streams(codec))
    for message in feed_in_pieces(codec, stream, pieces):
        if isinstance(message, Press):
            assert on_the_wire(codec, message, stream)


@pytest.mark.parametrize("name", CODEC_NAMES)
@settings(max_examples=300)
@given(garbage=st.binary(max_size=64), sent=st.lists(messages, min_size=1, max_size=6),
       pieces=cuts)
def test_recovers_at_the_next_good_frame_after_garbage(
    name: str, garbage: bytes, sent: list[Message], pieces: list[int]
) -> None:
    codec = get_codec(name)
    frames = b"".join(codec.encode(m) for m in sent)
    decoded = feed_in_pieces(codec, garbage + frames, pieces)
    assert decoded[len(decoded) - len(sent):] == sent
    for extra in decoded[: len(decoded) - len(sent)]:
        if isinstance(extra, Press):
            assert on_the_wire(codec, extra, garbage)


@pytest.mark.parametrize("name", CODEC_NAMES)
@given(torn=presses, cut=st.integers(min_value=0, max_value=20),
       sent=st.lists(messages, min_size=1, max_size=4), pieces=cuts)
def test_a_torn_press_is_dropped_and_the_next_frame_decodes(
    name: str, torn: Press, cut: int, sent: list[Message], pieces: list[int]
) -> None:
    codec = get_codec(name)
    whole = codec.encode(torn).rstrip(b"\r\n")
    partial = whole[: cut % len(whole)]
    frames = b"".join(codec.encode(m) for m in sent)
    assert feed_in_pieces(codec, partial + frames, pieces) == sent


@given(press=presses, index=st.integers(min_value=0), value=st.integers(0, 255),
       sent=st.lists(messages, min_size=1, max_size=4), pieces=cuts)
def test_stx_corrupted_press_is_never_reported(
    press: Press, index: int, value: int, sent: list[Message], pieces: list[int]
) -> None:
    codec = get_codec("stx")
    frame = codec.encode(press)
    index %= len(frame)
    if frame[index] == value:
        value ^= 0x01
    corrupted = frame[:index] + bytes([value]) + frame[index + 1 :]
    decoded = feed_in_pieces(codec, corrupted + b"".join(codec.encode(m) for m in sent), pieces)
    # One wrong byte never yields a press (XOR catches any single-byte change), and at
    # most costs nothing: the following frames all arrive.
    assert decoded[len(decoded) - len(sent):] == sent
    assert not any(isinstance(m, Press) for m in decoded[: len(decoded) - len(sent)])


@given(press=presses, checksum=st.from_regex(r"[0-9A-F]{2}", fullmatch=True),
       sent=st.lists(messages, min_size=1, max_size=4))
def test_stx_wrong_checksum_is_dropped(press: Press, checksum: str,
                                       sent: list[Message]) -> None:
    codec = get_codec("stx")
    frame = codec.encode(press)
    if frame[-2:] == checksum.encode():
        return
    bad = frame[:-2] + checksum.encode()
    assert codec.decoder().feed(bad + b"".join(codec.encode(m) for m in sent)) == sent
