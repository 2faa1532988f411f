"""The reports blueprint: supervisor pages with charts, exports, and the SKM survey.

- `/reports/day`, `/reports/skm`, `/reports/plan`: supervisor or admin (session or bearer
  token); officers get 403, anonymous visitors are sent to the login page.
- `/reports/plan`: a day's bookings (default tomorrow) simulated with today's staff: the
  counters to open (mode=counters) or the bookings per slot it can take (mode=quota).
- `/reports/day/export`, `/reports/range/export`, `/reports/skm/export`: downloads;
  names stay masked unless an admin adds `with_names=1`; every export is audited.
- `POST /api/v1/survey/<token>`: public, one SKM answer per ticket once it is done.
- `/survey/<token>`: the bilingual survey page for the applicant's phone or the kiosk.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from werkzeug.exceptions import BadRequest

from shared import lifecycle, offices, roles
from shared.auth import Principal, require
from shared.clock import parse_day
from shared.core import Core
from shared.errors import Refusal, loads
from shared.reports import figures, planning, render, retention, skm
from shared.simulation.scenario import MODES
from shared.web import current_principal

reports = Blueprint("reports", __name__, template_folder="templates",
                    static_folder="static", static_url_path="/reports/static")

MAX_RANGE_DAYS = figures.MAX_RANGE_DAYS


def _core() -> Core:
    return current_app.extensions["giliran"]  # type: ignore[no-any-return]


class _LoginNeeded(Exception):
    pass


def _supervisor(office: str) -> Principal:
    """A supervisor or admin; `office` was already checked by `_office_arg`
    (shared/offices.py is the one rule for which office a request may mean)."""
    principal = current_principal()
    if principal is None:
        raise _LoginNeeded()
    return require(principal, *roles.REPORTS)


@reports.errorhandler(_LoginNeeded)
def _login(_exc: _LoginNeeded) -> Any:
    return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))


def _office_arg() -> str:
    """The report's office (shared/offices.py): `?office=`, else the person's own."""
    principal = current_principal()
    if principal is None:
        raise _LoginNeeded()
    return offices.from_request(principal).id


def _date_arg(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return parse_day(raw[:10])
    except ValueError:
        raise Refusal(400, "invalid_request", "Dates are written YYYY-MM-DD.") from None


def _format_arg(default: str = "csv") -> str:
    fmt = request.args.get("format", default)
    if fmt not in render.FORMATS:
        raise Refusal(400, "invalid_request", "The format is csv, json or html.")
    return fmt


def _with_names(principal: Principal) -> bool:
    if request.args.get("with_names", "") not in ("1", "true", "yes"):
        return False
    if principal.role != roles.ADMIN:
        raise Refusal(403, "forbidden", "Only an admin may export names.")
    return True


def _download(text: str, fmt: str, filename: str) -> Response:
    response = Response(render.as_file(text, fmt),
                        mimetype=render.MEDIA_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = render.MEDIA_TYPES[fmt]
    if fmt != "html" or request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- day and range ----------------------------------------------------------------------------
def chart_data(report: dict[str, Any]) -> dict[str, Any]:
    """The few series the page's charts draw (no names, no tickets)."""
    return {
        "slots": {
            "labels": [r["slot"] for r in report["arrivals_by_slot"]],
            "booked": [r["booked"] for r in report["arrivals_by_slot"]],
            "arrived": [r["arrived"] for r in report["arrivals_by_slot"]],
            "served": [r["served"] for r in report["arrivals_by_slot"]],
            "no_show": [r["no_show"] for r in report["arrivals_by_slot"]],
        },
        "stations": {
            "labels": [s["name"]["id"] for s in report["stations"]],
            "wait_mean": [s["wait"]["mean"] for s in report["stations"]],
            "wait_p90": [s["wait"]["p90"] for s in report["stations"]],
            "service_mean": [s["service"]["mean"] for s in report["stations"]],
        },
        "hours": {
            "labels": [r["hour"] for r in report["arrivals_by_hour"]],
            "booked": [r["booked"] for r in report["arrivals_by_hour"]],
            "walkin": [r["walkin"] + r["express"] for r in report["arrivals_by_hour"]],
            "priority": [r["priority"] for r in report["arrivals_by_hour"]],
        },
    }


def _script_json(data: Any) -> Markup:
    """JSON for a <script type="application/json"> block: <, >, & and ' escaped, so a name
    from the configuration ("Foto </script> ...") cannot end the block and spill markup."""
    return htmlsafe_json_dumps(data, dumps=json.dumps, ensure_ascii=False)


@reports.get("/reports/day")
def day_page() -> Any:
    office = _office_arg()
    principal = _supervisor(office)
    core = _core()
    day = _date_arg("date", core.today(core.office(office)))
    report = figures.day_report(core, office, day)
    report.pop("tickets")
    return render_template("reports/day.html", report=report, day=day,
                           offices=offices.visible(_core(), principal),
                           chart_json=_script_json(chart_data(report)))


@reports.get("/reports/day/export")
def day_export() -> Response:
    office = _office_arg()
    principal = _supervisor(office)
    core = _core()
    day = _date_arg("date", core.today(core.office(office)))
    fmt = _format_arg()
    with_names = _with_names(principal)
    report = figures.day_report(core, office, day, with_names=with_names)
    text = render.render_report(report, fmt)
    retention.record(core, principal.name, "export",
                     {"report": "day", "office": office, "from": day.isoformat(),
                      "to": day.isoformat(), "format": fmt, "with_names": with_names})
    return _download(text, fmt, f"giliran-{office}-{day.isoformat()}.{fmt}")


@reports.get("/reports/range/export")
def range_export() -> Response:
    office = _office_arg()
    principal = _supervisor(office)
    core = _core()
    today = core.today(core.office(office))
    first = _date_arg("from", today)
    last = _date_arg("to", today)
    if last < first or (last - first).days + 1 > MAX_RANGE_DAYS:  # both days included
        raise Refusal(400, "invalid_request", "The range must run forward, a year at most.")
    fmt = _format_arg()
    with_names = _with_names(principal)
    report = figures.range_report(core, office, first, last, with_names=with_names)
    text = render.render_report(report, fmt)
    retention.record(core, principal.name, "export",
                     {"report": "range", "office": office, "from": first.isoformat(),
                      "to": last.isoformat(), "format": fmt, "with_names": with_names})
    return _download(text, fmt, f"giliran-{office}-{first.isoformat()}-{last.isoformat()}.{fmt}")


# --- capacity plan ---------------------------------------------------------------------------
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@reports.get("/reports/plan")
def plan_page() -> Any:
    office = _office_arg()
    principal = _supervisor(office)
    core = _core()
    today = core.today(core.office(office))
    # Without a date: the next day that has bookings (after a weekend or a holiday that is
    # not tomorrow), else tomorrow.
    tomorrow = planning.next_day_with_bookings(core, office, today) or today + timedelta(days=1)
    raw_date = request.args.get("date", "").strip()
    mode = request.args.get("mode", "") or MODES[0]
    choices = offices.visible(_core(), principal)
    error: str | None = None
    day = tomorrow
    if raw_date:
        try:
            if not _ISO_DATE.fullmatch(raw_date):
                raise ValueError(raw_date)
            day = parse_day(raw_date)
        except ValueError:
            error = "date"
    if error is None and mode not in MODES:
        error = "mode"
    if error is not None:
        form = {"office": office, "office_name": core.office(office).name,
                "date": tomorrow.isoformat(), "mode": mode if mode in MODES else MODES[0]}
        return render_template("reports/plan.html", page=None, form=form, error=error,
                               offices=choices, modes=MODES), 400
    page = planning.capacity_plan(core, office, day, mode)
    return render_template("reports/plan.html", page=page, form=page, error=None,
                           offices=choices, modes=MODES)


# --- SKM ------------------------------------------------------------------------------------
def _period_table(office: str) -> dict[str, Any]:
    core = _core()
    raw = request.args.get("period") or str(core.today(core.office(office)).year)
    try:
        kind, year, number = skm.parse_period(raw[:10])
    except ValueError:
        raise Refusal(400, "invalid_request",
                      "The period is YYYY, YYYY-S1, YYYY-S2 or YYYY-MM.") from None
    return skm.period_report(core, office, kind, year, number)


@reports.get("/reports/skm")
def skm_page() -> Any:
    office = _office_arg()
    principal = _supervisor(office)
    table = _period_table(office)
    return render_template("reports/skm.html", table=table, elements=skm.ELEMENTS,
                           offices=offices.visible(_core(), principal))


@reports.get("/reports/skm/export")
def skm_export() -> Response:
    office = _office_arg()
    principal = _supervisor(office)
    table = _period_table(office)
    fmt = _format_arg()
    retention.record(_core(), principal.name, "export",
                     {"report": "skm", "office": office, "period": table["period"],
                      "format": fmt})
    return _download(render.render_skm(table, fmt), fmt,
                     f"skm-{office}-{table['period']}.{fmt}")


# --- the survey -----------------------------------------------------------------------------
def _survey_body() -> Any:
    try:
        return loads(request.get_data(cache=True) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "invalid_request", "The request body is not valid JSON.") from None


@reports.post("/api/v1/survey/<token>")
def survey_answer(token: str) -> tuple[Response, int]:
    result = skm.answer(_core(), token, _survey_body())
    return jsonify({"survey": result}), 201


@reports.get("/api/v1/survey/<token>")
def survey_state(token: str) -> Response:
    state = skm.survey_ticket(_core(), token)
    state.pop("office", None)
    return jsonify({"survey": {
        **state,
        "open": state["status"] == lifecycle.DONE and not state["answered"],
        "questions": [
            {"element": e.code, "question": {"id": e.question_id, "en": e.question_en},
             "choices": [{"score": i + 1, "id": cid, "en": cen}
                         for i, (cid, cen) in enumerate(zip(e.choices_id, e.choices_en,
                                                            strict=True))]}
            for e in skm.ELEMENTS
        ],
    }})


@reports.route("/survey/<token>", methods=["GET", "POST"])
def survey_page(token: str) -> Any:
    """The survey on the applicant's phone (the address on the ticket): a page in both
    languages whatever happens, never the API's JSON."""
    core = _core()
    try:
        state = skm.survey_ticket(core, token)
    except Refusal as refusal:
        if refusal.code != "not_found":
            raise
        return render_template("reports/survey_missing.html"), 404
    error: str | None = None
    answered_now = False
    chosen: dict[str, str] = {}
    if request.method == "POST":
        try:
            form = request.form
        except BadRequest:
            raise Refusal(400, "invalid_request", "The form could not be read.") from None
        chosen = {k: v for k, v in form.items() if k in {f"u{i}" for i in range(1, 10)}}
        try:
            skm.answer(core, token, chosen)
            answered_now = True
            state["answered"] = True
        except Refusal as refusal:
            if refusal.code == "not_found":  # erased meanwhile
                return render_template("reports/survey_missing.html"), 404
            error = refusal.code
    status = 200 if error is None else (422 if error == "invalid_answers" else 409)
    return render_template("reports/survey.html", token=token, state=state,
                           elements=skm.ELEMENTS, error=error, answered_now=answered_now,
                           chosen=chosen), status
