"""Which office a request means: one rule (shared/offices.py) for every surface."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import offices
from shared.auth import Principal, create_staff
from shared.config import parse_config
from shared.core import Core
from shared.errors import Refusal
from tests.conftest import make_core
from tests.display.test_realtime import TWO_OFFICES, Rooms, rooms  # noqa: F401  (fixture)

OFFICER_DPS = Principal("staff", "petugas", "officer", ("DPS",))
ADMIN_ALL = Principal("staff", "pusat", "admin", None)
ADMIN_BOTH = Principal("staff", "wilayah", "admin", ("JKT", "DPS"))
BOARD_JKT = Principal("device", "board-JKT", "display", ("JKT",))


@pytest.fixture
def two(tmp_path: Path) -> Core:
    return make_core(parse_config(TWO_OFFICES, "two.toml"),
                     f"sqlite:///{tmp_path / 'offices.sqlite3'}")


def _refused(call: object, *args: object, **kwargs: object) -> tuple[int, str]:
    with pytest.raises(Refusal) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.status, caught.value.code


def test_staff_limited_to_their_office(two: Core) -> None:
    assert offices.resolve(two, OFFICER_DPS).id == "DPS"
    assert offices.resolve(two, OFFICER_DPS, "DPS").id == "DPS"
    assert _refused(offices.resolve, two, OFFICER_DPS, "JKT") == (403, "forbidden")
    # Unknown first, then not theirs: the same answer on every surface.
    assert _refused(offices.resolve, two, OFFICER_DPS, "NOWHERE") == (404, "unknown_office")
    assert offices.visible(two, OFFICER_DPS) == [two.office("DPS")]


def test_admins_of_every_office_and_of_several(two: Core) -> None:
    assert offices.resolve(two, ADMIN_ALL).id == two.config.default_office.id == "DPS"
    assert offices.resolve(two, ADMIN_ALL, "JKT").id == "JKT"
    assert _refused(offices.resolve, two, ADMIN_ALL, "NOWHERE") == (404, "unknown_office")
    assert offices.resolve(two, ADMIN_BOTH).id == "JKT"  # their first office
    assert offices.resolve(two, ADMIN_BOTH, "DPS").id == "DPS"
    assert [o.id for o in offices.visible(two, ADMIN_BOTH)] == ["DPS", "JKT"]


def test_a_device_is_bound_to_its_office(two: Core) -> None:
    assert offices.resolve(two, BOARD_JKT).id == "JKT"
    assert offices.resolve(two, BOARD_JKT, "JKT").id == "JKT"
    assert _refused(offices.resolve, two, BOARD_JKT, "DPS") == (403, "forbidden")
    # A preference (the office a kiosk is registered in) never moves a device.
    assert offices.resolve(two, BOARD_JKT, preferred="DPS").id == "JKT"


def test_staff_acting_on_a_device_and_a_surface_preference(two: Core) -> None:
    assert offices.resolve(two, ADMIN_ALL, bound="JKT").id == "JKT"
    assert _refused(offices.resolve, two, OFFICER_DPS, bound="JKT") == (403, "forbidden")
    assert _refused(offices.resolve, two, ADMIN_ALL, "DPS", bound="JKT") == (403, "forbidden")
    assert offices.resolve(two, ADMIN_ALL, preferred="JKT").id == "JKT"
    # A preferred office they may not see (or that does not exist) falls back to their own.
    assert offices.resolve(two, OFFICER_DPS, preferred="JKT").id == "DPS"
    assert offices.resolve(two, OFFICER_DPS, preferred="NOWHERE").id == "DPS"
    assert _refused(offices.resolve, two, None) == (401, "unauthorized")


@pytest.mark.parametrize("path", [
    "/api/v1/stations/berkas/queue", "/api/v1/counters/1", "/counter/api/tickets",
    "/api/v1/board/{office}", "/api/v1/offices/{office}/sound-check",
    "/reports/day/export",
])
def test_every_surface_answers_by_the_same_rule(rooms: Rooms, path: str) -> None:  # noqa: F811
    """An officer of DPS: another office is 403, an unknown one 404, everywhere."""
    client = rooms.app.test_client()
    token = rooms.tokens["petugas"]
    if "sound-check" in path or path.startswith("/reports"):
        # a supervisor's call: a supervisor of DPS only
        token = create_staff(rooms.core, "kepala-dps", "pw", "supervisor", "DPS", token=True)
    headers = {"Authorization": f"Bearer {token}"}
    method = client.post if "sound-check" in path else client.get
    answers = {}
    for office in ("DPS", "JKT", "NOWHERE"):
        url = path.format(office=office) if "{office}" in path else f"{path}?office={office}"
        answers[office] = method(url, headers=headers).status_code
    assert answers["JKT"] == 403 and answers["NOWHERE"] == 404, answers
    assert answers["DPS"] in (200, 202, 204), answers


def test_a_booking_of_another_office_names_that_office(two: Core) -> None:
    """The applicant at Denpasar's kiosk with a Jakarta booking read "kantor lain (JKT)";
    an id means nothing to them, the office's name does."""
    from shared import visits
    from shared.scan import sign_token

    token = sign_token("JKT-0001", "JKT", "2026-12-01", "09:00",
                       two.config.security.qr_hmac_key)
    with pytest.raises(Refusal) as refused:
        visits.check_in(two, "DPS", token, "k")
    assert refused.value.code == "wrong_office"
    for language in ("id", "en"):
        assert "Kantor Imigrasi Kelas I Khusus TPI Jakarta Selatan" in \
            refused.value.message[language]
        assert "(JKT)" not in refused.value.message[language]
