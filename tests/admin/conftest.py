"""An app with an admin of every office, an admin of DPS only, an officer and a board."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.bookings import import_rows
from shared.core import Core
from tests.conftest import ROOT, booking_row


def bearer(token: str | None) -> dict[str, str]:
    assert token
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Admin:
    app: Flask
    client: FlaskClient
    core: Core
    root: dict[str, str]
    dps: dict[str, str]
    officer: dict[str, str]
    display: dict[str, str]

    def call(self, method: str, path: str, body: Any = None, who: dict[str, str] | None = None,
             **headers: str) -> Any:
        return self.client.open(f"/api/v1{path}", method=method, json=body,
                                headers={**(self.root if who is None else who), **headers})


@pytest.fixture
def adm(core: Core) -> Iterator[Admin]:
    from dataclasses import replace

    from shared.app import load_config

    # The rooms' section checks (printers, serial, announce) as `giliran serve` has them.
    core.config = replace(core.config, checks=load_config(ROOT / "config.toml").checks)
    app = create_app(core=core)
    app.testing = True
    root = bearer(create_staff(core, "kepala", "pw", "admin", token=True))
    dps = bearer(create_staff(core, "admin-dps", "pw", "admin", "DPS", token=True))
    officer = bearer(create_staff(core, "petugas", "pw", "officer", token=True))
    _, display_token = enrol_device(core, "board-1", create_device(core, "display", "board-1"))
    import_rows(core, enumerate([booking_row("ADM-00001"), booking_row("ADM-00002")], start=1))
    yield Admin(app, app.test_client(), core, root, dps, officer, bearer(display_token))


def error(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert set(body["error"]["message"]) == {"id", "en"}, body
    return body["error"]  # type: ignore[no-any-return]
