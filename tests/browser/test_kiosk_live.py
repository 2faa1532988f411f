"""The kiosk page follows the live configuration (config_changed) without a reload: the
office name, the information lines, the check-in window and its timings; it reports its
version for the devices list. Chromium against a live server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from shared import __version__
from tests.browser.test_kiosk import Kiosk, kiosk, text_of  # noqa: F401 (fixture)
from tests.browser.test_kiosk_firstweek import OVERFLOW_JS, SIZES
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def _admin(live: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.staff('kepala', 'pw', 'admin')}",
            "Content-Type": "application/json"}


def test_the_kiosk_re_renders_its_text_when_the_config_changes(
        kiosk: Kiosk, live: LiveServer) -> None:  # noqa: F811
    page = kiosk.page
    page.wait_for_selector("#kiosk[data-config-joined='true']")
    assert "Denpasar" in text_of(page, "#office-name")
    assert "120" in text_of(page, "#kiosk-window") and "15" in text_of(page, "#kiosk-window")
    assert page.locator("#kiosk-info li").count() == 3  # config.toml's info lines
    page.evaluate("window.kioskState.marker = 'same page'")  # no reload may happen

    admin = _admin(live)
    answer = requests.patch(f"{live.url}/api/v1/offices/DPS/config", headers=admin,
                            json={"name": "Kantor Imigrasi Denpasar (Renon)",
                                  "info": ["Kantor tutup pukul 12.00 hari ini"]}, timeout=5)
    assert answer.status_code == 200, answer.text
    page.wait_for_function("document.getElementById('office-name').textContent"
                           " === 'Kantor Imigrasi Denpasar (Renon)'", timeout=10_000)
    assert [text_of(page, "#kiosk-info li")] == ["Kantor tutup pukul 12.00 hari ini"]

    # A global change (the [policy] and [kiosk] tables) reaches it too.
    answer = requests.patch(f"{live.url}/api/v1/config", headers=admin, json={
        "policy": {"early_checkin_minutes": 60, "late_grace_minutes": 30,
                   "late_policy": "refuse"},
        "kiosk": {"return_to_welcome_seconds": 40}}, timeout=5)
    assert answer.status_code == 200, answer.text
    page.wait_for_function("document.getElementById('kiosk-window').textContent"
                           ".includes('60')", timeout=10_000)
    window = text_of(page, "#kiosk-window")
    assert "60" in window and "30" in window and "late arrival" not in window
    settings = page.evaluate("[window.kioskState.marker, document.getElementById('kiosk')"
                             ".dataset.live]")
    assert settings[0] == "same page" and int(settings[1]) >= 2


def test_the_kiosk_reports_its_version_for_the_devices_list(
        kiosk: Kiosk, live: LiveServer) -> None:  # noqa: F811
    kiosk.page.wait_for_selector("#kiosk[data-config-joined='true']")
    devices = requests.get(f"{live.url}/api/v1/devices", headers=_admin(live),
                           timeout=5).json()["devices"]
    mine = next(d for d in devices if d["id"] == "kiosk-1")
    assert mine["version"] == __version__ and mine["outdated"] is False
    assert mine["browser"] and "Chrom" in mine["browser"]


def test_live_json_needs_the_kiosk_or_an_officer(live: LiveServer) -> None:
    assert requests.get(f"{live.url}/kiosk/kiosk-1/live.json", timeout=5).status_code == 401


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_welcome_screen_with_its_live_text_fits(
        browser: Any, live: LiveServer, artifacts: Path, width: int, height: int) -> None:
    screen = Kiosk(browser, live)
    page = screen.page
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_selector("#kiosk[data-config-joined='true']")
    line = ("Mulai 2 Januari loket prioritas pindah ke lantai dua, dekat lift timur. / From "
            "2 January the priority counter moves to the second floor, by the east lift.")
    answer = requests.put(f"{live.url}/api/v1/offices/DPS/info", headers=_admin(live),
                          json={"info": [line, line, line, line]}, timeout=5)
    assert answer.status_code == 200, answer.text
    page.wait_for_function("[...document.querySelectorAll('#kiosk-info li')].filter("
                           f"(li) => li.textContent === {line!r}).length === 4",
                           timeout=10_000)
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(artifacts / f"kiosk-welcome-{width}x{height}.png"))
    problems = page.evaluate(OVERFLOW_JS.replace("[data-screen='ticket']",
                                                 "[data-screen='welcome']"))
    assert problems == [], problems
    # Nothing hides under the bar or is cut by the screen area either.
    hidden = page.evaluate("""() => {
        const area = document.querySelector('.kiosk-main').getBoundingClientRect();
        return [...document.querySelectorAll("[data-screen='welcome'] *")]
            .filter((e) => e.getClientRects().length)
            .map((e) => [e.id || e.className || e.tagName, e.getBoundingClientRect()])
            .filter(([, b]) => b.height > 0 && (b.top < area.top - 0.5
                                                || b.bottom > area.bottom + 0.5))
            .map(([name]) => name);
    }""")
    assert hidden == [], hidden
    # One line at a time, and the next one comes.
    assert page.locator("#kiosk-info li.current").count() == 1
    first = page.locator("#kiosk-info li").first
    assert first.is_visible() and not page.locator("#kiosk-info li").nth(1).is_visible()
    page.wait_for_function("document.querySelector('#kiosk-info li:nth-child(2)')"
                           ".classList.contains('current')", timeout=12_000)
    screen.close()
