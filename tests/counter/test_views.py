"""The staff screens' pages and JSON through the Flask test client: who gets in, and what
the supervisor's overview and the held/missed list say."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from shared import visits
from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.bookings import import_rows
from shared.core import Core
from tests.conftest import booking_row


@dataclass
class Screens:
    core: Core
    client: FlaskClient
    tokens: dict[str, str]

    def get(self, path: str, who: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.get(path, headers=headers)

    def walk_in(self) -> dict[str, Any]:
        return visits.walk_in(self.core, "DPS", "paspor-baru", None, "petugas")


@pytest.fixture
def screens(core: Core) -> Iterator[Screens]:
    app = create_app(core=core)
    app.testing = True
    tokens: dict[str, str] = {}
    for name, role in (("petugas", "officer"), ("kepala", "supervisor")):
        token = create_staff(core, name, "pw", role, token=True)
        assert token
        tokens[name] = token
    _, tokens["board"] = enrol_device(core, "board-1", create_device(core, "display", "board-1"))
    _, tokens["kiosk"] = enrol_device(core, "kiosk-1", create_device(core, "kiosk", "kiosk-1"))
    yield Screens(core, app.test_client(), tokens)


def test_terminal_sends_strangers_to_the_login_page(screens: Screens) -> None:
    answer = screens.get("/counter?c=1")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/counter?c%3D1"
    assert screens.get("/counter/supervisor").headers["Location"] == \
        "/login?next=/counter/supervisor"
    assert screens.get("/counter", "board").status_code == 302  # a board is not staff


def test_terminal_page(screens: Screens) -> None:
    page = screens.get("/counter?c=1", "petugas")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-counter="1"' in html and "Panggil berikutnya" in html
    assert "socket.io.min.js" in html
    picker = screens.get("/counter", "petugas").get_data(as_text=True)
    assert "Pilih loket Anda" in picker and 'href="/counter?c=W1"' in picker
    unknown = screens.get("/counter?c=99", "petugas").get_data(as_text=True)
    assert "Loket tidak dikenal" in unknown


@pytest.mark.parametrize(("who", "status"), [
    (None, 403), ("kiosk", 403), ("board", 200), ("petugas", 200), ("kepala", 200),
])
def test_board_page_is_for_boards_and_staff(screens: Screens, who: str | None,
                                            status: int) -> None:
    answer = screens.get("/display/DPS", who)
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    if status == 403:
        assert "Layar ini hanya untuk papan yang terdaftar dan petugas." in html
        assert "This screen is for enrolled boards and staff only." in html
    else:
        assert 'id="board-data"' in html and "/display/static/board.js" in html


def test_board_page_unknown_office(screens: Screens) -> None:
    assert screens.get("/display/NOPE", "petugas").status_code == 404


def test_supervisor_page_is_for_supervisors(screens: Screens) -> None:
    refused = screens.get("/counter/supervisor", "petugas")
    assert refused.status_code == 403
    assert "Hanya supervisor dan administrator" in refused.get_data(as_text=True)
    assert screens.get("/counter/supervisor", "kepala").status_code == 200
    assert screens.get("/counter/api/overview", "petugas").status_code == 403
    assert screens.get("/counter/api/overview").status_code == 401


def test_overview(screens: Screens) -> None:
    first = screens.walk_in()
    screens.walk_in()
    screens.walk_in()
    visits.call_next(screens.core, "DPS", "1", "petugas")
    screens.core.clock.advance(timedelta(minutes=12))
    visits.act(screens.core, first["id"], "recall", "petugas", None)
    visits.act(screens.core, first["id"], "no-show", "petugas", None)
    visits.call_next(screens.core, "DPS", "2", "petugas")

    body = screens.get("/counter/api/overview", "kepala").get_json()
    counters = {c["id"]: c for c in body["counters"]}
    assert counters["1"]["current"] is None
    assert counters["2"]["current"]["number"] == "W002"
    assert counters["2"]["current"]["status"] == "called"
    berkas = next(s for s in body["stations"] if s["id"] == "berkas")
    assert berkas["waiting"] == 1 and berkas["being_served"] == 1
    assert berkas["longest_wait_minutes"] == 12 and berkas["longest_waiting_number"] == "W003"
    assert berkas["name"] == {"id": "Pemeriksaan Berkas", "en": "Document check"}
    assert body["today"]["no_shows"] == 1 and body["today"]["missed_now"] == 1
    assert body["today"]["tickets"] == 3
    assert body["version"] == screens.core.office_version("DPS")


def test_held_and_missed_list(screens: Screens) -> None:
    held = screens.walk_in()
    missed = screens.walk_in()
    visits.call_next(screens.core, "DPS", "1", "petugas")
    visits.act(screens.core, held["id"], "hold", "petugas", None, {"reason": "Fotokopi KK"})
    visits.call_next(screens.core, "DPS", "1", "petugas")
    screens.core.clock.advance(timedelta(seconds=30))
    visits.act(screens.core, missed["id"], "recall", "petugas", None)
    visits.act(screens.core, missed["id"], "no-show", "petugas", None)

    body = screens.get("/counter/api/tickets?status=held,missed&station=berkas",
                       "petugas").get_json()
    listed = [(t["number"], t["status"], t["reason"]) for t in body["tickets"]]
    assert listed == [("W001", "held", "Fotokopi KK"), ("W002", "missed", None)]
    assert screens.get("/counter/api/tickets?status=held&station=foto",
                       "petugas").get_json() == {"tickets": []}
    bad = screens.get("/counter/api/tickets?status=lost", "petugas")
    assert bad.status_code == 400 and set(bad.get_json()["error"]["message"]) == {"id", "en"}
    assert screens.get("/counter/api/tickets?station=nowhere", "petugas").status_code == 404
    assert screens.get("/counter/api/tickets?office=NOPE", "petugas").status_code == 404
    assert screens.get("/counter/api/tickets").status_code == 401
    assert screens.get("/counter/api/tickets", "board").status_code == 403


def test_overview_longest_wait_is_the_counters_wait(screens: Screens) -> None:
    """A booking checked in early is not due before its slot: the counters put it behind
    a walk-in who has waited, and so does the supervisor's longest wait (not the earliest
    arrival, as a query of its own had it)."""
    import_rows(screens.core, enumerate([booking_row("EARLY-0001", "10:00", "11:00")],
                                        start=1))
    early = visits.check_in(screens.core, "DPS", "EARLY-0001", "kiosk-1").ticket  # 09:00
    screens.core.clock.advance(timedelta(minutes=10))
    walk_in = screens.walk_in()  # 09:10
    screens.core.clock.advance(timedelta(minutes=30))  # 09:40

    berkas = next(s for s in screens.get("/counter/api/overview", "kepala").get_json()
                  ["stations"] if s["id"] == "berkas")
    assert berkas["waiting"] == 2
    assert berkas["longest_waiting_number"] == walk_in["number"] != early["number"]
    assert berkas["longest_wait_minutes"] == 30
    called = visits.call_next(screens.core, "DPS", "1", "petugas")
    assert called is not None and called["number"] == berkas["longest_waiting_number"]
