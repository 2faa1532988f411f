"""The kiosk in a real office's first week: late applicants told where they stand, and the
"printer problem" screen readable on every common kiosk and TV size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_kiosk import WAIT_MS, Kiosk, qr_payload_of_image, text_of
from tests.conftest import booking_row
from tests.live import ROOT, LiveServer

pytestmark = pytest.mark.browser


def _late_server(tmp_path: Path, policy: str) -> LiveServer:
    config = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert 'late_policy = "demote"' in config
    config_path = tmp_path / "config.toml"
    config_path.write_text(config.replace('late_policy = "demote"', f'late_policy = "{policy}"'),
                           encoding="utf-8")
    # 09:31: a booking for 08:00-09:00 is past its slot and the 15 minutes of grace.
    return LiveServer(var=tmp_path, clock="2026-12-01T09:31", config_path=config_path,
                      database_url=f"sqlite:///{tmp_path / 'giliran.sqlite3'}")


@pytest.fixture
def late_live(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    server = _late_server(tmp_path, request.param)
    server.prepare()
    server.start()
    yield server
    server.close()


@pytest.mark.parametrize("late_live", ["demote"], indirect=True)
def test_demoted_applicant_is_told_the_booked_slot_was_missed(
    browser: Any, late_live: LiveServer, artifacts: Path
) -> None:
    late_live.add_bookings([booking_row("DPS-LATE01", "08:00", "09:00")])
    screen = Kiosk(browser, late_live)
    page = screen.page
    screen.scan("DPS-LATE01")
    screen.wait_state("ticket")
    ticket = page.evaluate("window.kioskState.ticket")
    assert ticket["number"].startswith("B") and ticket["demoted"] is True
    # The slot shown is the one the letter names (09-10 -> B), never the missed 08:00 one.
    assert text_of(page, "#ticket-slot") == "09:00–10:00"
    assert ticket["booked_slot"] == {"start": "08:00", "end": "09:00"}
    notice = text_of(page, "#notice-demoted")
    assert "Anda datang setelah jadwal pesanan Anda 08:00–09:00" in notice
    assert "masa tenggang 15 menit" in notice
    assert "mengantre sebagai pemohon terlambat di jadwal 09:00–10:00" in notice
    assert "You came after your booked slot 08:00–09:00" in notice
    assert "late arrival in slot 09:00–10:00" in notice
    page.screenshot(path=str(artifacts / "kiosk-demoted.png"))
    # An applicant on time sees no such notice.
    page.click("#btn-done")
    screen.wait_state("welcome")
    late_live.add_bookings([booking_row("DPS-ONTIME", "09:00", "10:00")])
    screen.scan("DPS-ONTIME")
    page.wait_for_function("window.kioskState.ticket && "
                           "window.kioskState.ticket.number.startsWith('B')", timeout=WAIT_MS)
    assert page.locator("#notice-demoted").is_hidden()
    assert text_of(page, "#ticket-slot") == "09:00–10:00"
    screen.close()


@pytest.mark.parametrize("late_live", ["refuse"], indirect=True)
def test_refused_late_applicant_is_told_what_happened_and_what_next(
    browser: Any, late_live: LiveServer
) -> None:
    late_live.add_bookings([booking_row("DPS-LATE02", "08:00", "09:00")])
    screen = Kiosk(browser, late_live)
    page = screen.page
    screen.scan("DPS-LATE02")
    screen.wait_state("refusal")
    assert page.evaluate("window.kioskState.refusal.code") == "too_late"
    assert "08:00" in text_of(page, "#refusal-message")
    following = text_of(page, "#refusal-next")
    assert "tidak ada tiket yang diterbitkan" in following
    assert "no ticket was issued" in following
    assert "M-Paspor" in following
    screen.close()


# --- the printer-problem screen on every common size --------------------------------------
SIZES = [(1080, 1920), (1920, 1080), (1280, 1024), (768, 1024)]

OVERFLOW_JS = """() => {
    const width = window.innerWidth, height = window.innerHeight;
    const screen = document.querySelector("[data-screen='ticket']");
    const problems = [];
    const shown = [screen, ...screen.querySelectorAll("*"),
                   document.querySelector(".kiosk-bar")];
    for (const element of shown) {
        if (!element.getClientRects().length) continue;
        const box = element.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        const name = element.id || element.className || element.tagName;
        if (box.left < -0.5 || box.top < -0.5 || box.right > width + 0.5 ||
            box.bottom > height + 0.5) {
            problems.push(`${name} at ${Math.round(box.left)},${Math.round(box.top)}-` +
                          `${Math.round(box.right)},${Math.round(box.bottom)}`);
        }
        if (element.scrollWidth > element.clientWidth + 1 && element.clientWidth > 0 &&
            getComputedStyle(element).overflowX !== "visible") {
            problems.push(`${name} clips its content`);
        }
    }
    return problems;
}"""


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_printer_problem_screen_fits(browser: Any, live: LiveServer, artifacts: Path,
                                     width: int, height: int) -> None:
    screen = Kiosk(browser, live)
    page = screen.page
    page.set_viewport_size({"width": width, "height": height})
    ticket = {"number": "B010", "office": "DPS", "service": "paspor-baru",
              "slot": {"start": "09:00", "end": "10:00"}, "priority_group": None,
              "status": "waiting", "station": "berkas", "counter": None, "position": 10,
              "estimated_wait_minutes": 35, "status_url": "/t/fake-token-for-size-test",
              "issued_at": "2026-12-01T09:00:00+08:00", "demoted": False,
              "booked_slot": {"start": "09:00", "end": "10:00"}}
    answer = {"ticket": ticket, "reprint": False,
              "print": {"id": "job-9", "status": "failed", "printer": "kiosk-1"}}
    page.route("**/api/v1/checkin*", lambda route: route.fulfill(
        status=201, content_type="application/json", body=json.dumps(answer)))
    screen.scan("DPS-SIZE01")
    screen.wait_state("ticket")
    page.wait_for_selector("#notice-print-failed:not([hidden])", timeout=WAIT_MS)
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(artifacts / f"kiosk-print-failed-{width}x{height}.png"))
    problems = page.evaluate(OVERFLOW_JS)
    assert problems == [], problems
    # The whole number and the QR are in view, and the QR reads back as the ticket address.
    number = page.locator("#ticket-number")
    assert number.inner_text() == "B010"
    box = number.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    qr = page.locator("#ticket-qr").bounding_box()
    assert qr is not None and qr["width"] >= 150
    assert qr["x"] >= 0 and qr["y"] >= 0
    assert qr["x"] + qr["width"] <= width and qr["y"] + qr["height"] <= height
    assert (qr_payload_of_image(page, "#ticket-qr") or "").endswith("/t/fake-token-for-size-test")
    screen.close()


# --- the phone status page: pushed, with the server's time -------------------------------
def test_status_page_is_pushed_and_shows_the_server_time(browser: Any,
                                                         live: LiveServer) -> None:
    import requests

    from tests.browser.test_kiosk import PHONE_VIEWPORT

    token = live.staff("made", "rahasia-456")
    headers = {"Authorization": f"Bearer {token}"}
    live.add_bookings([booking_row("DPS-PUSH01"), booking_row("DPS-PUSH02")])
    for code in ("DPS-PUSH01", "DPS-PUSH02"):
        answer = requests.post(f"{live.url}/api/v1/checkin", json={"scan": code},
                               headers=headers, timeout=10)
        status_url = answer.json()["ticket"]["status_url"]
    # The phone's own clock and zone are far from the office's (09:00 WITA).
    phone = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True,
                                timezone_id="America/New_York")
    try:
        page = phone.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        requests_seen: list[str] = []
        page.on("request", lambda request: requests_seen.append(request.url))
        page.goto(f"{live.url}{status_url}")
        page.wait_for_function("window.ticketStatus && window.ticketStatus.pushes >= 1",
                               timeout=WAIT_MS)
        assert text_of(page, "#status-position") == "2"
        updated = text_of(page, "#status-updated")
        assert "Diperbarui 09:0" in updated and "Updated 09:0" in updated
        requests.post(f"{live.url}/api/v1/counters/1/next", headers=headers,
                      timeout=10).raise_for_status()
        page.wait_for_function("document.getElementById('status-position').textContent"
                               " === '1'", timeout=WAIT_MS)
        assert page.evaluate("window.ticketStatus.polls") == 0
        assert not [url for url in requests_seen if "/api/v1/t/" in url]  # never polled
        assert not errors, errors
    finally:
        phone.close()
