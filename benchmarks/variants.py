"""Benchmark-only variants of the service, for comparison (never used in production).

naive_app(): the service with change detection switched off, so the compiled cache asks the
database for the current revision on every request (what the service did before).
flask_path_app(): the service without its fast lane.
"""
from __future__ import annotations

from flask import Flask

from service import create_app


def naive_app() -> Flask:
    app = create_app()
    store = app.extensions["neuronhub"].store
    store.change_token = lambda: None  # type: ignore[method-assign]
    return app


def flask_path_app() -> Flask:
    """The service without its fast lane (service/api/fastlane.py): every request through Flask's
    routing and request hooks, as before the lane existed. Answers are the same, byte for byte."""
    app = create_app()
    app.wsgi_app = app.wsgi_app.next_app  # type: ignore[attr-defined]
    return app
