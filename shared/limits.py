"""Rate limits that hold across processes, and the client's real address.

Flask-Limiter keeps the counters: in Redis when `GILIRAN_REDIS_URL` is set (so every
`giliran serve` / gunicorn process of a deployment shares them), in this process's memory
otherwise. If Redis goes away the limits fall back to memory (per process) until it is
back, so a Redis outage never stops logins or check-ins.

Who a limit counts:
- `POST /login`: the client's address. Behind reverse proxies, `[server] trusted_proxies`
  says how many of them to believe: werkzeug's ProxyFix then takes the address (and the
  scheme and host) from the last that many `X-Forwarded-*` entries. With the default 0 the
  headers are ignored, so a client cannot pick its own bucket by sending them.
- `POST /api/v1/checkin`: the caller, i.e. the kiosk device that scans (or the officer
  whose session or token it is), never anything in the body.

A room may limit a view of its own the same way (`limit_view`, from its `register`): the
display room limits sound checks per office, because each one plays in the whole waiting
room.

A refusal is the usual bilingual 429 (`rate_limited`) with a `Retry-After` header.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.config import Config
from shared.web import current_principal

EXTENSION = "giliran_limits"
#: Seconds a request waits for the limits' Redis before the limits fall back to memory.
STORAGE_TIMEOUT = 0.5


def client_address() -> str:
    """The client's address: the socket peer, or what the trusted proxies say it is."""
    return request.remote_addr or "unknown"


def caller_key() -> str:
    """The authenticated principal (a device or a staff member), else the address."""
    principal = current_principal()
    if principal is None:
        return f"address:{client_address()}"
    return f"{principal.kind}:{principal.name}"


@dataclass
class Limits:
    """The limiter of one application and its per-minute rates (changeable at run time)."""

    limiter: Limiter
    rates: dict[str, int] = field(default_factory=dict)

    def rate(self, name: str) -> Callable[[], str]:
        return lambda: f"{max(1, self.rates[name])}/minute"


@dataclass(frozen=True)
class LimitedView:
    """A view's limit: its rate's name, whom it counts, the methods limited and, if only
    some answers count, which (e.g. only checks that were started)."""

    rate: str
    key: Callable[[], str]
    methods: list[str] | None = None
    counts: Callable[[Response], bool] | None = None


# endpoint -> its limit (rates from [security])
LIMITED: dict[str, LimitedView] = {
    "pages.login": LimitedView("login", client_address, ["POST"]),
    "api.checkin": LimitedView("checkin", caller_key),
}
#: app.extensions key: the limits rooms added to their own views (endpoint -> (limit, rate)).
ROOM_LIMITS = "giliran_room_limits"


def limit_view(app: Flask, endpoint: str, limit: LimitedView, per_minute: int) -> None:
    """Limit a room's own view at a fixed rate; call from the room's register (before
    init_limits)."""
    app.extensions.setdefault(ROOM_LIMITS, {})[endpoint] = (limit, per_minute)


class LazyExpiryMemoryStorage(MemoryStorage):
    """limits' memory storage, expiring old entries inline at most once a second.

    The original starts a `threading.Timer` (a thread, or a greenlet under gevent) on
    nearly every hit to drop expired entries 10 ms later: at a hundred check-ins a second
    that was a thread start per request, the largest single cost of a check-in
    (bench/profile_hot.py). Whether a hit is allowed never depended on that sweep (the
    moving window compares timestamps itself); only memory did, and a sweep a second
    bounds it the same.
    """

    STORAGE_SCHEME = ["giliran-memory"]
    SWEEP_EVERY = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: str) -> None:
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the private timer start
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_EVERY
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def storage_uri() -> str:
    return os.environ.get("GILIRAN_REDIS_URL") or "giliran-memory://"


def init_limits(app: Flask, config: Config) -> Limits:
    """Trust the configured proxies and put the limits on the login and check-in views.

    Call after the blueprints are registered (the views are wrapped) and after Socket.IO
    (so its connections see the real address too).
    """
    if config.trusted_proxies:
        hops = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=hops)
    uri = storage_uri()
    options: dict[str, Any] = {}  # floats: redis-py takes them, the hint says int
    if uri.startswith(("redis://", "rediss://")):
        # A login or a check-in waits this long on a Redis that hangs (the limit then
        # falls back to memory, and Flask-Limiter looks at Redis again now and then, each
        # time waiting as long): a Redis beside the servers answers in a millisecond.
        options = {"socket_timeout": STORAGE_TIMEOUT, "socket_connect_timeout": STORAGE_TIMEOUT}
    limiter = Limiter(
        caller_key, app=app, storage_uri=uri, storage_options=options,
        strategy="moving-window", key_prefix="giliran", headers_enabled=False,
        in_memory_fallback_enabled=True,
    )
    limits = Limits(limiter, {"login": config.security.login_rate_per_minute,
                              "checkin": config.security.checkin_rate_per_minute})
    limited = dict(LIMITED)
    for endpoint, (limit, per_minute) in app.extensions.get(ROOM_LIMITS, {}).items():
        limited[endpoint] = limit
        limits.rates[limit.rate] = per_minute
    # Only the limited views consult the storage; every other request skips the limiter.
    limiter.request_filter(lambda: request.endpoint not in limited)
    for endpoint, limit in limited.items():
        view: Any = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(  # type: ignore[assignment]
            limits.rate(limit.rate), key_func=limit.key, methods=limit.methods,
            scope=limit.rate, deduct_when=limit.counts)(view)

    @app.after_request
    def _retry_after(response: Response) -> Response:
        if response.status_code == 429 and "Retry-After" not in response.headers:
            current = limiter.current_limit
            wait = current.reset_at - time.time() if current is not None else 60
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    app.extensions[EXTENSION] = limits
    return limits
