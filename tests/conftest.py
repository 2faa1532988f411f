"""Fixtures shared by every room's tests: a configured core on a fresh database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(Path(".pytest_cache/escpos")))

import shared.reports.models  # noqa: E402,F401  (the reports' tables join the metadata)
from shared.clock import Clock  # noqa: E402
from shared.config import Config, load_config  # noqa: E402
from shared.core import Core  # noqa: E402
from shared.db import Database, make_engine  # noqa: E402
from shared.events import EventBus  # noqa: E402
from shared.models import Base  # noqa: E402
from tests.live import use_test_secrets  # noqa: E402

use_test_secrets()

ROOT = Path(__file__).resolve().parent.parent
# A Tuesday in office time (WITA): the fixtures' day.
DAY = "2026-12-01"


@pytest.fixture
def config() -> Config:
    return load_config(ROOT / "config.toml")


def make_core(config: Config, url: str, at: str = f"{DAY}T09:00") -> Core:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    clock = Clock()
    clock.start_at_local(datetime.fromisoformat(at), config.default_office.tz)
    clock.freeze(clock.now())
    core = Core(config, Database(engine), clock, EventBus())
    core.ensure_offices()
    return core


@pytest.fixture
def core(config: Config, tmp_path: Path) -> Iterator[Core]:
    core = make_core(config, f"sqlite:///{tmp_path / 'giliran.sqlite3'}")
    yield core
    core.close()
    core.db.engine.dispose()


def booking_row(code: str, start: str = "09:00", end: str = "10:00", *, day: str = DAY,
                service: str = "paspor-baru", group: str = "", office: str = "DPS",
                name: str = "Made Lestari") -> dict[str, str]:
    return {"code": code, "office": office, "date": day, "slot_start": start,
            "slot_end": end, "service": service, "priority_group": group, "name": name}


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    from tests.services import Postgres

    server = Postgres.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_core(postgres: object, config: Config,
                  request: pytest.FixtureRequest) -> Iterator[Core]:
    from tests.services import Postgres

    assert isinstance(postgres, Postgres)
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:50].lower()
    core = make_core(config, postgres.create_database(name))
    yield core
    core.close()
    core.db.engine.dispose()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[object]:
    from tests.services import Redis

    server = Redis.start()
    yield server
    server.stop()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


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
