"""Every CONTRACT call and refusal through the Flask test client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.bookings import import_rows
from shared.core import Core
from shared.scan import sign_token
from tests.conftest import DAY, booking_row


@dataclass
class Api:
    app: Flask
    client: FlaskClient
    core: Core
    officer: dict[str, str]
    admin: dict[str, str]
    kiosk: dict[str, str]
    display: dict[str, str]

    def post(self, path: str, body: Any = None, who: dict[str, str] | None = None,
             **headers: str) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, headers={**(who or {}), **headers})

    def get(self, path: str, who: dict[str, str] | None = None) -> Any:
        return self.client.get(f"/api/v1{path}", headers=who or {})


def bearer(token: str | None) -> dict[str, str]:
    assert token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(core: Core) -> Iterator[Api]:
    app = create_app(core=core)
    app.testing = True
    officer = bearer(create_staff(core, "petugas", "pw", "officer", token=True))
    admin = bearer(create_staff(core, "admin", "pw", "admin", token=True))
    _, kiosk_token = enrol_device(core, "kiosk-1", create_device(core, "kiosk", "kiosk-1"))
    _, display_token = enrol_device(core, "board-1", create_device(core, "display", "board-1"))
    import_rows(core, enumerate([
        booking_row("API-00001"), booking_row("API-00002"),
        booking_row("AFTERNOON-1", "13:00", "14:00"),
        booking_row("TOMORROW-1", day="2026-12-02"),
        booking_row("ELDER-0001", group="lansia"),
    ], start=1))
    yield Api(app, app.test_client(), core, officer, admin, bearer(kiosk_token),
              bearer(display_token))


def error_code(response: Any) -> str:
    body = response.get_json()
    assert set(body["error"]["message"]) == {"id", "en"}
    return str(body["error"]["code"])


def test_checkin_then_reprint(api: Api) -> None:
    first = api.post("/checkin", {"scan": "API-00001", "kiosk": "kiosk-1"}, api.kiosk)
    assert first.status_code == 201 and first.get_json()["reprint"] is False
    ticket = first.get_json()["ticket"]
    assert set(ticket) >= {"id", "number", "office", "service", "slot", "priority_group",
                           "status", "station", "counter", "position",
                           "estimated_wait_minutes", "status_url", "issued_at"}
    again = api.post("/checkin", {"scan": "API-00001", "kiosk": "kiosk-1"}, api.kiosk)
    assert again.status_code == 200 and again.get_json()["reprint"] is True
    assert again.get_json()["ticket"]["id"] == ticket["id"]
    public = api.get(f"/t/{ticket['status_url'].split('/')[-1]}.json")
    assert public.status_code == 200 and public.get_json()["ticket"]["number"] == "B001"


@pytest.mark.parametrize("scan,code,status", [
    ("###", "invalid_scan", 400),
    ("GLR1.eyJjIjoiQVBJLTAwMDAxIn0.AAAA", "invalid_scan", 400),
    ("UNKNOWN-77", "unknown_booking", 404),
    ("TOMORROW-1", "wrong_day", 409),
    ("AFTERNOON-1", "too_early", 409),
])
def test_checkin_refusals(api: Api, scan: str, code: str, status: int) -> None:
    response = api.post("/checkin", {"scan": scan, "kiosk": "kiosk-1"}, api.kiosk)
    assert response.status_code == status and error_code(response) == code
    if code == "too_early":
        assert response.get_json()["error"]["retry_at"] == "11:00"


def test_checkin_wrong_office_cancelled_closed(api: Api) -> None:
    token = sign_token("API-00002", "JKT", DAY, "09:00", api.core.config.security.qr_hmac_key)
    response = api.post("/checkin", {"scan": token}, api.kiosk)
    assert error_code(response) == "wrong_office"
    assert api.post("/bookings/API-00002/cancel", None, api.admin).status_code == 200
    assert error_code(api.post("/checkin", {"scan": "API-00002"}, api.kiosk)) == "cancelled"
    api.core.clock.advance(timedelta(hours=7))
    assert error_code(api.post("/checkin", {"scan": "API-00001"}, api.kiosk)) == "closed"


def test_checkin_too_late_under_refuse(api: Api) -> None:
    from dataclasses import replace

    config = api.core.config
    api.core.config = replace(config, policy=replace(config.policy, late_policy="refuse"))
    api.core.clock.advance(timedelta(hours=1, minutes=20))  # 10:20: 09-10 slot + 15 min passed
    assert error_code(api.post("/checkin", {"scan": "API-00001"}, api.kiosk)) == "too_late"


def test_checkin_rate_limited(api: Api) -> None:
    api.app.extensions["giliran_limits"].rates["checkin"] = 3
    codes = [api.post("/checkin", {"scan": "UNKNOWN-77"}, api.kiosk).status_code
             for _ in range(5)]
    assert codes[:3] == [404] * 3 and codes[3:] == [429, 429]


def test_kiosk_may_only_check_in_as_itself(api: Api) -> None:
    response = api.post("/checkin", {"scan": "API-00001", "kiosk": "kiosk-9"}, api.kiosk)
    assert response.status_code == 403


def test_walkins_queue_next_and_actions(api: Api) -> None:
    walk = api.post("/walkins", {"service": "percepatan", "priority_group": None}, api.officer)
    assert walk.status_code == 201 and walk.get_json()["ticket"]["number"] == "X001"
    assert api.post("/walkins", {"service": "nope"}, api.officer).status_code == 422
    api.post("/checkin", {"scan": "ELDER-0001"}, api.kiosk)
    api.post("/checkin", {"scan": "API-00001"}, api.kiosk)
    queue = api.get("/stations/berkas/queue", api.officer).get_json()["waiting"]
    # the walk-in queues as booked at its arrival (09:00:00.x), just after the 09:00 slot
    assert [t["number"] for t in queue] == ["P001", "B001", "X001"]
    called = api.post("/counters/1/next", None, api.officer, **{"Idempotency-Key": "k1"})
    assert called.status_code == 200 and called.get_json()["ticket"]["number"] == "P001"
    same = api.post("/counters/1/next", None, api.officer, **{"Idempotency-Key": "k1"})
    assert same.get_json() == called.get_json()
    tid = called.get_json()["ticket"]["id"]
    assert api.post(f"/tickets/{tid}/resume", None, api.officer).status_code == 409
    assert api.post(f"/tickets/{tid}/start", None, api.officer).status_code == 200
    finish_once = {"Idempotency-Key": "finish-" + str(tid)}
    finished = api.post(f"/tickets/{tid}/finish", None, api.officer,
                        **finish_once).get_json()["ticket"]
    assert finished["station"] == "wawancara" and finished["status"] == "waiting"
    # sent again (its answer lost): the same ticket, finished once
    again = api.post(f"/tickets/{tid}/finish", None, api.officer, **finish_once)
    assert again.status_code == 200 and again.get_json()["ticket"] == finished
    too_long = api.post(f"/tickets/{tid}/finish", None, api.officer,
                        **{"Idempotency-Key": "k" * 129})
    assert too_long.status_code == 400 and error_code(too_long) == "invalid_request"
    assert api.get(f"/tickets/{tid}", api.officer).get_json()["ticket"]["id"] == tid
    held = api.post(f"/tickets/{tid}/hold", {"reason": 7}, api.officer)
    assert held.status_code == 409  # waiting tickets cannot be held
    moved = api.post(f"/tickets/{tid}/transfer", {"station": "foto"}, api.officer)
    assert moved.get_json()["ticket"]["station"] == "foto"
    board = api.get("/board/DPS", api.display).get_json()
    assert board["waiting"]["berkas"] == 2 and "Made Lestari" not in json.dumps(board)


def test_next_with_nobody_waiting_is_204(api: Api) -> None:
    assert api.post("/counters/F1/next", None, api.officer).status_code == 204


def test_roles(api: Api) -> None:
    assert api.post("/counters/1/next", None, api.kiosk).status_code == 403
    assert api.post("/counters/1/next", None, api.display).status_code == 403
    assert api.post("/checkin", {"scan": "API-00001"}, api.display).status_code == 403
    assert api.post("/counters/1/next").status_code == 401
    assert api.post("/bookings", [], api.officer).status_code == 403
    assert api.get("/board/DPS").status_code == 401
    assert api.get("/tickets/1", api.kiosk).status_code == 403


def test_bookings_api_reports_lines(api: Api) -> None:
    rows = [booking_row("NEW-000001"), {"code": "x"}, booking_row("API-00001", "10:00", "11:00")]
    summary = api.post("/bookings", rows, api.admin).get_json()
    assert summary["created"] == 1 and summary["updated"] == 1
    assert summary["refused"][0]["line"] == 2


def test_health(api: Api) -> None:
    response = api.get("/health")
    assert response.status_code == 200 and response.get_json()["db"] == "ok"


GARBAGE_BODIES = [b"\x00\xff" * 50, b"{", b"[]", b'"text"', b"null", b"1e999999",
                  b'{"scan": {"$ne": 1}}', b'{"scan": "\'; DROP TABLE tickets; --"}',
                  b'{"scan": "<script>alert(1)</script>"}', b'{"scan": ["A", "B"]}',
                  b'{"service": 5, "priority_group": []}', b'{"station": null}',
                  b'{"reason": "' + b"x" * 5000 + b'"}']
PATHS = ["/checkin", "/walkins", "/counters/1/next", "/tickets/1/hold", "/tickets/1/transfer",
         "/tickets/999999/start", "/bookings", "/tickets/1/explode", "/counters/%00/next"]


@pytest.mark.parametrize("path", PATHS)
def test_garbage_never_gives_500(api: Api, path: str) -> None:
    api.post("/checkin", {"scan": "API-00001"}, api.kiosk)
    for body in GARBAGE_BODIES:
        for who in (api.admin, api.kiosk, {}):
            response = api.client.post(f"/api/v1{path}", data=body, headers={
                **who, "Content-Type": "application/json"})
            assert response.status_code < 500, (path, body, response.data)
            if response.status_code >= 400:
                error_code(response)


def test_ten_megabyte_body_is_refused_cleanly(api: Api) -> None:
    response = api.client.post("/api/v1/checkin", data=b"a" * (10 * 1024 * 1024),
                               headers={**api.kiosk, "Content-Type": "application/json"})
    assert response.status_code == 413 and error_code(response) == "too_large"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["scan", "kiosk", "service", "priority_group", "station", "reason"]),
        inner, max_size=4),
    max_leaves=8))
def test_random_json_never_gives_500(api: Api, body: Any) -> None:
    for path in ("/checkin", "/walkins", "/tickets/1/transfer", "/tickets/1/hold"):
        response = api.post(path, body, api.admin)
        assert response.status_code < 500


def test_timestamps_are_office_time(api: Api) -> None:
    ticket = api.post("/checkin", {"scan": "API-00001"}, api.kiosk).get_json()["ticket"]
    issued = datetime.fromisoformat(ticket["issued_at"])
    assert issued.utcoffset() == timedelta(hours=8) and issued.hour == 9


def test_only_pages_draw_a_csp_nonce(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The nonce (os.urandom) is for pages' inline scripts; an API request draws none
    (it was a measurable share of a check-in). A page still gets a fresh one."""
    import shared.app

    drawn: list[int] = []
    real = shared.app.secrets.token_urlsafe

    def counting(nbytes: int | None = None) -> str:
        drawn.append(nbytes or 0)
        return real(nbytes)

    monkeypatch.setattr(shared.app.secrets, "token_urlsafe", counting)
    assert api.client.get("/api/v1/health").status_code == 200
    assert drawn == []
    page = api.client.get("/login")
    assert page.status_code == 200
    nonce = page.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert nonce and drawn.count(12) == 1  # (the login form also draws its CSRF token)
