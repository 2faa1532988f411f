"""gunicorn settings for one Giliran process, used by `giliran serve` and by systemd.

`giliran serve` runs `gunicorn -c python:shared.gunicorn_settings shared.wsgi:app`;
deploy/gunicorn.conf.py only re-exports this module, so a demo and production run the
same server with the same settings.

One worker, gevent: gunicorn's gevent worker monkey-patches the standard library before
it imports the application, so every connection is a greenlet, not an OS thread. A board's
websocket costs a few kilobytes and no thread; the office's writer does not compete with
hundreds of threads for the GIL. Socket.IO state (rooms, sessions) lives in the worker,
hence exactly one worker per process; scale out with more processes behind nginx
`ip_hash` and GILIRAN_REDIS_URL (docs/deployment.md).

Environment:
- GILIRAN_BIND: host:port (default 127.0.0.1:5000; `giliran serve` sets it from
  --host/--port or config.toml [server]);
- GILIRAN_CONNECTIONS: most connections served at once (boards, terminals, kiosks and
  requests in flight; default 2000);
- GILIRAN_WORKER_CLASS: `gevent` (default). `gthread` (with GILIRAN_THREADS) serves the
  same app in threading mode, kept only to compare the two (docs/benchmarks.md).
"""

import os

bind = os.environ.get("GILIRAN_BIND", "127.0.0.1:5000")
workers = 1                      # never more: Socket.IO state lives in the worker
worker_class = os.environ.get("GILIRAN_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("GILIRAN_CONNECTIONS", "2000"))
threads = int(os.environ.get("GILIRAN_THREADS", "100"))   # gthread only
# The arbiter kills a worker whose hub did not answer for this long (nothing should block
# the hub for more than a fraction of a second; see shared/green.py).
timeout = 30
# Boards and terminals reconnect by themselves: on stop, give requests in flight a moment,
# not open websockets the whole default of 30 s.
graceful_timeout = 3
keepalive = 5
# nginx passes the client's address; trust it only from the local proxy.
forwarded_allow_ips = os.environ.get("GILIRAN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GILIRAN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GILIRAN_LOG_LEVEL", "info").lower()
# The app (migrations, hardware, event threads) is built in the worker after gevent's
# monkey-patching, never in the arbiter.
preload_app = False
# No gunicornc control socket: one shared default path would clash between instances.
control_socket_disable = True


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
