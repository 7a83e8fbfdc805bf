"""Benchmark-only variants of the service, for comparison (never used in production).

naive_app(): the service with change detection switched off, so the compiled cache asks the
database for the current revision on every request (what the service did before).
"""
from __future__ import annotations

from flask import Flask

from service import create_app


def naive_app() -> Flask:
    app = create_app()
    store = app.extensions["neuronhub"].store
    store.change_token = lambda: None  # type: ignore[method-assign]
    return app


# The request hooks other parts of the service install on every request: request id, Prometheus
# counting and timing, the request deadline.
_HOOK_MODULES = ("service.app", "service.api.monitoring", "service.api.deadline")


def without_hooks_app() -> Flask:
    """The service without its per-request hooks (request id, metrics, deadline): NOT shippable, only
    to show what those hooks cost next to the floor."""
    app = create_app()
    for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        for key, functions in registry.items():
            registry[key] = [f for f in functions if getattr(f, "__module__", "") not in _HOOK_MODULES]
    return app


def lean_hooks_app() -> Flask:
    """The service with its per-request hooks replaced by leaner versions doing the same work: the
    same request id, the same Prometheus series (labelled children looked up once per label set),
    the same deadline (the SIGALRM handler installed once; per request only the timer is set and
    cleared). Not the shipped code: it measures what such changes in service/app.py,
    service/api/monitoring.py and service/api/deadline.py would give."""
    import os
    import signal
    import threading
    import time

    from flask import g, request

    from service import metrics
    from service.api import deadline

    app = without_hooks_app()
    config = app.extensions["neuronhub"].config
    seconds = config.request_timeout
    counters: dict = {}
    durations: dict = {}
    valid_id = __import__("re").compile(r"[A-Za-z0-9._:-]{1,128}").fullmatch
    main = threading.main_thread()
    if seconds:
        signal.signal(signal.SIGALRM, deadline._on_alarm)  # once

    def before() -> None:
        g.metrics_started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if valid_id(given) else os.urandom(16).hex()
        if seconds and threading.current_thread() is main:
            deadline._state.deadline = time.monotonic() + seconds
            deadline._state.fired = False
            signal.setitimer(signal.ITIMER_REAL, seconds)

    def after(response):
        if seconds and deadline._state.deadline is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            deadline._state.deadline = None
        response.headers["X-Request-ID"] = g.get("request_id", "")
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        key = (request.method, route, response.status_code)
        child = counters.get(key)
        if child is None:
            child = counters[key] = metrics.http_requests.labels(method=key[0], route=route, status=str(key[2]))
        child.inc()
        timer = durations.get(key[:2])
        if timer is None:
            timer = durations[key[:2]] = metrics.http_request_duration.labels(method=key[0], route=route)
        timer.observe(time.perf_counter() - g.metrics_started)
        return response

    app.before_request_funcs.setdefault(None, []).insert(0, before)
    app.after_request_funcs.setdefault(None, []).append(after)
    return app
