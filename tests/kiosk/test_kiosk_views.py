"""The kiosk's server side: who may open it, the status page, the QR route, officer walk-ins
and the catalogue of the kiosk's texts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kiosk.views import (
    NEXT_STEPS,
    NO_PRIORITY,
    PRIORITY_NAMES,
    SCRIPT_MESSAGES,
    STATUS_WORDS,
    qr_svg,
)
from shared.app import create_app
from shared.auth import create_device, create_staff
from shared.bookings import import_rows
from shared.config import Config
from shared.core import Core
from shared.i18n import TRANSLATIONS, bilingual, catalogue
from shared.web import staff_session_values
from tests.conftest import booking_row, make_core

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"


@pytest.fixture
def app(core: Core) -> Flask:
    app = create_app(core=core)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def enrol(core: Core, client: FlaskClient, device_id: str = "kiosk-1",
          kind: str = "kiosk") -> None:
    code = create_device(core, kind, device_id, "DPS")
    answer = client.get(f"/enrol/{device_id}/{code}")
    assert answer.status_code == 302


def log_in(core: Core, client: FlaskClient, role: str = "officer") -> None:
    create_staff(core, "wayan", "rahasia-123", role)
    with client.session_transaction() as session:
        session.update(staff_session_values(core, "wayan"))


def check_in(core: Core, client: FlaskClient, code: str = "DPS-0001") -> dict[str, object]:
    summary = import_rows(core, enumerate([booking_row(code)], start=1))
    assert summary.refused_count == 0
    answer = client.post("/api/v1/checkin", json={"scan": code, "kiosk": "kiosk-1"})
    assert answer.status_code == 201, answer.json
    assert answer.json is not None
    return answer.json["ticket"]  # type: ignore[no-any-return]


# --- who may open the kiosk -------------------------------------------------------------
def test_kiosk_page_needs_an_enrolled_kiosk(client: FlaskClient) -> None:
    answer = client.get("/kiosk/kiosk-1")
    assert answer.status_code == 403
    page = answer.get_data(as_text=True)
    text = bilingual("This screen is not enrolled as a kiosk")
    assert text["id"] in page and text["en"] in page
    assert "/login?next=/kiosk/kiosk-1" in page
    assert 'id="kiosk"' not in page


def test_enrolled_kiosk_sees_its_own_page_only(core: Core, client: FlaskClient) -> None:
    enrol(core, client)
    answer = client.get("/kiosk/kiosk-1")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert 'id="kiosk"' in page and 'data-state="welcome"' in page
    assert "/static/vendor/jsQR.js" in page
    assert "https://" not in page  # nothing from a CDN
    assert 'id="staff-panel"' not in page
    assert client.get("/kiosk/kiosk-2").status_code == 403


def test_a_board_cookie_does_not_open_the_kiosk(core: Core, client: FlaskClient) -> None:
    code = create_device(core, "display", "board-1", "DPS")
    client.get(f"/enrol/board-1/{code}")
    assert client.get("/kiosk/board-1").status_code == 403


def test_kiosk_settings_carry_the_return_time_and_office_names(core: Core,
                                                              client: FlaskClient) -> None:
    enrol(core, client)
    page = client.get("/kiosk/kiosk-1?camera=1").get_data(as_text=True)
    match = re.search(r'<script type="application/json" id="kiosk-settings">(.*?)</script>',
                      page, re.S)
    assert match
    settings = json.loads(match.group(1))
    assert settings["return_seconds"] == core.config.kiosk.return_to_welcome_seconds
    assert settings["camera"] is True
    assert settings["kiosk"] == "kiosk-1"
    assert settings["checkin_url"] == "/api/v1/checkin?office=DPS"
    assert settings["names"]["stations"]["berkas"]["id"] == "Pemeriksaan Berkas"
    assert set(settings["next_steps"]) >= {
        "invalid_scan", "unknown_booking", "wrong_office", "wrong_day", "too_early",
        "too_late", "cancelled", "closed", "rate_limited"}


def test_an_officer_may_open_any_kiosk_with_the_walkin_panel(core: Core,
                                                            client: FlaskClient) -> None:
    log_in(core, client)
    answer = client.get("/kiosk/kiosk-9")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert 'id="staff-panel"' in page
    assert 'value="lansia"' in page and 'value="percepatan"' in page
    assert "/api/v1/walkins?office=DPS" in page  # no device cookie: the API itself


# --- walk-ins issued by an officer on an enrolled kiosk ---------------------------------
def test_officer_on_an_enrolled_kiosk_issues_walkins(core: Core, client: FlaskClient) -> None:
    enrol(core, client)
    log_in(core, client)
    page = client.get("/kiosk/kiosk-1").get_data(as_text=True)
    assert "/kiosk/kiosk-1/walkins" in page
    answer = client.post("/kiosk/kiosk-1/walkins",
                         json={"service": "paspor-baru", "priority_group": "lansia"})
    assert answer.status_code == 201, answer.json
    assert answer.json is not None
    assert answer.json["ticket"]["number"] == "P001"
    assert answer.json["ticket"]["priority_group"] == "lansia"
    refused = client.post("/kiosk/kiosk-1/walkins", json={"service": "nope"})
    assert refused.status_code == 422
    assert refused.json is not None and refused.json["error"]["code"] == "invalid_request"
    assert client.post("/kiosk/kiosk-1/walkins", data="service=x",
                       content_type="application/x-www-form-urlencoded").status_code == 415


def test_a_kiosk_alone_cannot_issue_walkins(core: Core, client: FlaskClient) -> None:
    enrol(core, client)
    answer = client.post("/kiosk/kiosk-1/walkins", json={"service": "paspor-baru"})
    assert answer.status_code == 401
    assert answer.json is not None and answer.json["error"]["code"] == "unauthorized"


def test_officer_logout_keeps_the_kiosk_enrolled(core: Core, client: FlaskClient) -> None:
    enrol(core, client)
    log_in(core, client)
    with client.session_transaction() as session:
        session["csrf"] = "token-1"
    answer = client.post("/kiosk/kiosk-1/staff-logout", data={"csrf": "token-1"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/kiosk/kiosk-1"
    page = client.get("/kiosk/kiosk-1").get_data(as_text=True)
    assert 'id="staff-panel"' not in page
    assert client.post("/kiosk/kiosk-1/staff-logout", data={}).status_code == 400


# --- the public status page -------------------------------------------------------------
@pytest.mark.parametrize("token", ["unknown-token", "a" * 65, "bad%20token", "x.y"])
def test_status_page_404_for_unknown_tokens(client: FlaskClient, token: str) -> None:
    answer = client.get(f"/t/{token}")
    assert answer.status_code == 404
    page = answer.get_data(as_text=True)
    text = bilingual("Ticket not found")
    assert text["id"] in page and text["en"] in page


def test_status_page_shows_the_ticket_without_personal_data(core: Core,
                                                           client: FlaskClient) -> None:
    enrol(core, client)
    ticket = check_in(core, client)
    anonymous = create_app(core=core).test_client()
    answer = anonymous.get(str(ticket["status_url"]))
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "B001" in page
    assert "Made Lestari" not in page  # the booking's name never reaches the public page
    assert '"id": 1' not in page and '"id":1' not in page
    assert f"/api/v1{ticket['status_url']}.json" in page


# --- the QR route -----------------------------------------------------------------------
def test_qr_route_draws_our_status_addresses(core: Core, client: FlaskClient) -> None:
    enrol(core, client)
    ticket = check_in(core, client)
    address = f"http://localhost{ticket['status_url']}"
    for data in (str(ticket["status_url"]), address):
        answer = client.get("/kiosk/qr.svg", query_string={"data": data})
        assert answer.status_code == 200
        assert answer.mimetype == "image/svg+xml"
        assert answer.get_data(as_text=True) == qr_svg(address)


def test_qr_route_uses_the_public_url(config: Config, tmp_path: Path) -> None:
    public = replace(config, public_url="https://antrian.example.go.id")
    core = make_core(public, f"sqlite:///{tmp_path / 'public.sqlite3'}")
    client = create_app(core=core).test_client()
    for data in ("/t/abcdef123", "https://antrian.example.go.id/t/abcdef123",
                 "http://localhost/t/abcdef123"):
        answer = client.get("/kiosk/qr.svg", query_string={"data": data})
        assert answer.status_code == 200, data
        assert answer.get_data(as_text=True) == qr_svg("https://antrian.example.go.id/t/abcdef123")
    core.db.engine.dispose()


@pytest.mark.parametrize("data", [
    "",
    "https://evil.example/t/abcdef",
    "//evil.example/t/abcdef",
    "http://localhost.evil.example/t/abcdef",
    "javascript:alert(1)",
    "/kiosk/kiosk-1",
    "/t/abc/../../admin",
    "/t/abcdef?next=https://evil.example",
    "/t/abcdef#x",
    "http://user:pw@localhost/t/abcdef",
    "Hello, this is any text you like",
    "/t/" + "a" * 400,
])
def test_qr_route_refuses_foreign_data(client: FlaskClient, data: str) -> None:
    answer = client.get("/kiosk/qr.svg", query_string={"data": data})
    assert answer.status_code == 400
    assert answer.json is not None and answer.json["error"]["code"] == "invalid_request"


# --- people's text ----------------------------------------------------------------------
def kiosk_sources() -> set[str]:
    found: set[str] = set()
    for template in (KIOSK / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        found.update(re.findall(r'\bt\("((?:[^"\\]|\\.)*)"\)', text))
        found.update(re.findall(r"\bt\('((?:[^'\\]|\\.)*)'\)", text))
        found.update(re.findall(r'\bbi\("((?:[^"\\]|\\.)*)"\)', text))
    views = (KIOSK / "views.py").read_text(encoding="utf-8")
    found.update(re.findall(r'Refusal\(\d+, "\w+", "([^"]+)"', views))
    found.update(SCRIPT_MESSAGES, NEXT_STEPS.values(), STATUS_WORDS.values(),
                 PRIORITY_NAMES.values(), [NO_PRIORITY])
    return found


def test_every_kiosk_text_is_listed_and_translated() -> None:
    listed = set((KIOSK / "messages.txt").read_text(encoding="utf-8").splitlines())
    used = kiosk_sources()
    assert used <= listed, sorted(used - listed)
    assert (TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.po").exists()
    indonesian = catalogue("id")
    missing = sorted(source for source in used if source not in indonesian)
    assert not missing, missing


@pytest.fixture(autouse=True)
def _fresh_catalogue() -> Iterator[None]:
    catalogue.cache_clear()
    yield
    catalogue.cache_clear()



def test_status_page_of_a_finished_visit_links_to_the_survey(core: Core,
                                                              client: FlaskClient) -> None:
    from shared import visits
    from shared.bookings import import_rows
    from tests.conftest import booking_row

    import_rows(core, enumerate([booking_row("SURVEY-001")], start=1))
    ticket = visits.check_in(core, "DPS", "SURVEY-001", "k").ticket
    token = ticket["status_url"].split("/")[-1]
    assert 'id="status-survey" hidden' in client.get(f"/t/{token}").get_data(as_text=True)
    for counter in ("1", "W1", "S1", "F1"):  # document check, interview, fingerprint, photo
        visits.call_next(core, "DPS", counter, "p")
        visits.act(core, ticket["id"], "finish", "p", None)
    done = client.get(f"/t/{token}").get_data(as_text=True)
    assert f'href="/survey/{token}"' in done and 'id="status-survey" hidden' not in done


def test_the_kiosk_scripts_take_ticket_states_from_the_page_not_their_own_spelling() -> None:
    """shared/lifecycle.py names the states; the kiosk and the phone's status page get
    them in their settings, so a renamed or added state cannot leave a script behind."""
    from kiosk.views import TICKET_STATES
    from shared import lifecycle
    from tests.conftest import ROOT

    assert TICKET_STATES["active"] == list(lifecycle.ACTIVE)
    for script in ("kiosk.js", "status.js"):
        source = (ROOT / "kiosk" / "static" / script).read_text(encoding="utf-8")
        spelled = [state for state in lifecycle.STATES
                   if re.search(rf"""["']{state}["']""", source)]
        assert spelled == [], f"{script} spells {spelled}"
        assert "settings.states" in source
