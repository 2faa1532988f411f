"""Reports as CSV, JSON and standalone HTML (the HTML needs no server and no scripts).

A day/range CSV holds several tables one after the other: each starts with a row naming
the section (`# arrivals_by_slot`), then its header row and its rows, then a blank row.
The SKM CSV is the one table an office publishes.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from shared.i18n import bilingual

FORMATS = ("csv", "json", "html")
# A CSV file saved for a person starts with the UTF-8 byte order mark: without it Excel
# (opened by a double click, as a head of office does) reads the file in the Windows code
# page, and "A — Sangat Baik" or a name such as "Ni Kadek Ayu Śri" comes out as mojibake.
# Python's csv and LibreOffice skip it. Standard output (a pipe) gets none.
EXCEL_BOM = "\ufeff"
TEMPLATES = Path(__file__).parent / "templates"
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json",
               "html": "text/html; charset=utf-8"}


def as_file(text: str, fmt: str) -> str:
    """The text of a downloaded or saved export (the byte order mark on a CSV)."""
    return EXCEL_BOM + text if fmt == "csv" and not text.startswith(EXCEL_BOM) else text


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    env.globals["t"] = bilingual
    return env


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Writer:
    """csv.writer whose every text cell is neutralised (names come from booking files)."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([neutral(cell) for cell in row])


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict):
        return " / ".join(str(v) for v in value.values())
    return value


def _section(writer: Any, name: str, rows: list[dict[str, Any]],
             columns: list[str] | None = None) -> None:
    writer.writerow([f"# {name}"])
    if rows or columns:
        columns = columns or list(rows[0])
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in columns])
    writer.writerow([])


def _flat_stations(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for station in report["stations"]:
        row: dict[str, Any] = {"station": station["station"], "name": station["name"]["id"]}
        for part in ("wait", "service"):
            for key, value in station[part].items():
                row[f"{part}_{key}"] = value
        rows.append(row)
    return rows


def report_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = _Writer(out)
    _section(writer, "report", [{"office": report["office"], "from": report["from"],
                                 "to": report["to"], "generated_at": report.get("generated_at"),
                                 "names": report["names"]}])
    _section(writer, "totals", [report["totals"]])
    _section(writer, "first_call_wait_minutes", [report["first_call_wait"]])
    _section(writer, "on_time", [report["on_time"]])
    _section(writer, "arrivals_by_slot", report["arrivals_by_slot"],
             ["slot", "booked", "cancelled", "arrived", "served", "no_show", "missed",
              "expected"])
    _section(writer, "arrivals_by_hour", report["arrivals_by_hour"],
             ["hour", "booked", "walkin", "express", "priority", "total"])
    _section(writer, "stations_minutes", _flat_stations(report),
             ["station", "name"] + [f"{p}_{k}" for p in ("wait", "service")
                                    for k in ("count", "mean", "p50", "p90", "max")])
    _section(writer, "counters", report["counters"],
             ["counter", "name", "calls", "served", "no_shows", "service_mean"])
    _section(writer, "officers", report["officers"],
             ["staff", "calls", "served", "no_shows", "service_mean"])
    volumes = report["volumes"]
    _section(writer, "volumes",
             [{"group": "kind", "key": k, "count": v} for k, v in volumes["kinds"].items()]
             + [{"group": "priority_group", "key": k, "count": v}
                for k, v in volumes["priority_groups"].items()]
             + [{"group": "lane_without_booking", "key": k, "count": v}
                for k, v in volumes["lanes_without_booking"].items()],
             ["group", "key", "count"])
    _section(writer, "quota", report["quota"], ["slot", "bookings", "tickets", "use"])
    _section(writer, "days", report["days"],
             ["date", "booked", "arrived", "walkins", "served", "mean_wait"])
    _section(writer, "tickets", report["tickets"],
             ["date", "number", "kind", "service", "priority_group", "booking_code", "name",
              "slot", "checked_in", "first_called", "finished", "wait_first_call", "status"])
    return out.getvalue()


def report_html(report: dict[str, Any]) -> str:
    return _environment().get_template("reports/export_day.html").render(report=report)


def render_report(report: dict[str, Any], fmt: str) -> str:
    if fmt == "csv":
        return report_csv(report)
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        return report_html(report)
    raise ValueError(f"format is one of {', '.join(FORMATS)}")


# --- SKM ---------------------------------------------------------------------------------------
def skm_csv(table: dict[str, Any]) -> str:
    """element, mean, weighted; then IKM, SKM value, mutu and kinerja."""
    out = io.StringIO()
    writer = _Writer(out)
    writer.writerow(["kantor/office", table["office"], table["office_name"]])
    writer.writerow(["periode/period", table["period"], f"{table['from']} - {table['to']}"])
    writer.writerow(["responden/respondents", table["respondents"]])
    writer.writerow(["unsur/element", "nama/name", "nilai rata-rata/mean",
                     "nilai tertimbang/weighted"])
    for row in table["elements"]:
        writer.writerow([row["element"], row["name"]["id"], _cell(row["mean"]),
                         _cell(row["weighted"])])
    writer.writerow(["IKM/index", _cell(table["index"])])
    writer.writerow(["nilai SKM/SKM value", _cell(table["value"])])
    writer.writerow(["mutu pelayanan/grade", _cell(table["grade"])])
    kinerja = table["kinerja"]
    writer.writerow(["kinerja unit pelayanan/performance",
                     f"{table['label']} / {kinerja['en']}" if kinerja else ""])
    if table.get("parts"):
        writer.writerow([])
        writer.writerow(["periode/period", "responden/respondents", "IKM/index",
                         "nilai SKM/SKM value", "mutu/grade"])
        for part in table["parts"]:
            writer.writerow([part["period"], part["respondents"], _cell(part["index"]),
                             _cell(part["value"]), _cell(part["label"])])
    return out.getvalue()


def skm_html(table: dict[str, Any]) -> str:
    return _environment().get_template("reports/export_skm.html").render(table=table)


def render_skm(table: dict[str, Any], fmt: str) -> str:
    if fmt == "csv":
        return skm_csv(table)
    if fmt == "json":
        return json.dumps(table, ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        return skm_html(table)
    raise ValueError(f"format is one of {', '.join(FORMATS)}")
