"""Red-team findings on the supervisors' and planners' side: each test failed before its fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from shared.app import create_app
from shared.auth import create_staff
from shared.core import Core
from shared.web import staff_session_values
from tests.conftest import make_core
from tests.security.test_input import two_offices


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Core, FlaskClient]]:
    core = make_core(two_offices(), f"sqlite:///{tmp_path / 'two.sqlite3'}")
    app = create_app(core=core)
    app.config["TESTING"] = True
    yield core, app.test_client()
    core.close()
    core.db.engine.dispose()


def as_staff(client: FlaskClient, core: Core, name: str, role: str,
             office: str | None = None) -> None:
    create_staff(core, name, "rahasia-123", role, office=office)
    with client.session_transaction() as session:
        session.update(staff_session_values(core, name))


PAGES = ("/reports/day", "/reports/skm", "/reports/plan")


def test_a_one_office_supervisor_is_offered_only_their_office(
        two: tuple[Core, FlaskClient]) -> None:
    """The office selector listed every office of the server to a supervisor of DPS alone;
    choosing JKT led to a refusal. Asking for JKT is still refused, in both languages."""
    core, client = two
    as_staff(client, core, "kepala-dps", "supervisor", office="DPS")
    for page in PAGES:
        answer = client.get(page)
        assert answer.status_code == 200, page
        html = answer.get_data(as_text=True)
        assert 'value="JKT"' not in html and "Jakarta Selatan" not in html, page
        refused = client.get(f"{page}?office=JKT")
        assert refused.status_code == 403, page
        assert refused.json["error"]["message"] == {
            "id": "Anda tidak diizinkan melakukan ini.",
            "en": "You are not allowed to do this."}
    for export in ("/reports/day/export", "/reports/range/export", "/reports/skm/export"):
        assert client.get(f"{export}?office=JKT").status_code == 403, export
    as_staff(client, core, "admin-all", "admin")
    for page in PAGES:
        html = client.get(page).get_data(as_text=True)
        assert 'value="JKT"' in html and 'value="DPS"' in html, page


def test_a_downloaded_csv_opens_in_excel_as_utf_8(core: Core) -> None:
    """Excel reads a CSV without a byte order mark in the Windows code page: the published
    SKM table said "A â€” Sangat Baik". Downloads (and saved files) now carry the mark."""
    from tests.reports.test_views import ANSWERS, finished_ticket

    _, token = finished_ticket(core)
    app = create_app(core=core)
    app.config["TESTING"] = True
    client = app.test_client()
    assert client.post(f"/api/v1/survey/{token}", json=ANSWERS).status_code == 201
    as_staff(client, core, "kepala", "supervisor")
    for url in ("/reports/skm/export?period=2026-12&format=csv",
                "/reports/day/export?date=2026-12-01&format=csv",
                "/reports/range/export?from=2026-11-01&to=2026-12-01&format=csv"):
        body = client.get(url).get_data()
        assert body.startswith(b"\xef\xbb\xbf"), url
        assert "\ufeff" not in body.decode("utf-8-sig"), url  # one mark, at the start
    text = client.get("/reports/skm/export?period=2026-12&format=csv").get_data()
    assert "A — Sangat Baik" in text.decode("utf-8-sig")
    for fmt in ("json", "html"):  # only the CSV
        url = f"/reports/skm/export?period=2026-12&format={fmt}"
        assert not client.get(url).get_data().startswith(b"\xef\xbb\xbf")


def test_a_station_name_cannot_break_out_of_the_chart_data(tmp_path: Path) -> None:
    """The day page wrote the chart data into its <script type="application/json"> block
    unescaped: a station named "... </script> ..." (config.toml, or the admin console) ended
    the block, the charts were gone and the rest of the name became markup of the page."""
    import json

    from shared import visits
    from shared.config import parse_config
    from tests.conftest import ROOT

    name = 'Berkas </script><a id="spilled" href="//example.org">x</a>'
    text = (ROOT / "config.toml").read_text(encoding="utf-8").replace(
        'name = { id = "Pemeriksaan Berkas", en = "Document check" }',
        'name = { id = ' + json.dumps(name) + ', en = "Document check" }', 1)
    core = make_core(parse_config(text, "named.toml"), f"sqlite:///{tmp_path / 'n.sqlite3'}")
    try:
        visits.walk_in(core, "DPS", "paspor-baru", None, "ani")
        assert visits.call_next(core, "DPS", "1", "ani") is not None
        app = create_app(core=core)
        app.config["TESTING"] = True
        client = app.test_client()
        as_staff(client, core, "kepala", "supervisor")
        html = client.get("/reports/day").get_data(as_text=True)
        block = html.split('id="report-data">')[1].split("</script>")[0]
        assert json.loads(block)["stations"]["labels"] == [name]
        assert 'id="spilled"' not in html
    finally:
        core.close()
        core.db.engine.dispose()
