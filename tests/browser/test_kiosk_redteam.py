"""The kiosk in Chromium when the hardware and the applicant do what nobody planned: a
scanner that reads one QR twice, and a QR still held up to the camera after a network
error. Live server at 09:00 WITA, as in test_kiosk.py."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.test_kiosk import WAIT_MS, Kiosk, kiosk, queued_checkin, write_qr_video
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, booking_row
from tests.live import LiveServer

pytestmark = pytest.mark.browser

__all__ = ["kiosk"]  # the fixture, used by name


def checkins_of(page: Any) -> list[str]:
    """The scan texts the page posts to /api/v1/checkin, as it sends them."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(json.loads(request.post_data)["scan"])
            if "/api/v1/checkin" in request.url else None)
    return sent


def test_a_second_read_cut_short_by_the_answer_does_not_replace_the_ticket(
        kiosk: Kiosk) -> None:
    """A scanner reads the QR again while the first read is being answered: the keys
    typed while the kiosk waited are dropped, and so must be the rest of that read, or
    its tail ("S-DBL001") is sent as a scan of its own and the screen says "booking code
    not found" while the ticket prints."""
    page = kiosk.page
    held: list[Any] = []
    page.route("**/api/v1/checkin*", lambda route: held.append(route))
    kiosk.scan("DPS-DBL001")
    page.wait_for_function("window.kioskState.name === 'busy'", timeout=WAIT_MS)
    page.keyboard.type("DPS-")  # the second read begins while the kiosk waits
    deadline = time.monotonic() + WAIT_MS / 1000
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    assert len(held) == 1
    held[0].fulfill(status=201, content_type="application/json",
                    body=json.dumps(queued_checkin("B001", "job-1", position=1, minutes=2)))
    kiosk.wait_state("ticket")
    page.keyboard.type("DBL001")  # and ends once the ticket is on the screen
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert len(held) == 1, "the tail of the second read was sent as a scan"
    assert kiosk.root.get_attribute("data-state") == "ticket"
    assert page.evaluate("window.kioskState.ticket.number") == "B001"
    assert page.evaluate("window.kioskState.refusal") is None

    # The next scan is read whole.
    page.keyboard.type("DPS-NEXT01")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert len(held) == 2


def test_the_same_qr_read_twice_in_a_row_prints_one_ticket(kiosk: Kiosk,
                                                          live: LiveServer) -> None:
    """A scanner in presentation mode reads a QR held still a second time a moment after
    the first: the kiosk takes it for the same scan (no "reprinted", no second paper).
    Scanned again later, or with the Reprint button, it is printed again."""
    live.add_bookings([booking_row("DPS-TWICE1")])
    page = kiosk.page
    sent = checkins_of(page)
    page.clock.install()
    kiosk.scan("DPS-TWICE1")
    kiosk.wait_state("ticket")
    page.wait_for_timeout(700)
    kiosk.scan("DPS-TWICE1")  # the same QR, read again
    page.wait_for_timeout(700)
    assert sent == ["DPS-TWICE1"]
    assert page.evaluate("window.kioskState.reprint") is False
    assert page.locator("#notice-reprint").is_hidden()
    assert page.evaluate("window.kioskState.ignoredRepeats") == 1

    # Ten seconds on, still on its ticket: a deliberate scan prints it again.
    page.clock.run_for(10_500)
    kiosk.scan("DPS-TWICE1")
    page.wait_for_function("window.kioskState.reprint === true", timeout=WAIT_MS)
    assert sent == ["DPS-TWICE1", "DPS-TWICE1"]
    assert page.locator("#notice-reprint").is_visible()


def test_try_again_after_a_network_error_reads_the_qr_still_held_to_the_camera(
        browser: Any, live: LiveServer, tmp_path: Path) -> None:
    """The camera kiosk loses the network as it reads a QR: "Try again" must read the QR
    the applicant still holds up. It was taken for the scan already made as long as it
    stayed in view, so the camera screen waited forever."""
    live.add_bookings([booking_row("DPS-CAMNET")])
    video = tmp_path / "booking-qr.y4m"
    write_qr_video(video, "DPS-CAMNET")
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"],
    )
    try:
        screen = Kiosk(camera_browser, live, permissions=["camera"])
        page = screen.page
        tries: list[str] = []

        def network(route: Any) -> None:
            tries.append(route.request.url)
            if len(tries) == 1:
                route.abort()  # the network is away for this one
            else:
                route.continue_()

        page.route("**/api/v1/checkin*", network)
        page.goto(f"{live.url}/kiosk/kiosk-1?camera=1")
        screen.wait_state("refusal")
        assert page.evaluate("window.kioskState.refusal.code") == "offline"
        assert "tidak dapat terhubung" in page.locator("#refusal-message").inner_text()
        page.click("#btn-retry")
        screen.wait_state("ticket")
        assert len(tries) == 2
        assert page.locator("#ticket-number").inner_text() == "B001"
        screen.close()
    finally:
        camera_browser.close()


def test_a_scan_again_after_the_call_says_which_counter_calls(kiosk: Kiosk,
                                                              live: LiveServer) -> None:
    """An applicant away when their number was called scans their booking again: the
    kiosk reprints the ticket and must say it was called and where to go, not only send
    them back to the station's waiting room ("Go to: document check")."""
    live.add_bookings([booking_row("DPS-AWAY01")])
    token = live.staff("made", "rahasia-123")
    page = kiosk.page
    kiosk.scan("DPS-AWAY01")
    kiosk.wait_state("ticket")
    assert page.locator("#notice-state").is_hidden()  # waiting: the position says it all
    page.click("#btn-done")
    kiosk.wait_state("welcome")
    called = requests.post(f"{live.url}/api/v1/counters/1/next?office=DPS", timeout=10,
                           headers={"Authorization": f"Bearer {token}"})
    assert called.status_code == 200 and called.json()["ticket"]["number"] == "B001"

    kiosk.scan("DPS-AWAY01")
    kiosk.wait_state("ticket")
    assert page.evaluate("window.kioskState.reprint") is True
    notice = page.locator("#notice-state")
    assert notice.is_visible()
    assert "Dipanggil: silakan menuju Loket 1" in notice.inner_text()
    assert "Called: go to Loket 1" in notice.inner_text()


def test_a_scan_on_the_keypad_screen_replaces_a_code_half_typed_there(
        kiosk: Kiosk, live: LiveServer) -> None:
    """An applicant starts typing on the screen's keypad, then finds the QR and scans it:
    the read was added to the half-typed code ("DPSDPS-KEYPAD1", not found). The scanner's
    read is the code; the keypad's own keys still type as before."""
    live.add_bookings([booking_row("DPS-KEYPAD1", "10:00", "11:00")])
    page = kiosk.page
    sent = checkins_of(page)
    page.click("#keypad-open")
    kiosk.wait_state("keypad")
    for key in "DPS":
        page.click(f".key[data-key='{key}']")
    kiosk.scan("DPS-KEYPAD1")
    kiosk.wait_state("ticket")
    assert sent == ["DPS-KEYPAD1"]
    assert page.evaluate("window.kioskState.ticket.number") == "C001"
