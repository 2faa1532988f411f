"""Rate limits as an outsider meets them: shared by every process through Redis, keyed by
the real client address only behind trusted proxies, and by the kiosk (never a body field)
for check-ins. Every refusal is the bilingual 429 with Retry-After."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.config import Config, parse_config
from shared.core import Core
from tests.conftest import ROOT
from tests.live import LiveServer
from tests.scaleout.helpers import running_pair


def limited(config: Config, login: int = 1000, checkin: int = 1000,
            proxies: int = 0) -> Config:
    return replace(config, trusted_proxies=proxies, security=replace(
        config.security, login_rate_per_minute=login, checkin_rate_per_minute=checkin))


def app_for(core: Core, config: Config) -> Flask:
    core.config = config
    app = create_app(core=core)
    app.testing = True
    return app


def login(client: FlaskClient, **headers: str) -> Any:
    with client.session_transaction() as session:
        session["csrf"] = "token"
    return client.post("/login", data={"csrf": "token", "username": "nobody",
                                       "password": "wrong"},
                       headers={"Origin": "http://localhost", **headers})


def assert_rate_limited(status: int, headers: Any, body: dict[str, Any] | None) -> None:
    assert status == 429
    assert int(headers["Retry-After"]) >= 1
    if body is not None:
        assert body["error"]["code"] == "rate_limited"
        assert set(body["error"]["message"]) == {"id", "en"}


# --- two processes, one Redis ---------------------------------------------------------------
def live_login(server: LiveServer) -> requests.Response:
    with requests.Session() as browser:
        page = browser.get(f"{server.url}/login", timeout=10)
        match = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert match, page.text
        return browser.post(f"{server.url}/login", timeout=10,
                            data={"csrf": match.group(1), "username": "nobody",
                                  "password": "wrong"},
                            headers={"Origin": server.url, "Referer": f"{server.url}/login"})


@pytest.fixture
def pair(redis_server: object, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    from tests.services import Redis

    assert isinstance(redis_server, Redis)
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^login_rate_per_minute\s*=.*$", "login_rate_per_minute = 3", text)
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'giliran.sqlite3'}"
    # A fresh Redis database number per test keeps the counters of other tests apart.
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/7"
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    yield from running_pair(database, redis_url, tmp_path, hardware=(False, False),
                            config_path=config)


@pytest.mark.redis
def test_two_processes_share_the_login_limit_through_redis(
        pair: tuple[LiveServer, LiveServer]) -> None:
    a, b = pair
    assert [live_login(a).status_code for _ in range(2)] == [401, 401]
    assert live_login(b).status_code == 401
    # The fourth attempt from this address is refused by b, although b saw only one:
    refused = live_login(b)
    assert_rate_limited(refused.status_code, refused.headers, None)
    assert "Terlalu banyak" in refused.text and "Too many requests" in refused.text
    again = live_login(a)
    assert again.status_code == 429


def test_redis_unreachable_falls_back_to_memory(core: Core, config: Config,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.live import free_port

    monkeypatch.setenv("GILIRAN_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    client = app_for(core, limited(config, login=2)).test_client()
    codes = [login(client).status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def test_a_hung_redis_holds_a_login_half_a_second_not_two(core: Core, config: Config,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """A Redis that takes the connection and never answers (frozen, or a network that
    drops the answers): each login or check-in that asked it waited the 2 s socket
    timeout before the limits fell back to memory."""
    import time

    from tests.services import silent_server

    with silent_server() as port:
        monkeypatch.setenv("GILIRAN_REDIS_URL", f"redis://127.0.0.1:{port}/0")
        client = app_for(core, limited(config, login=2)).test_client()
        started = time.monotonic()
        assert login(client).status_code == 401
        assert time.monotonic() - started < 1.5
        assert [login(client).status_code for _ in range(2)] == [401, 429]  # in memory


# --- the client's address -------------------------------------------------------------------
def test_forwarded_for_is_ignored_without_trusted_proxies(core: Core, config: Config) -> None:
    client = app_for(core, limited(config, login=2)).test_client()
    codes = [login(client, **{"X-Forwarded-For": f"198.51.100.{i}"}).status_code
             for i in range(3)]
    # A client cannot pick a fresh bucket by sending the header itself.
    assert codes == [401, 401, 429]


def test_forwarded_for_is_the_client_behind_one_trusted_proxy(core: Core,
                                                              config: Config) -> None:
    client = app_for(core, limited(config, login=2, proxies=1)).test_client()
    # Every request arrives from the proxy (127.0.0.1), on behalf of different clients.
    first = [login(client, **{"X-Forwarded-For": "198.51.100.1"}).status_code
             for _ in range(3)]
    assert first == [401, 401, 429]
    assert login(client, **{"X-Forwarded-For": "198.51.100.2"}).status_code == 401
    # Only the last hop (the one our proxy added) counts: a forged earlier entry is ignored.
    forged = login(client, **{"X-Forwarded-For": "203.0.113.9, 198.51.100.1"})
    assert forged.status_code == 429


def test_trusted_proxies_is_a_checked_config_key() -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert parse_config(text).trusted_proxies == 0
    two = text.replace("trusted_proxies = 0", "trusted_proxies = 2")
    assert parse_config(two).trusted_proxies == 2
    from shared.config import ConfigError

    with pytest.raises(ConfigError, match="trusted_proxies"):
        parse_config(text.replace("trusted_proxies = 0", "trusted_proxies = -1"))


# --- the check-in limit belongs to the kiosk ------------------------------------------------
def bearer(token: str | None) -> dict[str, str]:
    assert token
    return {"Authorization": f"Bearer {token}"}


def test_checkin_limit_is_keyed_by_the_kiosk_not_the_body(core: Core, config: Config) -> None:
    client = app_for(core, limited(config, checkin=3)).test_client()
    officer = bearer(create_staff(core, "petugas", "pw", "officer", token=True))
    kiosks = [bearer(enrol_device(core, name, create_device(core, "kiosk", name))[1])
              for name in ("kiosk-1", "kiosk-2")]

    def scan(who: dict[str, str], kiosk: str | None = None) -> Any:
        body = {"scan": "UNKNOWN-77", **({"kiosk": kiosk} if kiosk else {})}
        return client.post("/api/v1/checkin", json=body, headers=who)

    # An officer naming another kiosk each time still spends one bucket: their own.
    codes = [scan(officer, f"kiosk-{1 + i % 2}").status_code for i in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    refused = scan(officer, "fresh-kiosk")
    assert_rate_limited(refused.status_code, refused.headers, refused.get_json())
    # ... and did not spend the kiosks' buckets.
    assert [scan(kiosks[0]).status_code for _ in range(4)] == [404, 404, 404, 429]
    assert scan(kiosks[1]).status_code == 404


def test_the_memory_limiter_starts_no_thread_per_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Redis the counters live in memory; counting a hit must not start a timer
    thread (a greenlet under gevent) each time, the largest cost of a check-in once. Old
    entries still expire (at most a second late) and the limit still holds."""
    import threading
    import time

    from shared.limits import LazyExpiryMemoryStorage, storage_uri

    monkeypatch.delenv("GILIRAN_REDIS_URL", raising=False)
    assert storage_uri() == "giliran-memory://"
    storage = LazyExpiryMemoryStorage()
    started: list[Any] = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    allowed = [storage.acquire_entry("kiosk:k1", 3, 60) for _ in range(5)]
    assert allowed == [True, True, True, False, False]
    storage.acquire_entry("kiosk:k2", 3, 0)     # expires at once
    storage._next_sweep = 0.0                   # the next hit sweeps
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 1)  # a second later
    storage.acquire_entry("kiosk:k3", 3, 60)
    assert not storage.events.get("kiosk:k2")  # its entry was dropped
    assert started == []
