"""The [announce] table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from display.announce.settings import AnnounceSettings, parse_announce
from shared.config import ConfigError, load_config


def test_defaults() -> None:
    assert parse_announce({}) == AnnounceSettings("digits", True, 1, None)


def test_all_keys(tmp_path: Path) -> None:
    (tmp_path / "clips").mkdir()
    settings = parse_announce(
        {"numbers": "words", "english": False, "repeat": 2, "clips_dir": "clips"}, tmp_path
    )
    assert settings == AnnounceSettings("words", False, 2, tmp_path / "clips")


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"numbers": "letters"}, "announce.numbers"),
        ({"numbers": 1}, "announce.numbers"),
        ({"english": "yes"}, "announce.english"),
        ({"repeat": 0}, "announce.repeat"),
        ({"repeat": 6}, "announce.repeat"),
        ({"repeat": True}, "announce.repeat"),
        ({"repeat": 1.5}, "announce.repeat"),
        ({"clips_dir": ""}, "announce.clips_dir"),
        ({"clips_dir": 3}, "announce.clips_dir"),
        ({"clips_dir": "/nonexistent/giliran-clips"}, "announce.clips_dir"),
        ({"voice": "id"}, "announce.voice"),
    ],
)
def test_bad_values_name_the_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_announce(raw)
    assert caught.value.key == key


def test_shipped_config_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "config.toml")
    settings = parse_announce(config.announce)
    assert settings.numbers in ("digits", "words")
    assert settings.repeat >= 1
