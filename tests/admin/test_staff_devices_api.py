"""Staff and devices through the administration REST resources."""

from __future__ import annotations

import base64
from pathlib import Path

from shared.auth import create_device, create_staff
from tests.admin.conftest import Admin, bearer, error


def test_add_staff_and_log_in_with_the_token(adm: Admin) -> None:
    response = adm.call("POST", "/staff", {"username": "made", "role": "officer",
                                           "offices": ["DPS"], "password": "rahasia-123",
                                           "token": True})
    assert response.status_code == 201, response.get_json()
    staff = response.get_json()["staff"]
    assert staff["offices"] == ["DPS"] and staff["role"] == "officer"
    assert adm.call("GET", "/counters/1", who=bearer(staff["token"])).status_code == 200
    assert error(adm.call("POST", "/staff", {"username": "made", "role": "officer",
                                             "password": "rahasia-123"}))["code"] == \
        "staff_exists"
    assert error(adm.call("POST", "/staff", {"username": "x y", "role": "officer",
                                             "password": "rahasia-123"}))["field"] == "username"
    assert error(adm.call("POST", "/staff", {"username": "baru", "role": "raja",
                                             "password": "rahasia-123"}))["field"] == "role"
    assert error(adm.call("POST", "/staff", {"username": "baru", "role": "officer",
                                             "password": "pendek"}))["field"] == "password"


def test_disable_ends_access_at_the_next_request(adm: Admin) -> None:
    token = bearer(create_staff(adm.core, "ketut", "rahasia-123", "officer", token=True))
    assert adm.call("GET", "/counters/1", who=token).status_code == 200
    answer = adm.call("PATCH", "/staff/ketut", {"active": False})
    assert answer.status_code == 200 and answer.get_json()["staff"]["active"] is False
    assert adm.call("GET", "/counters/1", who=token).status_code == 401
    assert adm.call("PATCH", "/staff/ketut", {"active": True}).status_code == 200
    assert adm.call("GET", "/counters/1", who=token).status_code == 200


def test_role_office_password_and_audit(adm: Admin) -> None:
    create_staff(adm.core, "putu", "rahasia-123", "officer")
    answer = adm.call("PATCH", "/staff/putu", {"role": "supervisor", "offices": ["DPS"],
                                               "password": "rahasia-456"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["staff"]["role"] == "supervisor"
    entry = adm.call("GET", "/audit?who=kepala").get_json()["audit"][0]
    assert entry["action"] == "staff.update"
    paths = [c["path"] for c in entry["detail"]["changes"]]
    assert paths == ["staff[putu].role", "staff[putu].offices", "staff[putu].password"]
    assert "rahasia" not in str(entry)
    assert error(adm.call("PATCH", "/staff/putu", {"offices": ["NOWHERE"]}))["code"] == \
        "unknown_office"
    assert adm.call("PATCH", "/staff/nobody", {"active": False}).status_code == 404
    assert adm.call("PATCH", "/staff/kepala", {"active": False}).status_code == 409


def test_office_admin_cannot_manage_other_accounts(adm: Admin) -> None:
    create_staff(adm.core, "pusat", "rahasia-123", "officer")  # every office
    assert adm.call("PATCH", "/staff/pusat", {"active": False}, who=adm.dps).status_code == 403
    assert adm.call("POST", "/staff", {"username": "z9", "role": "admin", "offices": [],
                                       "password": "rahasia-123"}, who=adm.dps).status_code \
        == 403
    listed = adm.call("GET", "/staff", who=adm.dps).get_json()["staff"]
    assert {s["username"] for s in listed} == {"admin-dps"}


def test_supervisor_sees_who_is_logged_in_where(adm: Admin) -> None:
    token = bearer(create_staff(adm.core, "wayan", "rahasia-123", "officer", token=True))
    adm.call("POST", "/counters/W2/next", who=token)
    supervisor = bearer(create_staff(adm.core, "kepala-seksi", "rahasia-123", "supervisor",
                                     token=True))
    listed = {s["username"]: s for s in adm.call("GET", "/staff", who=supervisor)
              .get_json()["staff"]}
    assert listed["wayan"]["logged_in"] is True
    assert listed["wayan"]["last_seen_where"] == "counter W2"
    assert listed["petugas"]["logged_in"] is False
    assert adm.call("PATCH", "/staff/wayan", {"active": False}, who=supervisor).status_code \
        == 403


def test_device_enrolment_url_and_qr(adm: Admin) -> None:
    answer = adm.call("POST", "/devices", {"kind": "kiosk", "id": "kiosk-lobi",
                                           "name": "Kios lobi"})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["enrol_url"].startswith("http://localhost/enrol/kiosk-lobi/")
    assert body["device"]["status"] == "pending" and body["device"]["name"] == "Kios lobi"
    png = base64.b64decode(body["enrol_qr"].split(",", 1)[1])
    assert png.startswith(b"\x89PNG")
    import io

    import zxingcpp
    from PIL import Image

    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert decoded[0].text == body["enrol_url"]
    enrolled = adm.client.get(body["enrol_url"].removeprefix("http://localhost"))
    assert enrolled.status_code == 302
    listed = {d["id"]: d for d in adm.call("GET", "/devices").get_json()["devices"]}
    assert listed["kiosk-lobi"]["status"] == "enrolled"
    assert error(adm.call("POST", "/devices", {"kind": "kiosk", "id": "kiosk-lobi"}))["code"] \
        == "device_exists"
    assert error(adm.call("POST", "/devices", {"kind": "toaster", "id": "t1"}))["field"] == \
        "kind"


def test_revoked_device_is_refused_at_its_next_request(adm: Admin) -> None:
    from shared.auth import enrol_device

    _, token = enrol_device(adm.core, "kiosk-9", create_device(adm.core, "kiosk", "kiosk-9"))
    assert adm.call("GET", "/board/DPS", who=bearer(token)).status_code == 200
    answer = adm.call("DELETE", "/devices/kiosk-9")
    assert answer.status_code == 200 and answer.get_json()["device"]["status"] == "revoked"
    assert adm.call("GET", "/board/DPS", who=bearer(token)).status_code == 401
    assert adm.call("DELETE", "/devices/nothing").status_code == 404
    renamed = adm.call("PATCH", "/devices/board-1", {"name": "Papan ruang tunggu"})
    assert renamed.get_json()["device"]["name"] == "Papan ruang tunggu"
    actions = [e["action"] for e in adm.call("GET", "/audit").get_json()["audit"]]
    assert actions[:2] == ["device.rename", "device.revoke"]


def test_test_print_without_printer_is_a_clear_409(adm: Admin) -> None:
    answer = adm.call("POST", "/devices/board-1/test-print")
    assert answer.status_code == 409 and error(answer)["code"] == "no_printer"


def test_test_print_queues_a_ticket_on_the_kiosk_printer(adm: Admin) -> None:
    from shared.auth import enrol_device

    enrol_device(adm.core, "kiosk-1", create_device(adm.core, "kiosk", "kiosk-1"))
    answer = adm.call("POST", "/devices/kiosk-1/test-print")
    assert answer.status_code == 201, answer.get_json()
    job = answer.get_json()["print"]
    assert job["printer"] == "kiosk-1" and job["status"] == "queued"
    followed = adm.call("GET", f"/print-jobs/{job['id']}")
    assert followed.status_code == 200


def test_presence_is_written_after_the_request_and_shows_the_last_place(adm: Admin) -> None:
    """One account calling from two counters (a shared token): no request waits for the
    presence write (it happens on the writer thread), what it writes is one statement
    for the burst, not one per request because the place changed, and it shows where
    the account was last (before: the place first noted within the minute)."""
    import threading

    from sqlalchemy import event

    token = bearer(create_staff(adm.core, "ketut", "rahasia-123", "officer", token=True))
    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE STAFF"):
            writes.append(threading.current_thread().name)

    event.listen(adm.core.db.engine, "before_cursor_execute", count)
    try:
        for counter in ("W1", "W2", "W1", "W2", "W1"):
            adm.call("POST", f"/counters/{counter}/next", who=token)
        in_requests = [name for name in writes if name == threading.current_thread().name]
        adm.core.presence.flush()
    finally:
        event.remove(adm.core.db.engine, "before_cursor_execute", count)
    assert in_requests == []
    assert 1 <= len(writes) <= 2  # the writer thread may have run between the requests
    seen = adm.core.presence.read()["ketut"]
    assert seen[1] == "counter W1"  # back at W1 within the minute: written again


def test_presence_staying_put_is_written_once_a_minute_a_move_at_once(adm: Admin) -> None:
    from datetime import timedelta

    from sqlalchemy import event

    create_staff(adm.core, "wayan", "rahasia-123", "officer")
    presence, start = adm.core.presence, adm.core.now()
    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE STAFF"):
            writes.append(statement)

    def at(seconds: int, where: str | None) -> tuple[int, str]:
        presence.note("wayan", start + timedelta(seconds=seconds), "10.0.0.7", where)
        presence.flush()
        return len(writes), presence.read()["wayan"][1]

    event.listen(adm.core.db.engine, "before_cursor_execute", count)
    try:
        assert at(0, "counter 1") == (1, "counter 1")
        assert at(30, "counter 1") == (1, "counter 1")   # staying put: not again
        assert at(35, "counter 3") == (2, "counter 3")   # a move: at once
        assert at(40, "counter 1") == (3, "counter 1")   # and back: at once
        assert at(70, "counter 1") == (3, "counter 1")
        assert at(101, "counter 1") == (4, "counter 1")  # a minute after the last write
        # a request that names no place (a page's polling): a use, and the place stays
        assert at(130, None) == (4, "counter 1")
        assert at(162, None) == (5, "counter 1")
        assert presence.read()["wayan"][0] == start + timedelta(seconds=162)
        presence._where.clear()  # another process: it never saw the place
        assert at(240, None) == (6, "counter 1")
    finally:
        event.remove(adm.core.db.engine, "before_cursor_execute", count)


def test_office_admin_cannot_take_over_another_office_s_device(tmp_path: Path) -> None:
    """Another office's device id is refused like an enrolled one, whatever its state
    (pending, revoked): it stays in its office with its enrolment code."""
    from shared.app import create_app
    from shared.auth import enrol_device, list_devices
    from tests.conftest import make_core
    from tests.security.test_input import two_offices

    core = make_core(two_offices(), f"sqlite:///{tmp_path / 'two.sqlite3'}")
    try:
        client = create_app(core=core).test_client()
        dps = bearer(create_staff(core, "admin-dps", "pw", "admin", "DPS", token=True))
        root = bearer(create_staff(core, "kepala", "pw", "admin", token=True))
        pending_code = create_device(core, "display", "jkt-board-2", "JKT")
        enrol_device(core, "jkt-kiosk", create_device(core, "kiosk", "jkt-kiosk", "JKT"))
        enrol_device(core, "jkt-old", create_device(core, "kiosk", "jkt-old", "JKT"))
        assert client.delete("/api/v1/devices/jkt-old", headers=root).status_code == 200
        answers = [client.post("/api/v1/devices", json={"kind": "kiosk", "id": device,
                                                        "office": "DPS"}, headers=dps)
                   for device in ("jkt-board-2", "jkt-old", "jkt-kiosk")]
        assert [a.status_code for a in answers] == [409, 409, 409]
        assert [error(a)["code"] for a in answers] == ["device_exists"] * 3
        messages = [a.get_json()["error"]["message"]["en"].replace(device, "<id>")
                    for a, device in zip(answers, ("jkt-board-2", "jkt-old", "jkt-kiosk"),
                                         strict=True)]
        assert len(set(messages)) == 1  # the same answer whatever the state
        assert {d.id: d.office for d in list_devices(core)} == {
            "jkt-board-2": "JKT", "jkt-kiosk": "JKT", "jkt-old": "JKT"}
        enrolled, _ = enrol_device(core, "jkt-board-2", pending_code)  # the code still works
        assert enrolled.offices == ("JKT",)
        # An admin of every office may re-register a revoked device into another office.
        moved = client.post("/api/v1/devices", json={"kind": "kiosk", "id": "jkt-old",
                                                     "office": "DPS"}, headers=root)
        assert moved.status_code == 201, moved.get_json()
        assert moved.get_json()["device"]["office"] == "DPS"
    finally:
        core.close()
