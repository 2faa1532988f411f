"""Races: many kiosks and counters at the same instant, on the real database."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from shared import visits
from shared.bookings import import_rows
from shared.config import Counter
from shared.core import Core
from shared.errors import Refusal
from tests.conftest import booking_row


def run_threads(count: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def runner(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]


def checkin_race(core: Core) -> None:
    codes = [f"RACE-{i:05d}" for i in range(500)]
    import_rows(core, enumerate(
        [booking_row(code, f"{8 + i % 4:02d}:00", f"{9 + i % 4:02d}:00")
         for i, code in enumerate(codes)], start=1))
    scans = codes + random.Random(7).sample(codes, 100)  # 20 % duplicate scans
    random.Random(8).shuffle(scans)
    results: dict[str, set[int]] = defaultdict(set)
    reprints = []
    lock = threading.Lock()

    def kiosk(index: int) -> None:
        for scan in scans[index::8]:
            result = visits.check_in(core, "DPS", scan, f"kiosk-{index}")
            with lock:
                results[scan].add(result.ticket["id"])
                if result.reprint:
                    reprints.append(scan)

    run_threads(8, kiosk)
    assert len(results) == 500 and all(len(ids) == 1 for ids in results.values())
    assert len(reprints) == 100
    numbers = [visits.get_ticket(core, next(iter(ids)), None)["number"]
               for ids in results.values()]
    assert len(set(numbers)) == 500
    by_letter: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        by_letter[number[0]].append(int(number[1:]))
    for letter, values in by_letter.items():
        assert sorted(values) == list(range(1, len(values) + 1)), letter


def counters_race(core: Core) -> None:
    office = core.config.default_office
    counters = {str(i): Counter(str(i), f"Loket {i}", ("berkas",)) for i in range(1, 9)}
    core.config = replace(core.config, offices={office.id: replace(office, counters=counters)})
    import_rows(core, enumerate([booking_row(f"NEXT-{i:05d}") for i in range(200)], start=1))
    for i in range(200):
        visits.check_in(core, "DPS", f"NEXT-{i:05d}", "k")
    called: list[tuple[str, int]] = []
    lock = threading.Lock()

    def counter(index: int) -> None:
        counter_id = str(index + 1)
        while True:
            try:
                ticket: dict[str, Any] | None = visits.call_next(core, "DPS", counter_id, "p")
            except Refusal as refusal:  # pragma: no cover - would be a bug
                raise AssertionError(refusal.code) from None
            if ticket is None:
                return
            with lock:
                called.append((counter_id, ticket["id"]))
            visits.act(core, ticket["id"], "finish", "p", None)

    run_threads(8, counter)
    ids = [ticket_id for _, ticket_id in called]
    assert len(ids) == 200 and len(set(ids)) == 200
    assert len({c for c, _ in called}) > 1


def test_eight_kiosks_500_bookings_with_duplicates(core: Core) -> None:
    checkin_race(core)


def test_eight_counters_never_share_a_ticket(core: Core) -> None:
    counters_race(core)


@pytest.mark.postgres
def test_checkin_race_on_postgresql(postgres_core: Core) -> None:
    checkin_race(postgres_core)


@pytest.mark.postgres
def test_counters_race_on_postgresql(postgres_core: Core) -> None:
    counters_race(postgres_core)


def printed_positions_race(core: Core) -> None:
    """Eight kiosks at once, one booked slot, a frozen clock: each ticket's place is its
    order of issue, so the printed positions are exactly 1..n, none twice (the count runs
    inside the issuing transaction, under the office's lock)."""
    codes = [f"POS-{i:05d}" for i in range(80)]
    import_rows(core, enumerate([booking_row(code) for code in codes], start=1))
    printed: list[tuple[int, int]] = []
    lock = threading.Lock()

    def kiosk(index: int) -> None:
        for scan in codes[index::8]:
            ticket = visits.check_in(core, "DPS", scan, f"kiosk-{index}").ticket
            with lock:
                printed.append((ticket["id"], ticket["position"]))

    run_threads(8, kiosk)
    assert sorted(position for _, position in printed) == list(range(1, len(codes) + 1))
    assert [p for _, p in sorted(printed)] == list(range(1, len(codes) + 1))


def test_printed_positions_under_a_race(core: Core) -> None:
    printed_positions_race(core)


@pytest.mark.postgres
def test_printed_positions_under_a_race_on_postgresql(postgres_core: Core) -> None:
    printed_positions_race(postgres_core)
