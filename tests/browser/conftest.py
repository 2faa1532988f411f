"""Browser fixtures: Debian's Chromium through Playwright, against a live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import ROOT, LiveServer

ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """A running server on a fresh SQLite database; office clock Tuesday 09:00 WITA."""
    server = LiveServer(var=tmp_path, clock="2026-12-01T09:00",
                        database_url=f"sqlite:///{tmp_path / 'giliran.sqlite3'}")
    server.prepare()
    server.start()
    yield server
    server.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
