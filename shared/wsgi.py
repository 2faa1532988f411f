"""The WSGI entry point for production: `giliran serve`, which is
`gunicorn -c python:shared.gunicorn_settings shared.wsgi:app` (deploy/gunicorn.conf.py).

One gunicorn gevent worker per process: gevent monkey-patches the standard library before
this module is imported, so Flask-SocketIO runs in its gevent mode (shared/green.py) and a
board's websocket is a greenlet, not OS threads. Socket.IO keeps each board in the
worker's memory, hence one worker. To serve more boards or survive a process crash, run
several such processes behind nginx with sticky sessions and set `GILIRAN_REDIS_URL`, so
every process sees every event.

Importing this module applies the database migrations once (PostgreSQL: under an advisory
lock, so processes starting together do not race), makes sure the configured offices
exist, and starts printers and serial devices unless `GILIRAN_HARDWARE=0`.
"""

from __future__ import annotations

import gc
import logging
import os

from flask import Flask

from shared.app import create_app, load_config
from shared.core import Core
from shared.migrate import migrate

log = logging.getLogger("giliran.wsgi")


def build_app() -> Flask:
    """The production application: migrated database, hardware started."""
    logging.basicConfig(level=os.environ.get("GILIRAN_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    core = Core(load_config())
    if os.environ.get("GILIRAN_MIGRATE", "1") != "0":
        migrate(core)
    else:
        core.ensure_offices()
    hardware = os.environ.get("GILIRAN_HARDWARE", "1") != "0"
    flask_app = create_app(core=core, start_hardware=hardware)
    # Everything built so far (modules, the application, SQLAlchemy's mappers) lives as
    # long as the process: keep it out of the collector's full passes, which otherwise
    # walk it all and stopped the worker for about 100 ms now and then (a board call
    # waited that long; docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    log.info("giliran ready (database %s, redis %s, hardware %s)",
             core.db.engine.dialect.name,
             "on" if os.environ.get("GILIRAN_REDIS_URL") else "off",
             "on" if hardware else "off")
    return flask_app


app = build_app()
