"""Bad input as an outsider sends it: bodies that cannot be parsed, `next` addresses that
leave the site, methods a route does not take, and booking codes of other offices. Every
answer is a 4xx with the usual bilingual error, never a 5xx, and nothing is logged as an
error (no traceback)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.app import MAX_BODY, create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.bookings import import_rows
from shared.config import Config, parse_config
from shared.core import Core
from tests.conftest import ROOT, booking_row, make_core

SECOND_OFFICE = '''
[[offices]]
id = "JKT"
name = "Kantor Imigrasi Kelas I Khusus Jakarta Selatan"
timezone = "Asia/Jakarta"

  [[offices.stations]]
  id = "berkas"
  name = { id = "Pemeriksaan Berkas", en = "Document check" }
  spoken = "loket"

  [[offices.services]]
  id = "paspor-baru"
  name = { id = "Paspor Baru", en = "New passport" }
  flow = ["berkas"]

  [[offices.counters]]
  id = "1"
  name = "Loket 1"
  stations = ["berkas"]
'''


def two_offices() -> Config:
    """The shipped config plus a second office, JKT."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8") + SECOND_OFFICE
    return parse_config(text, "two-offices.toml")


DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000
# (content type, body)
BAD_BODIES: list[tuple[str, bytes]] = [
    ("application/json", DEEP),
    ("application/json", DEEP_OBJECT),
    ("application/json", b'{"scan": "\xff\xfe\xfa"}'),
    ("application/json", b"\xef\xbb\xbf\xc3\x28{"),
    ("application/json", b'{"a": 1'),
    ("application/json; charset=utf-16", b"\x00{\x00}"),
    ("text/csv", b"code,office\n\xff\xfe,\x00\n"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
    ("multipart/form-data", b"no boundary at all"),
    ("application/x-www-form-urlencoded", b"csrf=%zz&username=%ff%fe&password=" + b"%" * 50),
    ("text/plain", DEEP),
]
IDS = ["deep-array", "deep-object", "bad-utf8", "bad-bom", "truncated", "utf16",
       "csv-binary", "multipart-unterminated", "multipart-no-boundary", "form-bad-escapes",
       "deep-as-text"]


@pytest.fixture
def world(core: Core) -> Iterator[tuple[Flask, dict[str, str]]]:
    app = create_app(core=core)
    app.testing = False  # errors go through the handlers, as in production
    import_rows(core, enumerate([booking_row("INPUT-0001")], start=1))
    token = create_staff(core, "admin", "pw", "admin", token=True)
    assert token
    yield app, {"Authorization": f"Bearer {token}"}


def state_changing_routes(app: Flask) -> list[tuple[str, str]]:
    """Every POST/PUT/PATCH/DELETE route, with its path parameters filled in."""
    filled = {"ticket_id": "1", "action": "finish", "token": "x" * 20, "code": "INPUT-0001",
              "counter": "1", "kiosk_id": "kiosk-1", "device_id": "kiosk-1", "office": "DPS"}
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: filled.get(m.group(1), "x"),
                          rule.rule)
            found.append((method, path))
    return sorted(found)


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@pytest.mark.parametrize(("content_type", "body"), BAD_BODIES, ids=IDS)
def test_unparseable_bodies_are_refused_on_every_route(
        world: tuple[Flask, dict[str, str]], content_type: str, body: bytes,
        caplog: pytest.LogCaptureFixture) -> None:
    app, admin = world
    client = app.test_client()
    with client.session_transaction() as session:
        session["staff"] = "admin"
        session["csrf"] = "token"
    routes = state_changing_routes(app)
    assert ("POST", "/api/v1/checkin") in routes and ("POST", "/login") in routes
    for method, path in routes:
        answer = client.open(path, method=method, data=body, headers={
            **admin, "Content-Type": content_type, "Origin": "http://localhost"})
        assert 400 <= answer.status_code < 500 or answer.status_code in (200, 201, 202, 204, 302), \
            (method, path, answer.status_code, answer.get_data(as_text=True)[:300])
        assert answer.status_code < 500
        if path.startswith("/api/") and answer.status_code >= 400:
            error = answer.get_json()["error"]
            assert error["code"] and set(error["message"]) == {"id", "en"}, (method, path)
    no_errors_logged(caplog)


def test_text_with_an_unpaired_surrogate_is_a_bilingual_400(
        world: tuple[Flask, dict[str, str]], caplog: pytest.LogCaptureFixture) -> None:
    """JSON may spell a lone UTF-16 surrogate (`\\ud800`), which no UTF-8 page or database
    can hold: stored as the office's name it made every page of the office a 500. Refused
    as unreadable JSON wherever it comes, and a pair (an emoji) is still welcome."""
    app, admin = world
    client = app.test_client()
    lone = b'"Kantor \\ud800"'
    for method, path, body in (
            ("PATCH", "/api/v1/offices/DPS/config", b'{"name": ' + lone + b"}"),
            ("PUT", "/api/v1/offices/DPS/info", b'{"info": [' + lone + b"]}"),
            ("POST", "/api/v1/offices/DPS/announcement", b'{"text": ' + lone + b"}"),
            ("POST", "/api/v1/checkin", b'{"scan": "INPUT-0001", "kiosk": "\\udc00"}'),
            ("POST", f"/api/v1/survey/{'x' * 20}", b'{"answers": {' + lone + b": 1}}")):
        answer = client.open(path, method=method, data=body,
                             headers={**admin, "Content-Type": "application/json"})
        assert answer.status_code == 400, (path, answer.get_data(as_text=True))
        error = answer.get_json()["error"]
        assert error["code"] == "invalid_request" and set(error["message"]) == {"id", "en"}
    assert client.get("/display/DPS").status_code != 500
    paired = client.open("/api/v1/offices/DPS/info", method="PUT",
                         data='{"info": ["Selamat datang \\ud83d\\ude00"]}',
                         headers={**admin, "Content-Type": "application/json"})
    assert paired.status_code == 200, paired.get_data(as_text=True)
    assert paired.get_json()["info"] == ["Selamat datang \U0001f600"]
    no_errors_logged(caplog)


def test_deep_json_is_a_bilingual_400(world: tuple[Flask, dict[str, str]],
                                      caplog: pytest.LogCaptureFixture) -> None:
    app, admin = world
    client = app.test_client()
    for path in ("/api/v1/checkin", "/api/v1/walkins", "/api/v1/tickets/1/hold",
                 "/api/v1/bookings", f"/api/v1/survey/{'x' * 20}"):
        answer = client.post(path, data=DEEP, headers={**admin,
                                                       "Content-Type": "application/json"})
        assert answer.status_code == 400, (path, answer.get_data(as_text=True))
        body = answer.get_json()
        assert body["error"]["code"] == "invalid_request"
        assert body["error"]["message"]["id"] != body["error"]["message"]["en"]
    no_errors_logged(caplog)


def test_oversize_body_is_a_bilingual_413(world: tuple[Flask, dict[str, str]],
                                          caplog: pytest.LogCaptureFixture) -> None:
    app, admin = world
    client = app.test_client()
    big = b'{"scan": "' + b"A" * (MAX_BODY + 10) + b'"}'
    answer = client.post("/api/v1/checkin", data=big,
                         headers={**admin, "Content-Type": "application/json"})
    assert answer.status_code == 413
    assert set(answer.get_json()["error"]["message"]) == {"id", "en"}
    page = client.post("/login", data=b"username=" + b"a" * (MAX_BODY + 10),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert page.status_code == 413 and "terlalu besar" in page.get_data(as_text=True).lower()
    no_errors_logged(caplog)


# --- where a login sends you ----------------------------------------------------------------
def log_in_with_next(client: FlaskClient, raw_next: str) -> Any:
    """Log in through /login?next=<raw_next> (raw_next already URL-encoded, as sent)."""
    with client.session_transaction() as session:
        session["csrf"] = "token"
    return client.post(f"/login?next={raw_next}",
                       data={"csrf": "token", "username": "petugas", "password": "rahasia"},
                       headers={"Origin": "http://localhost"})


OFFSITE = ["/%09/evil.example", "%2F%2Fevil", "//evil", "/%5Cevil", "%5C%5Cevil",
           "/%0a/evil.example", "/ok%0D%0ASet-Cookie:%20x=1", "https://evil.example/",
           "javascript:alert(1)", "/%20/evil", "evil", "///evil", "/%2F/evil", "/%E3%80%80x"]


@pytest.mark.parametrize("raw_next", OFFSITE)
def test_login_next_never_leaves_the_site(core: Core, raw_next: str,
                                          caplog: pytest.LogCaptureFixture) -> None:
    create_staff(core, "petugas", "rahasia", "officer")
    app = create_app(core=core)
    client = app.test_client()
    form = client.get(f"/login?next={raw_next}")
    assert form.status_code == 200
    assert "evil" not in form.get_data(as_text=True)
    answer = log_in_with_next(client, raw_next)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert answer.headers["Location"] == "/counter"
    no_errors_logged(caplog)


def test_login_next_keeps_a_path_of_ours(core: Core) -> None:
    create_staff(core, "petugas", "rahasia", "officer")
    client = create_app(core=core).test_client()
    target = "/reports/day?office=DPS&date=2026-12-01"
    answer = log_in_with_next(client, quote(target, safe=""))
    assert answer.status_code == 302 and answer.headers["Location"] == target


# --- 405 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("GET", "/api/v1/checkin", {"POST"}),
    ("DELETE", "/api/v1/tickets/1", {"GET"}),
    ("PUT", "/login", {"GET", "POST"}),
    ("POST", "/api/v1/health", {"GET"}),
])
def test_405_says_what_is_allowed(core: Core, method: str, path: str,
                                  allowed: set[str]) -> None:
    answer = create_app(core=core).test_client().open(path, method=method)
    assert answer.status_code == 405
    assert allowed <= {m.strip() for m in answer.headers["Allow"].split(",")}
    if path.startswith("/api/"):
        assert answer.get_json()["error"]["code"] == "method_not_allowed"


# --- another office's booking code ----------------------------------------------------------
def test_another_offices_code_answers_like_an_unknown_one(tmp_path: Any) -> None:
    core = make_core(two_offices(), f"sqlite:///{tmp_path / 'two.sqlite3'}")
    try:
        summary = import_rows(core, enumerate([booking_row("JAKARTA-01", office="JKT",
                                                           service="paspor-baru")], start=1))
        assert summary.created == 1
        _, token = enrol_device(core, "kiosk-1", create_device(core, "kiosk", "kiosk-1", "DPS"))
        client = create_app(core=core).test_client()

        def scan(code: str) -> Any:
            return client.post("/api/v1/checkin", json={"scan": code},
                               headers={"Authorization": f"Bearer {token}"})

        elsewhere, nowhere = scan("JAKARTA-01"), scan("NOWHERE-01")
        assert elsewhere.status_code == nowhere.status_code == 404
        assert elsewhere.get_json() == nowhere.get_json()
        assert "JKT" not in elsewhere.get_data(as_text=True)
    finally:
        core.db.engine.dispose()
