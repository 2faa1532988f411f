"""The ticket QR must point where phones can go: start-up log and supervisor page warn."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from shared.app import create_app
from shared.auth import create_staff
from shared.config import Config
from shared.core import Core
from shared.public_url import is_loopback_host, public_url_warning


@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("localhost", True), ("LOCALHOST.", True),
    ("kiosk.localhost", True), ("::1", True), ("[::1]", True), ("0.0.0.0", True), ("::", True),
    ("192.168.1.20", False), ("antrean.imigrasi.example", False), ("10.0.0.5", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def _with(config: Config, **server: object) -> Config:
    return dataclasses.replace(config, **server)  # type: ignore[arg-type]


def test_without_public_url_the_qr_points_where_the_server_listens(
        config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """`giliran serve --port 5978` listens on 5978 (GILIRAN_BIND): tickets and the start-up
    warning named config.toml's port 5000, where nothing answers."""
    monkeypatch.setenv("GILIRAN_BIND", "192.168.1.20:5978")
    bare = _with(config, public_url="", host="127.0.0.1", port=5000)
    assert bare.base_url == "http://192.168.1.20:5978"
    assert _with(config, public_url="https://antrean.example.go.id").base_url == (
        "https://antrean.example.go.id")
    monkeypatch.setenv("GILIRAN_BIND", "unix:/run/giliran.sock")  # no address phones use
    assert bare.base_url == "http://127.0.0.1:5000"


def test_warning_for_empty_and_loopback_public_url(config: Config) -> None:
    empty = public_url_warning(_with(config, public_url="", host="127.0.0.1", port=5000))
    assert empty is not None and empty["code"] == "public_url_empty"
    assert empty["qr_base"] == "http://127.0.0.1:5000"
    assert "http://127.0.0.1:5000" in empty["message"]["en"]
    assert "public_url kosong" in empty["message"]["id"]
    lan = public_url_warning(_with(config, public_url="", host="0.0.0.0"))
    assert lan is not None and lan["code"] == "public_url_empty"  # still nothing phones use
    loop = public_url_warning(_with(config, public_url="http://localhost:8000"))
    assert loop is not None and loop["code"] == "public_url_loopback"
    assert "hanya berlaku di mesin ini" in loop["message"]["id"]
    assert public_url_warning(_with(config, public_url="https://antrean.example.go.id")) is None


def test_start_up_logs_the_warning(core: Core, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="shared.app"):
        create_app(core=core)
    assert any("public_url is empty" in r.getMessage() for r in caplog.records)
    caplog.clear()
    core.config = _with(core.config, public_url="https://antrean.example.go.id")
    with caplog.at_level(logging.WARNING, logger="shared.app"):
        create_app(core=core)
    assert not any("public_url" in r.getMessage() for r in caplog.records)


def test_supervisor_page_shows_the_warning(core: Core) -> None:
    app = create_app(core=core)
    token = create_staff(core, "kepala", "pw", "supervisor", token=True)
    client = app.test_client()
    page = client.get("/counter/supervisor", headers={"Authorization": f"Bearer {token}"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="public-url-warning"' in html and 'data-code="public_url_empty"' in html
    assert "ponsel pemohon" in html and "applicants&#39; phones cannot open" in html
    core.config = _with(core.config, public_url="https://antrean.example.go.id")
    page = client.get("/counter/supervisor", headers={"Authorization": f"Bearer {token}"})
    assert 'id="public-url-warning"' not in page.get_data(as_text=True)
