"""Pictures and an HTML report of simulated days (matplotlib, Agg backend, no display).

Figures are built with `matplotlib.figure.Figure` directly, never through pyplot's global
state, so this is safe inside a web server thread as well as from the command line.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from shared.simulation.engine import DayResult  # noqa: E402
from shared.simulation.metrics import (  # noqa: E402
    CONTRACT_KEYS,
    LABELS,
    SHARES,
    summarise_all,
    waits,
)
from shared.simulation.planner import Plan  # noqa: E402

POLICY_NAMES = {
    "slot": "Urut jadwal / Slot order",
    "fifo": "Urut datang / First come, first served",
}


def _hours(minutes: float) -> float:
    return minutes / 60


def plot_queue_lengths(result: DayResult, path: Path) -> Path:
    """Tickets waiting at each station over the day (one simulated day)."""
    figure = Figure(figsize=(9, 4.5), dpi=100)
    axes = figure.subplots()
    start = _hours(result.opens.hour * 60 + result.opens.minute) - 1.2
    end = _hours(result.closes.hour * 60 + result.closes.minute) + 0.3
    for station, series in result.queue_series.items():
        if not series:
            continue
        xs = [start] + [_hours(m) for m, _ in series] + [end]
        ys = [0] + [n for _, n in series] + [series[-1][1]]
        axes.step(xs, ys, where="post", label=station, linewidth=1.3)
    for moment, label in ((result.opens, "buka / opens"), (result.closes, "tutup / closes")):
        axes.axvline(_hours(moment.hour * 60 + moment.minute), color="grey", linestyle=":")
        axes.text(_hours(moment.hour * 60 + moment.minute), 0, f" {label}", color="grey",
                  fontsize=8, va="bottom")
    axes.set_xlim(start, end)
    axes.set_xlabel("Jam / Hour of day")
    axes.set_ylabel("Menunggu / Waiting (tickets)")
    axes.set_title(f"Panjang antrean per stasiun / Queue length per station "
                   f"({POLICY_NAMES.get(result.policy, result.policy)}, seed {result.seed})")
    axes.legend(title="Stasiun / Station")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    return path


def plot_wait_distribution(results: Mapping[str, Sequence[DayResult]], path: Path) -> Path:
    """Histogram of waits (arrival to first call) per policy: all, and on-time only."""
    figure = Figure(figsize=(10, 4.2), dpi=100)
    left, right = figure.subplots(1, 2, sharey=False)
    for axes, on_time, title in ((left, False, "Semua / All arrivals"),
                                 (right, True, "Tepat waktu / On-time")):
        pooled = {p: [w for r in rs for w in waits(r, on_time_only=on_time)]
                  for p, rs in results.items()}
        top = max((max(v) for v in pooled.values() if v), default=1.0)
        bins = [i * max(top, 1.0) / 30 for i in range(31)]
        for policy, values in pooled.items():
            if values:
                axes.hist(values, bins=bins, alpha=0.55, density=True,
                          label=POLICY_NAMES.get(policy, policy))
        axes.set_title(title)
        axes.set_xlabel("Menit sampai panggilan pertama / Minutes to first call")
        axes.set_ylabel("Kepadatan / Density")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle("Sebaran waktu tunggu / Wait distribution")
    figure.tight_layout()
    figure.savefig(path)
    return path


def _cell(key: str, value: Any) -> str:
    if key in SHARES and isinstance(value, float):
        return f"{value * 100:.1f} %"
    if isinstance(value, float):
        return f"{value:.1f}"
    return html.escape(str(value))


def _figures_table(columns: Mapping[str, Mapping[str, Any]], keys: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in columns)
    rows = []
    for key in keys:
        cells = "".join(f"<td>{_cell(key, fig.get(key, ''))}</td>" for fig in columns.values())
        rows.append(f"<tr><th scope=row>{html.escape(LABELS.get(key, key))}</th>{cells}</tr>")
    return (f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}"
            "</tbody></table>")


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .6rem}
td{text-align:right}thead th{background:#f2f2f2}img{max-width:100%;margin:1rem 0}
.note{color:#555;font-size:.9rem}
"""

_NOTES = """
<ul class=note>
<li>Tunggu dihitung dari kedatangan pertama sampai panggilan pertama; pemohon yang datang
terlalu awal memindai ulang pada jam yang diberikan kiosk. / Waits count from the first
arrival to the first call; applicants refused as too early scan again at the kiosk's retry
time.</li>
<li>Tepat waktu: datang antara 15 menit sebelum jadwal dan akhir jadwal. / On-time: arrived
between 15 minutes before the slot and its end.</li>
<li>Tiket yang tidak sempat dipanggil dihitung menunggu sampai jam tutup. / A ticket never
called counts as waiting until closing.</li>
<li>Urutan panggilan memakai fungsi yang sama dengan server (shared/ordering.py). / Calls
use the server's own ordering function (shared/ordering.py).</li>
</ul>
"""


def write_report(
    directory: Path,
    results: Mapping[str, Sequence[DayResult]],
    title: str,
    plan: Plan | None = None,
) -> Path:
    """report.html and its PNGs in `directory`; returns the HTML path."""
    directory.mkdir(parents=True, exist_ok=True)
    images: list[tuple[str, str]] = []
    for policy, days in results.items():
        if days:
            name = f"queue-{policy}.png"
            plot_queue_lengths(days[0], directory / name)
            images.append((name, f"Panjang antrean / Queue length: {policy}"))
    plot_wait_distribution(results, directory / "waits.png")
    images.append(("waits.png", "Sebaran tunggu / Wait distribution"))

    columns = {POLICY_NAMES.get(p, p): summarise_all(days) for p, days in results.items() if days}
    runs = max((len(days) for days in results.values()), default=0)
    extra = ("checked_in", "refused", "never_called", "checked_in_finished_share")
    parts = [
        "<!doctype html><html lang=id><meta charset=utf-8>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>",
        f"<h1>Simulasi hari layanan / Simulated office day: {html.escape(title)}</h1>",
        f"<p>{runs} seed, dibuat / made {datetime.now():%Y-%m-%d %H:%M}.</p>",
        "<h2>Angka / Figures</h2>",
        _figures_table(columns, [k for k in CONTRACT_KEYS if k != "policy"] + list(extra)),
    ]
    if plan is not None:
        parts.append(_plan_html(plan))
    parts.append("<h2>Grafik / Charts</h2>")
    for name, alt in images:
        parts.append(f"<img src='{html.escape(name)}' alt='{html.escape(alt)}'>")
    parts.append("<h2>Catatan / Notes</h2>" + _NOTES + "</html>")
    path = directory / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _plan_html(plan: Plan) -> str:
    rows = "".join(
        f"<tr><th scope=row>{html.escape(s)}</th><td>{plan.baseline_counters[s]}</td>"
        f"<td>{plan.counters[s]}</td></tr>" for s in plan.counters)
    quota = ""
    if plan.quota_per_slot is not None:
        quota = (f"<p>Kuota per jadwal / Quota per slot: <b>{plan.quota_per_slot}</b> "
                 f"(sekarang sampai / now up to {plan.largest_slot}).</p>")
    verdict = ("memenuhi target / meets the target" if plan.met
               else "target tidak tercapai / target not reached")
    return (
        f"<h2>Rekomendasi kapasitas / Capacity plan ({html.escape(plan.mode)})</h2>"
        f"<p>Target: {plan.target * 100:.0f} % dipanggil dalam jadwal, semua tiket selesai "
        f"sebelum tutup / called within slot, every ticket finished by closing: "
        f"<b>{verdict}</b>.</p>{quota}"
        f"<table><thead><tr><th>Stasiun / Station</th><th>Sekarang / Now</th>"
        f"<th>Rekomendasi / Recommended</th></tr></thead><tbody>{rows}</tbody></table>"
        + _figures_table({"Sekarang / Now": plan.baseline, "Rekomendasi / Recommended":
                          plan.figures},
                         [k for k in CONTRACT_KEYS if k != "policy"]
                         + ["checked_in_finished_share"])
    )
