"""`make run`'s demo: the clock continues across restarts, and the printed addresses are
the ones the README promises."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from shared.core import Core
from shared.demo import demo_clock, seed

ROOT = Path(__file__).resolve().parents[2]


def _at_local(core: Core, local: str) -> None:
    core.clock.freeze(datetime.fromisoformat(local) - timedelta(hours=8))  # WITA


def test_demo_clock_continues_instead_of_restarting(core: Core, tmp_path: Path) -> None:
    _at_local(core, "2026-12-01T20:00")  # a Tuesday evening: the office is closed
    assert demo_clock(core, tmp_path) == "2026-12-01T09:30"
    core.clock.advance(timedelta(minutes=25))  # stopped and started again 25 min later
    assert demo_clock(core, tmp_path) == "2026-12-01T09:55"
    core.clock.advance(timedelta(hours=3))
    assert demo_clock(core, tmp_path) == "2026-12-01T12:55"
    _at_local(core, "2026-12-02T21:00")  # the next day starts its own demo at 09:30
    assert demo_clock(core, tmp_path) == "2026-12-02T09:30"


def test_demo_clock_starts_again_after_a_whole_demo_day(core: Core, tmp_path: Path) -> None:
    _at_local(core, "2026-12-05T07:00")  # Saturday: closed all day
    assert demo_clock(core, tmp_path) == "2026-12-05T09:30"
    core.clock.advance(timedelta(hours=6))
    assert demo_clock(core, tmp_path) == "2026-12-05T15:30"
    core.clock.advance(timedelta(hours=1))  # the continued clock would be past closing
    assert demo_clock(core, tmp_path) == "2026-12-05T09:30"


def test_demo_clock_is_real_time_while_the_office_is_open(core: Core, tmp_path: Path) -> None:
    _at_local(core, "2026-12-01T10:15")
    assert demo_clock(core, tmp_path) == ""
    _at_local(core, "2026-12-05T10:15")  # a Saturday
    assert demo_clock(core, tmp_path) == "2026-12-05T09:30"


def test_make_run_prints_every_address_the_readme_promises(core: Core, tmp_path: Path) -> None:
    text = seed(core, "http://127.0.0.1:5000", tmp_path / "sheet.png")["text"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("`make run` prints"):readme.index("Demo logins")]
    promised = re.findall(r"`(http://127\.0\.0\.1:5000)?(/[^`]*)`", table)
    paths = {path.split(" ")[0] for _, path in promised}
    assert {"/counter", "/reports/day", "/reports/skm", "/reports/plan", "/t/<token>",
            "/api/v1/openapi.json", "/sim/serial/"} <= paths
    for path in sorted(paths):
        if path.startswith(("/enrol/", "/kiosk/", "/display/")):
            continue  # the enrolment links carry a one-time code; they lead to these pages
        assert f"http://127.0.0.1:5000{path}" in text, path
    assert "http://127.0.0.1:5000/enrol/kiosk-1/" in text
    assert "http://127.0.0.1:5000/enrol/board-1/" in text
