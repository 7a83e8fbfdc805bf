"""The HTTP side of the Open Inference Protocol v2, under /v2: thin routes over models.py and tensors.py.

Errors on /v2 paths keep the protocol's envelope, {"error": "..."} (what tritonclient reads into an
InferenceServerException): the app's error handling renders every Problem raised here, by auth, the
rate limiter, the deadline or werkzeug (404, 405, 413) in it (problems.register_error_renderer). The
protocol's validation errors are 400; the native API's 422 becomes 400 here.
"""
from __future__ import annotations

import zlib
from importlib.metadata import version as package_version
from typing import Any

from flask import Blueprint, Flask, Response, request

from .. import catalog
from ..api.auth import evaluation
from ..api.context import services
from ..api.jsonio import InvalidJSON, dumps, parse_json
from ..api.problems import Problem, register_error_renderer
from ..api.requests import NAME_REGEX, raw_body
from ..catalog import CompiledNetwork
from . import lane, models
from .tensors import ProtocolError, parse_request

PREFIX = "/v2"
EXTENSIONS = ["binary_tensor_data", "classification"]
_INDEX_PAGE = 500

bp = Blueprint("oip", __name__, url_prefix=PREFIX)


def install(app: Flask) -> None:
    """Routes, error envelope and fast lane; call before fastlane.install."""
    app.register_blueprint(bp)
    register_error_renderer(app, lambda path: path == PREFIX or path.startswith(PREFIX + "/"), _error_response)
    lane.install(app)


def _error_response(problem: Problem) -> Response:
    status = 400 if problem.status == 422 else problem.status
    response = Response(dumps({"error": problem.detail}), status=status, mimetype="application/json")
    response.headers.update(problem.headers)
    return response


def _json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status=status, mimetype="application/json")


def _error(message: str, status: int = 400) -> Problem:
    return Problem(status, "bad-request" if status == 400 else "not-found", "Open Inference Protocol error", message)


def _model(name: str, version: str | None = None) -> tuple[int, CompiledNetwork]:
    compiled = services().cache.get(catalog.NETWORK, name, catalog.compile_network) if NAME_REGEX.fullmatch(name) else None
    if compiled is None:
        raise _error(f"unknown model {name!r}: no network of that name is stored", 404)
    if version is not None and version != str(compiled.revision):
        raise _error(f"model {name!r} has no version {version!r}; its current version is {compiled.revision} (its revision)", 404)
    return compiled.revision, compiled.model


@bp.get("")
def server_metadata() -> Response:
    return _json({"name": "neuronhub", "version": package_version("neuronhub-service"), "extensions": EXTENSIONS})


@bp.get("/health/live")
def live() -> Response:
    return _json({"live": True})


@bp.get("/health/ready")
def ready() -> Response:
    store = services().store
    store.ensure_schema()  # as /readyz: a service that started while the database was down becomes ready
    if not store.ping():
        raise Problem(503, "not-ready", "Service Unavailable", "not ready: the database does not answer", headers={"Retry-After": "1"})
    return _json({"ready": True})


@bp.get("/models/<model>")
@bp.get("/models/<model>/versions/<version>")
def model_metadata(model: str, version: str | None = None) -> Response:
    revision, compiled = _model(model, version)
    return _json(models.metadata(model, revision, compiled))


@bp.get("/models/<model>/ready")
@bp.get("/models/<model>/versions/<version>/ready")
def model_ready(model: str, version: str | None = None) -> Response:
    _model(model, version)
    return _json({"name": model, "ready": True})


@bp.get("/models/<model>/config")
@bp.get("/models/<model>/versions/<version>/config")
def model_config(model: str, version: str | None = None) -> Response:
    revision, compiled = _model(model, version)
    record = services().store.get(catalog.NETWORK, model)  # the spec; the cache holds the compiled network only
    if record is None or record.revision != revision:
        raise _error(f"model {model!r} changed while its config was read; ask again", 404 if record is None else 400)
    return _json(models.config(model, revision, record.spec, compiled, services().config.max_batch_rows))


@bp.post("/models/<model>/infer")
@bp.post("/models/<model>/versions/<version>/infer")
@evaluation
def infer(model: str, version: str | None = None) -> Response:
    name = model
    revision, compiled = _model(name, version)
    try:
        parsed = parse_request(_request_body(), request.headers.get(lane.HEADER_LENGTH))
        outputs = models.infer(compiled, parsed, services().config.max_batch_rows)
    except ProtocolError as exc:
        raise _error(exc.message, exc.status) from None
    answer = lane.infer_answer(name, revision, compiled, parsed, outputs)
    answer.count()
    return Response(answer.body, mimetype=answer.content_type, headers=dict(answer.headers))


def _request_body() -> bytes:
    """The body, decompressed when Content-Encoding is gzip or deflate (tritonclient's
    request_compression_algorithm); the decompressed body too must be within NEURONHUB_MAX_BODY_BYTES."""
    raw = raw_body()
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding not in _DECOMPRESSORS:
        raise _error(f"Content-Encoding {encoding!r} is not supported here; expected gzip, deflate or none")
    limit = services().config.max_body_bytes
    decompressor = zlib.decompressobj(_DECOMPRESSORS[encoding])
    try:
        body = decompressor.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise _error(f"the body is not valid {encoding} data: {exc}") from None
    if len(body) > limit or decompressor.unconsumed_tail:
        raise Problem(413, "payload-too-large", "Request Entity Too Large",
                      f"the decompressed body is larger than {limit} bytes (NEURONHUB_MAX_BODY_BYTES)")
    if not decompressor.eof:
        raise _error(f"the body is not valid {encoding} data: it ends before the compressed stream does")
    return body


_DECOMPRESSORS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}  # deflate: the zlib format, as HTTP means it


@bp.post("/repository/index")
@evaluation
def repository_index() -> Response:
    raw = raw_body()
    if raw.strip():  # {"ready": bool} asks for ready models only: every stored network is ready, the list is the same
        try:
            document = parse_json(raw)
        except InvalidJSON as exc:
            raise _error(f"the repository index request is not valid JSON: {exc}") from None
        if type(document) is not dict or set(document) - {"ready"} or type(document.get("ready", False)) is not bool:
            raise _error("expected an empty body or {\"ready\": true|false}")
    store = services().store
    index: list[dict[str, Any]] = []
    after = None
    while True:
        page = store.list(catalog.NETWORK, limit=_INDEX_PAGE, after=after)
        index.extend({"name": s.name, "version": str(s.revision), "state": "READY", "reason": ""} for s in page)
        if len(page) < _INDEX_PAGE:
            break
        after = page[-1].name
    return _json(index)
