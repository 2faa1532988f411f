"""Hold many idle, authenticated board connections to a server (B5: 1,000 boards).

    python bench/idle_boards.py URL TOKENS.json

One process, one greenlet per board (gevent): each opens a websocket with its own bearer
token, connects to the /display namespace (the server authenticates it there) and then
only answers the server's pings; it joins no room, so it receives no office events. Prints
`ready <connected> <refused>` once every board is connected or refused, and `closed
<dropped>` (boards the server disconnected meanwhile) when a line arrives on stdin.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402
import gevent.os  # noqa: E402
import websocket  # noqa: E402


def hold(url: str, token: str, state: dict[str, int], stop: gevent.event.Event) -> None:
    ws_url = url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
    try:
        sock = websocket.create_connection(ws_url, header=[f"Authorization: Bearer {token}"],
                                           timeout=30, skip_utf8_validation=True)
        sock.recv()                      # Engine.IO open
        sock.send("40/display,")
        answer = str(sock.recv())
        if not answer.startswith("40/display,"):
            state["refused"] += 1
            sock.close()
            return
        state["connected"] += 1
    except Exception:
        state["refused"] += 1
        return
    sock.settimeout(1.0)
    try:
        while not stop.is_set():
            try:
                message = str(sock.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if message == "2":
                sock.send("3")
            elif not message or message.startswith("41"):
                state["dropped"] += 1
                return
    except Exception:
        if not stop.is_set():
            state["dropped"] += 1
    finally:
        sock.close()


def main(url: str, tokens_file: str) -> None:
    tokens = json.loads(Path(tokens_file).read_text())
    state = {"connected": 0, "refused": 0, "dropped": 0}
    stop = gevent.event.Event()
    boards = []
    for token in tokens:
        boards.append(gevent.spawn(hold, url, token, state, stop))
        gevent.sleep(0.002)              # a board room powering up, not a thundering herd
    while state["connected"] + state["refused"] < len(tokens):
        gevent.sleep(0.05)
    print(f"ready {state['connected']} {state['refused']}", flush=True)
    gevent.os.tp_read(sys.stdin.fileno(), 1)  # wait without blocking the hub
    stop.set()
    gevent.joinall(boards, timeout=5)
    print(f"closed {state['dropped']}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
