"""The waiting-room board and its realtime path under an office's edge cases: the
`[announce]` settings reaching the board, boards that reconnect to a server restored from
a backup, and calls that name a counter unambiguously.

The board script (display/static/board.js) runs in Debian's Chromium against a fake
Socket.IO client: the test plays the server's messages and reads what the board shows and
what it hands the announcer.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shared import visits
from shared.app import create_app
from shared.auth import create_device, create_staff, enrol_device
from shared.config import parse_config
from tests.conftest import make_core
from tests.display.test_realtime import TWO_OFFICES, Rooms

STATIC_DIR = Path(__file__).resolve().parents[2] / "display" / "static"


def make_rooms(config_text: str, tmp_path: Path) -> Rooms:
    config = parse_config(config_text, "redteam.toml")
    core = make_core(config, f"sqlite:///{tmp_path / 'redteam.sqlite3'}")
    app = create_app(core=core)
    app.testing = True
    tokens: dict[str, str] = {}
    for office in config.offices:
        _, tokens[f"board-{office}"] = enrol_device(
            core, f"board-{office}", create_device(core, "display", f"board-{office}", office))
    token = create_staff(core, "petugas", "pw", "officer", "DPS", token=True)
    assert token
    tokens["petugas"] = token
    return Rooms(app, core, tokens)


@pytest.fixture
def repeating(tmp_path: Path) -> Iterator[Rooms]:
    server = make_rooms("[announce]\nrepeat = 2\n" + TWO_OFFICES, tmp_path)
    yield server
    server.core.bus.close()
    server.core.db.engine.dispose()


# --- [announce] repeat reaches the board ------------------------------------------------------
def test_called_carries_the_offices_repeat(repeating: Rooms) -> None:
    """An office that sets `[announce] repeat = 2` hears each call twice: the `called`
    event says so (the board hands it to its announcer)."""
    board = repeating.joined("/display", "board-DPS", "DPS")
    ticket = repeating.walk_in()
    visits.call_next(repeating.core, "DPS", "1", "petugas")
    called = [p for name, p in repeating.received(board, "/display") if name == "called"]
    assert len(called) == 1 and called[0]["announce"]
    assert called[0]["repeat"] == 2
    repeating.core.clock.advance(timedelta(seconds=10))  # past the recall cooldown
    visits.act(repeating.core, ticket["id"], "recall", "petugas", ("DPS",))
    recalled = [p for name, p in repeating.received(board, "/display") if name == "called"]
    assert recalled[0]["recall"] is True and recalled[0]["repeat"] == 2


# --- the board script against a fake Socket.IO server ------------------------------------------
PAGE = """<!doctype html>
<html lang="id">
<head><meta charset="utf-8"><title>board</title>
<script type="application/json" id="board-data">__DATA__</script>
<script>
  // The server side of one /display connection, played by the test.
  window.sent = [];
  window.fakeSocket = {
    handlers: {},
    on(name, handler) { this.handlers[name] = handler; },
    emit(name, data, answer) {
      sent.push([name, data]);
      if (name === "join" && answer) answer({ok: true});
    },
    fire(name, payload) { (this.handlers[name] || (() => {}))(payload); },
  };
  window.io = () => window.fakeSocket;
  // The announcer: what the board asks it to speak.
  window.spoken = [];
  window.GiliranAnnouncer = {
    locked: false,
    configure() { return this; },
    enqueue(call) { spoken.push(call); return Promise.resolve(null); },
  };
</script>
</head>
<body>
<div id="board">
  <span id="mark-offline" hidden></span><span id="mark-audio" hidden></span>
  <span id="mark-refused" hidden></span>
  <div id="clock-time"></div><div id="clock-date"></div>
  <div id="hero"><div id="hero-number"></div><div id="hero-counter"></div></div>
  <div id="slot"></div><ul id="serving"></ul><ol id="recent"></ol>
  <table><tbody id="waiting"></tbody></table><div id="ticker-track"></div>
</div>
<script src="/display/static/board.js"></script>
</body>
</html>
"""


def board_snapshot(version: int, serving: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    return {
        "version": version,
        "office": {"id": "DPS", "name": "Denpasar", "timezone": "Asia/Makassar"},
        "now": "2026-12-01T09:00:00+08:00",
        "now_serving": [{"number": number, "counter": counter, "counter_name": f"Loket {counter}",
                         "station": "berkas", "called_at": "2026-12-01T09:00:00"}
                        for number, counter in serving or []],
        "recent": [], "waiting": {"berkas": 0}, "stations": {"berkas": {"id": "Berkas",
                                                                        "en": "Documents"}},
        "serving_slot": None, "info": [],
    }


def board_data() -> dict[str, Any]:
    text = {key: {"id": key, "en": key} for key in ("offline", "audio_locked", "no_call",
                                                    "refused")}
    return {"office": "DPS", "snapshot": board_snapshot(0), "station_order": ["berkas"],
            "text": text, "days_id": ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu",
                                      "Minggu"],
            "months_id": [str(m) for m in range(1, 13)], "app_version": "test"}


def called(version: int, previous: int, number: str, counter: str = "1", *,
           recall: bool = False, repeat: int | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {
        "version": version, "previous": previous, "number": number, "counter": counter,
        "counter_name": f"Loket {counter}", "station": "berkas", "recall": recall,
        "announce": ["/display/static/audio/chime.wav"]}
    if repeat is not None:
        call["repeat"] = repeat
    return call


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("board-site")
    (root / "index.html").write_text(PAGE.replace("__DATA__", json.dumps(board_data())),
                                     encoding="utf-8")
    (root / "display").mkdir()
    os.symlink(STATIC_DIR, root / "display" / "static")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def board(browser: Any, site: str) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10000)
    page.goto(f"{site}/index.html")
    page.wait_for_function("Boolean(window.giliranBoard && window.fakeSocket.handlers.connect)")
    yield page
    context.close()


def serve(page: Any, name: str, payload: Any = None) -> None:
    page.evaluate("([name, payload]) => fakeSocket.fire(name, payload)", [name, payload])


def connect(page: Any, snapshot: dict[str, Any]) -> None:
    """The socket connects, the board joins, the server answers with its snapshot."""
    serve(page, "connect")
    page.wait_for_function("giliranBoard.joined")
    serve(page, "snapshot", snapshot)
    page.wait_for_function("v => giliranBoard.lastVersion === v", arg=snapshot["version"])


def spoken(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("spoken")  # type: ignore[no-any-return]


@pytest.mark.browser
def test_board_speaks_each_call_as_often_as_the_office_says(board: Any) -> None:
    connect(board, board_snapshot(4))
    serve(board, "called", called(5, 4, "B001", repeat=2))
    serve(board, "called", called(6, 5, "B001", recall=True, repeat=2))
    serve(board, "called", called(7, 6, "B002"))  # an older server: the announcer decides
    board.wait_for_function("spoken.length === 3")
    assert [(c["number"], c["recall"], c.get("repeat")) for c in spoken(board)] == [
        ("B001", False, 2), ("B001", True, 2), ("B002", False, None)]


@pytest.mark.browser
def test_a_board_back_on_a_restored_server_speaks_its_calls(board: Any) -> None:
    """The server is restored from a backup taken before calls the board already spoke:
    the versions of those calls come again, as new calls, and must be spoken."""
    connect(board, board_snapshot(10))
    serve(board, "called", called(11, 10, "B011"))
    serve(board, "called", called(12, 11, "B012", counter="2"))
    board.wait_for_function("spoken.length === 2")
    serve(board, "disconnect")
    connect(board, board_snapshot(10))                # the backup's picture
    serve(board, "called", called(11, 10, "C001"))    # a new call with an old version
    serve(board, "called", called(12, 11, "C002", counter="2"))
    board.wait_for_function("document.getElementById('hero-number').textContent === 'C002'")
    board.wait_for_function("spoken.length >= 4")
    assert [c["number"] for c in spoken(board)] == ["B011", "B012", "C001", "C002"]


@pytest.mark.browser
def test_at_the_office_s_midnight_the_board_asks_for_today_s_picture(board: Any) -> None:
    """A TV left on overnight showed yesterday's last calls until the first change of the
    morning (nothing changes in the office at night, so no snapshot came): early arrivals
    read yesterday's numbers as called. At the office's midnight it asks for today's."""
    late = board_snapshot(7, serving=[("B045", "3")])
    late["now"] = "2026-12-01T23:59:58+08:00"
    connect(board, late)
    assert board.evaluate("document.getElementById('hero-number').textContent") == "B045"
    board.wait_for_function("sent.some(([name]) => name === 'snapshot')", timeout=15000)
    morning = board_snapshot(7)  # nothing called yet today; the same version
    morning["now"] = "2026-12-02T00:00:01+08:00"
    serve(board, "snapshot", morning)
    board.wait_for_function("document.getElementById('hero').classList.contains('idle')")
    assert board.evaluate("giliranBoard.dayRequests") == 1
    assert [m for m in board.evaluate("sent") if m[0] == "snapshot"] == [
        ["snapshot", {"office": "DPS"}]]


# --- a call names one counter -------------------------------------------------------------------
CONFIG_TOML = Path(__file__).resolve().parents[2] / "config.toml"


def spoken_calls(config_text: str, source: str) -> dict[tuple[str, str], str]:
    """(counter, station) -> the Indonesian sentence of a call of B012 there."""
    from display.announce.calls import call_announcement, settings_for

    config = parse_config(config_text, source)
    settings = settings_for(config)
    office = config.default_office
    return {(counter.id, station): call_announcement(
                config, settings, "B012", counter.id, station, office.id).announcement.text_id
            for counter in office.counters.values() for station in counter.stations}


def test_two_counters_of_the_demo_office_never_sound_alike() -> None:
    """Counter 3 (a priority desk doing every step) and interview room W3 were both called
    "ruang wawancara 3": an applicant called to counter 3 went to interview room 3."""
    calls = spoken_calls(CONFIG_TOML.read_text(encoding="utf-8"), str(CONFIG_TOML))
    for (counter, _), text in calls.items():
        others = {c for (c, _), t in calls.items() if t == text}
        assert others == {counter}, (text, others)
    assert calls[("3", "wawancara")] == "Nomor antrean B012, silakan menuju loket 3."
    assert calls[("W3", "wawancara")] == "Nomor antrean B012, silakan menuju ruang wawancara 3."
    assert calls[("F1", "foto")] == "Nomor antrean B012, silakan menuju ruang foto 1."


def test_counters_3a_and_3b_are_called_by_their_whole_names() -> None:
    text = TWO_OFFICES.replace('''  [[offices.counters]]
  id = "F1"''', '''  [[offices.counters]]
  id = "3A"
  name = "Loket 3A"
  stations = ["berkas"]

  [[offices.counters]]
  id = "3B"
  name = "Loket 3B"
  stations = ["berkas"]

  [[offices.counters]]
  id = "F1"''')
    calls = spoken_calls(text, "3ab.toml")
    assert calls[("3A", "berkas")] == "Nomor antrean B012, silakan menuju loket 3A."
    assert calls[("3B", "berkas")] == "Nomor antrean B012, silakan menuju loket 3B."
    assert calls[("1", "berkas")] == "Nomor antrean B012, silakan menuju loket 1."
    assert calls[("F1", "foto")] == "Nomor antrean B012, silakan menuju ruang foto 1."


# --- the announce routes follow the live configuration -------------------------------------------
@pytest.fixture
def office(tmp_path: Path) -> Iterator[Rooms]:
    server = make_rooms(TWO_OFFICES, tmp_path)
    token = create_staff(server.core, "kepala", "pw", "admin", None, token=True)
    assert token
    server.tokens["kepala"] = token
    yield server
    server.core.bus.close()
    server.core.db.engine.dispose()


def test_announce_routes_know_a_counter_added_by_the_admin(office: Rooms) -> None:
    """A counter added in the admin console calls at once; the PA system that fetches
    /display/announce.wav for its calls must be able to speak them too."""
    web = office.app.test_client()
    headers = {"Authorization": f"Bearer {office.tokens['kepala']}"}
    added = web.post("/api/v1/offices/DPS/counters", headers=headers,
                     json={"id": "9", "name": "Loket 9", "stations": ["berkas"]})
    assert added.status_code == 201, added.get_json()
    answer = web.get("/display/announce.json?number=B012&counter=9&office=DPS")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["text"]["id"] == "Nomor antrean B012, silakan menuju loket 9."
    wav = web.get("/display/announce.wav?number=B012&counter=9&office=DPS")
    assert wav.status_code == 200 and wav.mimetype == "audio/wav"


def test_whole_calls_are_limited_per_caller(office: Rooms) -> None:
    """announce.wav and .json are public and render each new call on the server: one
    caller gets a PA system's share a minute of each, then 429 with Retry-After; other
    callers go on."""
    from display.room import ANNOUNCEMENTS_PER_MINUTE

    web = office.app.test_client()
    anonymous = {"REMOTE_ADDR": "192.0.2.7"}
    for kind in ("wav", "json"):
        for index in range(ANNOUNCEMENTS_PER_MINUTE):
            answer = web.get(f"/display/announce.{kind}?number=B{index:03d}&counter=1",
                             environ_base=anonymous)
            assert answer.status_code == 200, (kind, index, answer.status_code)
        refused = web.get(f"/display/announce.{kind}?number=B999&counter=1",
                          environ_base=anonymous)
        assert refused.status_code == 429 and refused.headers.get("Retry-After"), kind
        refusal = refused.get_json()["error"]  # JSON, as the routes' other errors
        assert refusal["code"] == "rate_limited" and "Terlalu banyak" in refusal["message"]["id"]
    other = web.get("/display/announce.wav?number=B999&counter=1",
                    environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert other.status_code == 200
