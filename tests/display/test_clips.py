"""The shipped clips: complete, in one format, small; and their URLs."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from display.announce.clips import (
    AUDIO_URL_PREFIX,
    OFFICE_CLIPS_URL_PREFIX,
    SHIPPED_CLIPS_DIR,
    announce_urls,
    clip_path,
    clip_url_prefix,
    is_token,
    missing_clips,
)
from display.announce.phrases import CHIME, VOCABULARY, build_announcement
from display.announce.settings import AnnounceSettings


def shipped() -> list[Path]:
    return sorted(SHIPPED_CLIPS_DIR.rglob("*.wav"))


def test_every_word_has_a_clip_and_no_clip_is_unused() -> None:
    names = {str(p.relative_to(SHIPPED_CLIPS_DIR).with_suffix("")) for p in shipped()}
    assert names == set(VOCABULARY) | {CHIME}


def test_clips_are_mono_16_bit_22050_and_small() -> None:
    for path in shipped():
        with wave.open(str(path)) as clip:
            assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, 22050)
            assert 0.1 < clip.getnframes() / 22050 < 2.0, path
    assert sum(p.stat().st_size for p in shipped()) < 3 * 1024 * 1024


def test_announce_urls() -> None:
    assert announce_urls(["chime", "id/nomor-antrian"]) == [
        "/display/static/audio/chime.wav",
        "/display/static/audio/id/nomor-antrian.wav",
    ]
    assert announce_urls(["en/one"], "/x") == ["/x/en/one.wav"]


@pytest.mark.parametrize("token", ["../secret", "id/../x", "fr/un", "id/", "ID/satu", "id/a b"])
def test_bad_tokens_are_refused(token: str) -> None:
    assert not is_token(token)
    with pytest.raises(ValueError):
        announce_urls([token])
    with pytest.raises(ValueError):
        clip_path(token)


def test_office_recordings_come_first(tmp_path: Path) -> None:
    (tmp_path / "id").mkdir()
    own = tmp_path / "id" / "loket.wav"
    own.write_bytes((SHIPPED_CLIPS_DIR / "id" / "satu.wav").read_bytes())
    assert clip_path("id/loket", tmp_path) == own
    assert clip_path("id/satu", tmp_path) == SHIPPED_CLIPS_DIR / "id" / "satu.wav"
    assert clip_path("id/tidak-ada", tmp_path) is None


def test_missing_clips_for_a_custom_station(tmp_path: Path) -> None:
    tokens = build_announcement("B012", "3", "loket prioritas").tokens
    assert missing_clips(tokens) == ["id/loket-prioritas"]
    (tmp_path / "id").mkdir()
    (tmp_path / "id" / "loket-prioritas.wav").write_bytes(
        (SHIPPED_CLIPS_DIR / "id" / "loket.wav").read_bytes()
    )
    assert missing_clips(tokens, tmp_path) == []


def test_url_prefix_follows_clips_dir(tmp_path: Path) -> None:
    assert clip_url_prefix(AnnounceSettings()) == AUDIO_URL_PREFIX
    assert clip_url_prefix(AnnounceSettings(clips_dir=tmp_path)) == OFFICE_CLIPS_URL_PREFIX
