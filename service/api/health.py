"""Liveness and readiness."""
from __future__ import annotations

from flask import Blueprint, Response

from .context import services
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
    return json_response({"status": "ready"})
