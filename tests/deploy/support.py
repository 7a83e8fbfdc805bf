"""Helpers for the deployment tests; the gunicorn process itself is tests/support/gunicorn.py."""
from __future__ import annotations

from pathlib import Path

import requests

from tests.support.gunicorn import GUNICORN, ROOT, Server, clean_environment, free_port, wait_for

__all__ = ["GUNICORN", "HOOKS_CONFIG", "PAUSE_HEADER", "PROBLEM_JSON", "ROOT", "Server", "assert_problem", "clean_environment",
           "free_port", "neuron", "wait_for"]

HOOKS_CONFIG = str(Path(__file__).with_name("gunicorn_hooks.conf.py"))
PAUSE_HEADER = "X-Test-Pause-Before-Commit"
PROBLEM_JSON = "application/problem+json"


def assert_problem(response: requests.Response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"] == PROBLEM_JSON, response.headers
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:neuronhub:problem:"), body
    if slug is not None:
        assert body["type"] == "urn:neuronhub:problem:" + slug, body
    return body


def neuron(weights: list[float], bias: float = 0.0, activation: str = "identity") -> dict:
    return {"weights": weights, "bias": bias, "activation": activation}
