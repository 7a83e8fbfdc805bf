"""Liveness and readiness."""
from __future__ import annotations

from flask import Blueprint, Response

from .context import services
from .training import live_workers
from .problems import Problem
from .responses import json_response

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    store = services().store
    store.ensure_schema()  # idempotent; makes a service that started while the database was down ready
    if not store.ping():
        raise Problem(503, "not-ready", "Service Unavailable", "the database does not answer", headers={"Retry-After": "1"})
    # training workers are not needed to serve: none is not "not ready", but it is worth a look
    return json_response({"status": "ready", "workers": live_workers()})
