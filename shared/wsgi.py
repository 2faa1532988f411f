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
import sys

from alembic.util import CommandError
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from shared.app import create_app, load_config
from shared.core import Core
from shared.db import database_problem
from shared.migrate import migrate

log = logging.getLogger("giliran.wsgi")

#: gunicorn's exit status for a worker that could not start (its arbiter then stops too).
WORKER_BOOT_ERROR = 3


def build_app() -> Flask:
    """The production application: migrated database, hardware started."""
    logging.basicConfig(level=os.environ.get("GILIRAN_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    core = Core(load_config())
    try:
        if os.environ.get("GILIRAN_MIGRATE", "1") != "0":
            migrate(core)
        else:
            core.ensure_offices()
    except (SQLAlchemyError, CommandError) as exc:
        # Unreachable, not a database, or written by a newer Giliran: one line, not a
        # worker's traceback. gunicorn then stops with "Worker failed to boot" (status 3),
        # which systemd retries (deploy/giliran.service): the database may come up.
        print("giliran: {} / {}".format(*database_problem(exc)), file=sys.stderr, flush=True)
        sys.exit(WORKER_BOOT_ERROR)
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
