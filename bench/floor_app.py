"""B0, the floor: the smallest Flask-SocketIO app that answers Giliran's benchmark calls.

Each call does one SQLite write and, where Giliran notifies boards or terminals, one emit
to a room; no authentication, no ordering rules, no timeline, no snapshot. With
FLOOR_DATABASE_URL (postgresql://...) the same statements go to PostgreSQL instead, on one
psycopg connection in autocommit: the floor of the PostgreSQL runs on their own stack.
It runs on the same serving model as `giliran serve` (gunicorn, one worker, gevent unless
the benchmark asks for gthread), so Giliran's figures divided by the floor's measure what
Giliran's own work costs on this machine, in the same run.

    FLOOR_DB=/tmp/floor.sqlite3 gunicorn -k gevent -w 1 -b 127.0.0.1:5100 bench.floor_app:app
    FLOOR_DATABASE_URL=postgresql://... gunicorn ... bench.floor_app:app
    FLOOR_DATABASE_URL=... FLOOR_REDIS_URL=redis://... (two processes: the B6 floor)

Calls (the paths and shapes the benchmark clients use against Giliran):
- POST /api/v1/counters/<id>/next        insert a called ticket, emit `called` to the board room
- POST /api/v1/tickets/<id>/start|finish update the ticket, emit `update` to the counter room
- POST /api/v1/checkin {"scan"}          insert the booking's ticket once (201), else 200
- GET  /api/v1/board/<office>            the latest calls (a polling board)
- GET  /api/v1/health
- Socket.IO /display: `join` {"office"} joins the room, answers {"ok": true}, emits `snapshot`
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from typing import Any

from flask import Flask, jsonify, request
from flask_socketio import Namespace, SocketIO, emit, join_room


def _async_mode() -> str:
    monkey = sys.modules.get("gevent.monkey")
    return "gevent" if monkey is not None and monkey.is_module_patched("threading") else "threading"


app = Flask(__name__)
# The keep-alive Giliran serves with ([server] ping_interval_seconds' default, 5 s timeout).
# FLOOR_REDIS_URL: emits go through Redis to every floor process (Flask-SocketIO's message
# queue), as Giliran's events do with GILIRAN_REDIS_URL (the B6 floor).
socketio = SocketIO(app, async_mode=_async_mode(), cors_allowed_origins=[], ping_interval=25,
                    ping_timeout=5, message_queue=os.environ.get("FLOOR_REDIS_URL") or None)
_lock = threading.Lock()  # one connection, one user at a time (a gevent lock under gevent)
_url = os.environ.get("FLOOR_DATABASE_URL", "")
_db: Any
if _url.startswith("postgresql"):
    import psycopg

    _db = psycopg.connect(_url.replace("postgresql+psycopg://", "postgresql://"),
                          autocommit=True)
    _db.execute("CREATE TABLE IF NOT EXISTS tickets (id SERIAL PRIMARY KEY, code TEXT UNIQUE, "
                "status TEXT NOT NULL, counter TEXT)")
    _MARK = "%s"
else:
    _db = sqlite3.connect(os.environ.get("FLOOR_DB", "floor.sqlite3"), isolation_level=None,
                          check_same_thread=False)
    _db.execute("PRAGMA journal_mode=WAL")
    _db.execute("PRAGMA synchronous=NORMAL")
    _db.execute("CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, code TEXT UNIQUE, "
                "status TEXT NOT NULL, counter TEXT)")
    _MARK = "?"


def _write(sql: str, *args: Any) -> Any:
    with _lock:
        return _db.execute(sql.replace("?", _MARK), args).fetchone()


def _read(sql: str, *args: Any) -> list[Any]:
    with _lock:  # one connection: reads take the lock too
        return _db.execute(sql.replace("?", _MARK), args).fetchall()


@app.get("/api/v1/health")
def health() -> Any:
    return jsonify({"db": "ok"})


@app.post("/api/v1/counters/<counter>/next")
def call_next(counter: str) -> Any:
    (ticket_id,) = _write("INSERT INTO tickets (status, counter) VALUES ('called', ?) "
                          "RETURNING id", counter)
    number = f"F{ticket_id:04d}"
    socketio.emit("called", {"version": ticket_id, "number": number, "counter": counter,
                             "recall": False}, namespace="/display", to="DPS")
    return jsonify({"ticket": {"id": ticket_id, "number": number, "status": "called"}})


@app.post("/api/v1/tickets/<int:ticket_id>/<action>")
def act(ticket_id: int, action: str) -> Any:
    status = {"start": "serving", "finish": "done"}.get(action)
    if status is None:
        return jsonify({"error": "unknown action"}), 404
    _write("UPDATE tickets SET status = ? WHERE id = ? RETURNING id", status, ticket_id)
    socketio.emit("update", {"kind": action, "ticket": {"id": ticket_id}}, namespace="/counter",
                  to="DPS")
    return jsonify({"ticket": {"id": ticket_id, "status": status}})


@app.post("/api/v1/checkin")
def check_in() -> Any:
    scan = str((request.get_json(silent=True) or {}).get("scan", ""))
    created = _write("INSERT INTO tickets (code, status) VALUES (?, 'waiting') "
                     "ON CONFLICT (code) DO NOTHING RETURNING id", scan)
    if created is None:
        ((ticket_id,),) = _read("SELECT id FROM tickets WHERE code = ?", scan)
    else:
        (ticket_id,) = created
        socketio.emit("update", {"kind": "checked_in", "ticket": {"id": ticket_id}},
                      namespace="/counter", to="DPS")
    ticket = {"id": ticket_id, "number": f"A{ticket_id:03d}", "status": "waiting"}
    return jsonify({"ticket": ticket, "reprint": created is None}), 201 if created else 200


@app.get("/api/v1/board/<office>")
def board(office: str) -> Any:
    rows = _read("SELECT id, counter FROM tickets WHERE counter IS NOT NULL "
                 "ORDER BY id DESC LIMIT 8")
    called = [{"number": f"F{i:04d}", "counter": c} for i, c in rows]
    return jsonify({"office": office, "now_serving": called[:4], "recent": called})


class Display(Namespace):
    def on_join(self, data: Any) -> dict[str, Any]:
        office = data.get("office") if isinstance(data, dict) else None
        if not isinstance(office, str):
            return {"ok": False}
        join_room(office)
        ((version,),) = _read("SELECT coalesce(max(id), 0) FROM tickets")
        emit("snapshot", {"version": version})
        return {"ok": True}


socketio.on_namespace(Display("/display"))
