"""Issue 16/17 points the admin console owed a test: the public_url warning on the admin
pages, and "end all sessions" / "reset password" through PATCH /api/v1/staff ending the
person's live session at its next request."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared import live_config
from shared.auth import create_staff
from shared.models import ConfigDocument
from shared.web import staff_session_values
from tests.admin.conftest import Admin

QUEUE = "/api/v1/stations/berkas/queue"


@pytest.mark.parametrize("public_url, code", [
    ("", "public_url_empty"),
    ("http://127.0.0.1:5000", "public_url_loopback"),
    ("https://antrean.imigrasi-denpasar.example", None),
])
def test_admin_pages_warn_while_the_ticket_qr_cannot_reach_phones(
        adm: Admin, public_url: str, code: str | None) -> None:
    adm.core.config = replace(adm.core.config, public_url=public_url)
    for path in ("/admin", "/admin/devices", "/admin/office/DPS", "/admin/settings"):
        page = adm.client.get(path, headers=adm.root)
        assert page.status_code == 200, path
        text = page.get_data(as_text=True)
        if code is None:
            assert 'id="public-url-warning"' not in text, path
        else:
            assert f'data-code="{code}"' in text, path
            assert "docs/deployment.md" in text


@pytest.mark.parametrize("change", [{"end_sessions": True}, {"password": "rahasia-baru-1"}])
def test_ending_sessions_or_a_new_password_logs_the_person_out(
        adm: Admin, change: dict[str, object]) -> None:
    create_staff(adm.core, "putu", "rahasia-lama-1", "officer")
    client = adm.app.test_client()
    with client.session_transaction() as session:
        session.update(staff_session_values(adm.core, "putu"))
    assert client.get(QUEUE).status_code == 200
    answer = adm.call("PATCH", "/staff/putu", change)
    assert answer.status_code == 200, answer.get_json()
    assert client.get(QUEUE).status_code == 401
    audit = adm.call("GET", "/audit?who=kepala").get_json()["audit"][0]
    assert audit["action"] == "staff.update" and "rahasia" not in str(audit)


def test_the_settings_page_shows_a_room_s_own_defaults_for_keys_left_out(
        adm: Admin) -> None:
    """[announce] belongs to the display room: with no such table in the configuration,
    the admin page shows what that room gives as its defaults, not a copy of its own."""
    # an office whose config.toml has no [announce] table
    adm.core.config = replace(adm.core.config, announce={})
    with adm.core.db.write() as session:
        stored = session.get(ConfigDocument, live_config.GLOBAL)
        assert stored is not None
        stored.document = {k: v for k, v in stored.document.items() if k != "announce"}
    page = adm.client.get("/admin/settings", headers=adm.root).get_data(as_text=True)
    assert 'data-key="announce.repeat" data-initial="1" value="1"' in page
    assert 'data-key="announce.numbers" data-initial="&#34;digits&#34;"' in page
    adm.core.table_defaults["announce"] = {"numbers": "words", "english": False, "repeat": 2}
    page = adm.client.get("/admin/settings", headers=adm.root).get_data(as_text=True)
    assert 'data-key="announce.repeat" data-initial="2" value="2"' in page
    assert 'data-key="announce.numbers" data-initial="&#34;words&#34;"' in page
