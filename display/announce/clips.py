"""Where the clip of a token lives: a URL for the board, a file for the server.

Shipped clips are under `display/static/audio/` (`chime.wav`, `id/*.wav`, `en/*.wav`) and
the display blueprint serves that folder at `/display/static/`, so the browser fetches
`/display/static/audio/id/nomor-antrian.wav`. An office that sets `[announce] clips_dir`
puts its own recordings there under the same names; the server then prefers them, and the
board should fetch clips through `/display/announce/clips/` (see `clip_url_prefix`), which
serves the office's file when it exists and the shipped one otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from display.announce.settings import AnnounceSettings

SHIPPED_CLIPS_DIR = Path(__file__).resolve().parent.parent / "static" / "audio"
AUDIO_URL_PREFIX = "/display/static/audio/"
OFFICE_CLIPS_URL_PREFIX = "/display/announce/clips/"

_TOKEN_RE = re.compile(r"chime|(?:id|en)/[a-z0-9]+(?:-[a-z0-9]+)*")


def is_token(token: str) -> bool:
    """True for a well-formed clip token (`chime`, `id/<word>`, `en/<word>`)."""
    return _TOKEN_RE.fullmatch(token) is not None


def _checked(token: str) -> str:
    if not is_token(token):
        raise ValueError(f"not a clip token: {token!r}")
    return token


def announce_urls(tokens: Iterable[str], prefix: str = AUDIO_URL_PREFIX) -> list[str]:
    """URLs of the clips, in order: ["/display/static/audio/chime.wav", ...]."""
    base = prefix if prefix.endswith("/") else prefix + "/"
    return [f"{base}{_checked(token)}.wav" for token in tokens]


def clip_url_prefix(settings: AnnounceSettings) -> str:
    """The URL prefix a board should use: the office route when the office has recordings."""
    return OFFICE_CLIPS_URL_PREFIX if settings.clips_dir is not None else AUDIO_URL_PREFIX


def clip_path(token: str, clips_dir: Path | None = None) -> Path | None:
    """The file to play for a token: the office's recording first, then the shipped clip."""
    name = f"{_checked(token)}.wav"
    for folder in (clips_dir, SHIPPED_CLIPS_DIR):
        if folder is not None:
            path = Path(folder) / name
            if path.is_file():
                return path
    return None


def missing_clips(tokens: Iterable[str], clips_dir: Path | None = None) -> list[str]:
    """Tokens with no file, e.g. a station `spoken` name the office has not recorded yet."""
    return [token for token in dict.fromkeys(tokens) if clip_path(token, clips_dir) is None]
