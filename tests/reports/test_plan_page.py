"""The capacity plan page: the office's scenario, its bookings, and /reports/plan."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from datetime import time as clock_time
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from shared import visits
from shared.app import create_app
from shared.auth import create_staff
from shared.bookings import import_rows
from shared.core import Core
from shared.models import Booking as BookingRow
from shared.simulation.office import bookings_for_day, scenario_for_office, service_history
from shared.simulation.scenario import EXPRESS_PREFIX
from shared.web import staff_session_values
from tests.conftest import booking_row

TOMORROW = "2026-12-02"  # the office clock is frozen on 2026-12-01 09:00 WITA


@pytest.fixture
def app(core: Core) -> Flask:
    app = create_app(core=core)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, core: Core, username: str, role: str) -> None:
    create_staff(core, username, "rahasia-123", role)
    with client.session_transaction() as session:
        session.update(staff_session_values(core, username))


def book(core: Core, count: int, day: str = TOMORROW, prefix: str = "PLAN") -> None:
    """`count` bookings spread over the 08:00-15:00 slots, a few priority and express."""
    rows = []
    for i in range(count):
        hour = 8 + i % 7
        rows.append(booking_row(
            f"{prefix}-{i:05d}", f"{hour:02d}:00", f"{hour + 1:02d}:00", day=day,
            group="lansia" if i % 20 == 0 else "",
            service="percepatan" if i % 10 == 3 else "paspor-baru"))
    summary = import_rows(core, enumerate(rows, start=1))
    assert summary.refused_count == 0, summary.refused


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# --- the scenario and bookings from the office ------------------------------------------------
def test_scenario_from_the_shipped_config(core: Core) -> None:
    scenario = scenario_for_office(core, "DPS")
    office = core.office("DPS")
    assert list(scenario.stations) == ["berkas", "wawancara", "sidik-jari", "foto"]
    # the priority-only counter 3 serves every station but is not counted
    assert scenario.counters == {"berkas": 2, "wawancara": 4, "sidik-jari": 2, "foto": 2}
    assert scenario.flow == office.services["paspor-baru"].flow
    assert scenario.flow_percepatan == office.services["percepatan"].flow
    assert (scenario.opens, scenario.last_checkin, scenario.closes) == (
        clock_time(8, 0), clock_time(15, 0), clock_time(16, 0))
    assert scenario.timezone == "Asia/Makassar"
    policy = core.config.policy
    assert scenario.max_wait_minutes == policy.max_wait_minutes
    assert scenario.early_checkin_minutes == policy.early_checkin_minutes
    assert scenario.late_grace_minutes == policy.late_grace_minutes
    assert scenario.priority == policy.priority
    assert scenario.late_policy == policy.late_policy
    # no history yet: the server's default call-to-finish time, less the walk to the counter
    walk = scenario.walk_to_counter_seconds / 60
    for spec in scenario.stations.values():
        assert spec.service_mean == pytest.approx(visits.DEFAULT_SERVICE_MINUTES - walk)
        assert spec.service_sd == pytest.approx(0.4 * spec.service_mean, abs=1e-3)
    assert service_history(core, "DPS") == dict.fromkeys(scenario.stations, 0)


def test_service_times_follow_the_timeline(core: Core) -> None:
    summary = import_rows(core, enumerate([booking_row("HIST-00001")], start=1))
    assert summary.refused_count == 0
    ticket = visits.check_in(core, "DPS", "HIST-00001", "kiosk-1").ticket
    assert visits.call_next(core, "DPS", "1", "ani") is not None
    core.clock.freeze(core.now() + timedelta(minutes=9))  # 9 minutes from call to finish
    visits.act(core, ticket["id"], "finish", "ani", None)
    scenario = scenario_for_office(core, "DPS")
    assert scenario.stations["berkas"].service_mean == pytest.approx(9 - 0.5)
    assert scenario.stations["wawancara"].service_mean == pytest.approx(4.5)
    assert service_history(core, "DPS")["berkas"] == 1


def test_bookings_for_day(core: Core) -> None:
    book(core, 12)
    book(core, 3, day="2026-12-03", prefix="OTHER")
    with core.db.write("DPS") as session:
        session.execute(update(BookingRow).where(BookingRow.code == "PLAN-00001")
                        .values(cancelled=True))
    bookings = bookings_for_day(core, "DPS", date(2026, 12, 2))
    assert [b.code for b in bookings] == [f"PLAN-{i:05d}" for i in range(12) if i != 1]
    first = bookings[0]
    assert (first.date, first.slot_start, first.slot_end) == (
        date(2026, 12, 2), clock_time(8, 0), clock_time(9, 0))
    assert first.priority_group == "lansia" and bookings[1].priority_group == ""
    express = next(b for b in bookings if b.code == "PLAN-00003")
    assert express.service.startswith(EXPRESS_PREFIX)
    assert bookings_for_day(core, "DPS", date(2026, 12, 9)) == []


# --- the page ----------------------------------------------------------------------------------
def test_plan_page_recommends_for_a_supervisor(core: Core, client: FlaskClient) -> None:
    book(core, 40)
    login(client, core, "supervisor", "supervisor")
    started = time.perf_counter()
    page = client.get("/reports/plan")  # defaults: tomorrow, mode counters
    seconds = time.perf_counter() - started
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = text_of(html)
    assert TOMORROW in text
    assert "Rekomendasi" in text and "Recommendation" in text
    assert "Loket hari ini" in text and "Counters today" in text
    assert "Disarankan" in text and "Recommended" in text
    assert "40 pemesanan dalam 7 jadwal" in text and "40 bookings in 7 slots" in text
    # 40 bookings a day are light work for 10 counters: the plan spares counters
    assert "could be spared" in text and "dapat dikurangi" in text
    for label in ("Pemeriksaan Berkas", "Wawancara", "Sidik Jari", "Foto"):
        assert label in text
    for figure in ("Pemohon tepat waktu yang dipanggil pertama kali dalam jadwalnya",
                   "On-time applicants first called within their slot",
                   "Selesai sebelum jam tutup", "Finished by closing time",
                   "Rata-rata tunggu sampai panggilan pertama (menit)",
                   "Mean wait for the first call (min)"):
        assert figure in text
    # Indonesian before English in the headline
    assert text.index("Petugas hari ini") < text.index("Today's staff")
    assert seconds < 5

    quota = client.get(f"/reports/plan?date={TOMORROW}&mode=quota")
    assert quota.status_code == 200
    text = text_of(quota.get_data(as_text=True))
    assert "per jadwal" in text and "per slot" in text
    assert "Melebihi kuota" in text and "Over the quota" in text


def test_plan_page_needs_a_supervisor(core: Core, client: FlaskClient) -> None:
    book(core, 5)
    anonymous = client.get("/reports/plan")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    login(client, core, "petugas", "officer")
    assert client.get("/reports/plan").status_code == 403
    assert client.get(f"/reports/plan?date={TOMORROW}&mode=quota").status_code == 403


def test_admin_may_see_the_plan(core: Core, client: FlaskClient) -> None:
    book(core, 5)
    login(client, core, "kepala", "admin")
    assert client.get(f"/reports/plan?date={TOMORROW}").status_code == 200


def test_plan_page_for_a_day_without_bookings(core: Core, client: FlaskClient) -> None:
    book(core, 5)
    login(client, core, "supervisor", "supervisor")
    page = client.get("/reports/plan?date=2026-12-25")
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "Tidak ada pemesanan untuk tanggal 2026-12-25" in text
    assert "There are no bookings for 2026-12-25" in text
    assert "Rekomendasi" not in text


@pytest.mark.parametrize("query", ["date=31-12-2026", "date=2026-02-30", "date=20261202",
                                   "date=besok", f"date={TOMORROW}&mode=lots"])
def test_plan_page_refuses_a_bad_date_or_mode(core: Core, client: FlaskClient,
                                              query: str) -> None:
    login(client, core, "supervisor", "supervisor")
    page = client.get(f"/reports/plan?{query}")
    assert page.status_code == 400
    assert page.mimetype == "text/html"
    text = text_of(page.get_data(as_text=True))
    if "mode" in query:
        assert "Rencana hanya dapat berupa" in text and "either counters or quota" in text
    else:
        assert "Tanggal ditulis TTTT-BB-HH" in text and "Dates are written YYYY-MM-DD" in text


def test_day_report_links_to_the_plan(core: Core, client: FlaskClient) -> None:
    login(client, core, "supervisor", "supervisor")
    html = client.get("/reports/day").get_data(as_text=True)
    assert 'href="/reports/plan' in html


# --- first-week fixes: the next day with bookings, and service times worth trusting ----------
def serve_quickly(core: Core, count: int, minutes: float = 0.0) -> None:
    """`count` applicants served at berkas, each `minutes` from call to finish."""
    rows = [booking_row(f"QUICK-{i:05d}") for i in range(count)]
    assert import_rows(core, enumerate(rows, start=1)).refused_count == 0
    for i in range(count):
        ticket = visits.check_in(core, "DPS", f"QUICK-{i:05d}", "kiosk-1").ticket
        assert visits.call_next(core, "DPS", "1", "ani") is not None
        core.clock.freeze(core.now() + timedelta(minutes=minutes))
        visits.act(core, ticket["id"], "finish", "ani", None)


def test_plan_opens_on_the_next_day_with_bookings(core: Core, client: FlaskClient) -> None:
    login(client, core, "supervisor", "supervisor")
    empty = text_of(client.get("/reports/plan").get_data(as_text=True))
    assert f"Tidak ada pemesanan untuk tanggal {TOMORROW}" in empty  # nothing booked at all
    book(core, 14, day="2026-12-04")  # nothing on the 2nd and 3rd
    book(core, 3, day="2026-12-09", prefix="LATER")
    page = client.get("/reports/plan")
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert 'value="2026-12-04"' in page.get_data(as_text=True)
    assert "Rekomendasi" in text and "14 pemesanan" in text


def test_plan_does_not_learn_from_five_quick_clicks(core: Core, client: FlaskClient) -> None:
    serve_quickly(core, 5)
    assert service_history(core, "DPS")["berkas"] == 5
    assert scenario_for_office(core, "DPS").stations["berkas"].service_mean == 0.0
    book(core, 40)
    login(client, core, "supervisor", "supervisor")
    page = client.get(f"/reports/plan?date={TOMORROW}")
    text = text_of(page.get_data(as_text=True))
    # berkas is configured at 6 minutes call to finish: 5.5 without the walk to the counter
    assert "5.5 (dari konfigurasi: baru 5 layanan tercatat, perlu 10" in text
    assert "configured: only 5 services recorded, 10 needed" in text
    assert "Not enough recorded services to learn service times at 4 station(s)" in text
    assert "0.0 (" not in text


def test_plan_refuses_implausibly_short_services_and_learns_from_enough(core: Core) -> None:
    from shared.reports.planning import trusted_service_times

    serve_quickly(core, 10)
    history = service_history(core, "DPS")
    scenario, sources = trusted_service_times(core, "DPS", scenario_for_office(core, "DPS"),
                                              history)
    assert sources["berkas"] == "implausible"
    assert scenario.stations["berkas"].service_mean == pytest.approx(5.5)
    assert scenario.stations["berkas"].service_sd == pytest.approx(0.4 * 5.5)


def test_plan_learns_from_enough_real_services(core: Core) -> None:
    from shared.reports.planning import trusted_service_times

    serve_quickly(core, 10, minutes=9)
    history = service_history(core, "DPS")
    scenario, sources = trusted_service_times(core, "DPS", scenario_for_office(core, "DPS"),
                                              history)
    assert sources["berkas"] == "learned" and sources["foto"] == "too_few"
    assert scenario.stations["berkas"].service_mean == pytest.approx(8.5)
    assert scenario.stations["foto"].service_mean == pytest.approx(2.5)  # configured 3 min


def test_the_plan_models_the_office_with_its_own_policy(core: Core) -> None:
    """An office's own `policy` (here a 1:3 priority ratio and 45 minutes of grace) is the
    one the planner replays, not the installation's [policy]."""
    from shared import live_config

    live_config.update(core, live_config.office_scope("DPS"), lambda document: document.update(
        policy={"priority": "1:3", "late_grace_minutes": 45}), "kepala", "config.update")
    scenario = scenario_for_office(core, "DPS")
    assert (scenario.priority, scenario.late_grace_minutes) == ("1:3", 45)
    assert core.config.policy.priority == "first"
