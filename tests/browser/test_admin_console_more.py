"""Issue 16 points the browser tests did not cover yet: services and their flows, office
hours, closed days, priority ratio and quota edited on the office page; a one-off
announcement shown (and spoken) on a board; device rename and a test ticket from the
devices page; reset password and "end all sessions" from the staff page."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.browser.test_admin import admin_page, contexts, message  # noqa: F401 (fixture)
from tests.live import LiveServer

pytestmark = pytest.mark.browser

SPEECH_STUB = """
window.__spoken = [];
if (window.SpeechSynthesis) {
  SpeechSynthesis.prototype.speak = function (utterance) { window.__spoken.push(utterance.text); };
}
"""


def _bearer(live: LiveServer, name: str = "api-admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {live.staff(name, 'pw', 'admin')}"}


def test_services_flows_hours_closed_days_ratio_and_quota_from_the_office_page(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    live.staff("kepala", "pw", "admin")
    page = admin_page(browser, contexts, live, "/admin/office/DPS")
    first = "form[data-kind=services] fieldset.service[data-key='services[0]']"
    page.fill(f"{first} input[name=flow]", "berkas, foto")
    new = "form[data-kind=services] fieldset.service.new"
    page.fill(f"{new} input[name=id]", "paspor-anak")
    page.fill(f"{new} input[name=name_id]", "Paspor Anak")
    page.fill(f"{new} input[name=name_en]", "Child passport")
    page.fill(f"{new} input[name=flow]", "berkas, wawancara")
    page.click("form[data-kind=services] button[type=submit]")
    message(page, "ok")
    page.wait_for_function("document.getElementById('version').textContent === '2'")

    office = "form[data-kind=office]"
    page.fill(f"{office} input[name=opens]", "07:30")
    page.fill(f"{office} input[name='policy.priority']", "1:2")
    page.fill(f"{office} input[name=quota_per_slot]", "25")
    page.fill(f"{office} textarea[name=closed_days]", "2026-12-25\n2026-12-26")
    page.click(f"{office} button[type=submit]")
    message(page, "ok")
    page.wait_for_function("document.getElementById('version').textContent === '3'")

    config = requests.get(f"{live.url}/api/v1/offices/DPS/config", headers=_bearer(live),
                          timeout=5).json()["config"]
    services = {s["id"]: s for s in config["services"]}
    assert services["paspor-baru"]["flow"] == ["berkas", "foto"]
    assert services["paspor-anak"]["name"] == {"id": "Paspor Anak", "en": "Child passport"}
    assert services["paspor-anak"]["flow"] == ["berkas", "wawancara"]
    assert config["opens"] == "07:30" and config["quota_per_slot"] == 25
    assert config["closed_days"] == ["2026-12-25", "2026-12-26"]
    assert config["policy"]["priority"] == "1:2"
    # A flow through a station the office does not have is refused, naming the key.
    page.fill(f"{first} input[name=flow]", "berkas, loket-hantu")
    page.click("form[data-kind=services] button[type=submit]")
    assert "services" in message(page, "error")
    assert page.text_content("#version") == "3"


def test_an_announcement_is_shown_and_spoken_on_the_board(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    live.staff("kepala", "pw", "admin")
    board_context = browser.new_context(viewport={"width": 1920, "height": 1080})
    contexts.append(board_context)
    board_context.add_init_script(SPEECH_STUB)
    board = board_context.new_page()
    board.goto(live.enrol_url("display", "papan-1"))
    board.wait_for_function("window.giliranBoard && window.giliranBoard.joined === true")

    page = admin_page(browser, contexts, live, "/admin/office/DPS")
    page.fill("form[data-kind=announcement] input[name=text]",
              "Mohon perhatian: loket 3 tutup sementara")
    page.click("form[data-kind=announcement] button[type=submit]")
    message(page, "ok")
    board.wait_for_selector("#announcement:not([hidden])", timeout=10_000)
    assert board.text_content("#announcement") == "Mohon perhatian: loket 3 tutup sementara"
    assert board.evaluate("window.__spoken") == ["Mohon perhatian: loket 3 tutup sementara"]


def test_devices_page_renames_and_prints_a_test_ticket(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    live.staff("kepala", "pw", "admin")
    enrolled = requests.get(live.enrol_url("kiosk", "kiosk-1"), timeout=5)
    assert enrolled.status_code == 200
    page = admin_page(browser, contexts, live, "/admin/devices")
    row = "#devices tr[data-device=kiosk-1]"
    page.fill(f"{row} input[name=name]", "Kios lobi")
    page.click(f"{row} button[data-action=rename]")
    message(page, "ok")
    page.wait_for_function(
        "document.querySelector(\"#devices tr[data-device=kiosk-1] input[name=name]\")"
        ".value === 'Kios lobi'")
    page.click(f"{row} button[data-action=test-print]")
    page.wait_for_function("document.getElementById('message-en').textContent"
                           ".includes('was printed')", timeout=15_000)
    # The printer's state shows in the row (the hardware process wrote it).
    page.reload()
    assert "online" in str(page.text_content(f"{row} td.state"))


def test_staff_page_resets_a_password_and_ends_sessions(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    live.staff("kepala", "pw", "admin")
    live.staff("wayan", "pw-lama-wayan")
    officer = browser.new_context()
    contexts.append(officer)
    officer_page = officer.new_page()
    officer_page.goto(f"{live.url}/login?next=/counter")
    officer_page.fill("input[name=username]", "wayan")
    officer_page.fill("input[name=password]", "pw-lama-wayan")
    officer_page.click("form button[type=submit]")
    officer_page.wait_for_url(f"{live.url}/counter*")
    queue = f"{live.url}/api/v1/stations/berkas/queue"
    assert officer_page.request.get(queue).status == 200

    page = admin_page(browser, contexts, live, "/admin/staff")
    row = "#accounts tr[data-username=wayan]"
    page.click(f"{row} button[data-action=end_sessions]")
    message(page, "ok")
    assert officer_page.request.get(queue).status == 401

    page.fill(f"{row} input[name=password]", "pw-baru-wayan")
    page.click(f"{row} button[data-action=password]")
    message(page, "ok")
    def logs_in(password: str) -> bool:
        login = requests.Session()
        form = login.get(f"{live.url}/login", timeout=5).text
        csrf = form.split('name="csrf" value="')[1].split('"')[0]
        answer = login.post(f"{live.url}/login", data={"username": "wayan",
                                                       "password": password, "csrf": csrf},
                            timeout=5, allow_redirects=False)
        return answer.status_code in (302, 303)

    assert not logs_in("pw-lama-wayan")
    assert logs_in("pw-baru-wayan")


def test_devices_page_runs_a_sound_check_on_a_board(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    live.staff("kepala", "pw", "admin")
    board_context = browser.new_context(viewport={"width": 1920, "height": 1080})
    contexts.append(board_context)
    board = board_context.new_page()
    board.goto(live.enrol_url("display", "papan-1"))
    board.wait_for_function("window.giliranBoard && window.giliranBoard.joined === true")
    # Chromium runs with the autoplay flag (docs/devices.md): the board's sound is on.
    board.wait_for_function("window.GiliranAnnouncer && !window.GiliranAnnouncer.locked")

    page = admin_page(browser, contexts, live, "/admin/devices")
    row = "#devices tr[data-device=papan-1]"
    page.wait_for_function("(row) => document.querySelector(row).textContent"
                           ".includes('unlocked')", arg=row)  # its sound state, shown
    page.click(f"{row} button[data-action=sound-check]")
    assert "Tes suara dikirim" in message(page, "ok")
    page.wait_for_selector(f"{row}[data-sound=played]", timeout=30_000)
    text = str(page.text_content("#message"))
    assert "Papan telah membunyikan tes suara" in text and "played the sound check" in text
    assert board.evaluate("window.GiliranAnnouncer.log.some("
                          "(e) => e.number.startsWith('sound-check'))")


def test_an_open_counter_terminal_follows_its_counter_being_renamed_and_closed(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    live.staff("wayan", "pw-wayan-1")
    admin = {**_bearer(live), "Content-Type": "application/json"}
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    contexts.append(context)
    page = context.new_page()
    page.goto(f"{live.url}/login?next=/counter?c=2")
    page.fill("input[name=username]", "wayan")
    page.fill("input[name=password]", "pw-wayan-1")
    page.click("form button[type=submit]")
    page.wait_for_selector("body[data-loaded='1']")
    assert page.locator("#counter-closed").is_hidden()
    assert page.is_enabled("#btn-next")

    answer = requests.patch(f"{live.url}/api/v1/offices/DPS/counters/2", headers=admin,
                            json={"name": "Loket Dua (lantai 2)", "open": False}, timeout=5)
    assert answer.status_code == 200, answer.text
    page.wait_for_selector("#counter-closed:not([hidden])", timeout=10_000)
    assert page.text_content(".staff-head .where") == "Loket Dua (lantai 2)"
    assert page.is_disabled("#btn-next")

    answer = requests.patch(f"{live.url}/api/v1/offices/DPS/counters/2", headers=admin,
                            json={"open": True}, timeout=5)
    assert answer.status_code == 200, answer.text
    page.wait_for_selector("#counter-closed[hidden]", state="attached", timeout=10_000)
    page.wait_for_function("!document.getElementById('btn-next').disabled")
