"""The reports blueprint: the survey API and page, supervisor pages, exports and audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shared import visits
from shared.app import create_app
from shared.auth import create_staff
from shared.bookings import import_rows
from shared.core import Core
from shared.models import Ticket
from shared.reports.models import SurveyResponse
from shared.reports.retention import audit_entries
from shared.reports.views import reports
from shared.web import staff_session_values
from tests.conftest import DAY, booking_row
from tests.reports.helpers import drive_day

ANSWERS = {f"u{i}": 4 for i in range(1, 10)}


@pytest.fixture
def app(core: Core) -> Flask:
    app = create_app(core=core)
    if "reports" not in app.blueprints:
        app.register_blueprint(reports)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, core: Core, username: str, role: str) -> None:
    create_staff(core, username, "rahasia-123", role)
    with client.session_transaction() as session:
        session.update(staff_session_values(core, username))


def token_of(core: Core, ticket_id: int) -> str:
    with core.db.read() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.public_token


def finished_ticket(core: Core) -> tuple[int, str]:
    summary = import_rows(core, enumerate([booking_row("SURVEY-001")], start=1))
    assert summary.refused_count == 0
    ticket = visits.check_in(core, "DPS", "SURVEY-001", "k").ticket
    for counter in ("1", "W1", "S1", "F1"):
        assert visits.call_next(core, "DPS", counter, "p") is not None
        visits.act(core, ticket["id"], "finish", "p", None)
    return ticket["id"], token_of(core, ticket["id"])


# --- the survey API ------------------------------------------------------------------------
def test_survey_only_once_the_visit_is_done(core: Core, client: FlaskClient) -> None:
    summary = import_rows(core, enumerate([booking_row("SURVEY-002")], start=1))
    assert summary.refused_count == 0
    ticket = visits.check_in(core, "DPS", "SURVEY-002", "k").ticket
    token = token_of(core, ticket["id"])
    answer = client.post(f"/api/v1/survey/{token}", json=ANSWERS)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "not_done"
    assert set(answer.json["error"]["message"]) == {"id", "en"}


def test_survey_answered_once(core: Core, client: FlaskClient) -> None:
    ticket_id, token = finished_ticket(core)
    state = client.get(f"/api/v1/survey/{token}").json["survey"]
    assert state["open"] and len(state["questions"]) == 9
    assert state["questions"][0]["choices"][3] == {"score": 4, "id": "Sangat sesuai",
                                                   "en": "Very suitable"}
    first = client.post(f"/api/v1/survey/{token}", json=ANSWERS)
    assert first.status_code == 201
    again = client.post(f"/api/v1/survey/{token}", json=ANSWERS)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "already_answered"
    with core.db.read() as session:
        rows = session.execute(select(SurveyResponse)).scalars().all()
        assert len(rows) == 1 and rows[0].ticket_id == ticket_id
        assert rows[0].scores() == (4,) * 9
        assert not hasattr(rows[0], "staff") and not hasattr(rows[0], "name")
    assert client.get(f"/api/v1/survey/{token}").json["survey"]["open"] is False


def test_survey_accepts_a_list_of_answers(core: Core, client: FlaskClient) -> None:
    _, token = finished_ticket(core)
    answer = client.post(f"/api/v1/survey/{token}", json={"answers": [1, 2, 3, 4, 1, 2, 3, 4, 1]})
    assert answer.status_code == 201
    assert answer.json["survey"]["scores"]["u4"] == 4


@pytest.mark.parametrize("body", [
    {**ANSWERS, "u3": 5}, {**ANSWERS, "u3": 0}, {**ANSWERS, "u9": None},
    {k: v for k, v in ANSWERS.items() if k != "u1"}, {**ANSWERS, "u2": True},
    {**ANSWERS, "u2": 2.5}, {**ANSWERS, "u2": "x"}, {"answers": [4] * 8},
    {"answers": "4444"}, [4] * 9, "hello", 7, None, {},
])
def test_survey_values_are_validated(core: Core, client: FlaskClient, body: Any) -> None:
    _, token = finished_ticket(core)
    answer = client.post(f"/api/v1/survey/{token}", json=body)
    assert answer.status_code == 422, body
    assert answer.json["error"]["code"] == "invalid_answers"


@pytest.mark.parametrize(("data", "headers"), [
    (b"{not json", {"Content-Type": "application/json"}),
    (b"\xff\xfe\x00", {"Content-Type": "application/json"}),
    (b"u1=4", {"Content-Type": "application/x-www-form-urlencoded"}),
    (b"", {}),
])
def test_survey_never_500_on_garbage(core: Core, client: FlaskClient, data: bytes,
                                     headers: dict[str, str]) -> None:
    _, token = finished_ticket(core)
    answer = client.post(f"/api/v1/survey/{token}", data=data, headers=headers)
    assert 400 <= answer.status_code < 500
    assert "error" in answer.json
    for bad in ("nope", "x" * 65, "%00", "..%2F..%2Fetc"):
        missing = client.post(f"/api/v1/survey/{bad}", json=ANSWERS)
        assert missing.status_code == 404


def test_survey_page_posts_the_answers(core: Core, client: FlaskClient) -> None:
    _, token = finished_ticket(core)
    page = client.get(f"/survey/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('type="radio"') == 36
    assert "kesesuaian persyaratan pelayanan" in html and "Very suitable" in html
    partial = client.post(f"/survey/{token}", data={"u1": "4"})
    assert partial.status_code == 422
    done = client.post(f"/survey/{token}", data={f"u{i}": "3" for i in range(1, 10)})
    assert done.status_code == 200 and "Terima kasih" in done.get_data(as_text=True)
    assert client.post(f"/survey/{token}", data={f"u{i}": "3" for i in range(1, 10)}
                       ).status_code == 409
    # The address on a ticket, mistyped on a phone: a page in both languages, not JSON.
    for bad in ("unknown-token", "x" * 65):
        for missing in (client.get(f"/survey/{bad}"),
                        client.post(f"/survey/{bad}", data={"u1": "4"})):
            assert missing.status_code == 404 and missing.mimetype == "text/html"
            text = missing.get_data(as_text=True)
            assert "Tiket tidak ditemukan" in text and "Ticket not found" in text


# --- pages -----------------------------------------------------------------------------------
def test_pages_need_a_supervisor(core: Core, client: FlaskClient) -> None:
    anonymous = client.get("/reports/day")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(client, core, "petugas", "officer")
    assert client.get("/reports/day").status_code == 403
    assert client.get("/reports/skm").status_code == 403
    assert client.get("/reports/day/export").status_code == 403


def test_day_page_shows_figures_and_chart_data(core: Core, client: FlaskClient) -> None:
    drive_day(core)
    login(client, core, "kepala", "supervisor")
    page = client.get(f"/reports/day?date={DAY}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="chart-slots"' in html and "/static/vendor/chart.umd.min.js" in html
    assert "Pemeriksaan Berkas" in html and "Wira" not in html
    data = json.loads(html.split('id="report-data">')[1].split("</script>")[0])
    assert data["slots"]["booked"] == [4, 1]
    assert data["stations"]["wait_mean"] == [3.2, 11.67, 40.0, 3.5]
    assert client.get("/reports/day?date=31-12-2026").status_code == 400
    assert client.get("/reports/day?office=NOPE").status_code == 404


def test_skm_page_and_export(core: Core, client: FlaskClient) -> None:
    _, token = finished_ticket(core)
    assert client.post(f"/api/v1/survey/{token}", json=ANSWERS).status_code == 201
    login(client, core, "kepala", "supervisor")
    page = client.get("/reports/skm?period=2026-12").get_data(as_text=True)
    assert "100.00" in page and "A — Sangat Baik" in page
    exported = client.get("/reports/skm/export?period=2026-S2&format=csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert ["U1", "Persyaratan", "4.00", "0.444"] in rows
    assert ["nilai SKM/SKM value", "100.00"] in rows
    assert ["mutu pelayanan/grade", "A"] in rows
    assert ["2026-12", "1", "4.0000", "100.00", "A — Sangat Baik"] in rows
    year = client.get("/reports/skm/export?period=2026&format=html").get_data(as_text=True)
    assert "Sangat Baik" in year and "2026-S2" in year
    assert client.get("/reports/skm?period=2026-99").status_code == 400
    assert audit_entries(core)[0]["detail"]["report"] == "skm"


# --- exports, masking and the audit log ----------------------------------------------------------
def test_export_masks_names_and_is_audited(core: Core, client: FlaskClient) -> None:
    drive_day(core)
    login(client, core, "kepala", "supervisor")
    answer = client.get(f"/reports/day/export?date={DAY}&format=csv")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    assert "W*** P******" in text and "Wira" not in text
    assert "# stations_minutes" in text
    entry = audit_entries(core)[0]
    assert entry["staff"] == "kepala" and entry["action"] == "export"
    assert entry["detail"] == {"report": "day", "office": "DPS", "from": DAY, "to": DAY,
                               "format": "csv", "with_names": False}
    refused = client.get(f"/reports/day/export?date={DAY}&with_names=1")
    assert refused.status_code == 403


def test_admin_may_export_names(core: Core, client: FlaskClient) -> None:
    drive_day(core)
    token = create_staff(core, "admin1", "rahasia-123", "admin", token=True)
    answer = client.get(f"/reports/day/export?date={DAY}&format=json&with_names=1",
                        headers={"Authorization": f"Bearer {token}"})
    names = {t["name"] for t in answer.json["tickets"]}
    assert "Wira Pradnya" in names and answer.json["names"] == "full"
    entry = audit_entries(core)[0]
    assert entry["staff"] == "admin1" and entry["detail"]["with_names"] is True


def test_range_export(core: Core, client: FlaskClient) -> None:
    drive_day(core)
    login(client, core, "kepala", "supervisor")
    answer = client.get("/reports/range/export?from=2026-11-30&to=2026-12-01&format=json")
    assert answer.status_code == 200
    assert [d["date"] for d in answer.json["days"]] == ["2026-11-30", "2026-12-01"]
    html = client.get("/reports/range/export?from=2026-11-30&to=2026-12-01&format=html")
    assert "Pemeriksaan Berkas" in html.get_data(as_text=True)
    backwards = client.get("/reports/range/export?from=2026-12-02&to=2026-12-01")
    assert backwards.status_code == 400
    assert client.get("/reports/range/export?format=pdf").status_code == 400
    # a year at most: 366 days (a leap year), not 367
    leap = client.get("/reports/range/export?from=2028-01-01&to=2028-12-31&format=json")
    assert leap.status_code == 200 and len(leap.json["days"]) == 366
    assert client.get("/reports/range/export?from=2027-12-31&to=2028-12-31").status_code == 400


def test_survey_answers_land_in_their_local_month(core: Core) -> None:
    from shared.reports.skm import period_report

    _, token = finished_ticket(core)
    # 2026-12-31 23:30 WITA is still December in the office, January in UTC+9
    core.clock.freeze(datetime(2026, 12, 31, 15, 30) + timedelta(minutes=0))
    from shared.reports.skm import answer

    answer(core, token, {"answers": [3] * 9})
    assert period_report(core, "DPS", "month", 2026, 12)["respondents"] == 1
    assert period_report(core, "DPS", "year", 2027)["respondents"] == 0


def test_dates_at_the_calendar_ends_are_refused_not_a_5xx(core: Core,
                                                          client: FlaskClient) -> None:
    """A date typed in a report's address, or a booking file's row, outside the years an
    office can have is refused in words: at year 1 or 9999 the day's arithmetic would
    overflow into the catch-all's 503."""
    login(client, core, "kepala", "admin")
    for path in ("/reports/day?date=9999-12-31", "/reports/day/export?date=9999-12-31",
                 "/reports/day?date=0001-01-01", "/reports/plan?date=0001-01-01",
                 "/reports/range/export?from=9999-12-31&to=9999-12-31",
                 "/reports/skm?period=9999", "/reports/skm?period=0001",
                 "/reports/skm/export?period=9999", "/reports/skm?period=0000-S1"):
        answer = client.get(path)
        assert answer.status_code == 400, (path, answer.status_code)
        text = answer.get_data(as_text=True)
        assert ("Tanggal" in text and "Dates" in text) or ("Periode" in text and "period" in text)
    summary = import_rows(core, enumerate([booking_row("OLD-00001", day="0001-01-01"),
                                           booking_row("FAR-00001", day="9999-12-31")],
                                          start=1))
    assert summary.created == 0 and summary.refused_count == 2
    assert client.get(f"/reports/day?date={DAY}").status_code == 200
