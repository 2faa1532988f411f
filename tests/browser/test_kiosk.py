"""The kiosk and the phone status page in Chromium, against a live server (09:00 WITA).

A USB scanner is the keyboard typing a code and Enter; the camera is Chromium's fake
capture device playing a Y4M file with the booking's QR code on every frame.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import qrcode
import requests
from PIL import Image

from shared.config import load_config
from shared.scan import sign_token
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, booking_row
from tests.live import ROOT, LiveServer

pytestmark = pytest.mark.browser

KIOSK_VIEWPORT = {"width": 1920, "height": 1080}
PHONE_VIEWPORT = {"width": 390, "height": 844}
WAIT_MS = 10_000


class Kiosk:
    """One kiosk browser page and the JavaScript errors it raised."""

    def __init__(self, browser: Any, live: LiveServer, query: str = "",
                 kiosk_id: str = "kiosk-1", **context_options: Any) -> None:
        self.context = browser.new_context(viewport=KIOSK_VIEWPORT, **context_options)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(live.enrol_url("kiosk", kiosk_id))
        if query:
            self.page.goto(f"{live.url}/kiosk/{kiosk_id}{query}")
        self.page.wait_for_selector("#kiosk[data-ready='true']")

    @property
    def root(self) -> Any:
        return self.page.locator("#kiosk")

    def scan(self, text: str) -> None:
        """What a keyboard-wedge scanner does: type the text, then Enter."""
        self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")

    def wait_state(self, state: str) -> None:
        self.page.wait_for_selector(f"#kiosk[data-state='{state}']", timeout=WAIT_MS)

    def close(self) -> None:
        self.context.close()
        assert not self.errors, self.errors


@pytest.fixture
def kiosk(browser: Any, live: LiveServer) -> Iterator[Kiosk]:
    screen = Kiosk(browser, live)
    yield screen
    screen.close()


def text_of(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text())


def qr_payload_of_image(page: Any, selector: str) -> str | None:
    """Decode the QR code an <img> shows, with the vendored jsQR."""
    return page.evaluate(  # type: ignore[no-any-return]
        """async (selector) => {
            const img = document.querySelector(selector);
            await img.decode();
            const canvas = document.createElement("canvas");
            canvas.width = canvas.height = 400;
            const context = canvas.getContext("2d");
            context.fillStyle = "#fff";
            context.fillRect(0, 0, 400, 400);
            context.drawImage(img, 0, 0, 400, 400);
            const data = context.getImageData(0, 0, 400, 400);
            const found = window.jsQR(data.data, 400, 400);
            return found ? found.data : null;
        }""",
        selector,
    )


# --- (a) the USB scanner ----------------------------------------------------------------
def test_scanner_code_shows_the_ticket(kiosk: Kiosk, live: LiveServer, artifacts: Path) -> None:
    live.add_bookings([booking_row("DPS-SCAN01")])
    page = kiosk.page
    assert kiosk.root.get_attribute("data-lang") == "id"
    page.screenshot(path=str(artifacts / "kiosk-welcome.png"))

    kiosk.scan("DPS-SCAN01")
    kiosk.wait_state("ticket")
    assert text_of(page, "#ticket-number") == "B001"
    assert "Pemeriksaan Berkas" in text_of(page, "#ticket-station")
    assert "Document check" in text_of(page, "#ticket-station")
    assert text_of(page, "#ticket-slot") == "09:00–10:00"
    assert text_of(page, "#ticket-position") == "1"
    assert page.locator("#notice-reprint").is_hidden()
    state = page.evaluate("window.kioskState")
    assert state["ticket"]["number"] == "B001" and state["reprint"] is False

    # The live server's simulated printer prints it; the kiosk follows the job to the end.
    page.wait_for_function("!['queued', 'printing'].includes(window.kioskState.print)",
                           timeout=WAIT_MS)
    if page.evaluate("window.kioskState.print") == "printed":
        assert "Ambil tiket cetak Anda" in text_of(page, "#notice-printed")

    # The QR on screen opens this ticket's own status page.
    status_url = state["ticket"]["status_url"]
    assert qr_payload_of_image(page, "#ticket-qr") == f"{live.url}{status_url}"
    page.screenshot(path=str(artifacts / "kiosk-ticket.png"))

    # English makes English the large language.
    page.click("#lang-toggle")
    assert kiosk.root.get_attribute("data-lang") == "en"
    page.screenshot(path=str(artifacts / "kiosk-ticket-en.png"))

    # Reprint: the same ticket again, said so on screen.
    page.click("#btn-reprint")
    page.wait_for_selector("#notice-reprint:not([hidden])", timeout=WAIT_MS)
    kiosk.wait_state("ticket")
    assert text_of(page, "#ticket-number") == "B001"
    assert "Tiket Anda dicetak ulang" in text_of(page, "#notice-reprint")
    assert page.evaluate("window.kioskState.reprint") is True

    # A second scanner read while the ticket is shown serves the next applicant.
    live.add_bookings([booking_row("DPS-SCAN02")])
    kiosk.scan("https://m-paspor.example/booking?code=DPS-SCAN02")
    page.wait_for_function("window.kioskState.ticket && window.kioskState.ticket.number === 'B002'",
                           timeout=WAIT_MS)
    assert page.locator("#notice-reprint").is_hidden()
    page.click("#btn-done")
    kiosk.wait_state("welcome")
    assert kiosk.root.get_attribute("data-lang") == "id"  # the next applicant starts in Bahasa


def test_keypad_types_a_booking_code(kiosk: Kiosk, live: LiveServer, artifacts: Path) -> None:
    page = kiosk.page
    page.click("#keypad-open")
    kiosk.wait_state("keypad")
    for key in "DPS-KEY9":
        page.click(f".key[data-key='{key}']")
    page.click(".key[data-key='Backspace']")
    assert text_of(page, "#keypad-display") == "DPS-KEY"
    page.screenshot(path=str(artifacts / "kiosk-keypad.png"))
    page.click(".key[data-key='9']")
    page.click(".key[data-key='OK']")
    kiosk.wait_state("refusal")  # no such booking yet: the refusal says what to do next
    assert "Kode booking tidak ditemukan" in text_of(page, "#refusal-message")
    assert "M-Paspor" in text_of(page, "#refusal-next")

    live.add_bookings([booking_row("DPS-KEY9", "10:00", "11:00")])
    page.click("#btn-retry")
    kiosk.wait_state("welcome")
    page.click("#keypad-open")
    for key in "DPS-KEY9":
        page.click(f".key[data-key='{key}']")
    page.click(".key[data-key='OK']")
    kiosk.wait_state("ticket")
    assert text_of(page, "#ticket-number") == "C001"


# --- (b) the camera ---------------------------------------------------------------------
def write_qr_video(path: Path, text: str, frames: int = 10) -> None:
    """A Y4M clip (640x480, 10 fps, 4:2:0) showing `text` as a QR code on every frame."""
    width, height = 640, 480
    code = qrcode.QRCode(border=4, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    symbol = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    side = min(420, height - 40)
    symbol = symbol.resize((side, side), Image.Resampling.NEAREST)
    frame = Image.new("L", (width, height), 235)
    frame.paste(symbol, ((width - side) // 2, (height - side) // 2))
    luma = np.asarray(frame, dtype=np.uint8).tobytes()
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)


def test_camera_reads_the_booking_qr(browser: Any, live: LiveServer, tmp_path: Path,
                                     artifacts: Path) -> None:
    live.add_bookings([booking_row("DPS-CAM001")])
    key = load_config(ROOT / "config.toml").security.qr_hmac_key
    token = sign_token("DPS-CAM001", "DPS", "2026-12-01", "09:00", key)
    video = tmp_path / "booking-qr.y4m"
    write_qr_video(video, token)
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"],
    )
    try:
        screen = Kiosk(camera_browser, live, query="?camera=1", permissions=["camera"])
        page = screen.page
        screen.wait_state("ticket")  # ?camera=1 starts the camera at once
        assert text_of(page, "#ticket-number") == "B001"
        page.screenshot(path=str(artifacts / "kiosk-camera-ticket.png"))
        # Back to the camera: the QR still in front of it is not read as a second scan.
        requests_before = page.evaluate("window.kioskState.requests")
        read_at = page.evaluate("window.kioskState.cameraRead.at")
        page.click("#btn-done")
        screen.wait_state("camera")
        # The camera reads the same QR again, and takes it for the scan already made.
        page.wait_for_function("(at) => window.kioskState.cameraRead.at > at", arg=read_at,
                               timeout=10000)
        assert page.evaluate("window.kioskState.requests") == requests_before
        assert screen.root.get_attribute("data-state") == "camera"
        page.screenshot(path=str(artifacts / "kiosk-camera.png"))

        # Without the flag, the button starts the camera.
        page.goto(f"{live.url}/kiosk/kiosk-1")
        page.wait_for_selector("#kiosk[data-ready='true']")
        page.click("#camera-start")
        screen.wait_state("ticket")
        assert text_of(page, "#ticket-number") == "B001"
        assert page.evaluate("window.kioskState.reprint") is True
        screen.close()
    finally:
        camera_browser.close()


# --- (c) a refusal ----------------------------------------------------------------------
def test_too_early_refusal_says_when_to_come_back(browser: Any, live: LiveServer,
                                                  artifacts: Path) -> None:
    live.add_bookings([booking_row("DPS-LATER1", "13:00", "14:00")])
    screen = Kiosk(browser, live)
    page = screen.page
    page.clock.install()
    screen.scan("DPS-LATER1")
    screen.wait_state("refusal")
    message = text_of(page, "#refusal-message")
    assert "Jadwal Anda 13:00–14:00. Silakan kembali pukul 11:00." in message
    assert "Please come back at 11:00." in message
    assert page.evaluate("window.kioskState.refusal.code") == "too_early"
    assert page.evaluate("window.kioskState.refusal.retry_at") == "11:00"
    assert "ruang tunggu" in text_of(page, "#refusal-next")
    assert "Kembali ke awal dalam" in text_of(page, "#countdown")
    page.screenshot(path=str(artifacts / "kiosk-refusal.png"))
    # It goes back to the welcome screen by itself after return_to_welcome_seconds.
    page.clock.run_for(21_000)
    screen.wait_state("welcome")
    screen.close()


# --- printing reported by the API -------------------------------------------------------
def queued_checkin(number: str, job: str, position: int, minutes: int) -> dict[str, Any]:
    """A check-in's answer whose ticket print job is still queued (served by routing)."""
    ticket = {"number": number, "office": "DPS", "service": "paspor-baru",
              "slot": {"start": "09:00", "end": "10:00"}, "priority_group": None,
              "status": "waiting", "station": "berkas", "counter": None, "position": position,
              "estimated_wait_minutes": minutes, "status_url": f"/t/fake-token-{job}",
              "issued_at": "2026-12-01T09:00:00+08:00"}
    return {"ticket": ticket, "reprint": False,
            "print": {"job": job, "status": "queued", "printer": "kiosk-1"}}


def test_failed_print_tells_the_applicant_to_photograph_the_screen(kiosk: Kiosk,
                                                                  artifacts: Path) -> None:
    page = kiosk.page
    answer = queued_checkin("B007", "job-7", position=3, minutes=12)
    polled: list[str] = []

    def print_job(route: Any) -> None:
        polled.append(route.request.url)
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"job": {"id": "job-7", "status": "failed"}}))

    page.route("**/api/v1/checkin*", lambda route: route.fulfill(
        status=201, content_type="application/json", body=json.dumps(answer)))
    page.route("**/api/v1/print-jobs/job-7", print_job)
    kiosk.scan("DPS-PRINT1")
    kiosk.wait_state("ticket")
    page.wait_for_selector("#notice-print-failed:not([hidden])", timeout=WAIT_MS)
    assert polled
    assert "Printer bermasalah: ambil foto layar ini" in text_of(page, "#notice-print-failed")
    assert "take a photo of this screen" in text_of(page, "#notice-print-failed")
    assert "print-failed" in (kiosk.root.get_attribute("class") or "")
    assert text_of(page, "#ticket-wait").startswith("sekitar 12 menit")
    page.screenshot(path=str(artifacts / "kiosk-print-failed.png"))


# --- an officer on the kiosk ------------------------------------------------------------
def test_officer_issues_a_walkin_on_the_kiosk(kiosk: Kiosk, live: LiveServer) -> None:
    live.staff("wayan", "rahasia-123")
    page = kiosk.page
    page.goto(f"{live.url}/login?next=/kiosk/kiosk-1")
    page.fill("input[name=username]", "wayan")
    page.fill("input[name=password]", "rahasia-123")
    page.click("button[type=submit]")
    page.wait_for_selector("#kiosk[data-ready='true'] #staff-panel")
    page.select_option("#walkin-service", "paspor-baru")
    page.select_option("#walkin-group", "lansia")
    page.click("#walkin-submit")
    kiosk.wait_state("ticket")
    assert text_of(page, "#ticket-number") == "P001"
    assert page.locator("#btn-reprint").is_hidden()
    assert page.locator("#fact-slot").is_hidden()
    # The scanner still works after the officer used the form.
    live.add_bookings([booking_row("DPS-AFTER1")])
    kiosk.scan("DPS-AFTER1")
    page.wait_for_function("window.kioskState.ticket.number === 'B001'", timeout=WAIT_MS)
    page.click("#staff-panel button.link-button")
    page.wait_for_selector("#kiosk[data-ready='true']")
    assert page.locator("#staff-panel").count() == 0


# --- (d) the phone status page ----------------------------------------------------------
def test_status_page_on_a_phone_follows_the_call(kiosk: Kiosk, browser: Any, live: LiveServer,
                                                 artifacts: Path) -> None:
    live.add_bookings([booking_row("DPS-PHONE1")])
    kiosk.scan("DPS-PHONE1")
    kiosk.wait_state("ticket")
    status_url = kiosk.page.evaluate("window.kioskState.ticket.status_url")

    phone = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True,
                                has_touch=True)
    try:
        page = phone.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live.url}{status_url}")
        page.wait_for_selector("#status[data-ready='true']")
        assert text_of(page, "#status-number") == "B001"
        assert "Menunggu" in text_of(page, "#status-state")
        assert text_of(page, "#status-position") == "1"
        assert page.locator("#status-called").is_hidden()
        page.screenshot(path=str(artifacts / "status-phone.png"), full_page=True)

        token = live.staff("made", "rahasia-456")
        called = requests.post(f"{live.url}/api/v1/counters/1/next",
                               headers={"Authorization": f"Bearer {token}",
                                        "Idempotency-Key": "phone-test-1"}, timeout=10)
        assert called.status_code == 200 and called.json()["ticket"]["number"] == "B001"
        page.wait_for_selector("#status[data-status='called']", timeout=8_000)
        assert "Dipanggil: silakan menuju Loket 1" in text_of(page, "#status-called")
        assert "Called: go to Loket 1" in text_of(page, "#status-called")
        page.screenshot(path=str(artifacts / "status-phone-called.png"), full_page=True)
        assert not errors, errors

        missing = page.goto(f"{live.url}/t/no-such-ticket-token")
        assert missing is not None and missing.status == 404
        assert "Tiket tidak ditemukan" in page.content()
    finally:
        phone.close()


def test_kiosk_refuses_a_screen_that_is_not_enrolled(browser: Any, live: LiveServer) -> None:
    context = browser.new_context(viewport=KIOSK_VIEWPORT)
    try:
        page = context.new_page()
        answer = page.goto(f"{live.url}/kiosk/kiosk-1")
        assert answer is not None and answer.status == 403
        assert "Layar ini belum terdaftar sebagai kiosk" in page.content()
        assert "This screen is not enrolled as a kiosk" in page.content()
    finally:
        context.close()


def test_a_revoked_kiosk_says_so_instead_of_taking_scans(kiosk: Kiosk, live: LiveServer) -> None:
    """Revoking a kiosk drops its socket; the kiosk page loads itself again and says it is
    not enrolled, so an applicant never scans at a kiosk that can no longer check in."""
    kiosk.page.wait_for_selector("#kiosk[data-config-joined='true']")
    admin = {"Authorization": f"Bearer {live.staff('kepala', 'pw', 'admin')}"}
    revoked = requests.delete(f"{live.url}/api/v1/devices/kiosk-1", headers=admin, timeout=5)
    assert revoked.status_code == 200, revoked.text
    kiosk.page.wait_for_selector("#not-enrolled", timeout=15000)
    assert "Layar ini belum terdaftar sebagai kiosk" in kiosk.page.content()


def test_a_ticket_not_printed_in_time_says_so_before_the_screen_returns(
        kiosk: Kiosk) -> None:
    """The printers' process is down, so the job stays queued (or every printer is slow to
    fail): after 15 s the screen says to photograph it and stays three times longer,
    instead of going back to the start with "being printed" on it. A print that comes
    after all still says so."""
    page = kiosk.page
    page.clock.install()
    page.reload()
    page.wait_for_selector("#kiosk[data-ready='true']")
    answer = queued_checkin("B008", "job-8", position=2, minutes=6)
    job = {"status": "queued"}
    page.route("**/api/v1/checkin*", lambda route: route.fulfill(
        status=201, content_type="application/json", body=json.dumps(answer)))
    page.route("**/api/v1/print-jobs/job-8", lambda route: route.fulfill(
        status=200, content_type="application/json",
        body=json.dumps({"job": {"id": "job-8", **job}})))
    kiosk.scan("DPS-LATE01")
    kiosk.wait_state("ticket")
    page.wait_for_selector("#notice-printing:not([hidden])", timeout=WAIT_MS)
    page.clock.run_for(14_000)
    assert page.is_hidden("#notice-print-failed")
    page.clock.run_for(2_000)
    page.wait_for_selector("#notice-print-failed:not([hidden])", timeout=WAIT_MS)
    assert page.is_hidden("#notice-printing")
    page.clock.run_for(30_000)  # past the usual 20 s: still there to be photographed
    assert kiosk.root.get_attribute("data-state") == "ticket"
    job["status"] = "printed"
    for _ in range(50):  # the page asks about its job once a second (of its clock)
        page.clock.run_for(1_000)
        if page.is_visible("#notice-printed"):
            break
        page.wait_for_timeout(100)  # a real moment for its question to be answered
    assert page.is_visible("#notice-printed") and page.is_hidden("#notice-print-failed")
