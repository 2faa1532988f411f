"""The admin console's page for the global live tables ([policy], [numbering], [kiosk],
[announce]) in Chromium: saved through PATCH /api/v1/config with the loader's checks, a
stale edit gets the 409, every change is in the audit log, office admins are refused."""

from __future__ import annotations

from typing import Any

import requests

from shared.auth import create_staff
from tests.browser.test_admin import admin_page, contexts, message  # noqa: F401 (fixture)
from tests.live import LiveServer


def _config(live: LiveServer) -> tuple[int, dict[str, Any]]:
    admin = {"Authorization": f"Bearer {live.staff('pembaca', 'pw', 'admin')}"}
    body = requests.get(f"{live.url}/api/v1/config", headers=admin, timeout=5).json()
    return body["version"], body["config"]


def test_settings_saved_in_the_browser_apply_and_are_audited(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    live.staff("kepala", "pw", "admin")
    page = admin_page(browser, contexts, live, "/admin/settings")
    assert page.input_value("#settings-kiosk input[name=return_to_welcome_seconds]") == "20"
    assert page.is_checked("#settings-announce input[name=english]")
    before, _ = _config(live)
    assert page.text_content("#version") == str(before)

    page.fill("#settings-kiosk input[name=return_to_welcome_seconds]", "45")
    page.click("#settings-kiosk button[type=submit]")
    text = message(page, "ok")
    assert "Tersimpan" in text and "Saved" in text
    page.wait_for_function(f"document.getElementById('version').textContent === '{before + 1}'")
    assert page.input_value("#settings-kiosk input[name=return_to_welcome_seconds]") == "45"

    page.uncheck("#settings-announce input[name=english]")
    page.select_option("#settings-policy select[name=late_policy]", "refuse")  # other form
    page.click("#settings-announce button[type=submit]")
    page.wait_for_function(f"document.getElementById('version').textContent === '{before + 2}'")
    version, config = _config(live)
    assert version == before + 2
    assert config["kiosk"]["return_to_welcome_seconds"] == 45
    assert config["announce"]["english"] is False
    assert config["policy"]["late_policy"] == "demote"  # only the form that was sent

    # The audit log says who changed what (only the changed keys, old -> new).
    admin = {"Authorization": f"Bearer {live.staff('auditor', 'pw', 'admin')}"}
    entries = requests.get(f"{live.url}/api/v1/audit?who=kepala", headers=admin,
                           timeout=5).json()["audit"]
    changes = [e["detail"]["changes"] for e in entries if e["action"] == "config.update"]
    assert changes == [[{"path": "announce.english", "old": True, "new": False}],
                       [{"path": "kiosk.return_to_welcome_seconds", "old": 20, "new": 45}]]


def test_an_invalid_setting_names_the_field_and_changes_nothing(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    live.staff("kepala", "pw", "admin")
    page = admin_page(browser, contexts, live, "/admin/settings")
    before, config = _config(live)
    page.fill("#settings-policy input[name=priority]", "2:x")
    page.click("#settings-policy button[type=submit]")
    text = message(page, "error")
    assert "policy.priority" in text and "rasio" in text and "ratio" in text
    assert page.get_attribute("#settings-policy input[name=priority]", "class") == "invalid"
    assert _config(live) == (before, config)


def test_a_second_admin_gets_409_and_nothing_is_overwritten(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    live.staff("kepala", "pw", "admin")
    live.staff("wakil", "pw", "admin")
    first = admin_page(browser, contexts, live, "/admin/settings")
    second = admin_page(browser, contexts, live, "/admin/settings", "wakil")
    first.fill("#settings-numbering input[name=slot_minutes]", "30")
    first.click("#settings-numbering button[type=submit]")
    message(first, "ok")
    second.fill("#settings-numbering input[name=slot_minutes]", "90")
    second.click("#settings-numbering button[type=submit]")
    text = message(second, "error")
    assert "versi" in text.lower() and "version" in text.lower()
    _, config = _config(live)
    assert config["numbering"]["slot_minutes"] == 30


def test_an_admin_of_one_office_has_no_settings_page(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    core = live.core()
    create_staff(core, "admin-dps", "pw", "admin", "DPS")
    core.db.engine.dispose()
    page = admin_page(browser, contexts, live, "/admin/office/DPS", "admin-dps")
    assert page.locator("a[href='/admin/settings']").count() == 0
    answer = page.goto(f"{live.url}/admin/settings")
    assert answer is not None and answer.status == 403
