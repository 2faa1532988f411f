"""`giliran simulate` and `giliran plan`: plain click commands.

shared/cli.py registers them on the `giliran` group:

    from shared.simulation.cli import plan, simulate
    main.add_command(simulate)
    main.add_command(plan)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from shared.simulation.engine import POLICIES, DayResult, run_days
from shared.simulation.metrics import CONTRACT_KEYS, LABELS, SHARES, summarise, summarise_all
from shared.simulation.planner import MODES, Plan
from shared.simulation.planner import plan as make_plan
from shared.simulation.scenario import DayData, ScenarioError, load_day

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _load(scenario: Path, bookings: Path, arrivals: Path) -> DayData:
    try:
        return load_day(scenario, bookings, arrivals)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from None


def _value(key: str, value: Any) -> str:
    if key in SHARES and isinstance(value, float):
        return f"{value * 100:.1f} %"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _table(columns: Mapping[str, Mapping[str, Any]], keys: Sequence[str]) -> str:
    width = max(len(LABELS.get(k, k)) for k in keys)
    names = list(columns)
    cells = [max(12, len(n)) for n in names]
    lines = [" " * width + "  " + "  ".join(n.rjust(c) for n, c in zip(names, cells, strict=True))]
    for key in keys:
        values = [_value(key, columns[n].get(key, "")) for n in names]
        lines.append(LABELS.get(key, key).ljust(width) + "  "
                     + "  ".join(v.rjust(c) for v, c in zip(values, cells, strict=True)))
    return "\n".join(lines)


_EXTRA_KEYS = ("checked_in", "refused", "never_called", "checked_in_finished_share")


@click.command("simulate")
@click.argument("scenario", type=_FILE)
@click.argument("bookings", type=_FILE)
@click.argument("arrivals", type=_FILE)
@click.option("--policy", type=click.Choice(POLICIES), default=None,
              help="Urutan panggilan / calling order (default: both; --json: slot).")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="First random seed (0 or more).")
@click.option("--runs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Average this many seeds (seed, seed+1, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (contract keys).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write report.html and PNG charts into this directory.")
def simulate(scenario: Path, bookings: Path, arrivals: Path, policy: str | None, seed: int,
             runs: int, as_json: bool, report_dir: Path | None) -> None:
    """Replay an office day (scenario, bookings, arrivals) on the server's ordering rules.

    Memutar ulang satu hari layanan / Replays one office day.
    """
    day = _load(scenario, bookings, arrivals)
    wanted = [policy] if policy else (["slot"] if as_json else list(POLICIES))
    needed = list(POLICIES) if report_dir is not None else wanted
    results: dict[str, list[DayResult]] = {
        p: run_days(day.scenario, day.bookings, day.arrivals, p, seed, runs) for p in needed
    }
    if report_dir is not None:
        from shared.simulation.plots import write_report

        path = write_report(report_dir, results, day.scenario.name)
        if not as_json:
            click.echo(f"Laporan / Report: {path}")
    if as_json:
        click.echo(json.dumps(summarise(results[wanted[0]])))
        return
    for note in day.notes:
        click.echo(f"Catatan / Note: {note}", err=True)
    click.echo(f"Simulasi / Simulation: {day.scenario.name}, {len(day.bookings)} booking, "
               f"{len(day.arrivals)} kedatangan / arrivals, {runs} seed (mulai / from {seed})")
    columns = {p: summarise_all(results[p]) for p in wanted}
    keys = [k for k in CONTRACT_KEYS if k != "policy"] + list(_EXTRA_KEYS)
    click.echo(_table(columns, keys))


def _plan_text(result: Plan) -> str:
    lines = []
    verdict = ("memenuhi target / meets the target" if result.met
               else "target tidak tercapai / target not reached")
    lines.append(f"Target: >= {result.target * 100:.0f} % tepat waktu dipanggil dalam jadwal, "
                 "semua tiket selesai sebelum tutup / on-time first call within slot, every "
                 f"ticket finished by closing  ->  {verdict}")
    if result.mode == "quota":
        lines.append(f"Rekomendasi / Recommendation: kuota {result.quota_per_slot} per jadwal / "
                     f"per slot (sekarang sampai / now up to {result.largest_slot}), "
                     "loket tetap / same counters")
    else:
        lines.append("Rekomendasi / Recommendation: loket per stasiun / counters per station")
    width = max(len(s) for s in result.counters)
    header = "Stasiun / Station".ljust(max(width, 17))
    lines.append(f"  {header}  Sekarang/Now  Rekomendasi/Recommended")
    for station, count in result.counters.items():
        change = count - result.baseline_counters[station]
        mark = f" ({change:+d})" if change else ""
        lines.append(f"  {station.ljust(max(width, 17))}  {result.baseline_counters[station]:>12}"
                     f"  {count:>23}{mark}")
    lines.append("")
    keys = [k for k in CONTRACT_KEYS if k != "policy"] + ["checked_in_finished_share"]
    lines.append(_table({"Sekarang/Now": result.baseline, "Rekomendasi/Recommended":
                         result.figures}, keys))
    lines.append(f"({result.runs} seed, {result.evaluations} simulasi / candidates simulated)")
    return "\n".join(lines)


@click.command("plan")
@click.argument("scenario", type=_FILE)
@click.argument("bookings", type=_FILE)
@click.argument("arrivals", type=_FILE)
@click.option("--target", type=click.FloatRange(min=0, max=1, min_open=True), default=0.95,
              show_default=True, help="Share of on-time applicants first called within slot.")
@click.option("--runs", type=click.IntRange(min=1), default=5, show_default=True,
              help="Seeds per candidate.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="First random seed (0 or more).")
@click.option("--mode", type=click.Choice(MODES), default="counters", show_default=True,
              help="counters: fewest counters per station; quota: largest quota per slot.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write report.html and PNG charts of the recommendation.")
def plan(scenario: Path, bookings: Path, arrivals: Path, target: float, runs: int, seed: int,
         mode: str, as_json: bool, report_dir: Path | None) -> None:
    """Capacity planner: counters (or quota) that bring on-time first calls within slot to
    the target and every ticket finished by closing.

    Perencana kapasitas / Capacity planner.
    """
    day = _load(scenario, bookings, arrivals)
    result = make_plan(day.scenario, day.bookings, day.arrivals, target=target, mode=mode,
                       runs=runs, seed=seed)
    if report_dir is not None:
        from shared.simulation.planner import limit_quota
        from shared.simulation.plots import write_report

        kept_bookings, kept_arrivals = (
            limit_quota(day.bookings, day.arrivals, result.quota_per_slot)
            if result.quota_per_slot is not None else (list(day.bookings), list(day.arrivals)))
        results = {p: run_days(day.scenario, kept_bookings, kept_arrivals, p, seed, runs,
                               result.counters) for p in POLICIES}
        path = write_report(report_dir, results, f"{day.scenario.name} (rekomendasi / plan)",
                            result)
        if not as_json:
            click.echo(f"Laporan / Report: {path}")
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    click.echo(_plan_text(result))
