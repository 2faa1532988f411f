"""display/static/announcer.js in Debian's Chromium: calls spoken in order, never overlapping.

A tiny page (written to a temporary folder next to a link to display/static) is served by
Python's http.server on 127.0.0.1 and loaded in headless Chromium through Playwright.
Headless Chromium plays audio to a muted sink, so the AudioContext clock runs in real time
and the log shows real durations.
"""

from __future__ import annotations

import functools
import os
import threading
import wave
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from display.announce.clips import SHIPPED_CLIPS_DIR, announce_urls
from display.announce.phrases import build_announcement

pytestmark = pytest.mark.browser

STATIC_DIR = Path(__file__).resolve().parents[2] / "display" / "static"
PAGE = """<!doctype html>
<html lang="id">
<head><meta charset="utf-8"><title>Giliran announcer</title></head>
<body>
<p id="lock">?</p>
<script src="/display/static/announcer.js"></script>
<script>
  window.events = [];
  for (const name of ["announce-start", "announce-end", "announce-lock"]) {
    window.addEventListener(name, (event) => {
      const detail = event.detail;
      events.push([name, name === "announce-lock" ? detail.locked : detail.number]);
    });
  }
  window.lockChanges = [];
  GiliranAnnouncer.onLockChange = (locked) => {
    lockChanges.push(locked);
    document.getElementById("lock").textContent = locked ? "locked" : "unlocked";
  };
  // Resolves when the announcer is idle, fails after `ms`.
  window.idleWithin = (ms) => Promise.race([
    GiliranAnnouncer.idle(),
    new Promise((_, reject) => setTimeout(() => reject(new Error("not idle")), ms)),
  ]);
</script>
</body>
</html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("announcer-site")
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    (root / "display").mkdir()
    os.symlink(STATIC_DIR, root / "display" / "static")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(f"{site}/index.html")
    opened.wait_for_function("window.GiliranAnnouncer !== undefined")
    yield opened
    context.close()


def seconds(url: str) -> float:
    path = SHIPPED_CLIPS_DIR / url.removeprefix("/display/static/audio/")
    with wave.open(str(path)) as clip:
        return clip.getnframes() / clip.getframerate()


def call(number: str, counter: str, recall: bool = False) -> dict[str, Any]:
    tokens = build_announcement(number, counter, english=False).tokens
    return {"number": number, "urls": announce_urls(tokens), "recall": recall}


def short_call(number: str, recall: bool = False) -> dict[str, Any]:
    return {"number": number, "urls": announce_urls(["id/satu", "id/dua"]), "recall": recall}


def test_a_burst_of_calls_is_spoken_in_order_without_overlap(page: Any) -> None:
    calls = [call("B012", "3"), call("B013", "W2"), call("P001", "1")]
    log = page.evaluate(
        """async (calls) => {
            for (const c of calls) GiliranAnnouncer.enqueue(c);
            await idleWithin(60000);
            return GiliranAnnouncer.log;
        }""",
        calls,
    )
    assert [entry["number"] for entry in log] == ["B012", "B013", "P001"]
    for entry, sent in zip(log, calls, strict=True):
        expected = sum(seconds(url) for url in sent["urls"])
        played = (entry["ended_at"] - entry["started_at"]) / 1000
        # Gapless: as long as its clips together, plus scheduling lead and "ended" latency.
        assert expected - 0.05 <= played <= expected + 0.8, (entry, expected)
        assert entry["clips"] == len(sent["urls"])
    for before, after in zip(log, log[1:], strict=False):
        assert after["started_at"] >= before["ended_at"]
    assert page.evaluate("events.filter(e => e[0] !== 'announce-lock')") == [
        ["announce-start", "B012"], ["announce-end", "B012"],
        ["announce-start", "B013"], ["announce-end", "B013"],
        ["announce-start", "P001"], ["announce-end", "P001"],
    ]
    assert page.evaluate("GiliranAnnouncer.locked") is False
    assert page.evaluate("lockChanges") == [False]


def test_a_duplicate_call_is_merged_and_a_recall_repeats(page: Any) -> None:
    log = page.evaluate(
        """async ([first, again, recall]) => {
            GiliranAnnouncer.configure({repeat: 1, recallRepeat: 2, repeatGapSeconds: 0.3});
            GiliranAnnouncer.enqueue(first);
            GiliranAnnouncer.enqueue(again);
            GiliranAnnouncer.enqueue(recall);
            await idleWithin(30000);
            return GiliranAnnouncer.log;
        }""",
        [short_call("A001"), short_call("A001"), short_call("A001", recall=True)],
    )
    assert [(entry["number"], entry["recall"], entry["repeat"]) for entry in log] == [
        ("A001", False, 1),
        ("A001", True, 2),
    ]
    once = sum(seconds(url) for url in short_call("A001")["urls"])
    played = (log[1]["ended_at"] - log[1]["started_at"]) / 1000
    assert 2 * once + 0.3 - 0.05 <= played <= 2 * once + 0.3 + 0.8


def test_locked_audio_waits_for_a_click(page: Any) -> None:
    # Headless Chromium never locks audio, so suspend the context as a browser would.
    page.evaluate("GiliranAnnouncer._ctx.suspend()")
    page.wait_for_function("GiliranAnnouncer.locked === true")
    page.wait_for_function("document.getElementById('lock').textContent === 'locked'")
    page.evaluate("(c) => { GiliranAnnouncer.enqueue(c); }", short_call("B020"))
    page.wait_for_timeout(800)
    assert page.evaluate("GiliranAnnouncer.log.length") == 0
    assert page.evaluate("GiliranAnnouncer.pending") == 1

    page.mouse.click(10, 10)
    log = page.evaluate("idleWithin(15000).then(() => GiliranAnnouncer.log)")
    assert [entry["number"] for entry in log] == ["B020"]
    assert page.evaluate("lockChanges") == [False, True, False]
    assert page.inner_text("#lock") == "unlocked"


def test_calls_that_waited_too_long_while_locked_are_dropped(page: Any) -> None:
    page.evaluate("GiliranAnnouncer.configure({maxAgeMs: 200}); GiliranAnnouncer._ctx.suspend()")
    page.wait_for_function("GiliranAnnouncer.locked === true")
    page.evaluate("(c) => { GiliranAnnouncer.enqueue(c); }", short_call("B021"))
    page.wait_for_timeout(500)
    page.mouse.click(10, 10)
    page.evaluate("idleWithin(15000)")
    assert page.evaluate("GiliranAnnouncer.log.length") == 0
    dropped = page.evaluate("GiliranAnnouncer.dropped")
    assert [(item["number"], item["reason"]) for item in dropped] == [("B021", "stale")]


def test_a_missing_clip_is_skipped_not_fatal(page: Any) -> None:
    broken = {
        "number": "B030",
        "urls": ["/display/static/audio/id/satu.wav", "/display/static/audio/id/nope.wav"],
    }
    log = page.evaluate(
        "async (c) => { await GiliranAnnouncer.enqueue(c); return GiliranAnnouncer.log; }", broken
    )
    assert [(entry["number"], entry["clips"]) for entry in log] == [("B030", 1)]
