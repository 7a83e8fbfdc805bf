"""GET /metrics (Prometheus text format) and the per-request counters behind it."""
from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, g, request

from .. import metrics
from ..jobs import worker_liveness_seconds
from .context import services

bp = Blueprint("monitoring", __name__)

UNMATCHED_ROUTE = "<unmatched>"  # any path no route matches: one series, not one per probed path
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})  # any other: "other"


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    store, config = services().store, services().config
    jobs = metrics.JobsCollector(store, worker_liveness_seconds(config.job_lease_seconds))
    body, content_type = metrics.exposition(request.headers.get("Accept"), (jobs,))
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def install(app: Flask) -> None:
    """Count every answered request by route template and status, and time it.

    Register before the hooks that may answer early (auth, rate limit), so their 401s and 429s are
    counted and timed too.
    """

    @app.before_request
    def _start_clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
        method = request.method if request.method in _METHODS else "other"
        started = g.get("metrics_started")
        metrics.count_request(method, route, response.status_code, None if started is None else time.perf_counter() - started)
        return response

    app.register_blueprint(bp)
