"""The server-side joined WAV."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import pytest

from display.announce.clips import clip_path
from display.announce.phrases import build_announcement
from display.announce.render import (
    ClipError,
    clear_cache,
    read_clip,
    render_wav,
    wav_duration,
)


def clip_seconds(token: str, clips_dir: Path | None = None) -> float:
    path = clip_path(token, clips_dir)
    assert path is not None
    with wave.open(str(path)) as clip:
        return clip.getnframes() / clip.getframerate()


def write_wav(path: Path, seconds: float, rate: int, channels: int, width: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = bytearray()
    for i in range(int(seconds * rate)):
        value = math.sin(2 * math.pi * 440 * i / rate) * 0.5
        if width == 1:
            sample = bytes([int(128 + value * 127)])
        elif width == 2:
            sample = struct.pack("<h", int(value * 32767))
        else:
            sample = int(value * (2 ** (8 * width - 1) - 1)).to_bytes(width, "little", signed=True)
        frames += sample * channels
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(bytes(frames))


def test_joined_duration_is_the_sum_of_its_clips() -> None:
    tokens = build_announcement("B012", "W2", "ruang wawancara").tokens
    data = render_wav(tokens)
    expected = sum(clip_seconds(token) for token in tokens)
    assert abs(wav_duration(data) - expected) < 0.05
    with wave.open(io.BytesIO(data)) as joined:
        assert (joined.getnchannels(), joined.getsampwidth(), joined.getframerate()) == (
            1, 2, 22050,
        )


def test_joined_audio_is_the_clips_back_to_back() -> None:
    tokens = ["id/satu", "id/dua"]
    with wave.open(io.BytesIO(render_wav(tokens))) as joined:
        pcm = joined.readframes(joined.getnframes())
    assert pcm == read_clip("id/satu") + read_clip("id/dua")


def test_cached_by_tokens() -> None:
    clear_cache()
    first = render_wav(["chime", "id/satu"])
    assert render_wav(("chime", "id/satu")) is first
    assert render_wav(["chime", "id/dua"]) is not first


@pytest.mark.parametrize(
    ("rate", "channels", "width"), [(44100, 2, 2), (8000, 1, 1), (48000, 1, 3), (16000, 2, 4)]
)
def test_office_recordings_in_other_formats_are_converted(
    tmp_path: Path, rate: int, channels: int, width: int
) -> None:
    write_wav(tmp_path / "id" / "loket.wav", 0.5, rate, channels, width)
    data = render_wav(["id/nomor-antrian", "id/loket"], tmp_path)
    expected = clip_seconds("id/nomor-antrian") + 0.5
    assert abs(wav_duration(data) - expected) < 0.05


def test_missing_clip() -> None:
    with pytest.raises(ClipError) as caught:
        render_wav(["id/satu", "id/loket-prioritas"])
    assert caught.value.token == "id/loket-prioritas"


def test_unreadable_clip(tmp_path: Path) -> None:
    (tmp_path / "id").mkdir()
    (tmp_path / "id" / "loket.wav").write_bytes(b"RIFF not really a wave file")
    with pytest.raises(ClipError):
        render_wav(["id/loket"], tmp_path)


def test_bad_token() -> None:
    with pytest.raises(ValueError):
        render_wav(["../../etc/passwd"])
