"""The administration REST resources through the Flask test client."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared import live_config, visits
from shared.models import Ticket
from tests.admin.conftest import Admin, error
from tests.conftest import DAY


def test_put_info_reaches_the_board_snapshot(adm: Admin) -> None:
    response = adm.call("PUT", "/offices/DPS/info", {"info": ["Libur Lebaran 10-14 April"]})
    assert response.status_code == 200 and response.get_json()["version"] == 2
    assert response.headers["ETag"] == '"2"'
    board = adm.call("GET", "/board/DPS", who=adm.display).get_json()
    assert board["info"] == ["Libur Lebaran 10-14 April"]


def test_info_must_be_texts(adm: Admin) -> None:
    response = adm.call("PUT", "/offices/DPS/info", {"info": [1]})
    assert response.status_code == 422
    body = error(response)
    assert body["field"] == "info[0]" and body["code"] == "invalid_config"
    assert adm.call("GET", "/offices/DPS/config").get_json()["version"] == 1


def test_add_counter_then_call_next_at_once(adm: Admin) -> None:
    assert adm.call("POST", "/checkin", {"scan": "ADM-00001"}, adm.officer).status_code == 201
    response = adm.call("POST", "/offices/DPS/counters",
                        {"id": "9", "name": "Loket 9", "stations": ["berkas"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["counter"] == {
        "id": "9", "name": "Loket 9", "stations": ["berkas"], "priority_only": False,
        "open": True, "ticket": None}
    called = adm.call("POST", "/counters/9/next", who=adm.officer)
    assert called.status_code == 200 and called.get_json()["ticket"]["counter"] == "9"
    listed = adm.call("GET", "/offices/DPS/counters").get_json()
    number = called.get_json()["ticket"]["number"]
    assert [c for c in listed["counters"] if c["id"] == "9"][0]["ticket"] == number


def test_add_counter_refusals(adm: Admin) -> None:
    assert error(adm.call("POST", "/offices/DPS/counters",
                          {"id": "1", "name": "x", "stations": ["berkas"]}))["code"] == \
        "counter_exists"
    bad = error(adm.call("POST", "/offices/DPS/counters",
                         {"id": "9", "name": "Loket 9", "stations": ["dapur"]}))
    assert bad["field"] == "counters[11].stations"
    assert "dapur" in bad["message"]["id"] and "dapur" in bad["message"]["en"]
    unknown = error(adm.call("POST", "/offices/DPS/counters",
                             {"id": "9", "name": "Loket 9", "stations": ["berkas"], "warna": 1}))
    assert unknown["field"] == "counters[11].warna"


def test_rename_and_close_a_counter(adm: Admin) -> None:
    response = adm.call("PATCH", "/offices/DPS/counters/2", {"name": "Loket Dua", "open": False},
                        **{"If-Match": '"1"'})
    assert response.status_code == 200
    assert response.get_json()["counter"]["open"] is False
    assert adm.core.config.offices["DPS"].counters["2"].name == "Loket Dua"
    assert error(adm.call("POST", "/counters/2/next", who=adm.officer))["code"] == \
        "counter_closed"


def test_second_admin_with_the_same_version_gets_409(adm: Admin) -> None:
    first = adm.call("PATCH", "/offices/DPS/counters/2", {"name": "A", "version": 1})
    second = adm.call("PATCH", "/offices/DPS/counters/2", {"name": "B", "version": 1},
                      who=adm.dps)
    assert first.status_code == 200 and second.status_code == 409
    assert error(second)["current_version"] == 2
    assert adm.core.config.offices["DPS"].counters["2"].name == "A"


def test_closing_a_counter_with_a_called_ticket_asks_first(adm: Admin) -> None:
    adm.call("POST", "/checkin", {"scan": "ADM-00001"}, adm.officer)
    adm.call("POST", "/checkin", {"scan": "ADM-00002"}, adm.officer)
    called = adm.call("POST", "/counters/1/next", who=adm.officer).get_json()["ticket"]
    asked = adm.call("PATCH", "/offices/DPS/counters/1", {"open": False})
    assert asked.status_code == 409
    body = error(asked)
    assert body["code"] == "counter_has_ticket" and body["choices"] == ["return", "transfer"]
    assert adm.core.config.offices["DPS"].counters["1"].open is True
    done = adm.call("PATCH", "/offices/DPS/counters/1", {"open": False, "ticket": "return"})
    assert done.status_code == 200
    with adm.core.db.read() as session:
        queue = visits.station_queue(adm.core, "DPS", "berkas")
    assert [t["number"] for t in queue][0] == called["number"]  # at its own place
    assert queue[0]["status"] == "waiting"
    del session


def test_delete_counter_transfers_its_ticket(adm: Admin) -> None:
    adm.call("POST", "/checkin", {"scan": "ADM-00001"}, adm.officer)
    adm.call("POST", "/offices/DPS/counters", {"id": "8", "name": "Loket 8",
                                               "stations": ["berkas"]})
    ticket = adm.call("POST", "/counters/8/next", who=adm.officer).get_json()["ticket"]
    assert adm.call("DELETE", "/offices/DPS/counters/8").status_code == 409
    gone = adm.call("DELETE", "/offices/DPS/counters/8?ticket=transfer&station=wawancara")
    assert gone.status_code == 200
    assert "8" not in adm.core.config.offices["DPS"].counters
    moved = adm.call("GET", f"/tickets/{ticket['id']}", who=adm.officer).get_json()["ticket"]
    assert moved["station"] == "wawancara" and moved["status"] == "waiting"


def test_delete_counter_on_a_serial_bus_is_refused_with_the_key(adm: Admin) -> None:
    body = error(adm.call("DELETE", "/offices/DPS/counters/3"))
    assert body["code"] == "invalid_config" and body["field"].startswith("serial[0]")


def test_patch_office_config_hours_windows_quota(adm: Admin) -> None:
    response = adm.call("PATCH", "/offices/DPS/config", {
        "opens": "07:30", "closed_days": ["2026-12-25"], "quota_per_slot": 40,
        "policy": {"early_checkin_minutes": 60, "priority": "1:3"}})
    assert response.status_code == 200, response.get_json()
    office = adm.core.config.offices["DPS"]
    assert office.opens.strftime("%H:%M") == "07:30" and office.quota_per_slot == 40
    assert adm.core.config.policy_for("DPS").priority_ratio == (1, 3)
    bad = error(adm.call("PATCH", "/offices/DPS/config", {"closes": "25:00"}))
    assert bad["field"] == "closes"
    assert bad["reason"]["id"].startswith("harus berupa jam")


def test_office_admin_is_limited_to_its_offices(adm: Admin) -> None:
    assert adm.call("GET", "/offices/DPS/counters", who=adm.dps).status_code == 200
    assert adm.call("GET", "/config", who=adm.dps).status_code == 403
    assert adm.call("PUT", "/offices/DPS/info", {"info": []}, who=adm.officer).status_code == 403
    assert adm.call("GET", "/offices/NOWHERE/counters").status_code == 404
    assert adm.client.get("/api/v1/offices/DPS/counters").status_code == 401


def test_global_policy_patch(adm: Admin) -> None:
    response = adm.call("PATCH", "/config", {"policy": {"late_grace_minutes": 30}})
    assert response.status_code == 200
    assert adm.core.config.policy.late_grace_minutes == 30
    assert error(adm.call("PATCH", "/config", {"policy": {"late_policy": "maybe"}}))["field"] \
        == "policy.late_policy"


def test_bad_version_and_body(adm: Admin) -> None:
    assert adm.call("PUT", "/offices/DPS/info", {"info": [], "version": "x"}).status_code == 400
    assert adm.call("PATCH", "/offices/DPS/config", {"stations": 5}).status_code == 422
    assert adm.call("PATCH", "/offices/DPS/config", {"counters": [7]}).status_code == 422
    assert adm.call("PATCH", "/offices/DPS/config", {"id": "X"}).status_code == 422


def test_announcement_is_audited(adm: Admin) -> None:
    response = adm.call("POST", "/offices/DPS/announcement", {"text": "Sistem akan dimulai ulang"})
    assert response.status_code == 201
    assert adm.call("POST", "/offices/DPS/announcement", {"text": ""}).status_code == 422
    audit = adm.call("GET", "/audit?office=DPS").get_json()["audit"]
    assert audit[0]["action"] == "announcement"


def test_audit_filters_and_csv(adm: Admin) -> None:
    adm.call("PUT", "/offices/DPS/info", {"info": ["=1+1"]}, who=adm.dps)
    entries = adm.call("GET", "/audit?who=admin-dps").get_json()["audit"]
    assert [e["action"] for e in entries] == ["info.update"]
    assert entries[0]["detail"]["changes"][0]["new"] == ["=1+1"]
    assert adm.call("GET", "/audit?since=2999-01-01").get_json()["audit"] == []
    assert adm.call("GET", "/audit?since=yesterday").status_code == 400
    response = adm.call("GET", "/audit?format=csv&who=admin-dps")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["at", "who", "office", "action", "path", "old", "new"]
    assert rows[1][1:5] == ["admin-dps", "DPS", "info.update", "info"]
    # Office admins see only their offices' entries (not the global seed).
    seen = {e["office"] for e in adm.call("GET", "/audit", who=adm.dps).get_json()["audit"]}
    assert seen == {"DPS"}


def test_pages_render_for_an_admin_only(adm: Admin) -> None:
    from shared.auth import create_staff
    from shared.web import staff_session_values

    create_staff(adm.core, "kepala2", "pw-kepala2", "admin")
    create_staff(adm.core, "petugas2", "pw-petugas2", "officer")
    client = adm.app.test_client()
    assert client.get("/admin").status_code == 302
    with client.session_transaction() as session:
        session.update(staff_session_values(adm.core, "petugas2"))
    assert client.get("/admin/office/DPS").status_code in (302, 403)
    with client.session_transaction() as session:
        session.update(staff_session_values(adm.core, "kepala2"))
    for path in ("/admin", "/admin/office/DPS", "/admin/audit"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.get_data(as_text=True)[:500])
        assert "<script>" not in page.get_data(as_text=True)  # no inline script
    assert client.get("/admin/office/NOWHERE").status_code == 404
    data = client.get("/admin/api/overview").get_json()
    assert data["offices"][0]["id"] == "DPS" and data["offices"][0]["counters_open"] == 11


SECOND_OFFICE = """
[[offices]]
id = "NGR"
name = "Kantor Imigrasi Ngurah Rai"
timezone = "Asia/Makassar"
  [[offices.stations]]
  id = "berkas"
  name = { id = "Berkas", en = "Documents" }
  [[offices.services]]
  id = "paspor-baru"
  name = "Paspor Baru"
  flow = ["berkas"]
  [[offices.counters]]
  id = "1"
  name = "Loket 1"
  stations = ["berkas"]
"""


def test_overview_of_several_offices(tmp_path: Path) -> None:
    from shared import device_states
    from shared.app import create_app, load_config
    from shared.auth import create_device, create_staff
    from shared.web import staff_session_values
    from tests.conftest import ROOT, make_core

    path = tmp_path / "config.toml"
    path.write_text((ROOT / "config.toml").read_text() + SECOND_OFFICE)
    core = make_core(load_config(path), f"sqlite:///{tmp_path / 'two.sqlite3'}")
    try:
        app = create_app(core=core)
        create_staff(core, "pusat", "rahasia-123", "admin")
        create_staff(core, "ngr", "rahasia-123", "admin", "NGR")
        live_config.update(core, live_config.office_scope("NGR"),
                           lambda d: d["counters"][0].update(open=False), "pusat",
                           "counter.update")
        # DPS's kiosk printer (and its backup) and DPS's serial bus are faulty, as written by
        # the process owning them: a fault of DPS, not of NGR.
        create_device(core, "kiosk", "kiosk-1", "DPS")
        device_states.Publisher(core, "printer").publish({
            "kiosk-1": {"status": "paper_out", "alert": True, "backup": "kiosk-1-backup"},
            "kiosk-1-backup": {"status": "offline", "alert": True, "backup": None}})
        device_states.Publisher(core, "serial").publish({
            "bus-1": {"status": "down", "alert": True, "office": "DPS", "url": "/dev/ttyUSB0"}})
        client = app.test_client()
        with client.session_transaction() as session:
            session.update(staff_session_values(core, "pusat"))
        offices = client.get("/admin/api/overview").get_json()["offices"]
        assert [(o["id"], o["counters_open"], o["counters"]) for o in offices] == [
            ("DPS", 11, 11), ("NGR", 0, 1)]
        assert offices[0]["faults"] == ["kiosk-1", "kiosk-1-backup", "serial:bus-1"]
        assert offices[1]["faults"] == []
        page = client.get("/admin/devices").get_data(as_text=True)
        assert 'data-bus="bus-1"' in page and 'data-printer="kiosk-1"' in page
        assert offices[1]["stations"] == [{"id": "berkas", "name": {"id": "Berkas",
                                                                    "en": "Documents"},
                                           "waiting": 0, "longest_wait_minutes": 0}]
        with client.session_transaction() as session:
            session.update(staff_session_values(core, "ngr"))
        offices = client.get("/admin/api/overview").get_json()["offices"]
        assert [o["id"] for o in offices] == ["NGR"]
        assert offices[0]["faults"] == []
        page = client.get("/admin/devices").get_data(as_text=True)
        assert 'data-bus="bus-1"' not in page and 'data-printer="kiosk-1"' not in page
        assert client.get("/admin/office/DPS").status_code == 404
    finally:
        core.bus.close()
        core.db.engine.dispose()


def test_a_ticket_left_at_a_counter_yesterday_does_not_show_or_hold_it(adm: Admin) -> None:
    """The day after, the counters list shows no ticket at the counter, and closing it asks
    nothing about yesterday's (it stays in yesterday's figures as it was left)."""
    from datetime import timedelta

    assert adm.call("POST", "/checkin", {"scan": "ADM-00001"}, adm.officer).status_code == 201
    assert adm.call("POST", "/counters/2/next", who=adm.officer).status_code == 200
    listed = adm.call("GET", "/offices/DPS/counters").get_json()["counters"]
    assert [c for c in listed if c["id"] == "2"][0]["ticket"] == "B001"
    adm.core.clock.freeze(adm.core.now() + timedelta(days=1))
    listed = adm.call("GET", "/offices/DPS/counters").get_json()["counters"]
    assert [c for c in listed if c["id"] == "2"][0]["ticket"] is None
    closed = adm.call("PATCH", "/offices/DPS/counters/2", {"open": False})
    assert closed.status_code == 200, closed.get_json()


def test_patching_the_office_s_counters_releases_a_called_ticket_first(adm: Admin) -> None:
    """A patch of the whole office that closes or removes a counter with a called ticket
    asks first, like the counter's own routes; the ticket is never left at a counter that
    no longer calls."""
    for counter in ("8", "9"):
        assert adm.call("POST", "/offices/DPS/counters", {
            "id": counter, "name": f"Loket {counter}", "stations": ["berkas"]}).status_code \
            == 201
    adm.call("POST", "/checkin", {"scan": "ADM-00001"}, adm.officer)
    adm.call("POST", "/checkin", {"scan": "ADM-00002"}, adm.officer)
    first = adm.call("POST", "/counters/8/next", who=adm.officer).get_json()["ticket"]
    second = adm.call("POST", "/counters/9/next", who=adm.officer).get_json()["ticket"]
    counters = adm.call("GET", "/offices/DPS/config").get_json()["config"]["counters"]
    without_8 = [c for c in counters if c["id"] != "8"]
    closed_9 = [{**c, "open": False} if c["id"] == "9" else c for c in counters]
    # A patch that leaves the counters open needs no choice.
    renamed = [{**c, "name": "Loket Delapan"} if c["id"] == "8" else c for c in counters]
    assert adm.call("PATCH", "/offices/DPS/config", {"counters": renamed}).status_code == 200
    assert adm.core.config.offices["DPS"].counters["8"].name == "Loket Delapan"
    for patched in (without_8, closed_9):
        asked = adm.call("PATCH", "/offices/DPS/config", {"counters": patched})
        assert asked.status_code == 409
        body = error(asked)
        assert body["code"] == "counter_has_ticket" and body["choices"] == ["return", "transfer"]
    assert "8" in adm.core.config.offices["DPS"].counters
    assert adm.core.config.offices["DPS"].counters["9"].open is True
    removed = adm.call("PATCH", "/offices/DPS/config?ticket=return", {"counters": without_8})
    assert removed.status_code == 200, removed.get_json()
    assert "8" not in adm.core.config.offices["DPS"].counters
    back = adm.call("GET", f"/tickets/{first['id']}", who=adm.officer).get_json()["ticket"]
    assert back["status"] == "waiting" and back["counter"] is None
    closed = adm.call("PATCH", "/offices/DPS/config?ticket=transfer&station=wawancara",
                      {"counters": [c for c in closed_9 if c["id"] != "8"]})
    assert closed.status_code == 200, closed.get_json()
    assert adm.core.config.offices["DPS"].counters["9"].open is False
    moved = adm.call("GET", f"/tickets/{second['id']}", who=adm.officer).get_json()["ticket"]
    assert moved["station"] == "wawancara" and moved["status"] == "waiting"


def _without_station(config: dict[str, Any], station: str) -> dict[str, Any]:
    """An office patch taking `station` out of the stations, every flow and every counter
    (a counter left with none serves the interview instead: the serial displays name it)."""
    return {
        "stations": [s for s in config["stations"] if s["id"] != station],
        "services": [{**s, "flow": [x for x in s["flow"] if x != station]}
                     for s in config["services"]],
        "counters": [{**c, "stations": [x for x in c["stations"] if x != station]
                      or ["wawancara" if station != "wawancara" else "berkas"]}
                     for c in config["counters"]],
    }


def test_a_station_tickets_still_need_cannot_be_removed(adm: Admin) -> None:
    """Removing a station was accepted while tickets waited there or would still pass
    through it (their frozen flow): they vanished from boards and queues, `next` answered
    204 everywhere, and nobody called them again."""
    ticket = adm.call("POST", "/checkin", {"scan": "ADM-00001"}, adm.officer).get_json()[
        "ticket"]
    config = adm.call("GET", "/offices/DPS/config").get_json()["config"]
    for station, why in (("berkas", "waiting there"), ("foto", "later in its flow")):
        refused = adm.call("PATCH", "/offices/DPS/config", _without_station(config, station))
        assert refused.status_code == 409, why
        body = error(refused)
        assert body["code"] == "station_has_tickets"
        assert station in body["message"]["en"] and "1 ticket(s)" in body["message"]["en"]
        assert station in body["message"]["id"]
        assert station in adm.core.config.offices["DPS"].stations
    assert adm.call("GET", "/offices/DPS/config").get_json()["version"] == 1
    # Called at a counter, then held: still there.
    adm.call("POST", "/counters/1/next", who=adm.officer)
    assert adm.call("PATCH", "/offices/DPS/config?ticket=return",
                    _without_station(config, "berkas")).status_code == 409
    assert adm.call("POST", f"/tickets/{ticket['id']}/hold", who=adm.officer).status_code == 200
    assert adm.call("PATCH", "/offices/DPS/config",
                    _without_station(config, "berkas")).status_code == 409
    # A station no ticket of today needs goes; yesterday's tickets do not count.
    with adm.core.db.write() as session:
        row = session.get(Ticket, ticket["id"])
        assert row is not None
        row.service_day = date.fromisoformat(DAY) - timedelta(days=1)
    removed = adm.call("PATCH", "/offices/DPS/config", _without_station(config, "foto"))
    assert removed.status_code == 200, removed.get_json()
    assert "foto" not in adm.core.config.offices["DPS"].stations


def test_a_service_with_bookings_cannot_be_removed(adm: Admin) -> None:
    """Renaming a service id (paspor-baru -> paspor) stranded every booking of it: the
    kiosk refused them as a service not offered here."""
    from shared.bookings import cancel, import_rows
    from tests.conftest import booking_row

    config = adm.call("GET", "/offices/DPS/config").get_json()["config"]
    services = config["services"]
    renamed = [{**s, "id": "paspor"} if s["id"] == "paspor-baru" else s for s in services]
    cancel(adm.core, "DPS", "ADM-00002")  # a cancelled booking does not count
    refused = adm.call("PATCH", "/offices/DPS/config", {"services": renamed})
    assert refused.status_code == 409
    body = error(refused)
    assert body["code"] == "service_has_bookings"
    for language in ("id", "en"):
        assert "paspor-baru" in body["message"][language] and DAY in body["message"][language]
    assert "1 booking(s)" in body["message"]["en"]
    assert "paspor-baru" in adm.core.config.offices["DPS"].services
    # The way the message gives: the new service first, the bookings moved, then the old goes.
    added = adm.call("PATCH", "/offices/DPS/config", {"services": services + [
        {**services[0], "id": "paspor"}]})
    assert added.status_code == 200, added.get_json()
    moved = import_rows(adm.core, enumerate([booking_row("ADM-00001", service="paspor")],
                                            start=1))
    assert moved.updated == 1, moved.as_dict()
    gone = adm.call("PATCH", "/offices/DPS/config", {"services": renamed})
    assert gone.status_code == 200, gone.get_json()
    assert "paspor-baru" not in adm.core.config.offices["DPS"].services
    checked_in = adm.call("POST", "/checkin", {"scan": "ADM-00001"}, adm.officer)
    assert checked_in.status_code == 201 and checked_in.get_json()["ticket"]["service"] == \
        "paspor"


def test_config_import_does_not_close_a_counter_over_its_called_ticket(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`giliran config import` closed a counter with a called ticket and left the ticket
    called there, unlike the admin routes: it refuses now (exit status 2, like a file the
    loader refuses), saying to finish or return the ticket first."""
    import tomllib

    import tomli_w
    from click.testing import CliRunner

    from shared.bookings import import_rows
    from shared.cli import main
    from shared.clock import Clock
    from shared.config import load_config
    from shared.core import Core
    from shared.db import Database, make_engine
    from shared.events import EventBus
    from shared.migrate import upgrade
    from tests.conftest import ROOT, booking_row

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("GILIRAN_DATABASE_URL", url)
    monkeypatch.setenv("GILIRAN_CONFIG", str(ROOT / "config.toml"))
    monkeypatch.setenv("GILIRAN_CLOCK", f"{DAY}T09:30")
    upgrade(url)
    config = load_config(ROOT / "config.toml")
    clock = Clock()
    clock.start_at_local(datetime.fromisoformat(f"{DAY}T09:30"), config.default_office.tz)
    clock.freeze(clock.now())
    core = Core(config, Database(make_engine(url)), clock, EventBus())
    try:
        core.ensure_offices()
        import_rows(core, enumerate([booking_row("IMP-00001")], start=1))
        ticket = visits.check_in(core, "DPS", "IMP-00001", "kiosk-1").ticket
        called = visits.call_next(core, "DPS", "2", "petugas")
        assert called is not None and called["id"] == ticket["id"]
        data = tomllib.loads(live_config.export_toml(core))
        for counter in data["offices"][0]["counters"]:
            if counter["id"] == "2":
                counter["open"] = False
        path = tmp_path / "live.toml"
        path.write_text(tomli_w.dumps(data), encoding="utf-8")
        result = CliRunner().invoke(main, ["config", "import", str(path)])
        assert result.exit_code == 2, result.output
        assert "office:DPS" in result.stderr and "Counter 2 has called" in result.stderr
        assert "Finish the ticket" in result.stderr and "Loket 2" in result.stderr
        assert live_config.document(core, "office:DPS")[0] == 1
        assert visits.get_ticket(core, ticket["id"], None)["status"] == "called"
        # Finished, the same file closes the counter.
        visits.act(core, ticket["id"], "finish", "petugas", None)
        result = CliRunner().invoke(main, ["config", "import", str(path)])
        assert result.exit_code == 0, result.output
        assert live_config.document(core, "office:DPS")[0] == 2
    finally:
        core.bus.close()
        core.db.engine.dispose()


def test_config_import_keeps_a_station_and_a_service_still_in_use(adm: Admin) -> None:
    """The import applies the office patch's rules: no station tickets of today still
    need, no service with bookings to come."""
    import tomllib

    import tomli_w

    from shared.config import ConfigError
    from shared.office_changes import import_hook

    adm.call("POST", "/checkin", {"scan": "ADM-00001"}, adm.officer)
    data = tomllib.loads(live_config.export_toml(adm.core))
    office = data["offices"][0]
    without_foto = {**office, **_without_station(office, "foto")}
    renamed = {**office, "services": [{**s, "id": "paspor"} if s["id"] == "paspor-baru" else s
                                      for s in office["services"]]}
    for changed, code in ((without_foto, "Station foto"), (renamed, "Service paspor-baru")):
        with pytest.raises(ConfigError) as caught:
            live_config.import_toml(adm.core, tomli_w.dumps({**data, "offices": [changed]}),
                                    "cli", lambda office: import_hook(adm.core, office, "cli"))
        assert caught.value.key == "office:DPS" and code in caught.value.message
    assert live_config.document(adm.core, "office:DPS")[0] == 1


def test_the_new_config_checks_give_their_reason_in_both_languages(adm: Admin) -> None:
    """The reasons of the numbering, duplicate-id and office-hours checks reach the admin in
    Indonesian too, not in English twice."""
    for path, body, field in (
            ("/config", {"numbering": {"slot_minutes": 0}}, "numbering.slot_minutes"),
            ("/offices/DPS/config", {"opens": "17:00"}, "closes")):
        refused = error(adm.call("PATCH", path, body))
        assert refused["code"] == "invalid_config" and refused["field"] == field, refused
        assert refused["reason"]["id"] != refused["reason"]["en"], refused["reason"]
