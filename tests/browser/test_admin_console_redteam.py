"""Red-team findings on the admin console's pages, in Chromium against a live server."""

from __future__ import annotations

from typing import Any

import requests

from tests.browser.test_admin import admin_page, contexts, message  # noqa: F401  (fixture)
from tests.live import LiveServer


def test_saving_the_hours_keeps_the_office_s_other_policy_overrides(
        browser: Any, contexts: list[Any], live: LiveServer) -> None:  # noqa: F811
    """The hours form shows five [policy] keys and sent only those as the office's whole
    `policy`: saving a new opening time silently dropped the office's other overrides
    (no_show_after_calls, ...) and any override equal to [policy]."""
    live.staff("kepala", "pw", "admin")
    api = {"Authorization": f"Bearer {live.staff('api-admin', 'pw', 'admin')}"}
    config_url = f"{live.url}/api/v1/offices/DPS/config"
    overrides = {"no_show_after_calls": 3, "recall_cooldown_seconds": 30, "priority": "1:3",
                 "late_grace_minutes": 15}  # the last one equals [policy]: pinned here
    assert requests.patch(config_url, json={"policy": overrides}, headers=api,
                          timeout=5).status_code == 200
    page = admin_page(browser, contexts, live, "/admin/office/DPS")
    page.fill("input[name=opens]", "07:30")
    page.click("form[data-kind=office] button[type=submit]")
    message(page, "ok")
    stored = requests.get(config_url, headers=api, timeout=5).json()["config"]
    assert stored["opens"] == "07:30"
    assert stored["policy"] == overrides
    # A field the admin does change still moves, and back to [policy]'s value it follows
    # [policy] again.
    page.fill("input[name='policy.priority']", "first")
    page.fill("input[name='policy.early_checkin_minutes']", "45")
    page.click("form[data-kind=office] button[type=submit]")
    page.wait_for_function("document.getElementById('version').textContent === '4'")
    stored = requests.get(config_url, headers=api, timeout=5).json()["config"]
    assert stored["policy"] == {"no_show_after_calls": 3, "recall_cooldown_seconds": 30,
                                "late_grace_minutes": 15, "early_checkin_minutes": 45}
