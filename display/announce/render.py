"""One WAV file for a whole call, joined from its clips on the server.

For players that cannot schedule clips themselves (a plain <audio> element, a PA system fed
by a URL). The clips are joined sample to sample, with no gap, into mono 16-bit PCM at
22050 Hz, the format of the shipped clips; an office recording in another PCM format
(8/24/32-bit, stereo, another rate) is converted on the way. Results are cached in memory,
keyed by the tokens and the office's clips folder.
"""

from __future__ import annotations

import io
import sys
import wave
from array import array
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from display.announce.clips import clip_path

RATE = 22050
SAMPLE_WIDTH = 2
CHANNELS = 1
CACHE_SIZE = 256


class ClipError(Exception):
    """A clip that is missing or cannot be read as PCM WAV."""

    def __init__(self, token: str, reason: str) -> None:
        self.token = token
        self.reason = reason
        super().__init__(f"clip {token!r}: {reason}")


def _to_int16(frames: bytes, sample_width: int) -> array:
    """Little-endian PCM samples of any common width as signed 16-bit samples."""
    samples = array("h")
    if sample_width == 2:
        samples.frombytes(frames[: len(frames) - len(frames) % 2])
        if sys.byteorder == "big":
            samples.byteswap()
    elif sample_width == 1:  # unsigned 8-bit
        samples.extend((byte - 128) << 8 for byte in frames)
    elif sample_width in (3, 4):
        step = sample_width
        usable = len(frames) - len(frames) % step
        samples.extend(
            int.from_bytes(frames[i + step - 2 : i + step], "little", signed=True)
            for i in range(0, usable, step)
        )
    else:
        raise ValueError(f"unsupported sample width {sample_width * 8} bits")
    return samples


def _to_mono(samples: array, channels: int) -> array:
    if channels == 1:
        return samples
    frames = len(samples) // channels
    return array(
        "h",
        (sum(samples[i * channels : (i + 1) * channels]) // channels for i in range(frames)),
    )


def _resample(samples: array, rate: int) -> array:
    """Linear interpolation to RATE; good enough for speech clips."""
    if rate == RATE or len(samples) < 2:
        return samples
    count = max(1, round(len(samples) * RATE / rate))
    ratio = (len(samples) - 1) / max(1, count - 1)
    out = array("h")
    for i in range(count):
        position = i * ratio
        left = int(position)
        right = min(left + 1, len(samples) - 1)
        fraction = position - left
        out.append(round(samples[left] * (1 - fraction) + samples[right] * fraction))
    return out


def read_clip(token: str, clips_dir: Path | None = None) -> bytes:
    """The clip's audio as mono 16-bit little-endian PCM at RATE. Raises ClipError."""
    path = clip_path(token, clips_dir)
    if path is None:
        raise ClipError(token, "no such clip")
    try:
        with wave.open(str(path), "rb") as clip:
            channels, width, rate = clip.getnchannels(), clip.getsampwidth(), clip.getframerate()
            frames = clip.readframes(clip.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise ClipError(token, f"{path}: {exc}") from None
    if (channels, width, rate) == (CHANNELS, SAMPLE_WIDTH, RATE):
        return frames[: len(frames) - len(frames) % 2]
    try:
        samples = _resample(_to_mono(_to_int16(frames, width), channels), rate)
    except ValueError as exc:
        raise ClipError(token, f"{path}: {exc}") from None
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


@lru_cache(maxsize=CACHE_SIZE)
def _render(tokens: tuple[str, ...], clips_dir: str | None) -> bytes:
    folder = Path(clips_dir) if clips_dir is not None else None
    pcm = b"".join(read_clip(token, folder) for token in tokens)
    out = io.BytesIO()
    with wave.open(out, "wb") as joined:
        joined.setnchannels(CHANNELS)
        joined.setsampwidth(SAMPLE_WIDTH)
        joined.setframerate(RATE)
        joined.writeframes(pcm)
    return out.getvalue()


def render_wav(tokens: Sequence[str], clips_dir: Path | str | None = None) -> bytes:
    """The clips of `tokens` joined without gaps into one WAV file (bytes).

    `clips_dir` is the office's own recordings folder, tried before the shipped clips.
    Raises ClipError when a clip is missing or unreadable, ValueError for a bad token.
    """
    return _render(tuple(tokens), str(clips_dir) if clips_dir is not None else None)


def clear_cache() -> None:
    """Forget joined files, e.g. after an office replaced its recordings."""
    _render.cache_clear()


def wav_duration(data: bytes) -> float:
    """Seconds of audio in a WAV file given as bytes."""
    with wave.open(io.BytesIO(data), "rb") as clip:
        return clip.getnframes() / clip.getframerate()
