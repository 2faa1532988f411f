"""Open Socket.IO connections are checked again every few seconds against what admitted
them (shared.connections, shared.auth.ended_among). A change that no event brings to
this process (the CLI of another process without Redis, a restore, `psql`) is written
here straight to the database, with no event, and one pass of the sweep runs at once.

Before, the sweep only knew revoked devices and disabled accounts. A terminal whose
sessions had ended, whose role or office had changed, or whose API token had been
replaced kept receiving its office's pushes until it next sent something."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device, hash_token
from shared.connections import Connections
from shared.core import Core
from shared.models import Device, Staff
from shared.realtime import socketio as server_socketio
from tests.scaleout.helpers import wait_for
from tests.security.outsider import PASSWORD, csrf_of


@dataclass
class Screens:
    app: Flask
    terminal: Any   # a counter terminal, logged in by its browser session
    robot: Any      # a counter client holding a staff API token
    board: Any      # a board holding its device token

    def recheck(self) -> None:
        connections: Connections = self.app.extensions["giliran_connections"]
        assert connections.recheck()

    def open(self) -> dict[str, bool]:
        return {"terminal": self.terminal.is_connected("/counter"),
                "robot": self.robot.is_connected("/counter"),
                "board": self.board.is_connected("/display")}


def logged_in(app: Flask) -> FlaskClient:
    browser = app.test_client()
    form = {"csrf": csrf_of(browser.get("/login").get_data(as_text=True)),
            "username": "ayu", "password": PASSWORD}
    assert browser.post("/login", data=form).status_code == 302
    return browser


@pytest.fixture
def screens(core: Core) -> Iterator[Screens]:
    core.config = replace(core.config, security=replace(core.config.security,
                                                        staff_session_hours=12))
    create_staff(core, "ayu", PASSWORD, "officer", "DPS")
    robot_token = create_staff(core, "robot", None, "officer", "DPS", token=True)
    _, board_token = enrol_device(core, "papan-1", create_device(core, "display", "papan-1"))
    app = create_app(core=core)
    app.testing = True
    terminal = server_socketio.test_client(app, namespace="/counter",
                                           flask_test_client=logged_in(app))
    robot = server_socketio.test_client(app, namespace="/counter",
                                        headers={"Authorization": f"Bearer {robot_token}"})
    board = server_socketio.test_client(app, namespace="/display",
                                        headers={"Authorization": f"Bearer {board_token}"})
    found = Screens(app, terminal, robot, board)
    assert found.open() == {"terminal": True, "robot": True, "board": True}
    yield found
    for client, namespace in ((terminal, "/counter"), (robot, "/counter"), (board, "/display")):
        if client.is_connected(namespace):
            client.disconnect(namespace=namespace)


def write(core: Core, statement: Any) -> None:
    """A change as another process would make it: straight to the database, no event."""
    with core.db.write() as session:
        session.execute(statement)


def dropped(screens: Screens, *names: str) -> None:
    screens.recheck()
    expected = {name: name not in names for name in ("terminal", "robot", "board")}
    wait_for(lambda: screens.open() == expected, 5, f"expected {expected}")


def test_nothing_changed_nothing_dropped(screens: Screens) -> None:
    dropped(screens)


def test_ended_sessions_drop_the_browser_terminal_only(core: Core, screens: Screens) -> None:
    write(core, update(Staff).where(Staff.username == "ayu")
          .values(session_generation=Staff.session_generation + 1))
    dropped(screens, "terminal")


def test_a_changed_role_or_office_drops_the_account(core: Core, screens: Screens) -> None:
    write(core, update(Staff).where(Staff.username == "robot").values(office_id=None))
    dropped(screens, "robot")


def test_a_replaced_api_token_drops_the_old_one(core: Core, screens: Screens) -> None:
    write(core, update(Staff).where(Staff.username == "robot")
          .values(api_token_hash=hash_token("a new token")))
    dropped(screens, "robot")


def test_a_device_enrolled_again_drops_the_old_token(core: Core, screens: Screens) -> None:
    write(core, update(Device).where(Device.id == "papan-1")
          .values(token_hash=hash_token("a new token")))
    dropped(screens, "board")


def test_a_disabled_account_and_a_revoked_device(core: Core, screens: Screens) -> None:
    write(core, update(Staff).where(Staff.username == "ayu").values(active=False))
    write(core, update(Device).where(Device.id == "papan-1").values(revoked_at=core.now()))
    dropped(screens, "terminal", "board")


def test_a_session_past_its_lifetime_is_dropped(core: Core, screens: Screens) -> None:
    core.clock.advance(timedelta(hours=11, minutes=59))
    dropped(screens)
    core.clock.advance(timedelta(minutes=2))
    dropped(screens, "terminal")


def idle_limit(core: Core, hours: float) -> None:
    core.config = replace(core.config, security=replace(core.config.security,
                                                        staff_idle_hours=hours))


def test_a_session_unused_past_the_idle_limit_is_dropped(core: Core, screens: Screens) -> None:
    """The browser's session would be refused at its next request after
    `staff_idle_hours` without use; its open terminal stops receiving pushes then too
    (tokens have no idle limit)."""
    idle_limit(core, 2)
    core.clock.advance(timedelta(hours=1, minutes=59))
    dropped(screens)
    core.clock.advance(timedelta(minutes=2))
    dropped(screens, "terminal")


def test_the_account_used_meanwhile_keeps_its_terminal(core: Core, screens: Screens) -> None:
    """The socket does not see the browser's later requests (the cookie it was admitted
    with is its own); the account's presence, written by its requests, counts as use."""
    idle_limit(core, 2)
    core.clock.advance(timedelta(hours=1, minutes=30))
    other = logged_in(screens.app)  # the same officer, another browser
    assert other.get("/api/v1/counters/1").status_code == 200
    assert core.presence.read()["ayu"][0] == core.now()  # written
    core.clock.advance(timedelta(hours=1))
    dropped(screens)  # 2 h 30 min after login, 1 h after the last use
    core.clock.advance(timedelta(hours=1, minutes=1))
    dropped(screens, "terminal")


def test_a_page_polling_a_path_that_names_no_place_keeps_its_terminal(
        core: Core, screens: Screens) -> None:
    """A supervisor page polls paths that name no place; that is a use of the account
    too, as it is of the browser's own session at each request."""
    idle_limit(core, 2)
    core.clock.advance(timedelta(hours=1, minutes=30))
    assert logged_in(screens.app).get("/api/v1/health").status_code == 200
    core.presence.flush()
    core.clock.advance(timedelta(hours=1))
    dropped(screens)
    core.clock.advance(timedelta(hours=1, minutes=1))
    dropped(screens, "terminal")


def test_a_staff_token_shown_as_the_device_cookie_is_checked_too(core: Core,
                                                                   screens: Screens) -> None:
    token = create_staff(core, "robot", None, "officer", "DPS", token=True)
    by_cookie = server_socketio.test_client(screens.app, namespace="/counter",
                                            headers={"Cookie": f"giliran_device={token}"})
    assert by_cookie.is_connected("/counter")
    write(core, update(Staff).where(Staff.username == "robot")
          .values(api_token_hash=hash_token("a new token")))
    screens.recheck()
    wait_for(lambda: not by_cookie.is_connected("/counter"), 5, "the cookie's socket stayed")


def test_what_the_sweep_drops_is_forgotten_by_the_account_cache(
        core: Core, screens: Screens, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the process remembers who holds a token; a change it heard of from
    nobody (a restore) must not let the dropped screen straight back in from that memory."""
    forgotten: list[bool] = []
    monkeypatch.setattr(core.accounts, "forget_all", lambda: forgotten.append(True))
    dropped(screens)
    assert forgotten == []  # nothing ended: the memory stays
    write(core, update(Device).where(Device.id == "papan-1").values(revoked_at=core.now()))
    dropped(screens, "board")
    assert forgotten
