"""Who may do what, on every route and event; CSRF, cookies, secrets, and privacy."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.bookings import import_rows
from shared.config import Config, load_config
from shared.core import Core
from shared.realtime import socketio
from tests.conftest import ROOT, booking_row
from tests.live import LiveServer
from tests.scaleout.helpers import CLOCK, bearer, bookings, device_token

STAFF = {"officer", "supervisor", "admin"}
DEVICE_AND_STAFF = STAFF | {"kiosk", "display"}
# (method, path, body, roles allowed)
ROUTES: list[tuple[str, str, Any, set[str]]] = [
    ("POST", "/checkin", {"scan": "SEC-000001"}, STAFF | {"kiosk"}),
    ("POST", "/walkins", {"service": "paspor-baru"}, STAFF),
    ("GET", "/tickets/1", None, STAFF),
    ("GET", "/tickets/1/timeline", None, STAFF),
    ("GET", "/stations/berkas/queue", None, STAFF),
    ("POST", "/counters/1/next", None, STAFF),
    ("GET", "/counters/1", None, STAFF),
    ("POST", "/tickets/1/finish", None, STAFF),
    ("POST", "/tickets/1/cancel", None, STAFF),
    ("POST", "/tickets/1/reprint", None, STAFF),
    ("GET", "/print-jobs/job-1", None, STAFF | {"kiosk"}),
    ("POST", "/bookings", [booking_row("SEC-000009")], {"admin", "booking"}),
    ("POST", "/bookings/SEC-000002/cancel", None, {"admin", "booking"}),
    ("GET", "/board/DPS", None, DEVICE_AND_STAFF),
]
ROLES = ["anonymous", "officer", "supervisor", "admin", "booking", "kiosk", "display"]


@pytest.fixture
def tokens(core: Core) -> dict[str, dict[str, str]]:
    import_rows(core, enumerate([booking_row("SEC-000001"), booking_row("SEC-000002")],
                                start=1))
    found: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in ("officer", "supervisor", "admin", "booking"):
        found[role] = bearer(create_staff(core, f"user-{role}", "pw", role, token=True) or "")
    for kind in ("kiosk", "display"):
        _, token = enrol_device(core, f"{kind}-1", create_device(core, kind, f"{kind}-1"))
        found[kind] = bearer(token)
    return found


def app_for(core: Core) -> Flask:
    app = create_app(core=core)
    app.testing = True
    return app


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES,
                         ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_roles_are_enforced_on_every_route(core: Core, tokens: dict[str, dict[str, str]],
                                           method: str, path: str, body: Any,
                                           allowed: set[str]) -> None:
    client = app_for(core).test_client()
    for role in ROLES:
        answer = client.open(f"/api/v1{path}", method=method, json=body, headers=tokens[role])
        if role == "anonymous":
            assert answer.status_code == 401, (role, answer.status_code)
        elif role not in allowed:
            assert answer.status_code == 403, (role, answer.status_code)
            assert answer.get_json()["error"]["code"] == "forbidden"
        else:
            assert answer.status_code not in (401, 403), (role, answer.get_data(as_text=True))


def test_kiosk_cannot_check_in_as_another_kiosk(core: Core,
                                               tokens: dict[str, dict[str, str]]) -> None:
    client = app_for(core).test_client()
    answer = client.post("/api/v1/checkin", json={"scan": "SEC-000001", "kiosk": "kiosk-9"},
                         headers=tokens["kiosk"])
    assert answer.status_code == 403


def test_staff_cannot_check_in_on_another_office_s_kiosk(tmp_path: Path) -> None:
    """Staff checking in for a kiosk use that kiosk's printer: only in the kiosk's office."""
    from tests.admin.test_admin_api import SECOND_OFFICE
    from tests.conftest import make_core

    path = tmp_path / "config.toml"
    path.write_text((ROOT / "config.toml").read_text() + SECOND_OFFICE)
    core = make_core(load_config(path), f"sqlite:///{tmp_path / 'two.sqlite3'}")
    try:
        create_device(core, "kiosk", "kiosk-1", "DPS")
        officer = {"Authorization": "Bearer " + str(
            create_staff(core, "pusat", "pw-123456", "officer", token=True))}
        client = app_for(core).test_client()
        answer = client.post("/api/v1/checkin?office=NGR",
                             json={"scan": "SEC-000001", "kiosk": "kiosk-1"}, headers=officer)
        assert answer.status_code == 403
        assert answer.get_json()["error"]["code"] == "forbidden"
        # The same kiosk in its own office is only a booking question (not forbidden).
        answer = client.post("/api/v1/checkin?office=DPS",
                             json={"scan": "SEC-000001", "kiosk": "kiosk-1"}, headers=officer)
        assert answer.status_code == 404
    finally:
        core.bus.close()
        core.db.engine.dispose()


def _join(app: Flask, namespace: str, headers: dict[str, str]) -> Any:
    client = socketio.test_client(app, namespace=namespace, headers=headers)
    if not client.is_connected(namespace):
        return None
    answer = client.emit("join", {"office": "DPS"}, namespace=namespace, callback=True)
    received = client.get_received(namespace)
    client.disconnect(namespace=namespace)
    return answer, received


def test_socketio_join_needs_the_right_principal(core: Core,
                                                 tokens: dict[str, dict[str, str]]) -> None:
    app = app_for(core)
    refused = _join(app, "/display", {})
    assert refused is None or (refused[0]["ok"] is False and not refused[1])
    joined = _join(app, "/display", tokens["display"])
    assert joined is not None and joined[0]["ok"] is True
    assert [m["name"] for m in joined[1]] == ["snapshot"]
    for role in ("anonymous", "kiosk", "display", "booking"):
        answer = _join(app, "/counter", tokens[role])
        assert answer is None or answer[0]["ok"] is False, role
    staff = _join(app, "/counter", tokens["officer"])
    assert staff is not None and staff[0]["ok"] is True


def test_login_form_without_csrf_token_is_refused(core: Core) -> None:
    create_staff(core, "petugas", "rahasia", "officer")
    client = app_for(core).test_client()
    answer = client.post("/login", data={"username": "petugas", "password": "rahasia"})
    assert answer.status_code == 400
    wrong = client.post("/login", data={"username": "petugas", "password": "rahasia",
                                        "csrf": "forged"})
    assert wrong.status_code == 400


def _csrf(client: Any) -> str:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf"', page)
    assert found, "login form has no csrf field"
    return found.group(1) or found.group(2)


def test_secure_cookie_flags(core: Core, config: Config) -> None:
    core.config = replace(config, security=replace(config.security, secure_cookies=True))
    create_staff(core, "petugas", "rahasia", "officer")
    code = create_device(core, "display", "papan-1")
    client = app_for(core).test_client()
    answer = client.post("/login", data={"username": "petugas", "password": "rahasia",
                                         "csrf": _csrf(client)})
    assert answer.status_code == 302
    session_cookie = next(v for v in answer.headers.getlist("Set-Cookie")
                          if v.startswith("session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    enrolled = client.get(f"/enrol/papan-1/{code}")
    device_cookie = next(v for v in enrolled.headers.getlist("Set-Cookie")
                         if v.startswith("giliran_device="))
    assert "Secure" in device_cookie and "HttpOnly" in device_cookie
    assert "SameSite=Lax" in device_cookie


def test_secrets_from_the_environment_override_config(monkeypatch: pytest.MonkeyPatch,
                                                      core: Core) -> None:
    monkeypatch.setenv("GILIRAN_SECRET_KEY", "rahasia-dari-lingkungan-" + "x" * 32)
    monkeypatch.setenv("GILIRAN_QR_HMAC_KEY", "kunci-qr-dari-lingkungan-" + "x" * 32)
    config = load_config(ROOT / "config.toml")
    assert config.security.secret_key == "rahasia-dari-lingkungan-" + "x" * 32
    assert config.security.qr_hmac_key == "kunci-qr-dari-lingkungan-" + "x" * 32
    core.config = config
    assert create_app(core=core).config["SECRET_KEY"] == "rahasia-dari-lingkungan-" + "x" * 32


def test_no_names_on_the_board_or_in_the_log_after_a_day(tmp_path: Path) -> None:
    server = LiveServer(var=tmp_path, clock=CLOCK,
                        database_url=f"sqlite:///{tmp_path / 'giliran.sqlite3'}",
                        extra_env={"GILIRAN_LOG_LEVEL": "INFO"})
    server.prepare()
    rows = bookings(12, "PRIV")
    server.add_bookings(rows)
    names = {row["name"] for row in rows}
    kiosk = bearer(device_token(server, "kiosk", "kiosk-1"))
    display = bearer(device_token(server, "display", "papan-1"))
    officer = bearer(server.staff("petugas", "pw"))
    server.start()
    try:
        api = f"{server.url}/api/v1"
        for row in rows:
            requests.post(f"{api}/checkin", json={"scan": row["code"]}, headers=kiosk,
                          timeout=10)
        requests.post(f"{api}/checkin", json={"scan": "PRIV-99999"}, headers=kiosk, timeout=10)
        requests.post(f"{api}/walkins", json={"service": "paspor-baru",
                                              "priority_group": "lansia"},
                      headers=officer, timeout=10)
        for counter in ("1", "2", "W1"):
            called = requests.post(f"{api}/counters/{counter}/next", headers=officer,
                                   timeout=10)
            if called.status_code == 200:
                ticket = called.json()["ticket"]["id"]
                for action in ("recall", "start", "finish"):
                    requests.post(f"{api}/tickets/{ticket}/{action}", headers=officer,
                                  timeout=10)
        requests.post(f"{api}/counters/2/next", headers=officer, timeout=10)
        board = requests.get(f"{api}/board/DPS", headers=display, timeout=10)
        assert board.status_code == 200 and board.json()["now_serving"]
        queue = requests.get(f"{api}/stations/berkas/queue", headers=officer, timeout=10)
        assert queue.status_code == 200 and queue.json()["waiting"]
        assert not [name for name in names if name in board.text]
        assert "Ni Luh Uji" not in board.text
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "Ni Luh Uji" not in log and "Traceback" not in log


@pytest.fixture
def two(tmp_path: Path) -> Any:
    """Two offices (DPS and JKT), each with an enrolled kiosk that has a printer, and staff
    of either office and of both; `two.call(method, path, body, who)`."""
    from types import SimpleNamespace

    from tests.conftest import make_core
    from tests.security.test_input import two_offices

    core = make_core(two_offices(), f"sqlite:///{tmp_path / 'two.sqlite3'}")
    import_rows(core, enumerate([booking_row("DPS-000001"), booking_row("DPS-000002"),
                                 booking_row("JKT-000001", office="JKT",
                                             service="paspor-baru")], start=1))
    who: dict[str, dict[str, str]] = {}
    for name, office in (("officer-dps", "DPS"), ("officer-jkt", "JKT"), ("officer-all", None)):
        who[name] = bearer(create_staff(core, name, "pw", "officer", office, token=True) or "")
    for device, office in (("kiosk-dps", "DPS"), ("kiosk-jkt", "JKT")):
        who[device] = bearer(enrol_device(core, device,
                                          create_device(core, "kiosk", device, office))[1])
    client = app_for(core).test_client()
    # The printers the hardware would have named (after the app's start, which sets them).
    core.printers = frozenset({"kiosk-dps", "kiosk-jkt", "counter-1", "counter-2"})

    def call(method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        return client.open(f"/api/v1{path}", method=method, json=body, headers=headers)

    yield SimpleNamespace(core=core, call=call, who=who)
    core.close()


def test_a_print_job_is_read_in_its_own_office_only(two: Any) -> None:
    """A kiosk or officer of another office cannot follow a job: 404 like no job."""
    checked_in = two.call("POST", "/checkin", {"scan": "DPS-000001"}, two.who["kiosk-dps"])
    assert checked_in.status_code == 201, checked_in.get_json()
    job = checked_in.get_json()["print"]["id"]
    for name in ("kiosk-dps", "officer-dps", "officer-all"):
        assert two.call("GET", f"/print-jobs/{job}", None, two.who[name]).status_code == 200
    nothing = two.call("GET", "/print-jobs/no-such-job", None, two.who["kiosk-jkt"])
    for name in ("kiosk-jkt", "officer-jkt"):
        answer = two.call("GET", f"/print-jobs/{job}", None, two.who[name])
        assert answer.status_code == 404, name
        assert answer.get_json() == nothing.get_json()


def test_a_reprint_or_check_in_prints_on_the_ticket_s_office_printers_only(two: Any) -> None:
    """A printer named by staff is one of the ticket's office: another office's kiosk, and a
    name that is no printer of the office, answer 403 alike and queue nothing."""
    from sqlalchemy import select

    from shared.models import PrintJob

    walkin = two.call("POST", "/walkins", {"service": "paspor-baru"}, two.who["officer-dps"])
    ticket = walkin.get_json()["ticket"]["id"]
    for name in ("officer-dps", "officer-all"):
        for printer in ("kiosk-jkt", "no-such-printer", "counter-99"):
            answer = two.call("POST", f"/tickets/{ticket}/reprint", {"printer": printer},
                              two.who[name])
            assert answer.status_code == 403, (name, printer, answer.get_json())
            assert answer.get_json()["error"]["code"] == "forbidden"
    # The office's own kiosk and counter printers do print, and the backup of a kiosk's.
    create_device(two.core, "kiosk", "kiosk-1", "DPS")  # backed up by kiosk-1-backup
    two.core.printers |= {"kiosk-1-backup"}
    for printer in ("kiosk-dps", "counter-2", "kiosk-1-backup"):
        answer = two.call("POST", f"/tickets/{ticket}/reprint", {"printer": printer},
                          two.who["officer-dps"])
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["print"]["printer"] == printer
    # Staff checking in for a kiosk: a registered kiosk of the office, not any printer.
    for kiosk in ("counter-1", "kiosk-jkt", "no-such-kiosk"):
        answer = two.call("POST", "/checkin", {"scan": "DPS-000001", "kiosk": kiosk},
                          two.who["officer-dps"])
        assert answer.status_code == 403, (kiosk, answer.get_json())
        assert answer.get_json()["error"]["code"] == "forbidden"
    with two.core.db.read() as session:
        printers = session.execute(select(PrintJob.printer)).scalars().all()
    assert sorted(printers) == ["counter-2", "kiosk-1-backup", "kiosk-dps"]
    answer = two.call("POST", "/checkin", {"scan": "DPS-000001", "kiosk": "kiosk-dps"},
                      two.who["officer-dps"])
    assert answer.status_code == 201 and answer.get_json()["print"]["printer"] == "kiosk-dps"


def test_counters_of_the_same_id_in_two_offices_print_each_at_their_own(two: Any) -> None:
    """Counter ids are each office's own (DPS and JKT both have counter 1): a walk-in issued
    at DPS's counter 1 prints on `counter-DPS-1`, not where JKT's counter 1 prints, and a
    reprint on the other office's counter printer is refused."""
    two.core.printers = frozenset({"counter-DPS-1", "counter-JKT-1"})
    dps = two.call("POST", "/walkins", {"service": "paspor-baru", "counter": "1"},
                   two.who["officer-dps"])
    jkt = two.call("POST", "/walkins", {"service": "paspor-baru", "counter": "1"},
                   two.who["officer-jkt"])
    assert dps.status_code == jkt.status_code == 201, (dps.get_json(), jkt.get_json())
    assert dps.get_json()["print"]["printer"] == "counter-DPS-1"
    assert jkt.get_json()["print"]["printer"] == "counter-JKT-1"
    ticket = dps.get_json()["ticket"]["id"]
    refused = two.call("POST", f"/tickets/{ticket}/reprint", {"printer": "counter-JKT-1"},
                       two.who["officer-dps"])
    assert refused.status_code == 403, refused.get_json()
    again = two.call("POST", f"/tickets/{ticket}/reprint", {"printer": "counter-DPS-1"},
                     two.who["officer-dps"])
    assert again.status_code == 200 and again.get_json()["print"]["printer"] == "counter-DPS-1"


def test_a_counter_printer_named_for_two_offices_counters_is_refused(tmp_path: Path) -> None:
    """`counter-1` where two offices have a counter 1 would print both offices' walk-ins and
    slips in one of them: config.toml is refused, naming the per-office name instead."""
    from shared.config import ConfigError
    from shared.config_checks import load_config as load_checked
    from tests.security.test_input import SECOND_OFFICE

    base = (ROOT / "config.toml").read_text(encoding="utf-8") + SECOND_OFFICE
    path = tmp_path / "config.toml"
    path.write_text(base + '\n[[printers]]\nid = "counter-1"\nurl = "dummy://"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_checked(path)
    assert refused.value.key.startswith("printers[") and "counter-DPS-1" in str(refused.value)
    path.write_text(base + '\n[[printers]]\nid = "counter-DPS-1"\nurl = "dummy://"\n'
                    '\n[[printers]]\nid = "counter-JKT-1"\nurl = "dummy://"\n', encoding="utf-8")
    assert {p["id"] for p in load_checked(path).printers} >= {"counter-DPS-1", "counter-JKT-1"}
