"""The admin console in Chromium against a live server (SQLite, one process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.live import LiveServer


@pytest.fixture
def contexts(browser: Any) -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for context in made:
        context.close()


def admin_page(browser: Any, contexts: list[Any], live: LiveServer, target: str,
               username: str = "kepala", password: str = "pw") -> Any:
    context = browser.new_context()
    contexts.append(context)
    page = context.new_page()
    page.goto(f"{live.url}{target}")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live.url}{target}")
    return page


def message(page: Any, kind: str) -> str:
    page.wait_for_selector(f"#message[data-kind={kind}]:not([hidden])")
    return str(page.text_content("#message"))


def test_info_lines_saved_in_the_browser_reach_the_board(browser: Any, contexts: list[Any],
                                                          live: LiveServer) -> None:
    live.staff("kepala", "pw", "admin")
    page = admin_page(browser, contexts, live, "/admin/office/DPS")
    page.fill("#info", "Libur Natal 25 Desember\nBawa e-KTP asli")
    page.click("form[data-kind=info] button[type=submit]")
    text = message(page, "ok")
    assert "Tersimpan" in text and "Saved" in text
    assert page.text_content("#version") == "2"
    display = {"Authorization": f"Bearer {live.staff('papan-api', 'pw', 'admin')}"}
    board = requests.get(f"{live.url}/api/v1/board/DPS", headers=display, timeout=5).json()
    assert board["info"] == ["Libur Natal 25 Desember", "Bawa e-KTP asli"]


def test_invalid_change_names_field_and_reason(browser: Any, contexts: list[Any],
                                               live: LiveServer) -> None:
    live.staff("kepala", "pw", "admin")
    page = admin_page(browser, contexts, live, "/admin/office/DPS")
    page.fill("input[name='policy.priority']", "2:x")
    page.click("form[data-kind=office] button[type=submit]")
    text = message(page, "error")
    assert "policy.priority" in text
    assert "rasio" in text and "ratio" in text
    assert page.get_attribute("input[name='policy.priority']", "class") == "invalid"
    page.reload()
    assert page.text_content("#version") == "1"


def test_second_admin_gets_409_and_nothing_is_overwritten(browser: Any, contexts: list[Any],
                                                          live: LiveServer) -> None:
    live.staff("kepala", "pw", "admin")
    live.staff("wakil", "pw", "admin")
    first = admin_page(browser, contexts, live, "/admin/office/DPS")
    second = admin_page(browser, contexts, live, "/admin/office/DPS", "wakil")
    row = "form[data-kind=counter][data-id='2']"
    first.fill(f"{row} input[name=name]", "Loket Dua")
    first.click(f"{row} button[type=submit]")
    message(first, "ok")
    second.fill(f"{row} input[name=name]", "Loket Kedua")
    second.click(f"{row} button[type=submit]")
    text = message(second, "error")
    assert "versi 2" in text and "version 2" in text
    token = live.staff("api-admin", "pw", "admin")
    counters = requests.get(f"{live.url}/api/v1/offices/DPS/counters", timeout=5,
                            headers={"Authorization": f"Bearer {token}"}).json()["counters"]
    assert [c["name"] for c in counters if c["id"] == "2"] == ["Loket Dua"]


def test_closing_a_busy_counter_asks_then_returns_the_ticket(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:
    from tests.conftest import booking_row

    live.staff("kepala", "pw", "admin")
    officer = {"Authorization": f"Bearer {live.staff('petugas', 'pw')}"}
    live.add_bookings([booking_row("BUSY-00001")])
    assert requests.post(f"{live.url}/api/v1/checkin", json={"scan": "BUSY-00001"},
                         headers=officer, timeout=5).status_code == 201
    called = requests.post(f"{live.url}/api/v1/counters/1/next", headers=officer, timeout=5)
    assert called.status_code == 200
    page = admin_page(browser, contexts, live, "/admin/office/DPS")
    row = "form[data-kind=counter][data-id='1']"
    page.uncheck(f"{row} input[name=open]")
    page.click(f"{row} button[type=submit]")
    page.wait_for_selector(f"{row} .ask:not([hidden])")
    page.click(f"{row} .ask button[data-choice=return]")
    message(page, "ok")
    assert not page.is_checked(f"{row} input[name=open]")
    ticket = requests.get(f"{live.url}/api/v1/tickets/{called.json()['ticket']['id']}",
                          headers=officer, timeout=5).json()["ticket"]
    assert ticket["status"] == "waiting"


def test_audit_page_and_overview(browser: Any, contexts: list[Any], live: LiveServer) -> None:
    live.staff("kepala", "pw", "admin")
    page = admin_page(browser, contexts, live, "/admin/office/DPS")
    page.fill("form[data-kind=announcement] input[name=text]", "Sistem antrean dimulai ulang")
    page.click("form[data-kind=announcement] button[type=submit]")
    assert "Terkirim" in message(page, "ok")
    page.fill("#info", "Satu baris")
    page.click("form[data-kind=info] button[type=submit]")
    page.wait_for_function("document.getElementById('version').textContent === '2'")
    page.goto(f"{live.url}/admin/audit")
    page.wait_for_function("document.getElementById('admin').dataset.loaded !== undefined")
    rows = page.locator("#audit tbody tr").all_text_contents()
    assert "info.update" in rows[0] and "Satu baris" in rows[0] and "kepala" in rows[0]
    assert "announcement" in rows[1]
    href = page.get_attribute("#audit-csv", "href")
    assert href and "format=csv" in href
    page.goto(f"{live.url}/admin")
    page.wait_for_selector("#overview tr[data-office=DPS]")
    assert "DPS" in str(page.text_content("#overview tbody"))


def test_staff_page_adds_disables_and_shows_who_is_where(browser: Any, contexts: list[Any],
                                                         live: LiveServer) -> None:
    live.staff("kepala", "pw", "admin")
    officer = {"Authorization": f"Bearer {live.staff('wayan', 'pw')}"}
    requests.get(f"{live.url}/api/v1/counters/W1", headers=officer, timeout=5)
    page = admin_page(browser, contexts, live, "/admin/staff")
    assert "counter W1" in str(page.text_content("#present tr[data-username=wayan]"))
    form = "form[data-kind=staff-add]"
    page.fill(f"{form} input[name=username]", "nyoman")
    page.select_option(f"{form} select[name=role]", "supervisor")
    page.select_option(f"{form} select[name=office]", "DPS")
    page.fill(f"{form} input[name=password]", "rahasia-nyoman")
    page.click(f"{form} button[type=submit]")
    message(page, "ok")
    page.wait_for_selector("#accounts tr[data-username=nyoman]")
    page.click("#accounts tr[data-username=wayan] button[data-action=disable]")
    page.wait_for_selector("#accounts tr[data-username=wayan] button[data-action=enable]")
    assert requests.get(f"{live.url}/api/v1/counters/W1", headers=officer,
                        timeout=5).status_code == 401
    # The new supervisor logs in and sees who is where, without the controls.
    supervisor = admin_page(browser, contexts, live, "/admin/staff", "nyoman",
                            "rahasia-nyoman")
    assert supervisor.locator("#accounts button").count() == 0
    assert supervisor.locator("#present tr[data-username=nyoman]").count() == 1


def test_devices_page_enrols_with_a_one_time_qr_and_revokes(browser: Any, contexts: list[Any],
                                                            live: LiveServer) -> None:
    live.staff("kepala", "pw", "admin")
    page = admin_page(browser, contexts, live, "/admin/devices")
    form = "form[data-kind=device-add]"
    page.select_option(f"{form} select[name=kind]", "display")
    page.fill(f"{form} input[name=id]", "papan-lobi")
    page.fill(f"{form} input[name=name]", "Papan lobi")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("#enrol:not([hidden])")
    url = str(page.text_content("#enrol-url"))
    assert url.startswith(f"{live.url}/enrol/papan-lobi/")
    assert page.evaluate("document.getElementById('enrol-qr').naturalWidth") > 100
    # The board opens its link once; a second use is refused.
    board = browser.new_context()
    contexts.append(board)
    board_page = board.new_page()
    board_page.goto(url)
    assert "/display" in board_page.url
    assert requests.get(url, timeout=5, allow_redirects=False).status_code == 403
    page.reload()
    row = "#devices tr[data-device=papan-lobi]"
    assert "enrolled" in str(page.text_content(row))
    page.on("dialog", lambda dialog: dialog.accept())
    page.click(f"{row} button[data-action=revoke]")
    page.wait_for_selector(f"{row}[data-status=revoked]")
    # The board's next request is refused.
    answer = board_page.request.get(f"{live.url}/api/v1/board/DPS")
    assert answer.status == 401
