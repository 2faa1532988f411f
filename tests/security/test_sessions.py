"""Issue 13: a logged-out session cookie still worked for 31 days, and `giliran staff` had
only `add`. Sessions now end on the server: logout, password change, disable, an admin's
"end all sessions", idle time and an absolute lifetime."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import timedelta

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from shared.app import create_app
from shared.auth import (
    create_staff,
    end_sessions,
    list_staff,
    set_password,
    set_staff_active,
)
from shared.core import Core
from shared.errors import Refusal
from tests.live import BIN, ROOT
from tests.security.outsider import PASSWORD, Office, csrf_of, logged_in

QUEUE = "/api/v1/stations/berkas/queue"


# --- real HTTP: a copied cookie dies with the session -------------------------------------------
def test_a_logged_out_cookie_is_dead(office: Office) -> None:
    browser = logged_in(office.url)
    copied = dict(browser.cookies)
    assert browser.get(f"{office.url}{QUEUE}", timeout=10).status_code == 200
    token = csrf_of(browser.get(f"{office.url}/counter", timeout=10).text)
    answer = browser.post(f"{office.url}/logout", data={"csrf": token},
                          headers={"Origin": office.url}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    thief = requests.get(f"{office.url}{QUEUE}", cookies=copied, timeout=10)
    assert thief.status_code == 401
    # Logging in again works.
    assert logged_in(office.url).get(f"{office.url}{QUEUE}", timeout=10).status_code == 200


def cli(office: Office, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "giliran"), *args], env=office.server.env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_staff_cli_disable_enable_password_and_list(office: Office) -> None:
    browser = logged_in(office.url)
    assert cli(office, "staff", "disable", "petugas").returncode == 0
    assert browser.get(f"{office.url}{QUEUE}", timeout=10).status_code == 401
    assert requests.get(f"{office.url}{QUEUE}", headers=office.officer,
                        timeout=10).status_code == 401  # its API token too, while disabled
    listed = cli(office, "staff", "list")
    assert listed.returncode == 0 and "petugas" in listed.stdout
    line = next(row for row in listed.stdout.splitlines() if row.startswith("petugas"))
    assert " no " in line
    assert cli(office, "staff", "enable", "petugas").returncode == 0
    assert browser.get(f"{office.url}{QUEUE}", timeout=10).status_code == 401  # ended
    browser = logged_in(office.url)
    changed = cli(office, "staff", "password", "petugas", "--password", "kata-sandi-baru")
    assert changed.returncode == 0, changed.stderr
    assert browser.get(f"{office.url}{QUEUE}", timeout=10).status_code == 401
    logged_in(office.url, password="kata-sandi-baru")
    browser = logged_in(office.url, password="kata-sandi-baru")
    assert cli(office, "staff", "logout", "petugas").returncode == 0
    assert browser.get(f"{office.url}{QUEUE}", timeout=10).status_code == 401
    unknown = cli(office, "staff", "disable", "nobody")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == ("Tidak ada akun petugas nobody. / "
                                      "There is no staff account nobody.")
    gone = cli(office, "device", "revoke", "kiosk-99")
    assert gone.returncode == 1
    assert gone.stderr.strip() == "Tidak ada perangkat kiosk-99. / There is no device kiosk-99."
    short = cli(office, "staff", "password", "petugas", "--password", "short")
    assert short.returncode == 1 and "8-256" in short.stderr


# --- in process: idle and absolute lifetime on the office clock -----------------------------------
def app_for(core: Core, idle: float = 12, lifetime: float = 24) -> Flask:
    core.config = replace(core.config, security=replace(
        core.config.security, staff_idle_hours=idle, staff_session_hours=lifetime))
    app = create_app(core=core)
    app.testing = True
    return app


def log_in(client: FlaskClient) -> None:
    form = {"csrf": csrf_of(client.get("/login").get_data(as_text=True)),
            "username": "petugas", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 302


def test_idle_sessions_end_and_active_ones_last_until_the_lifetime(core: Core) -> None:
    create_staff(core, "petugas", PASSWORD, "officer")
    client = app_for(core).test_client()
    log_in(client)
    core.clock.advance(timedelta(hours=11))
    assert client.get(QUEUE).status_code == 200  # used: the idle clock starts again
    core.clock.advance(timedelta(hours=11))
    assert client.get(QUEUE).status_code == 200
    core.clock.advance(timedelta(hours=2, seconds=1))  # 24 h after login
    assert client.get(QUEUE).status_code == 401
    log_in(client)
    core.clock.advance(timedelta(hours=12, seconds=1))  # unused for 12 h
    assert client.get(QUEUE).status_code == 401


def test_idle_hours_are_configurable(core: Core) -> None:
    create_staff(core, "petugas", PASSWORD, "officer")
    client = app_for(core, idle=0.5).test_client()
    log_in(client)
    core.clock.advance(timedelta(minutes=29))
    assert client.get(QUEUE).status_code == 200
    core.clock.advance(timedelta(minutes=31))
    assert client.get(QUEUE).status_code == 401


def test_end_sessions_and_password_change_end_in_process_sessions(core: Core) -> None:
    create_staff(core, "petugas", PASSWORD, "officer")
    client = app_for(core).test_client()
    log_in(client)
    end_sessions(core, "petugas")
    assert client.get(QUEUE).status_code == 401
    log_in(client)
    set_password(core, "petugas", "another-password")
    assert client.get(QUEUE).status_code == 401
    set_staff_active(core, "petugas", False)
    assert [s.active for s in list_staff(core)] == [False]
    form = {"csrf": csrf_of(client.get("/login").get_data(as_text=True)),
            "username": "petugas", "password": "another-password"}
    assert client.post("/login", data=form).status_code == 401  # disabled: no login
    with pytest.raises(Refusal):
        set_password(core, "nobody", "long-enough-password")


def test_a_changed_role_drops_the_account_live_connections(core: Core) -> None:
    """Its sockets are dropped in every process: a terminal moved to another office stops
    receiving the old office's updates (a reloaded page connects with the new rights)."""
    from queue import Queue

    from shared.auth import set_role
    from shared.events import ControlEvent

    create_staff(core, "ayu", PASSWORD, "officer", "DPS")
    heard: Queue[ControlEvent] = Queue()
    core.bus.subscribe_control(heard.put)
    set_role(core, "ayu", "supervisor", None)
    event = heard.get(timeout=5)
    assert (event.kind, event.principal) == ("revoked", "staff:ayu")
    set_role(core, "ayu", "supervisor", None)  # nothing changed: nothing dropped
    assert core.bus.wait_idle() and heard.empty()
