"""The `[announce]` table of config.toml, checked and typed.

The core loader keeps the table raw (`Config.announce`); this module owns its meaning:

```toml
[announce]
numbers = "digits"   # "digits": "B nol satu dua"; "words": "B dua belas"
english = true       # the English sentence follows the Indonesian one
repeat = 1           # how many times the board speaks each call (1-5)
clips_dir = "var/clips"  # optional: the office's own recordings, same file names
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shared.config import ConfigError

NumberMode = Literal["digits", "words"]
NUMBER_MODES: tuple[NumberMode, ...] = ("digits", "words")
MAX_REPEAT = 5
ALLOWED_KEYS = ("numbers", "english", "repeat", "clips_dir")


@dataclass(frozen=True)
class AnnounceSettings:
    """How calls are spoken. The defaults are what an office gets without an [announce] table."""

    numbers: NumberMode = "digits"
    english: bool = True
    repeat: int = 1
    clips_dir: Path | None = None


def announce_defaults() -> dict[str, Any]:
    """What each key of `[announce]` an admin may change means when it is left out."""
    defaults = AnnounceSettings()
    return {"numbers": defaults.numbers, "english": defaults.english,
            "repeat": defaults.repeat}


def parse_announce(raw: Mapping[str, Any], base_dir: Path | None = None) -> AnnounceSettings:
    """Check the raw `[announce]` table and return typed settings.

    A relative `clips_dir` is taken relative to `base_dir` (the folder of config.toml) when
    given. Raises `ConfigError` naming the key for any unknown key or bad value.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError("announce", f"expected a table, got {raw!r}")
    for key in raw:
        if key not in ALLOWED_KEYS:
            raise ConfigError(
                f"announce.{key}", f"unknown key; expected one of: {', '.join(ALLOWED_KEYS)}"
            )

    numbers = raw.get("numbers", "digits")
    if numbers not in NUMBER_MODES:
        raise ConfigError("announce.numbers", f'expected "digits" or "words", got {numbers!r}')

    english = raw.get("english", True)
    if not isinstance(english, bool):
        raise ConfigError("announce.english", f"expected true or false, got {english!r}")

    repeat = raw.get("repeat", 1)
    if isinstance(repeat, bool) or not isinstance(repeat, int):
        raise ConfigError("announce.repeat", f"expected a whole number, got {repeat!r}")
    if not 1 <= repeat <= MAX_REPEAT:
        raise ConfigError("announce.repeat", f"expected 1 to {MAX_REPEAT}, got {repeat}")

    clips_dir: Path | None = None
    if "clips_dir" in raw:
        value = raw["clips_dir"]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError("announce.clips_dir", f"expected a folder path, got {value!r}")
        clips_dir = Path(value.strip()).expanduser()
        if base_dir is not None and not clips_dir.is_absolute():
            clips_dir = base_dir / clips_dir
        if not clips_dir.is_dir():
            raise ConfigError("announce.clips_dir", f"folder not found: {clips_dir}")

    return AnnounceSettings(numbers=numbers, english=english, repeat=repeat, clips_dir=clips_dir)
