"""The three screens in Chromium against a real server: board, counter terminal, supervisor.

A counter's "next" reaches the board within a second; the board recovers by itself from a
server restart; two counters never call the same ticket; a double click calls one ticket;
a stale action is refused in words. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from shared import visits
from tests.live import LiveServer

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1920, "height": 1080}
DAY = "2026-12-01"


def booking(code: str, start: str = "09:00", end: str = "10:00") -> dict[str, str]:
    return {"code": code, "office": "DPS", "date": DAY, "slot_start": start, "slot_end": end,
            "service": "paspor-baru", "priority_group": "", "name": "Ni Luh Putu Ayu"}


class Staff:
    """REST calls as an officer (bearer token), for preparing and checking state."""

    def __init__(self, live: LiveServer, token: str) -> None:
        self.live = live
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: Any = None, **headers: str) -> requests.Response:
        return requests.post(f"{self.live.url}/api/v1{path}", json=body or {}, timeout=5,
                             headers={**self.headers, **headers})

    def get(self, path: str) -> Any:
        answer = requests.get(f"{self.live.url}/api/v1{path}", headers=self.headers, timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def check_in(self, *codes: str) -> list[str]:
        numbers = []
        for code in codes:
            answer = self.post("/checkin", {"scan": code})
            assert answer.status_code == 201, answer.text
            numbers.append(answer.json()["ticket"]["number"])
        return numbers

    def waiting(self, station: str = "berkas") -> list[str]:
        return [t["number"] for t in self.get(f"/stations/{station}/queue")["waiting"]]

    def current(self, counter: str) -> Any:
        return self.get(f"/counters/{counter}")["current"]


@pytest.fixture
def officer(live: LiveServer) -> Staff:
    live.add_bookings([booking(f"BALI-{i:04d}") for i in range(1, 6)])
    staff = Staff(live, live.staff("petugas", "pw", "officer"))
    assert staff.check_in(*(f"BALI-{i:04d}" for i in range(1, 6))) == [
        "B001", "B002", "B003", "B004", "B005"]
    return staff


@pytest.fixture
def contexts(browser: Any) -> Iterator[list[Any]]:
    opened: list[Any] = []
    yield opened
    for context in opened:
        context.close()


def new_page(browser: Any, contexts: list[Any]) -> Any:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(10000)
    return page


def open_board(browser: Any, contexts: list[Any], live: LiveServer) -> Any:
    page = new_page(browser, contexts)
    page.goto(live.enrol_url("display", "board-1"))
    assert page.url.endswith("/display/DPS")
    page.wait_for_function("window.giliranBoard && window.giliranBoard.connected"
                           " && window.giliranBoard.lastVersion >= 0")
    return page


def login(page: Any, live: LiveServer, username: str, password: str, target: str) -> None:
    page.goto(f"{live.url}{target}")
    assert "/login" in page.url  # the terminal sends strangers to the login form
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live.url}{target}")


def open_terminal(browser: Any, contexts: list[Any], live: LiveServer, counter: str,
                  username: str = "petugas") -> Any:
    page = new_page(browser, contexts)
    login(page, live, username, "pw", f"/counter?c={counter}")
    page.wait_for_function("document.body.dataset.loaded === '1'"
                           " && window.giliranTerminal.connected")
    return page


def hero(page: Any) -> str:
    return str(page.text_content("#hero-number")).strip()


def wait_hero(page: Any, number: str, timeout_ms: float) -> None:
    page.wait_for_function(
        "n => document.getElementById('hero-number').textContent.trim() === n",
        arg=number, timeout=timeout_ms)


def test_next_reaches_the_board_within_a_second(browser: Any, contexts: list[Any],
                                                 live: LiveServer, officer: Staff,
                                                 artifacts: Path) -> None:
    board = open_board(browser, contexts, live)
    assert hero(board) == "\u2014"
    terminal = open_terminal(browser, contexts, live, "1")
    assert terminal.text_content("#queues table[data-station=berkas] tr:first-child .number") \
        == "B001"
    keys: list[str | None] = []
    terminal.on("request", lambda r: keys.append(r.headers.get("idempotency-key"))
                if r.url.endswith("/next?office=DPS") else None)

    started = time.monotonic()
    terminal.click("#btn-next")
    wait_hero(board, "B001", timeout_ms=1000)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"the board showed the call after {elapsed:.2f} s"
    assert len(keys) == 1 and keys[0]
    assert "Loket 1" in str(board.text_content("#hero-counter"))

    # The terminal shows the called ticket, its timeline and the shorter queue.
    terminal.wait_for_function(
        "document.getElementById('current-number').textContent === 'B001'")
    terminal.wait_for_selector("#timeline li >> nth=1")
    assert terminal.is_disabled("#btn-next")
    assert terminal.is_enabled("button[data-action=recall]")
    terminal.keyboard.press("s")  # S: start service
    terminal.wait_for_function("document.getElementById('current').dataset.status === 'serving'")

    # A second counter, and a ticket waiting in the other lists.
    other = Staff(live, live.staff("petugas2", "pw", "officer"))
    answer = other.post("/counters/2/next")
    assert answer.json()["ticket"]["number"] == "B002"
    wait_hero(board, "B002", timeout_ms=1000)
    board.wait_for_selector("#serving li:has-text('B001')")
    assert officer.post(f"/tickets/{answer.json()['ticket']['id']}/hold",
                        {"reason": "Fotokopi KK"}).status_code == 200
    terminal.wait_for_selector("#parked tr:has-text('B002'):has-text('Fotokopi KK')")

    # The board: clock in office time, waiting counts with station names, no names at all.
    board.wait_for_function("document.getElementById('hero-number').textContent.trim() !== ''")
    assert board.text_content("#clock-time").startswith("09:")  # type: ignore[union-attr]
    assert "Selasa, 1 Desember 2026" in str(board.text_content("#clock-date"))
    assert "Pemeriksaan Berkas" in str(board.text_content("#waiting"))
    assert "Ni Luh" not in board.content()
    box = board.locator("#hero-number").bounding_box()
    assert box is not None and box["height"] >= 0.15 * 1080, box
    board.wait_for_timeout(300)
    board.screenshot(path=str(artifacts / "board.png"))
    terminal.screenshot(path=str(artifacts / "terminal.png"))

    supervisor = new_page(browser, contexts)
    live.staff("kepala", "pw", "supervisor")
    login(supervisor, live, "kepala", "pw", "/counter/supervisor")
    supervisor.wait_for_function("document.body.dataset.loaded === '1'")
    supervisor.wait_for_selector("#health li")
    assert "B001" in str(supervisor.text_content(".counter-card[data-counter='1']"))
    assert supervisor.text_content("#stations tr[data-station=berkas] td:nth-child(2)") == "3"
    supervisor.screenshot(path=str(artifacts / "supervisor.png"))

    # Officers may not open the supervisor view.
    terminal.goto(f"{live.url}/counter/supervisor")
    assert "supervisor" in str(terminal.text_content("body")).lower()
    assert terminal.evaluate("document.title").startswith("403")


def test_board_recovers_from_a_server_restart(browser: Any, contexts: list[Any],
                                              live: LiveServer, officer: Staff) -> None:
    board = open_board(browser, contexts, live)
    assert officer.post("/counters/1/next").json()["ticket"]["number"] == "B001"
    wait_hero(board, "B001", timeout_ms=1000)
    board.evaluate("window.sameDocument = true")  # gone if the page loads itself again

    live.stop()
    board.wait_for_selector("#mark-offline", state="visible", timeout=5000)
    # While the server is down, counter 2 calls B002 (straight on the database). The office
    # clock runs on: the call happens at 09:05 and the server comes back at 09:10.
    core = live.core()
    core.clock.start_at_local(datetime(2026, 12, 1, 9, 5), core.config.default_office.tz)
    live.clock = "2026-12-01T09:10"
    try:
        called = visits.call_next(core, "DPS", "2", "petugas")
        assert called is not None and called["number"] == "B002"
    finally:
        core.db.engine.dispose()
    live.start()
    back = time.monotonic()
    wait_hero(board, "B002", timeout_ms=2000)
    assert time.monotonic() - back < 2.0
    board.wait_for_selector("#mark-offline", state="hidden", timeout=1000)
    assert board.evaluate("window.sameDocument === true")  # reconnected, not reloaded

    # And the board follows calls made after the restart, through the REST API.
    assert officer.post("/tickets/"
                        f"{officer.current('1')['id']}/finish").status_code == 200
    assert officer.post("/counters/1/next").json()["ticket"]["number"] == "B003"
    wait_hero(board, "B003", timeout_ms=1000)
    assert board.locator("#serving li:has-text('B002')").count() == 1
    assert board.locator("#serving li:has-text('B001')").count() == 0

    # A board that notices a gap in the versions asks for a snapshot by itself.
    assert officer.post(f"/tickets/{officer.current('2')['id']}/finish").status_code == 200
    board.wait_for_function("v => window.giliranBoard.lastVersion === v", arg=live_version(live))
    board.evaluate("window.giliranBoard.lastVersion -= 3")  # as if three messages were lost
    assert officer.post("/counters/2/next").json()["ticket"]["number"] == "B004"
    wait_hero(board, "B004", timeout_ms=1000)
    assert board.evaluate("window.giliranBoard.gapRequests") == 1
    assert board.evaluate("window.giliranBoard.lastVersion") == live_version(live)


def live_version(live: LiveServer) -> int:
    core = live.core()
    try:
        return core.office_version("DPS")
    finally:
        core.db.engine.dispose()


def test_two_counters_together_call_two_tickets(browser: Any, contexts: list[Any],
                                                live: LiveServer, officer: Staff) -> None:
    live.staff("petugas2", "pw", "officer")
    one = open_terminal(browser, contexts, live, "1")
    two = open_terminal(browser, contexts, live, "2", username="petugas2")
    # Both clicks are dispatched before either answer arrives.
    one.evaluate("document.getElementById('btn-next').click()")
    two.evaluate("document.getElementById('btn-next').click()")
    for page in (one, two):
        page.wait_for_function(
            "document.getElementById('current-number').textContent.trim().startsWith('B')")
    numbers = {one.text_content("#current-number"), two.text_content("#current-number")}
    assert numbers == {"B001", "B002"}
    assert {officer.current("1")["number"], officer.current("2")["number"]} == numbers
    assert officer.waiting() == ["B003", "B004", "B005"]


def test_double_click_calls_one_ticket(browser: Any, contexts: list[Any], live: LiveServer,
                                       officer: Staff) -> None:
    terminal = open_terminal(browser, contexts, live, "1")
    posts: list[str | None] = []
    terminal.on("request", lambda r: posts.append(r.headers.get("idempotency-key"))
                if r.method == "POST" else None)
    terminal.dblclick("#btn-next")
    terminal.wait_for_function(
        "document.getElementById('current-number').textContent.trim() === 'B001'")
    terminal.keyboard.press("n")  # N while a ticket is at the counter does nothing
    # The marker: a request made after the key was handled; a call from N would come first.
    with terminal.expect_request(lambda r: "marker=after-n" in r.url):
        terminal.evaluate("fetch('/api/v1/health?marker=after-n')")
    assert officer.waiting() == ["B002", "B003", "B004", "B005"]
    assert officer.current("1")["number"] == "B001"
    assert len(posts) == 1 and posts[0]

    # The same intent retried with its key is answered from memory: still one ticket.
    replay = officer.post("/counters/1/next", **{"Idempotency-Key": str(posts[0])})
    assert replay.status_code == 200 and replay.json()["ticket"]["number"] == "B001"
    # A new intent while B001 is at the counter is refused in words.
    busy = officer.post("/counters/1/next", **{"Idempotency-Key": "another-intent"})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "counter_busy"
    assert officer.waiting() == ["B002", "B003", "B004", "B005"]

    # A walk-in issued from the terminal joins the queue.
    terminal.click("#walkin summary")
    terminal.select_option("#walkin-form select[name=priority_group]", "lansia")
    terminal.click("#walkin-form button[type=submit]")
    terminal.wait_for_selector("#message-id:has-text('Tiket P001 diterbitkan.')")
    terminal.wait_for_selector("#queues tr:first-child .number:text-is('P001')")
    assert officer.waiting()[0] == "P001"


def test_a_walk_in_sent_again_after_a_network_error_issues_one_ticket(
        browser: Any, contexts: list[Any], live: LiveServer, officer: Staff) -> None:
    """The walk-in form reached the server, which issued P001, but the answer was lost. The
    officer sends the form again: the same key, so still one P001 and no P002."""
    terminal = open_terminal(browser, contexts, live, "1")
    sent: list[str | None] = []

    def lost_answer(route: Any) -> None:
        sent.append(route.request.headers.get("idempotency-key"))
        route.fetch()  # the server issues the ticket ...
        route.abort()  # ... and the page never hears of it

    terminal.route("**/api/v1/walkins*", lost_answer)
    terminal.click("#walkin summary")
    terminal.select_option("#walkin-form select[name=priority_group]", "lansia")
    terminal.click("#walkin-form button[type=submit]")
    terminal.wait_for_selector("#message.message-error", state="visible")
    terminal.unroute("**/api/v1/walkins*")
    terminal.route("**/api/v1/walkins*", lambda route: (sent.append(
        route.request.headers.get("idempotency-key")), route.continue_()))
    terminal.click("#walkin-form button[type=submit]")
    terminal.wait_for_selector("#message-id:has-text('Tiket P001 diterbitkan.')")
    assert len(sent) == 2 and sent[0] and sent[0] == sent[1]
    assert [n for n in officer.waiting() if n.startswith("P")] == ["P001"]


def test_a_terminal_a_moment_behind_does_not_finish_another_counter_s_applicant(
        browser: Any, contexts: list[Any], live: LiveServer, officer: Staff) -> None:
    """Counter 1's screen still shows B001 (its refreshes are lost), while B001 was put on
    hold, resumed and called to counter 2. Finish on counter 1 names its counter, so the
    server refuses it in words instead of finishing the applicant counter 2 has just
    called."""
    terminal = open_terminal(browser, contexts, live, "1")
    terminal.click("#btn-next")
    terminal.wait_for_function(
        "document.getElementById('current-number').textContent.trim() === 'B001'")
    ticket = officer.current("1")
    terminal.route("**/api/v1/counters/1*", lambda route: route.abort())  # no refresh
    assert officer.post(f"/tickets/{ticket['id']}/hold", {"reason": "Fotokopi"}).ok
    assert officer.post(f"/tickets/{ticket['id']}/resume").ok
    assert officer.post("/counters/2/next").json()["ticket"]["number"] == "B001"
    finish = f"**/api/v1/tickets/{ticket['id']}/finish*"
    with terminal.expect_response(finish) as answer:
        terminal.click("button[data-action=finish]")
    assert answer.value.request.post_data_json["counter"] == "1"
    assert answer.value.status == 409
    # Said in words (the page's own message may be replaced at once by its failed refresh).
    refusal = answer.value.json()["error"]
    assert refusal["code"] == "not_at_counter"
    assert "sekarang berada di loket 2" in refusal["message"]["id"]
    now = officer.get(f"/tickets/{ticket['id']}")["ticket"]
    assert (now["status"], now["station"], now["counter"]) == ("called", "berkas", "2")


def test_a_finish_tried_again_after_a_network_error_finishes_once(
        browser: Any, contexts: list[Any], live: LiveServer, officer: Staff) -> None:
    """The terminal's finish reached the server but its answer was lost, and the page could
    not refresh; meanwhile the interview room called B001. The officer presses finish
    again: the terminal sends the same intent's key, so B001 stays called at the
    interview instead of being finished there too."""
    terminal = open_terminal(browser, contexts, live, "1")
    terminal.click("#btn-next")
    terminal.wait_for_function(
        "document.getElementById('current-number').textContent.trim() === 'B001'")
    ticket = officer.current("1")
    finish = f"**/api/v1/tickets/{ticket['id']}/finish*"  # the page adds ?office=
    sent: list[str | None] = []

    def lost_answer(route: Any) -> None:
        sent.append(route.request.headers.get("idempotency-key"))
        route.fetch()  # the server finishes B001 ...
        route.abort()  # ... and the page never hears of it

    terminal.route(finish, lost_answer)
    terminal.route("**/api/v1/counters/1*", lambda route: route.abort())  # no refresh either
    terminal.click("button[data-action=finish]")
    terminal.wait_for_selector("#message.message-error", state="visible")
    assert officer.get(f"/tickets/{ticket['id']}")["ticket"]["station"] == "wawancara"
    interview = officer.post("/counters/W1/next")
    assert interview.json()["ticket"]["number"] == "B001"
    terminal.unroute(finish)
    with terminal.expect_response(finish) as answer:
        terminal.route(finish,
                       lambda route: (sent.append(route.request.headers.get(
                           "idempotency-key")), route.continue_()))
        terminal.click("button[data-action=finish]")
    assert answer.value.status == 200
    assert len(sent) == 2 and sent[0] and sent[0] == sent[1]
    now = officer.get(f"/tickets/{ticket['id']}")["ticket"]
    assert (now["status"], now["station"], now["counter"]) == ("called", "wawancara", "W1")
    terminal.unroute("**/api/v1/counters/1*")


def test_stale_action_is_refused_in_words(browser: Any, contexts: list[Any], live: LiveServer,
                                          officer: Staff) -> None:
    terminal = open_terminal(browser, contexts, live, "1")
    terminal.click("#btn-next")
    terminal.wait_for_function(
        "document.getElementById('current-number').textContent.trim() === 'B001'")
    # The terminal goes deaf (once its refreshes after the call are done), and meanwhile
    # someone else cancels B001.
    terminal.wait_for_timeout(700)
    terminal.evaluate("window.giliranTerminal.socket.disconnect()")
    ticket = officer.current("1")
    assert officer.post(f"/tickets/{ticket['id']}/cancel").status_code == 200
    terminal.click("button[data-action=start]")
    terminal.wait_for_selector("#message.message-error", state="visible")
    assert "B001" in str(terminal.text_content("#message-id"))
    assert "not possible" in str(terminal.text_content("#message-en"))
    # The screen refreshed itself: no ticket at the counter, "next" is possible again.
    terminal.wait_for_function("document.getElementById('current').classList.contains('empty')")
    assert terminal.is_enabled("#btn-next")


def test_screens_whose_access_ended_load_themselves_again(
        browser: Any, contexts: list[Any], live: LiveServer, officer: Staff) -> None:
    """When an account's sessions end or a device is revoked, the server drops their
    sockets, and socket.io-client does not reconnect after that. So the pages load
    themselves again: the terminal and the supervisor's page then ask for a login, and
    the board says it may not show the office. A restart is another matter: the board
    reconnects by itself (test_board_recovers_from_a_server_restart)."""
    board = open_board(browser, contexts, live)
    terminal = open_terminal(browser, contexts, live, "1")
    supervisor = new_page(browser, contexts)
    live.staff("mandor", "pw", "supervisor")
    login(supervisor, live, "mandor", "pw", "/counter/supervisor")
    supervisor.wait_for_function("document.body.dataset.loaded === '1'")
    admin = {"Authorization": f"Bearer {live.staff('kepala', 'pw', 'admin')}"}
    for account in ("petugas", "mandor"):
        ended = requests.patch(f"{live.url}/api/v1/staff/{account}",
                               json={"end_sessions": True}, headers=admin, timeout=5)
        assert ended.status_code == 200, ended.text
    for page in (terminal, supervisor):
        page.wait_for_url("**/login**", timeout=15000)
        assert page.is_visible("input[name=password]")
    # the board, still showing the office meanwhile
    assert board.evaluate("window.giliranBoard.connected")
    revoked = requests.delete(f"{live.url}/api/v1/devices/board-1", headers=admin, timeout=5)
    assert revoked.status_code == 200, revoked.text
    board.wait_for_selector("h1:has-text('Layar ini')", timeout=15000)
    assert "enrolled boards and staff only" in str(board.text_content("main"))


def test_a_dropped_board_waits_for_the_server_before_loading_again(
        browser: Any, contexts: list[Any], live: LiveServer, officer: Staff) -> None:
    """A board on the wall has nobody to press reload: while its page is answered with a
    server error (a proxy's 502 during a restart, say) or not at all, the board keeps
    its own page (and script) and asks again every 5 s, instead of replacing itself with
    an error page for good."""
    board = open_board(browser, contexts, live)
    asked: list[str] = []

    def bad_gateway(route: Any) -> None:
        asked.append(route.request.method)
        route.fulfill(status=502, body="")

    board.route(f"{live.url}/display/DPS", bad_gateway)
    admin = {"Authorization": f"Bearer {live.staff('kepala', 'pw', 'admin')}"}
    revoked = requests.delete(f"{live.url}/api/v1/devices/board-1", headers=admin, timeout=5)
    assert revoked.status_code == 200, revoked.text
    board.wait_for_selector("#mark-offline", state="visible", timeout=3000)
    # Asked after 1.5 s and answered 502, the board asks again 5 s later from the same
    # page: a page that had loaded itself again would have been a 502 itself, and asked
    # nothing more.
    deadline = time.monotonic() + 12
    while len(asked) < 2 and time.monotonic() < deadline:
        board.wait_for_timeout(100)  # lets Playwright answer the routed requests
    assert asked == ["HEAD", "HEAD"]
    assert board.evaluate("typeof window.giliranBoard") == "object"
    board.unroute(f"{live.url}/display/DPS")
    board.wait_for_selector("h1:has-text('Layar ini')", timeout=10000)


def test_a_board_revoked_while_away_says_so_once_back(
        browser: Any, contexts: list[Any], live: LiveServer, officer: Staff) -> None:
    """A board that was away (here: the server down) when it was revoked is refused at
    every reconnection. It asks for its page, and shows that it is no longer enrolled
    instead of the office's last picture."""
    from shared.auth import revoke_device

    board = open_board(browser, contexts, live)
    live.stop()
    board.wait_for_selector("#mark-offline", state="visible", timeout=5000)
    core = live.core()
    try:
        revoke_device(core, "board-1")
    finally:
        core.db.engine.dispose()
    live.start()
    board.wait_for_selector("h1:has-text('Layar ini')", timeout=15000)
