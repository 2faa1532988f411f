"""Issue 13, attack 1: a signing key shipped in the repository signed an admin session and
booking QR codes. The production entries refuse to start without the installation's own
keys and name the key; a cookie or QR signed with a shipped value is refused."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from shared.app import create_app
from shared.config import ConfigError, check_secrets, load_config, parse_config
from shared.core import Core
from shared.scan import sign_token
from tests.conftest import DAY, ROOT
from tests.live import BIN, LiveServer, free_port
from tests.scaleout.helpers import CLOCK, bearer, device_token

KEYS = ("GILIRAN_SECRET_KEY", "GILIRAN_QR_HMAC_KEY")
STRONG = "k" * 40


def env_without_keys(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env.update({"GILIRAN_VAR": str(tmp_path), "GILIRAN_CONFIG": str(ROOT / "config.toml"),
                "GILIRAN_DATABASE_URL": f"sqlite:///{tmp_path / 'giliran.sqlite3'}",
                "GILIRAN_CLOCK": CLOCK, "GILIRAN_LOG_LEVEL": "WARNING"})
    env.pop("GILIRAN_SECRETS_FILE", None)
    env.update(extra)
    return env


def serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "giliran"), "serve", "--no-hardware", "--port",
                           str(free_port())], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


# --- the production entries refuse to start -------------------------------------------------
def test_giliran_serve_with_the_shipped_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    result = serve(env_without_keys(tmp_path))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "security.secret_key" in result.stderr
    assert "GILIRAN_SECRET_KEY" in result.stderr and "secrets.toml" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("secret", "qr", "key", "words"), [
    (STRONG, None, "security.qr_hmac_key", "missing"),
    ("dev-only-change-me", STRONG, "security.secret_key", "shipped"),
    (STRONG, "dev-only-change-me", "security.qr_hmac_key", "shipped"),
    ("too-short-but-random-Xq1", STRONG, "security.secret_key", "shorter than 32 bytes"),
])
def test_giliran_serve_refuses_each_weak_key(tmp_path: Path, secret: str, qr: str | None,
                                             key: str, words: str) -> None:
    extra = {"GILIRAN_SECRET_KEY": secret}
    if qr is not None:
        extra["GILIRAN_QR_HMAC_KEY"] = qr
    result = serve(env_without_keys(tmp_path, **extra))
    assert result.returncode == 2, result.stderr[-2000:]
    assert key in result.stderr and words in result.stderr


def test_gunicorn_with_the_shipped_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    env = env_without_keys(tmp_path, GILIRAN_BIND=f"127.0.0.1:{free_port()}",
                           GILIRAN_HARDWARE="0", GILIRAN_THREADS="4")
    result = subprocess.run([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                             "shared.wsgi:app"], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "security.secret_key" in result.stderr and "GILIRAN_SECRET_KEY" in result.stderr


def test_create_app_refuses_weak_keys(core: Core, monkeypatch: pytest.MonkeyPatch,
                                      tmp_path: Path) -> None:
    for name in KEYS:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GILIRAN_VAR", str(tmp_path))
    config = parse_config((ROOT / "config.toml").read_text(), "config.toml")
    assert config.security.secret_key == "" and config.security.qr_hmac_key == ""
    with pytest.raises(ConfigError) as raised:
        create_app(config=config, core=core)
    assert raised.value.key == "security.secret_key"
    shipped = parse_config('[security]\nsecret_key = "dev-only-change-me"\n'
                           'qr_hmac_key = "dev-only-change-me"\n'
                           + (ROOT / "config.toml").read_text().split("[security]", 1)[1])
    with pytest.raises(ConfigError, match="shipped"):
        check_secrets(shipped)


def test_the_repository_ships_no_key() -> None:
    text = (ROOT / "config.toml").read_text()
    assert "secret_key =" not in text and "qr_hmac_key =" not in text


# --- make run: keys generated once per installation ----------------------------------------
def test_secrets_init_writes_private_keys_once_and_the_server_uses_them(tmp_path: Path) -> None:
    env = env_without_keys(tmp_path)
    first = subprocess.run([str(BIN / "giliran"), "secrets", "init"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    path = tmp_path / "secrets.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = path.read_text()
    again = subprocess.run([str(BIN / "giliran"), "secrets", "init"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and path.read_text() == written
    for name in KEYS:
        os.environ.pop(name)
    try:
        os.environ["GILIRAN_VAR"] = str(tmp_path)
        config = load_config(ROOT / "config.toml")
    finally:
        os.environ.pop("GILIRAN_VAR")
        from tests.live import use_test_secrets

        use_test_secrets()
    check_secrets(config)
    assert config.security.secret_key != config.security.qr_hmac_key
    assert config.security.secret_key in written
    # The server started like `make run` (keys only in the file) serves.
    server = LiveServer(var=tmp_path, clock=CLOCK, hardware=False,
                        database_url=f"sqlite:///{tmp_path / 'giliran.sqlite3'}")
    server.prepare()
    real_env = server.env
    server.env = lambda: {k: v for k, v in real_env().items() if k not in KEYS}  # type: ignore[method-assign]
    server.start()
    try:
        assert requests.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200
    finally:
        server.stop()


# --- what the shipped value signs is refused --------------------------------------------------
def signed_cookie(key: str, values: dict[str, Any]) -> str:
    app = Flask("forger")
    app.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return str(serializer.dumps(values))


def test_a_cookie_or_qr_signed_with_the_shipped_string_is_refused(tmp_path: Path) -> None:
    server = LiveServer(var=tmp_path, clock=CLOCK, hardware=False,
                        database_url=f"sqlite:///{tmp_path / 'giliran.sqlite3'}")
    server.prepare()
    server.staff("admin", "admin-password", "admin")
    kiosk = bearer(device_token(server, "kiosk", "kiosk-1"))
    server.add_bookings([{"code": "FORGE-0001", "office": "DPS", "date": DAY,
                          "slot_start": "10:00", "slot_end": "11:00", "service": "paspor-baru",
                          "priority_group": "", "name": "Ni Luh Uji"}])
    server.start()
    try:
        from shared.web import staff_session_values

        core = server.core()
        values = staff_session_values(core, "admin")
        core.db.engine.dispose()
        routes = ("/api/v1/stations/berkas/queue", "/api/v1/counters/1", "/reports/day",
                  "/reports/day/export")
        for key, expected in (("dev-only-change-me", 401),
                              (os.environ["GILIRAN_SECRET_KEY"], 200)):
            cookie = signed_cookie(key, values)
            for route in routes:
                answer = requests.get(f"{server.url}{route}", cookies={"session": cookie},
                                      allow_redirects=False, timeout=10)
                if expected == 401:
                    assert answer.status_code in (302, 401), (route, answer.status_code)
                else:
                    assert answer.status_code == 200, (route, answer.status_code)
        forged = sign_token("FORGE-0001", "DPS", DAY, "10:00", "dev-only-change-me")
        answer = requests.post(f"{server.url}/api/v1/checkin", json={"scan": forged},
                               headers=kiosk, timeout=10)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_scan"
        genuine = sign_token("FORGE-0001", "DPS", DAY, "10:00",
                             os.environ["GILIRAN_QR_HMAC_KEY"])
        answer = requests.post(f"{server.url}/api/v1/checkin", json={"scan": genuine},
                               headers=kiosk, timeout=10)
        assert answer.status_code == 201, answer.text
    finally:
        server.stop()
