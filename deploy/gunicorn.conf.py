"""gunicorn settings for one Giliran process: `gunicorn -c deploy/gunicorn.conf.py shared.wsgi:app`.

The settings live in shared/gunicorn_settings.py, which `giliran serve` uses too, so the
demo and production run the same server: one gevent worker per process, no OS thread per
connection. `giliran serve` (the systemd unit's command) is the same as this line.
"""

from shared.gunicorn_settings import *  # noqa: F403
