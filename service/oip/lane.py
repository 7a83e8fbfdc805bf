"""POST /v2/models/<name>/infer in the fast lane (service/api/fastlane.py): the same parse, engine call
and encoding as routes.infer, without Flask's request machinery. Any request the lane would not
answer 200 (a protocol error, a version, a compressed body) goes to routes.py, which words it."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask

from .. import metrics
from ..api import fastlane
from ..api.requests import NAME_REGEX
from . import models
from .tensors import ProtocolError, encode_response, parse_request

ROUTE = "/v2/models/<model>/infer"
HEADER_LENGTH = "Inference-Header-Content-Length"
_PATH = re.compile(rf"/v2/models/({NAME_REGEX.pattern})/infer").fullmatch


def install(app: Flask) -> None:
    max_rows = app.extensions["neuronhub"].config.max_batch_rows

    def answer(name: str, compiled: Any, raw: bytes, environ: dict[str, Any]) -> fastlane.Answer | None:
        try:
            parsed = parse_request(raw, environ.get("HTTP_INFERENCE_HEADER_CONTENT_LENGTH"))
            outputs = models.infer(compiled.model, parsed, max_rows)
        except ProtocolError:
            return None
        return infer_answer(name, compiled.revision, compiled.model, parsed, outputs)

    fastlane.register(app, fastlane.Lane(ROUTE, _PATH, False, answer))


def infer_answer(name: str, revision: int, network: Any, parsed: Any, outputs: Any) -> fastlane.Answer:
    """The 200 answer to an infer request, for the lane and for routes.infer alike."""
    body, header_length = encode_response(name, str(revision), parsed.id, outputs)
    rows = int(parsed.inputs[0].shape[0])

    def count() -> None:
        if network.language is None:
            metrics.count_forward(name, rows)
        else:
            metrics.count_language_request("oip_infer", name)

    if header_length is None:
        return fastlane.Answer(body, "application/json", (), count)
    return fastlane.Answer(body, "application/octet-stream", ((HEADER_LENGTH, str(header_length)),), count)
