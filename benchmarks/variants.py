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
