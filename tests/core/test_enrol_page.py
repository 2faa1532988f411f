"""A reused (or wrong) enrolment link opened on a screen gets a bilingual page, not JSON."""

from __future__ import annotations

from shared.app import create_app
from shared.auth import create_device
from shared.core import Core


def test_reused_enrolment_link_shows_a_bilingual_page(core: Core) -> None:
    code = create_device(core, "display", "papan-1")
    client = create_app(core=core).test_client()
    first = client.get(f"/enrol/papan-1/{code}")
    assert first.status_code == 302
    again = create_app(core=core).test_client().get(f"/enrol/papan-1/{code}")
    assert again.status_code == 403
    assert again.mimetype == "text/html"
    html = again.get_data(as_text=True)
    assert 'id="enrol-refused"' in html and "<!doctype html>" in html.lower()
    assert "This enrolment link is not valid (any more)." in html
    assert "Tautan pendaftaran hanya berlaku sekali" in html
    assert "An enrolment link works once" in html
    assert not html.lstrip().startswith("{")
    long = client.get("/enrol/" + "x" * 80 + "/code")
    assert long.status_code == 404 and long.mimetype == "text/html"


def test_favicon_on_every_page(core: Core) -> None:
    client = create_app(core=core).test_client()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg"' in page
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data
