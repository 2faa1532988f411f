"""Red-team review of the counter terminal and the supervisor side: what an officer on a
busy Monday and a supervisor of one office would run into. Each test reproduces one
defect; those whose fix belongs to the queue logic (shared/) are marked xfail (strict)
with the fix they need."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared import visits
from shared.app import create_app
from shared.auth import create_device, create_staff
from shared.core import Core
from shared.device_states import Publisher
from shared.realtime import socketio
from tests.browser.conftest import live  # noqa: F401  (the browser test's live server)
from tests.conftest import make_core
from tests.security.test_input import two_offices


@dataclass
class World:
    """Two offices (DPS with the shipped counters, JKT with one counter "1"), staff of one
    office and of both, as bearer tokens."""

    core: Core
    app: Flask
    client: FlaskClient
    who: dict[str, dict[str, str]]

    def get(self, path: str, who: str) -> Any:
        return self.client.get(path, headers=self.who[who])

    def post(self, path: str, who: str, body: Any = None) -> Any:
        return self.client.post(path, json=body if body is not None else {},
                                headers=self.who[who])

    def walk_in(self, office: str = "DPS") -> dict[str, Any]:
        return visits.walk_in(self.core, office, "paspor-baru", None, "petugas")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    core = make_core(two_offices(), f"sqlite:///{tmp_path / 'redteam.sqlite3'}")
    app = create_app(core=core)
    app.testing = True
    who: dict[str, dict[str, str]] = {}
    for name, role, office in (("petugas", "officer", "DPS"), ("petugas-all", "officer", None),
                               ("kepala-dps", "supervisor", "DPS"),
                               ("kepala-jkt", "supervisor", "JKT"),
                               ("kepala-all", "supervisor", None),
                               ("admin-all", "admin", None)):
        token = create_staff(core, name, "pw", role, office, token=True)
        assert token
        who[name] = {"Authorization": f"Bearer {token}"}
    yield World(core, app, app.test_client(), who)
    core.bus.close()
    core.db.engine.dispose()


def _links(html: str) -> list[str]:
    return [link.replace("&amp;", "&")
            for link in re.findall(r'href="(/counter(?:/supervisor)?(?:\?[^"]*)?)"', html)]


# --- 1. the /counter namespace -----------------------------------------------------------
def test_a_join_without_payload_is_refused_not_a_handler_error(world: World) -> None:
    """`socket.emit("join")` with no payload (a hand-written client, an old script) was a
    TypeError in the handler: no answer to the client and a traceback in the log."""
    client = socketio.test_client(world.app, namespace="/counter",
                                  headers=world.who["petugas"])
    assert client.is_connected("/counter")
    answer = client.emit("join", namespace="/counter", callback=True)
    assert answer == {"ok": False, "error": "unknown_office"}
    assert client.is_connected("/counter")
    assert client.emit("join", {"office": "DPS"}, namespace="/counter",
                       callback=True)["ok"] is True
    client.disconnect(namespace="/counter")


# --- 2. a person who may see several offices stays in the office they opened ----------------
def test_the_counter_picker_of_another_office_picks_that_office_s_counter(
        world: World) -> None:
    """An officer of every office opens JKT's terminal (`/counter?office=JKT`): the list
    of JKT's counters linked to `/counter?c=1`, without the office, which is Loket 1 of
    the default office (DPS). The officer then called DPS's queue from a JKT desk."""
    picker = world.get("/counter?office=JKT", "petugas-all").get_data(as_text=True)
    assert "/counter?c=1&office=JKT" in _links(picker)
    terminal = world.get("/counter?office=JKT&c=1", "petugas-all").get_data(as_text=True)
    assert "/counter?pick=1&office=JKT" in _links(terminal)
    page = world.get("/counter?office=JKT&c=1", "kepala-all").get_data(as_text=True)
    assert "/counter/supervisor?office=JKT" in _links(page)
    supervisor = world.get("/counter/supervisor?office=JKT", "kepala-all")
    assert "/counter?office=JKT" in _links(supervisor.get_data(as_text=True))
    # An officer of one office, who named none, keeps the short links.
    own = world.get("/counter", "petugas").get_data(as_text=True)
    assert "/counter?c=1" in _links(own)


# --- 3. the refusal page says who may open the page ----------------------------------------
@pytest.mark.parametrize(("path", "who", "text"), [
    ("/admin", "kepala-dps", ("Hanya administrator yang boleh membuka halaman ini.",
                              "Only administrators may open this page.")),
    ("/admin/devices", "petugas", ("Hanya administrator yang boleh membuka halaman ini.",
                                   "Only administrators may open this page.")),
    ("/counter/supervisor", "petugas", (
        "Hanya supervisor dan administrator yang boleh membuka halaman ini.",
        "Only supervisors and administrators may open this page.")),
])
def test_a_refused_page_names_who_may_open_it(world: World, path: str, who: str,
                                              text: tuple[str, str]) -> None:
    """A supervisor opening the admin console was told that "only supervisors and
    administrators" may open it: they are a supervisor, so the page contradicted itself."""
    answer = world.get(path, who)
    assert answer.status_code == 403
    html = answer.get_data(as_text=True)
    assert text[0] in html and text[1] in html


def test_the_settings_page_tells_an_office_admin_it_is_for_admins_of_every_office(
        world: World) -> None:
    create_staff(world.core, "admin-dps", "pw", "admin", "DPS")
    token = create_staff(world.core, "admin-dps", "pw", "admin", "DPS", token=True)
    answer = world.client.get("/admin/settings", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    html = answer.get_data(as_text=True)
    assert "Hanya administrator semua kantor yang boleh membuka halaman ini." in html
    assert "Only an administrator of every office may open this page." in html


# --- 4. the supervisor's printers and devices are the office's own -----------------------------
def _publish_printers(core: Core) -> None:
    """Printers as the hardware process (another process) reports them: a kiosk of each
    office, and the JKT one out of paper."""
    create_device(core, "kiosk", "kiosk-dps", "DPS")
    create_device(core, "kiosk", "kiosk-jkt", "JKT")
    Publisher(core, "printer", process="hardware-host:1").publish({
        "kiosk-dps": {"status": "ok", "alert": False},
        "kiosk-jkt": {"status": "paper_out", "alert": True,
                      "message": {"id": "Kertas habis", "en": "Out of paper"}},
    })


def test_the_supervisor_sees_the_printers_of_its_own_office_only(world: World) -> None:
    """The supervisor view listed `GET /api/v1/health`: every office's printers and buses
    (a Denpasar supervisor saw Jakarta's kiosk printer out of paper), and only those of
    the process that answered (none on a web process without hardware)."""
    _publish_printers(world.core)
    dps = world.get("/counter/api/health", "kepala-dps")
    assert dps.status_code == 200, dps.get_data(as_text=True)
    assert dps.get_json()["db"] == "ok"
    assert set(dps.get_json()["printers"]) == {"kiosk-dps"}
    assert "process" not in dps.get_json()["printers"]["kiosk-dps"]
    jkt = world.get("/counter/api/health", "kepala-jkt").get_json()
    assert set(jkt["printers"]) == {"kiosk-jkt"}
    assert jkt["printers"]["kiosk-jkt"]["alert"] is True
    both = world.get("/counter/api/health?office=JKT", "kepala-all").get_json()
    assert set(both["printers"]) == {"kiosk-jkt"}
    assert world.get("/counter/api/health?office=JKT", "kepala-dps").status_code == 403
    assert world.get("/counter/api/health", "petugas").status_code == 403
    assert world.client.get("/counter/api/health").status_code == 401


def test_the_supervisor_script_reads_the_office_s_own_health() -> None:
    script = (Path(__file__).resolve().parents[2] / "counter/static/supervisor.js").read_text()
    assert '"/api/v1/health"' not in script
    assert "/counter/api/health?office=" in script


# --- 5. for shared/visits.py: a stale terminal acts on another counter's ticket ---------------
def test_an_action_from_a_counter_the_ticket_has_left_is_refused(world: World) -> None:
    ticket = world.walk_in()
    assert visits.call_next(world.core, "DPS", "1", "petugas")["id"] == ticket["id"]
    # Loket 1 puts it on hold, a colleague resumes it and Loket 2 calls it.
    visits.act(world.core, ticket["id"], "hold", "petugas", None, {"reason": "Fotokopi"})
    visits.act(world.core, ticket["id"], "resume", "kepala", None)
    assert visits.call_next(world.core, "DPS", "2", "lain")["id"] == ticket["id"]
    world.core.clock.advance(timedelta(minutes=1))
    # Loket 1's terminal, still showing the ticket, presses "call again" and "no-show".
    recall = world.post(f"/api/v1/tickets/{ticket['id']}/recall", "petugas", {"counter": "1"})
    assert recall.status_code == 409, recall.get_json()
    assert recall.get_json()["error"]["code"] == "not_at_counter"
    now = world.get(f"/api/v1/tickets/{ticket['id']}", "petugas").get_json()["ticket"]
    assert now["status"] == "called" and now["counter"] == "2" and now["call_count"] == 1
    # Loket 2 itself acts, and so does a terminal that names no counter (API clients).
    here = world.post(f"/api/v1/tickets/{ticket['id']}/start", "petugas", {"counter": "2"})
    assert here.status_code == 200, here.get_json()
    held = world.post(f"/api/v1/tickets/{ticket['id']}/hold", "petugas", {"reason": "Foto"})
    assert held.status_code == 200, held.get_json()
    # A held ticket is at no counter: any terminal may resume it.
    resumed = world.post(f"/api/v1/tickets/{ticket['id']}/resume", "petugas", {"counter": "1"})
    assert resumed.status_code == 200, resumed.get_json()


# --- 6. the supervisor sees a closed counter as closed -----------------------------------------
@pytest.mark.browser
def test_the_supervisor_sees_a_closed_counter_as_closed(browser: Any, live: Any) -> None:  # noqa: F811
    """A counter closed by an administrator looked "idle" on the supervisor's page, like a
    free desk to send an officer or a queue to; the overview said `open: false` all along."""
    import requests

    from tests.browser.test_board_counter import login

    live.staff("kepala", "pw", "supervisor")
    admin = {"Authorization": f"Bearer {live.staff('kepala-kantor', 'pw', 'admin')}"}
    answer = requests.patch(f"{live.url}/api/v1/offices/DPS/counters/2", headers=admin,
                            json={"open": False}, timeout=5)
    assert answer.status_code == 200, answer.text
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        login(page, live, "kepala", "pw", "/counter/supervisor")
        page.wait_for_function("document.body.dataset.loaded === '1'")
        closed = page.locator(".counter-card[data-counter='2']")
        assert "closed" in str(closed.get_attribute("class")).split()
        text = str(closed.text_content())
        assert "Loket ditutup" in text and "Counter closed" in text
        still_open = page.locator(".counter-card[data-counter='1']")
        assert "closed" not in str(still_open.get_attribute("class")).split()
        assert "Loket ditutup" not in str(still_open.text_content())
    finally:
        context.close()


def test_a_walk_in_sent_again_with_its_key_issues_one_ticket(world: World) -> None:
    """The officer's walk-in form was sent, the ticket issued, the answer lost; the form is
    sent again with the same key: the same ticket answers, and the queue has one."""
    def issue(key: str) -> Any:
        return world.client.post("/api/v1/walkins",
                                 json={"service": "paspor-baru", "priority_group": "lansia"},
                                 headers={**world.who["petugas"], "Idempotency-Key": key})

    first, again = issue("walkin-1"), issue("walkin-1")
    assert first.status_code == again.status_code == 201, (first.get_json(), again.get_json())
    assert again.get_json()["ticket"] == first.get_json()["ticket"]
    other = issue("walkin-2")
    assert other.status_code == 201
    assert other.get_json()["ticket"]["number"] != first.get_json()["ticket"]["number"]
    waiting = world.get("/api/v1/stations/berkas/queue", "petugas").get_json()["waiting"]
    assert sorted(t["number"] for t in waiting) == sorted(
        [first.get_json()["ticket"]["number"], other.get_json()["ticket"]["number"]])


def test_the_pages_name_the_role_in_both_languages(world: World) -> None:
    """The header said "(officer)": a role's code, in English only, where people read."""
    for path, who, label in (("/counter?c=1", "petugas", "Petugas"),
                             ("/counter/supervisor", "kepala-dps", "Supervisor"),
                             ("/reports/day", "kepala-dps", "Supervisor"),
                             ("/admin/staff", "admin-all", "Administrator")):
        answer = world.get(path, who)
        assert answer.status_code == 200, (path, answer.status_code)
        page = answer.get_data(as_text=True)
        who_is = re.search(r'class="(?:who|reports-user)">([^<]*)', page)
        assert who_is is not None and f"({label}" in who_is.group(1), (path, who_is)
        assert "(officer)" not in page and "(supervisor)" not in page and "(admin)" not in page
