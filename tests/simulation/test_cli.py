"""`giliran simulate` and `giliran plan` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from shared.simulation.cli import plan, simulate
from shared.simulation.metrics import CONTRACT_KEYS

from .helpers import PEAK_TOML, SCENARIOS

PEAK = [str(PEAK_TOML), str(SCENARIOS / "denpasar-peak-bookings.csv"),
        str(SCENARIOS / "denpasar-peak-arrivals.csv")]


def test_simulate_json_has_exactly_the_contract_keys() -> None:
    for policy in ("slot", "fifo"):
        result = CliRunner().invoke(simulate, [*PEAK, "--policy", policy, "--json", "--runs", "2"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert set(data) == set(CONTRACT_KEYS)
        assert data["policy"] == policy
        assert data["visits"] == 226
        for key in ("on_time_first_call_in_slot", "finished_share"):
            assert 0 <= data[key] <= 1
    default = json.loads(CliRunner().invoke(simulate, [*PEAK, "--json"]).output)
    assert default["policy"] == "slot"


def test_simulate_table_is_bilingual_and_report_is_written(tmp_path: Path) -> None:
    result = CliRunner().invoke(simulate, [*PEAK, "--report", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Dipanggil dalam jadwal / First call within slot" in result.output
    assert "slot" in result.output and "fifo" in result.output
    out = tmp_path / "out"
    assert (out / "report.html").read_text(encoding="utf-8").count("<img") == 3
    for name in ("queue-slot.png", "queue-fifo.png", "waits.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_plan_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(plan, [*PEAK, "--runs", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["met"] is True
    assert set(data["figures"]) == set(CONTRACT_KEYS)
    assert set(data["counters"]) == {"berkas", "wawancara", "sidik-jari", "foto"}


def test_bad_scenario_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(PEAK_TOML.read_text().replace('flow = ["berkas"', 'flow = ["loket"'))
    result = CliRunner().invoke(simulate, [str(bad), *PEAK[1:], "--json"])
    assert result.exit_code != 0
    assert "unknown station 'loket'" in result.output
    assert "bad.toml:" in result.output


def test_absurd_numbers_in_a_scenario_are_a_message_not_a_traceback(tmp_path: Path) -> None:
    """TOML reads nan, inf and 1e300, and a policy can name a billion minutes: each of them
    reached the clock arithmetic (ValueError / OverflowError from timedelta) as a traceback."""
    text = PEAK_TOML.read_text()
    cases = {
        "service_mean = nan": ("service_mean = 3.0", "service_mean = nan"),
        "service_mean = inf": ("service_mean = 3.0", "service_mean = inf"),
        "service_mean = 1e300": ("service_mean = 3.0", "service_mean = 1e300"),
        "service_mean = 1e-300": ("service_mean = 3.0", "service_mean = 1e-300"),
        "service_sd = inf": ("service_sd = 1.2", "service_sd = inf"),
        "service_sd = nan": ("service_sd = 1.2", "service_sd = nan"),
        "walk_to_counter_seconds": ("walk_to_counter_seconds = 30",
                                    "walk_to_counter_seconds = nan"),
        "walk 1e300": ("walk_to_counter_seconds = 30", "walk_to_counter_seconds = 1e300"),
        "early_checkin_minutes": ("early_checkin_minutes = 120",
                                  "early_checkin_minutes = 99999999999"),
        "late_grace_minutes": ("late_grace_minutes = 15 ", "late_grace_minutes = 99999999999 "),
        "max_wait huge": ("[policy]\n", "[policy]\nmax_wait_minutes = 99999999999999\n"),
        "max_wait negative": ("[policy]\n", "[policy]\nmax_wait_minutes = -5\n"),
    }
    for name, (old, new) in cases.items():
        assert old in text, name
        bad = tmp_path / "absurd.toml"
        bad.write_text(text.replace(old, new, 1))
        for command, extra in ((simulate, ["--json"]), (plan, ["--runs", "1", "--json"])):
            result = CliRunner().invoke(command, [str(bad), *PEAK[1:], *extra])
            assert result.exit_code == 1, (name, result.output, result.exception)
            assert not isinstance(result.exception, (ValueError, OverflowError)), name
            assert "absurd.toml:" in result.output and "Traceback" not in result.output, name


def test_a_negative_seed_is_refused_by_the_option() -> None:
    for command in (simulate, plan):
        result = CliRunner().invoke(command, [*PEAK, "--seed", "-3", "--runs", "1", "--json"])
        assert result.exit_code == 2, result.output
        assert "--seed" in result.output and result.exception is not None
        assert not isinstance(result.exception, ValueError)
