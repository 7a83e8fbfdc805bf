"""Rate limiting per API key or client address (NEURONHUB_RATE_LIMIT, like 600/minute; off when empty).

A token bucket per client: it holds at most N tokens (the burst), refills at N per period, and each
request takes one; an empty bucket answers 429 problem+json with Retry-After, the whole seconds until
the next token. The client is the API key (g.principal, set by auth) or else the client address
(the X-Forwarded-For hop NEURONHUB_TRUSTED_PROXIES trusts, or the peer address).

The buckets live in each worker process, so the limit is per process: with W gunicorn workers on R
replicas a client can get up to W x R x N requests per period when its requests spread over all of
them (typically close to N x the processes it reaches). Set N as the budget of one process. At most
MAX_CLIENTS buckets are kept per process; the least recently seen ones are dropped first (a dropped
client starts again with a full bucket). Probes and /metrics are never limited.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from flask import Flask, g, request

from ..config import Config
from .auth import is_open_path
from .problems import Problem

MAX_CLIENTS = 10_000
_EXTENSION = "neuronhub.ratelimit"
# Set in the WSGI environ by a path that has already taken this request's token (service/api/fastlane.py).
TOKEN_TAKEN = "neuronhub.rate_limit_token_taken"


class TokenBuckets:
    def __init__(self, capacity: int, period_seconds: float, max_clients: int = MAX_CLIENTS) -> None:
        self.capacity = capacity
        self.refill_per_second = capacity / period_seconds
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, updated)
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """Take one token; 0.0 when granted, otherwise the seconds until a token is there."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, updated = self._buckets.pop(client, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - updated) * self.refill_per_second)
            granted = tokens >= 1.0
            if granted:
                tokens -= 1.0
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return 0.0 if granted else (1.0 - tokens) / self.refill_per_second


def client_of(principal: str | None, remote_addr: str | None) -> str:
    """The bucket a request draws from: its key holder, else its address."""
    return principal or "addr:" + (remote_addr or "unknown")


def buckets_of(app: Flask) -> TokenBuckets | None:
    """The app's buckets, None when there is no limit."""
    return app.extensions.get(_EXTENSION)


def install(app: Flask, config: Config) -> None:
    rate = config.rate
    if rate is None:
        return
    count, period = rate
    buckets = app.extensions[_EXTENSION] = TokenBuckets(count, period)
    unit = {1: "second", 60: "minute", 3600: "hour"}[period]

    @app.before_request
    def _limit() -> None:
        if is_open_path(request.path) or request.environ.get(TOKEN_TAKEN):
            return
        wait = buckets.take(client_of(g.get("principal"), request.remote_addr))
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise Problem(
                429, "too-many-requests", "Too Many Requests",
                f"more than {count} requests per {unit} from this client (NEURONHUB_RATE_LIMIT); retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
