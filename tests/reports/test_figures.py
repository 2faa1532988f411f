"""Day and range figures against the hand-computed day in helpers.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.core import Core
from shared.reports.figures import day_report, percentile, range_report, summary
from tests.reports.helpers import drive_day

DAY = date(2026, 12, 1)


@pytest.fixture
def report(core: Core) -> dict[str, Any]:
    drive_day(core)
    return day_report(core, "DPS", DAY)


def stations(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["station"]: s for s in report["stations"]}


def stats(count: int, mean: float, p50: float, p90: float, top: float) -> dict[str, Any]:
    return {"count": count, "mean": mean, "p50": p50, "p90": p90, "max": top}


def test_waits_per_station_in_minutes(report: dict[str, Any]) -> None:
    by = stations(report)
    assert list(by) == ["berkas", "wawancara", "sidik-jari", "foto"]
    # berkas: A 5, B 4, P 1, C 2, E 4
    assert by["berkas"]["wait"] == stats(5, 3.2, 4.0, 4.6, 5.0)
    # wawancara: A 3 (09:12-09:15), P 6 (09:25-09:31), B 26 (09:14-09:40); E still waits
    assert by["wawancara"]["wait"] == stats(3, 11.67, 6.0, 22.0, 26.0)
    assert by["sidik-jari"]["wait"] == stats(1, 40.0, 40.0, 40.0, 40.0)
    # foto: B 5 (transferred in at 09:45, called 09:50), A 2
    assert by["foto"]["wait"] == stats(2, 3.5, 3.5, 4.7, 5.0)


def test_service_times_per_station_in_minutes(report: dict[str, Any]) -> None:
    by = stations(report)
    # berkas: A 7 (from the call, not the start), B 8, P 4, E 6; C was a no-show
    assert by["berkas"]["service"] == stats(4, 6.25, 6.5, 7.7, 8.0)
    # wawancara: only A finished there (B was transferred, P is still being served)
    assert by["wawancara"]["service"] == stats(1, 10.0, 10.0, 10.0, 10.0)
    assert by["sidik-jari"]["service"] == stats(1, 5.0, 5.0, 5.0, 5.0)
    assert by["foto"]["service"] == stats(2, 6.5, 6.5, 7.7, 8.0)
    assert by["foto"]["name"] == {"id": "Foto", "en": "Photo"}


def test_arrivals_by_slot_and_quota(report: dict[str, Any]) -> None:
    assert report["arrivals_by_slot"] == [
        {"slot": "09:00-10:00", "booked": 4, "cancelled": 0, "arrived": 3, "served": 2,
         "no_show": 1, "missed": 0, "expected": 0},
        {"slot": "10:00-11:00", "booked": 1, "cancelled": 0, "arrived": 1, "served": 0,
         "no_show": 0, "missed": 1, "expected": 0},
    ]
    assert report["quota"] == [
        {"slot": "09:00-10:00", "bookings": 4, "tickets": 3, "use": 0.75},
        {"slot": "10:00-11:00", "bookings": 1, "tickets": 1, "use": 1.0},
    ]


def test_on_time_share_first_called_in_slot(report: dict[str, Any]) -> None:
    # A, B, E (09:58) and C (09:50 for 10-11) are on time; E was first called at 10:02
    assert report["on_time"] == {"on_time": 4, "first_called_in_slot": 3, "share": 0.75}
    assert report["first_call_wait"] == stats(5, 3.2, 4.0, 4.6, 5.0)


def test_throughput_per_counter_and_officer(report: dict[str, Any]) -> None:
    counters = {r["counter"]: r for r in report["counters"]}
    assert counters["1"] == {"counter": "1", "calls": 2, "served": 1, "no_shows": 1,
                             "service_mean": 7.0, "name": "Loket 1"}
    assert counters["2"]["served"] == 2 and counters["2"]["service_mean"] == 7.0
    assert counters["3"]["calls"] == 1 and counters["3"]["service_mean"] == 4.0
    assert counters["W1"] == {"counter": "W1", "calls": 2, "served": 1, "no_shows": 0,
                              "service_mean": 10.0, "name": "Wawancara 1"}
    assert counters["W2"]["served"] == 0 and counters["W2"]["service_mean"] is None
    assert counters["F1"]["served"] == 2 and counters["F1"]["service_mean"] == 6.5
    officers = {r["staff"]: (r["calls"], r["served"], r["no_shows"], r["service_mean"])
                for r in report["officers"]}
    assert officers == {"ani": (2, 1, 1, 7.0), "budi": (2, 2, 0, 7.0),
                        "citra": (2, 1, 0, 10.0), "dewi": (1, 1, 0, 4.0),
                        "eka": (1, 0, 0, None), "fani": (2, 2, 0, 6.5),
                        "gita": (1, 1, 0, 5.0)}


def test_totals_and_volumes(report: dict[str, Any]) -> None:
    assert report["totals"] == {
        "bookings": 5, "cancelled_bookings": 0, "tickets": 5, "arrived_booked": 4,
        "no_show": 1, "expected": 0, "walkin": 1, "express": 0, "priority": 1, "served": 2,
        "missed": 1, "cancelled": 0, "still_open": 2,
    }
    assert report["volumes"] == {"kinds": {"booked": 4, "walkin": 1},
                                 "priority_groups": {"lansia": 1},
                                 "lanes_without_booking": {"priority": 1}}
    assert report["arrivals_by_hour"] == [
        {"hour": "09:00", "booked": 4, "walkin": 1, "express": 0, "priority": 1, "total": 5}]


def test_ticket_rows_mask_names_unless_asked(core: Core) -> None:
    drive_day(core)
    masked = {r["booking_code"]: r for r in day_report(core, "DPS", DAY)["tickets"]}
    assert masked["DAY-A-0001"]["name"] == "W*** P******"
    assert masked["DAY-A-0001"]["checked_in"] == "09:00"
    assert masked["DAY-A-0001"]["finished"] == "10:20"
    assert masked["DAY-A-0001"]["wait_first_call"] == 5.0
    full = {r["booking_code"]: r for r in day_report(core, "DPS", DAY, True)["tickets"]}
    assert full["DAY-A-0001"]["name"] == "Wira Pradnya"
    walkin = [r for r in full.values() if r["booking_code"] is None]
    assert walkin[0]["number"] == "P001" and walkin[0]["name"] is None


def test_range_pools_the_days(core: Core) -> None:
    drive_day(core)
    one = day_report(core, "DPS", DAY)
    wide = range_report(core, "DPS", date(2026, 11, 30), date(2026, 12, 2))
    assert wide["stations"] == one["stations"]
    assert wide["totals"] == one["totals"]
    assert [d["date"] for d in wide["days"]] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert wide["days"][1] == {"date": "2026-12-01", "booked": 5, "arrived": 4, "walkins": 1,
                               "served": 2, "mean_wait": 3.2}
    assert wide["days"][0]["booked"] == 0 and wide["days"][0]["mean_wait"] is None
    with pytest.raises(ValueError):
        range_report(core, "DPS", date(2026, 12, 2), date(2026, 12, 1))


def test_empty_day_has_no_figures(core: Core) -> None:
    report = day_report(core, "DPS", DAY)
    assert report["stations"] == [] and report["arrivals_by_slot"] == []
    assert report["on_time"]["share"] is None
    assert report["first_call_wait"]["mean"] is None


def test_percentile_interpolates_like_numpy() -> None:
    values = [1.0, 2.0, 4.0, 4.0, 5.0]
    assert percentile(values, 0.5) == 4.0
    assert percentile(values, 0.9) == pytest.approx(4.6)
    assert percentile([7.0], 0.9) == 7.0
    assert summary([])["mean"] is None
    with pytest.raises(ValueError):
        percentile([], 0.5)


# --- a booking is a no-show only once its slot and the late grace have passed -------------
def test_no_show_only_after_slot_end_and_grace(core: Core) -> None:
    from shared.bookings import import_rows
    from tests.conftest import booking_row
    from tests.reports.helpers import at

    rows = [booking_row(f"NOSHOW-{h:02d}", f"{h:02d}:00", f"{h + 1:02d}:00") for h in range(8, 15)]
    assert import_rows(core, enumerate(rows, start=1)).refused_count == 0

    def slots() -> dict[str, tuple[int, int]]:
        report = day_report(core, "DPS", DAY)
        return {r["slot"]: (r["no_show"], r["expected"]) for r in report["arrivals_by_slot"]}

    at(core, "09:14")  # 08-09 ended 14 minutes ago: within the 15 minutes of grace
    assert slots()["08:00-09:00"] == (0, 1)
    at(core, "09:32")  # the tester's moment: only 08-09 is over, nothing later has begun
    by_slot = slots()
    assert by_slot["08:00-09:00"] == (1, 0)
    assert all(by_slot[f"{h:02d}:00-{h + 1:02d}:00"] == (0, 1) for h in range(9, 15))
    report = day_report(core, "DPS", DAY)
    assert report["totals"]["no_show"] == 1 and report["totals"]["expected"] == 6
    at(core, "10:16")
    assert slots()["09:00-10:00"] == (1, 0)
    at(core, "18:00")  # the day is over: every absent booking is a no-show
    assert sum(n for n, _ in slots().values()) == 7


def test_no_show_waits_for_the_office_own_late_grace(core: Core) -> None:
    """An office's own `late_grace_minutes` decides, as at the kiosk, not [policy]'s."""
    from shared import live_config
    from shared.bookings import import_rows
    from tests.conftest import booking_row
    from tests.reports.helpers import at

    live_config.update(core, live_config.office_scope("DPS"),
                       lambda d: d.update(policy={"late_grace_minutes": 120}), "kepala",
                       "config.update")
    assert core.config.policy_for("DPS").late_grace_minutes == 120
    assert core.config.policy.late_grace_minutes == 15
    assert import_rows(core, enumerate([booking_row("GRACE-0001")], start=1)).refused_count == 0

    def slot() -> tuple[int, int]:
        row = day_report(core, "DPS", DAY)["arrivals_by_slot"][0]
        return row["no_show"], row["expected"]

    at(core, "10:30")  # past [policy]'s 15 minutes, well within the office's 120
    assert slot() == (0, 1)
    at(core, "12:01")
    assert slot() == (1, 0)


def test_hold_and_reinstate_wait_again_and_serve_only_at_the_counter(core: Core) -> None:
    """A hold ends the service (resumed, the ticket waits again); a no-show's call is no
    service, and the wait after a reinstate counts. Before, the service ran from the first
    call to the finish: 45 and 74 minutes here, and the second waits appeared nowhere."""
    from shared import visits
    from shared.bookings import import_rows
    from tests.conftest import booking_row
    from tests.reports.helpers import at, call

    rows = [booking_row("HOLD-00001"), booking_row("HOLD-00002")]
    assert import_rows(core, enumerate(rows, start=1)).refused_count == 0
    at(core, "09:00")
    a = visits.check_in(core, "DPS", "HOLD-00001", "kiosk-1").ticket["id"]
    b = visits.check_in(core, "DPS", "HOLD-00002", "kiosk-1").ticket["id"]
    at(core, "09:10")
    assert call(core, "1", "ani")["id"] == a
    at(core, "09:11")
    assert call(core, "2", "budi")["id"] == b
    at(core, "09:12")
    visits.act(core, a, "hold", "ani", None, {"reason": "foto kurang"})
    at(core, "09:40")
    visits.act(core, a, "resume", "ani", None, {})
    at(core, "09:42")
    visits.act(core, b, "recall", "budi", None, {})
    at(core, "09:45")
    visits.act(core, b, "no-show", "budi", None, {})
    at(core, "09:50")
    assert call(core, "1", "ani")["id"] == a
    at(core, "09:55")
    visits.act(core, a, "finish", "ani", None, {})
    at(core, "10:00")
    visits.act(core, b, "reinstate", "budi", None, {})
    at(core, "10:20")
    assert call(core, "2", "budi")["id"] == b
    at(core, "10:25")
    visits.act(core, b, "finish", "budi", None, {})

    report = day_report(core, "DPS", DAY)
    berkas = stations(report)["berkas"]
    # waits: A 10 (09:00-09:10) and 10 again (resumed 09:40, called 09:50);
    # B 11 (09:00-09:11) and 20 (reinstated 10:00, called 10:20)
    assert berkas["wait"] == stats(4, 12.75, 10.5, 17.3, 20.0)
    # services: A 2 (09:10-09:12, then held) + 5 (09:50-09:55) = 7; B 5 (10:20-10:25)
    assert berkas["service"] == stats(2, 6.0, 6.0, 6.8, 7.0)
    counters = {r["counter"]: (r["calls"], r["served"], r["no_shows"], r["service_mean"])
                for r in report["counters"]}
    assert counters == {"1": (2, 1, 0, 7.0), "2": (2, 1, 1, 5.0)}
    # the ticket's own first wait is unchanged
    assert report["first_call_wait"] == stats(2, 10.5, 10.5, 10.9, 11.0)
    # both now wait at wawancara, not called yet: no figure there
    assert list(stations(report)) == ["berkas"]
