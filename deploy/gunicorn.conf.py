"""gunicorn settings for one Giliran process: `gunicorn -c deploy/gunicorn.conf.py shared.wsgi:app`.

One worker, many threads: Flask-SocketIO's threading mode keeps websockets in the worker
that accepted them. Each connected board or staff terminal holds one thread for as long
as it is connected, so `GILIRAN_THREADS` must exceed boards + terminals + the requests
that may be in flight at once (kiosks, counters pressing next). Scale out with more
processes (each its own port) behind nginx `ip_hash`, with GILIRAN_REDIS_URL set.
"""

import os

bind = os.environ.get("GILIRAN_BIND", "127.0.0.1:5000")
workers = 1                      # never more: Socket.IO state lives in the worker
worker_class = "gthread"
threads = int(os.environ.get("GILIRAN_THREADS", "100"))
# gthread's main loop heartbeats by itself, so long-lived websockets do not trip this.
timeout = 30
graceful_timeout = 10
keepalive = 5
# nginx passes the client's address; trust it only from the local proxy.
forwarded_allow_ips = os.environ.get("GILIRAN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GILIRAN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GILIRAN_LOG_LEVEL", "info").lower()
# The app (migrations, hardware threads) is built in the worker, not in the arbiter.
preload_app = False


def on_starting(server: object) -> None:
    """Check config.toml and the signing keys before any worker starts: a bad key, or a
    signing key that is missing, short or shipped with Giliran, stops gunicorn with a
    message naming it and exit status 2 (as `giliran serve` does)."""
    import sys

    from shared.config import ConfigError, check_secrets, load_config

    try:
        check_secrets(load_config())
    except ConfigError as exc:
        print(exc, file=sys.stderr, flush=True)
        sys.exit(2)
