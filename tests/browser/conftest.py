"""Browser fixtures: Debian's Chromium through Playwright, against a live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live import ROOT, LiveServer

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """A running server on a fresh SQLite database; office clock Tuesday 09:00 WITA."""
    server = LiveServer(var=tmp_path, clock="2026-12-01T09:00",
                        database_url=f"sqlite:///{tmp_path / 'giliran.sqlite3'}")
    server.prepare()
    server.start()
    yield server
    server.stop()


class TestBrowser:
    """Chromium whose contexts let the tests' own `wait_for_function` strings run under
    the product's Content-Security-Policy (`bypass_csp`). One test loads every page
    without the bypass and checks that the policy blocks nothing of ours."""

    def __init__(self, browser: Any) -> None:
        self.real = browser

    def new_context(self, **options: Any) -> Any:
        options.setdefault("bypass_csp", True)
        return self.real.new_context(**options)

    def new_page(self, **options: Any) -> Any:
        options.setdefault("bypass_csp", True)
        return self.real.new_page(**options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        yield TestBrowser(browser)
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
