"""Red-team findings on the administration console and its API: a refused request
changes nothing, every reason is bilingual, the global document holds the live tables
only, and `giliran config import` neither drops tables a file leaves out nor skips an
office entry it cannot name."""

from __future__ import annotations

from typing import Any

import pytest

from shared import live_config
from shared.auth import list_devices, list_staff
from shared.config import ConfigError
from shared.i18n import catalogue
from tests.admin.conftest import Admin, error


def _account(adm: Admin, name: str) -> Any:
    return next(s for s in list_staff(adm.core) if s.username == name)


def test_a_refused_staff_change_changes_nothing(adm: Admin) -> None:
    """A role given with a bad password or a bad `active` was stored (unaudited) while
    the answer said the change was refused."""
    assert adm.call("POST", "/staff", {"username": "made", "role": "officer",
                                       "offices": ["DPS"], "password": "rahasia-1"}
                    ).status_code == 201
    for body, field in (({"role": "supervisor", "password": "short"}, "password"),
                        ({"role": "admin", "active": "no"}, "active"),
                        ({"offices": [], "password": 12345678}, "password")):
        refused = adm.call("PATCH", "/staff/made", body)
        assert refused.status_code == 422, refused.get_json()
        assert error(refused)["field"] == field
        account = _account(adm, "made")
        assert (account.role, account.office) == ("officer", "DPS"), body
    actions = [e["action"] for e in adm.call("GET", "/audit?office=DPS").get_json()["audit"]]
    assert "staff.update" not in actions
    # the same fields, valid, still apply together and are audited
    done = adm.call("PATCH", "/staff/made", {"role": "supervisor", "password": "rahasia-2"})
    assert done.status_code == 200 and _account(adm, "made").role == "supervisor"


def test_a_device_refused_for_its_name_is_not_registered(adm: Admin) -> None:
    for name in ("x" * 101, "Kios\nlobi", 5):
        refused = adm.call("POST", "/devices", {"kind": "kiosk", "id": "kios-9", "name": name})
        assert refused.status_code == 422 and error(refused)["field"] == "name"
        assert [d.id for d in list_devices(adm.core) if d.id == "kios-9"] == []
    created = adm.call("POST", "/devices", {"kind": "kiosk", "id": "kios-9", "name": " Lobi "})
    assert created.status_code == 201 and created.get_json()["device"]["name"] == "Lobi"


def test_every_reason_a_console_change_can_meet_is_in_both_languages(adm: Admin) -> None:
    stations = adm.call("GET", "/offices/DPS/config").get_json()["config"]["stations"]
    stations[0]["service_minutes"] = 0
    for path, body, field in (
            ("/offices/DPS/config", {"stations": stations}, "stations[0].service_minutes"),
            ("/config", {"kiosk": {"code_pattern": "("}}, "kiosk.code_pattern"),
            # a negative or tiny return time sent the kiosk back to the start at once
            ("/config", {"kiosk": {"return_to_welcome_seconds": -5}},
             "kiosk.return_to_welcome_seconds"),
            ("/config", {"kiosk": {"return_to_welcome_seconds": 10**30}},
             "kiosk.return_to_welcome_seconds"),
            ("/config", {"announce": {"repeat": 0}}, "announce.repeat"),
            ("/config", {"announce": {"repeat": "dua"}}, "announce.repeat"),
            ("/config", {"announce": {"numbers": "roman"}}, "announce.numbers"),
            ("/config", {"announce": {"english": 3}}, "announce.english"),
            ("/config", {"announce": {"clips_dir": "/tidak/ada"}}, "announce.clips_dir"),
            ("/config", {"announce": {"clips_dir": ""}}, "announce.clips_dir"),
            ("/offices/DPS/counters/1", {"stations": [["berkas"]]}, "(document)")):
        refused = error(adm.call("PATCH", path, body))
        assert refused["code"] == "invalid_config" and refused["field"] == field, refused
        assert refused["reason"]["id"] != refused["reason"]["en"], refused["reason"]
    # a counter a serial display still shows (config.toml: bus-1, address 3 -> counter 3)
    gone = error(adm.call("DELETE", "/offices/DPS/counters/3"))
    assert gone["field"].startswith("serial[0]")
    assert gone["reason"]["id"] != gone["reason"]["en"], gone["reason"]


def test_every_loader_reason_has_its_indonesian() -> None:
    indonesian = catalogue("id")
    missing = [template for _pattern, template in live_config._REASONS
               if template not in indonesian]
    assert not missing, missing
    # a counter id that a `counter-<id>` printer would serve in two offices (hardware)
    reason = live_config.reason_of(
        "counter '1' exists in offices DPS, NGR: name each office's printer "
        "counter-<office>-1 (e.g. counter-DPS-1)")
    assert reason["id"] != reason["en"] and "counter-DPS-1" in reason["id"]


def test_the_global_document_takes_the_live_tables_only(adm: Admin) -> None:
    """[server] or [security] through PATCH /config were stored, audited, exported and
    answered "saved", and changed nothing (they always come from config.toml)."""
    for table in ({"security": {"qr_hmac_key": "bocor"}}, {"server": {"port": 1}},
                  {"offices": []}):
        refused = error(adm.call("PATCH", "/config", table))
        assert refused["code"] == "invalid_config" and refused["field"] == next(iter(table))
        assert refused["reason"]["id"] != refused["reason"]["en"]
    version, document = live_config.document(adm.core, live_config.GLOBAL)
    assert version == 1 and set(document) <= set(live_config.LIVE_TABLES)
    assert "bocor" not in live_config.export_toml(adm.core)
    assert adm.call("PATCH", "/config", {"policy": {"late_grace_minutes": 20}}).status_code \
        == 200


def test_a_table_stored_before_the_check_can_still_be_removed(adm: Admin) -> None:
    from shared.models import ConfigDocument

    with adm.core.db.write() as session:  # as an older version stored it
        row = session.get(ConfigDocument, live_config.GLOBAL)
        row.document = {**row.document, "server": {"port": 1}}
    assert adm.call("PATCH", "/config", {"policy": {"late_grace_minutes": 20}}).status_code \
        == 200
    assert adm.call("PATCH", "/config", {"server": None}).status_code == 200
    assert "server" not in live_config.document(adm.core, live_config.GLOBAL)[1]


def test_importing_one_global_table_keeps_the_others(adm: Admin) -> None:
    """A file with only [policy] put [numbering], [kiosk] and [announce] back to their
    defaults: other ticket letters and another voice in the middle of the day."""
    assert adm.call("PATCH", "/config", {"numbering": {"walkin_letter": "Q"},
                                         "announce": {"repeat": 2}}).status_code == 200
    changed = live_config.import_toml(adm.core, "[policy]\nlate_grace_minutes = 30\n", "cli")
    assert list(changed) == [live_config.GLOBAL]
    assert adm.core.config.numbering.walkin_letter == "Q"
    assert adm.core.config.policy.late_grace_minutes == 30
    document = live_config.document(adm.core, live_config.GLOBAL)[1]
    assert document["announce"]["repeat"] == 2 and "kiosk" in document
    audit = adm.call("GET", "/audit").get_json()["audit"][0]
    assert audit["action"] == "config.import"
    paths = [c["path"] for c in audit["detail"]["changes"]]
    assert "policy.late_grace_minutes" in paths
    assert all(path.startswith("policy.") for path in paths), paths


@pytest.mark.parametrize(("text", "key"), [
    ('[[offices]]\nname = "Kantor X"\ntimezone = "Asia/Jakarta"\n', "offices[0].id"),
    ('[[offices]]\nid = 5\nname = "Kantor X"\n', "offices[0].id"),
    ("offices = 5\n", "offices"),
    ("offices = [1]\n", "offices[0]"),
])
def test_import_refuses_an_office_entry_it_cannot_name(adm: Admin, text: str, key: str) -> None:
    """Skipped before ("nothing changed"), or a TypeError traceback for `offices = 5`."""
    with pytest.raises(ConfigError) as caught:
        live_config.import_toml(adm.core, text, "cli")
    assert caught.value.key == key
