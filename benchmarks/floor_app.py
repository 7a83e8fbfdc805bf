"""The framework's floor: a bare Flask app that does what every request must do and nothing more.

Each POST parses its JSON body (orjson, as the service does) and answers a JSON document of the same
size as the service's answer to that request (benchmarks/http_load.py fetches the service's answers
first and passes them in NEURONHUB_BENCH_ANSWERS). No validation, no database, no model, no hooks.
Served by the same gunicorn configuration (gunicorn.conf.py) as the service.
"""
from __future__ import annotations

import os
from pathlib import Path

import orjson
from flask import Flask, Response, request


def create_app() -> Flask:
    answers = orjson.loads(Path(os.environ["NEURONHUB_BENCH_ANSWERS"]).read_bytes())
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', mimetype="application/json")

    @app.post("/v1/networks/<name>/<action>")
    def answer(name: str, action: str) -> Response:
        body = orjson.loads(request.get_data())
        if not isinstance(body, dict) or action not in answers:
            return Response(b'{"status":400}', status=400, mimetype="application/problem+json")
        return Response(orjson.dumps(answers[action]), mimetype="application/json")

    return app
