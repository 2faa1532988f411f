"""Issue 13, attack 2: a page on the same site but another origin wrote with the officer's
cookie (a form cancelled a ticket, a no-cors fetch imported bookings, `next` ran, a
websocket joined /counter). Each is re-run as an outsider and refused."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from flask import Flask

from shared.app import create_app
from shared.auth import create_staff
from shared.core import Core
from shared.web import staff_session_values
from tests.live import free_port
from tests.security.outsider import PASSWORD, Office, logged_in

FOREIGN = "http://127.0.0.1:1"  # same site (host), another origin (port)


# --- real HTTP with forged headers -----------------------------------------------------------
def test_cookie_writes_from_another_origin_are_refused(office: Office) -> None:
    ticket = office.walk_in()
    officer = logged_in(office.url)
    url = office.url
    forged = [
        ("POST", "/api/v1/counters/1/next", {"Origin": FOREIGN}, None, None),
        ("POST", f"/api/v1/tickets/{ticket['id']}/cancel", {"Origin": "null"}, None, None),
        # no Origin, a foreign Referer (an older browser)
        ("POST", "/api/v1/counters/1/next", {"Referer": f"{FOREIGN}/attack.html"}, None, None),
        # the no-cors fetch that imported bookings, and the plain form that cancelled
        ("POST", "/api/v1/bookings", {"Origin": FOREIGN, "Content-Type": "text/plain"},
         "code,office\nX,DPS\n", None),
        ("POST", f"/api/v1/tickets/{ticket['id']}/cancel", {"Origin": FOREIGN},
         None, {"reason": "x"}),
        # a sibling subdomain is another origin too
        ("POST", "/api/v1/walkins", {"Origin": "http://evil.127.0.0.1.nip.io:5000"},
         None, None),
    ]
    for method, path, headers, data, form in forged:
        answer = officer.request(method, f"{url}{path}", headers=headers, data=data or form,
                                 timeout=10)
        assert answer.status_code == 403, (path, headers, answer.status_code, answer.text)
        assert answer.json()["error"]["code"] == "cross_origin"
        assert set(answer.json()["error"]["message"]) == {"id", "en"}
    assert office.counter_current() is None
    # The officer's own page still works (same origin, and Referer alone is fine too).
    own = officer.post(f"{url}/api/v1/counters/1/next", headers={"Origin": url}, timeout=10)
    assert own.status_code == 200, own.text
    finish = officer.post(f"{url}/api/v1/tickets/{ticket['id']}/finish", json={},
                          headers={"Referer": f"{url}/counter"}, timeout=10)
    assert finish.status_code != 403


def test_form_and_text_bodies_on_json_routes_are_415(office: Office) -> None:
    ticket = office.walk_in()
    officer = logged_in(office.url)
    for headers, data in (
        ({"Content-Type": "application/x-www-form-urlencoded"}, "reason=x"),
        ({"Content-Type": "text/plain"}, '{"reason": "x"}'),
        ({"Content-Type": "multipart/form-data; boundary=b"}, "--b--\r\n"),
    ):
        # No Origin or Referer at all (not a browser's cross-site request): still JSON only.
        answer = officer.post(f"{office.url}/api/v1/tickets/{ticket['id']}/cancel",
                              headers=headers, data=data, timeout=10)
        assert answer.status_code == 415, (headers, answer.text)
        assert set(answer.json()["error"]["message"]) == {"id", "en"}
    assert requests.get(f"{office.url}/api/v1/tickets/{ticket['id']}",
                        headers=office.officer, timeout=10).json()["ticket"]["status"] \
        == "waiting"


def test_device_cookie_writes_from_another_origin_are_refused(office: Office) -> None:
    kiosk = requests.Session()
    kiosk.cookies.set("giliran_device", office.kiosk_token)
    answer = kiosk.post(f"{office.url}/api/v1/checkin", json={"scan": "NOPE-00001"},
                        headers={"Origin": FOREIGN}, timeout=10)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "cross_origin"
    own = kiosk.post(f"{office.url}/api/v1/checkin", json={"scan": "NOPE-00001"},
                     headers={"Origin": office.url}, timeout=10)
    assert own.status_code not in (401, 403, 415), own.text


def test_bearer_clients_are_unaffected(office: Office) -> None:
    office.walk_in()
    answer = requests.post(f"{office.url}/api/v1/counters/1/next",
                           headers={**office.officer, "Origin": FOREIGN}, timeout=10)
    assert answer.status_code == 200, answer.text


def test_socketio_refuses_a_foreign_origin_with_the_officer_cookie(office: Office) -> None:
    officer = logged_in(office.url)
    cookie = "; ".join(f"{c.name}={c.value}" for c in officer.cookies)
    # Polling: the websocket client library adds an Origin of its own.
    for origin, allowed in ((FOREIGN, False), (office.url, True)):
        client = socketio.Client(reconnection=False)
        try:
            client.connect(office.url, namespaces=["/counter"], transports=["polling"],
                           headers={"Cookie": cookie, "Origin": origin}, wait_timeout=10)
            joined = client.call("join", {"office": "DPS"}, namespace="/counter", timeout=10)
        except socketio.exceptions.ConnectionError:
            joined = None
        finally:
            client.disconnect()
        assert bool(joined and joined.get("ok")) is allowed, (origin, joined)


# --- the rules in process: public_url counts, forms keep their CSRF token -----------------------
def app_for(core: Core, public_url: str = "") -> Flask:
    core.config = replace(core.config, public_url=public_url)
    app = create_app(core=core)
    app.testing = True
    return app


def test_the_public_url_origin_counts(core: Core) -> None:
    create_staff(core, "petugas", PASSWORD, "officer")
    client = app_for(core, "https://antrean.imigrasi.example").test_client()
    with client.session_transaction() as session:
        session.update(staff_session_values(core, "petugas"))
    path = "/api/v1/walkins"
    body = {"service": "paspor-baru"}
    assert client.post(path, json=body,
                       headers={"Origin": "https://antrean.imigrasi.example"}).status_code == 201
    assert client.post(path, json=body, headers={"Origin": "http://localhost"}).status_code \
        == 201  # the Host the request came to
    for foreign in ("https://evil.imigrasi.example", "http://antrean.imigrasi.example",
                    "https://antrean.imigrasi.example:8443", "null", "garbage"):
        answer = client.post(path, json=body, headers={"Origin": foreign})
        assert answer.status_code == 403, foreign


def test_login_and_logout_forms_need_origin_and_token(core: Core) -> None:
    create_staff(core, "petugas", PASSWORD, "officer")
    client = app_for(core).test_client()
    page = client.get("/login").get_data(as_text=True)
    from tests.security.outsider import csrf_of

    form = {"csrf": csrf_of(page), "username": "petugas", "password": PASSWORD}
    assert client.post("/login", data=form, headers={"Origin": FOREIGN}).status_code == 403
    assert client.post("/login", data=form).status_code == 302
    assert client.post("/logout", data={}).status_code == 400


# --- Chromium: a page served from another port ---------------------------------------------------
ATTACK_PAGE = """<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="attack" method="post" target="sink" action="{url}/api/v1/counters/1/next">
  <input name="x" value="1"></form>
<script>
window.results = {{}};
window.runFetch = async () => {{
  try {{
    await fetch("{url}/api/v1/bookings", {{method: "POST", mode: "no-cors",
      credentials: "include", headers: {{"Content-Type": "text/plain"}},
      body: "code,office,date,slot_start,slot_end,service\\n" +
            "EVIL-0001,DPS,2026-12-01,10:00,11:00,paspor-baru\\n"}});
    window.results.fetch = "sent";
  }} catch (error) {{ window.results.fetch = "error"; }}
}};
</script></body></html>"""

# Engine.IO/Socket.IO by hand, so the same script runs on any page: open, connect the
# /counter namespace, join DPS; "joined" only if the server answered ok.
SOCKET_SCRIPT = """(url) => new Promise((resolve) => {
  const ws = new WebSocket(url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket");
  let outcome = "closed";
  ws.onmessage = (m) => {
    const d = String(m.data);
    if (d.startsWith("0")) ws.send("40/counter,");
    else if (d.startsWith("40/counter,")) ws.send('42/counter,1["join",{"office":"DPS"}]');
    else if (d.startsWith("44/counter,")) { outcome = "refused"; ws.close(); }
    else if (d.startsWith("43/counter,1")) {
      outcome = d.includes('"ok":true') ? "joined" : "refused"; ws.close();
    }
    else if (d === "2") ws.send("3");
  };
  ws.onerror = () => { outcome = outcome === "closed" ? "error" : outcome; };
  ws.onclose = () => resolve(outcome);
  setTimeout(() => { ws.close(); resolve("timeout"); }, 8000);
})"""


@pytest.fixture
def attacker_site(office: Office) -> Iterator[str]:
    page = ATTACK_PAGE.format(url=office.url).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def test_a_page_on_another_port_cannot_write_or_join(browser: Any, office: Office,
                                                      attacker_site: str,
                                                      tmp_path: Path) -> None:
    office.walk_in()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{office.url}/login")
        page.fill("input[name=username]", "petugas")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit], input[type=submit]")
        # Control: the same websocket script from the officer's own page joins /counter.
        page.goto(f"{office.url}/counter")
        assert page.evaluate(SOCKET_SCRIPT, office.url) == "joined"

        page.goto(f"{attacker_site}/attack.html")
        with page.expect_response(lambda r: r.url.endswith("/counters/1/next")) as form:
            page.evaluate("document.getElementById('attack').submit()")
        assert form.value.status == 403
        with page.expect_response(lambda r: r.url.endswith("/api/v1/bookings")) as fetched:
            page.evaluate("window.runFetch()")
        assert fetched.value.status == 403
        assert page.evaluate(SOCKET_SCRIPT, office.url) in ("error", "closed")
    finally:
        context.close()
    assert office.counter_current() is None
    answer = requests.post(f"{office.url}/api/v1/checkin", json={"scan": "EVIL-0001"},
                           headers={"Authorization": f"Bearer {office.kiosk_token}"},
                           timeout=10)
    assert answer.json()["error"]["code"] == "unknown_booking", answer.text
