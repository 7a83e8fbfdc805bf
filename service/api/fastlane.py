"""The fast lane: a forward pass answered without Flask's request machinery.

A forward pass through a small network costs the engine about 20 µs; Flask's request context,
routing through some thirty routes and the request hooks cost several times that
(docs/benchmarks.md). This WSGI middleware answers the common case itself:

    POST /v1/networks/<name>/forward, Content-Type: application/json, a Content-Length body of the
    plain form {"inputs": [...]} or {"inputs": [...], "trace": bool}, a stored network, an answer 200

doing for it what the hooks do: the request id, the API key check, the rate limit, the deadline and
the Prometheus counts; and, registered by the Open Inference Protocol (service/oip/lane.py),

    POST /v2/models/<name>/infer with a Content-Length body the protocol's code answers 200

Every other request goes to the Flask app untouched. A request the lane has
begun but would not answer 200 (malformed JSON, inputs the schema must word, a missing network, too
many rows, an engine error, a refused key, an empty bucket) is handed to the Flask app with its
body, so every error is still worded by the one place that words errors (problems.py); an exception
it meets (a database error) is raised again inside Flask, after Flask's hooks, and answered by the
app's error handlers. The lane has no error answers of its own except the deadline's 503. It works in
Flask's order (key, rate limit, network, then the body), a rate-limit token it took is not taken
again, and a request it hands over keeps the deadline it had. tests/api/test_fastlane.py checks that
both paths answer alike, byte for byte.
"""
from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal

from flask import Flask, request

from .. import catalog, metrics
from ..engine.errors import EngineError
from . import deadline
from .auth import key_from_headers, key_ring, principal
from .evaluation import forward_answer, quick_forward_body
from .jsonio import InvalidJSON, dumps, parse_json
from .problems import PROBLEM_JSON, problem_document
from .ratelimit import TOKEN_TAKEN, buckets_of, client_of
from .request_ids import request_id
from .requests import NAME_REGEX

ROUTE = "/v1/networks/<name>/forward"  # the route template the Prometheus series are labelled with
_PATH = re.compile(rf"/v1/networks/({NAME_REGEX.pattern})/forward").fullmatch

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


RAISED = "neuronhub.fastlane.raised"  # an exception the lane met, for the Flask app to answer
_LANES = "neuronhub.fastlane.lanes"


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]
    count: Callable[[], None]  # the route's own Prometheus counts (forward passes, predictions)


@dataclass(frozen=True)
class Lane:
    """Another route the lane answers: `path` matches it (group 1: the network's name), `route` labels
    its Prometheus series, `json_only` limits it to application/json bodies, and `answer(name,
    compiled, body, environ)` gives the 200 answer, or None to hand the request to Flask."""

    route: str
    path: Callable[[str], re.Match[str] | None]
    json_only: bool
    answer: Callable[[str, Any, bytes, dict[str, Any]], Answer | None]


def register(app: Flask, lane: Lane) -> None:
    """Add a route to the lane; call before install()."""
    app.extensions.setdefault(_LANES, []).append(lane)


def install(app: Flask) -> None:
    """Put the lane in front of the app. Call after every other request hook is registered: the hook
    here re-raises, inside Flask, an exception the lane met (a database error, say), so that the
    app's own error handlers answer it once its other hooks (deadline included) have run."""

    @app.before_request
    def raise_from_lane() -> None:
        raised = request.environ.pop(RAISED, None)
        if raised is not None:
            raise raised

    app.wsgi_app = FastLane(app, app.wsgi_app)  # type: ignore[method-assign]


def _forward(name: str, compiled: Any, raw: bytes, environ: dict[str, Any], max_rows: int) -> Answer | None:
    try:
        quick = quick_forward_body(parse_json(raw))
    except InvalidJSON:
        return None
    if quick is None:
        return None
    inputs, batched, traced = quick
    if inputs.shape[0] > max_rows:
        return None
    try:
        body = forward_answer(name, compiled.revision, compiled.model.network, inputs, batched, traced)
    except EngineError:
        return None
    rows = inputs.shape[0]
    return Answer(dumps(body), "application/json", (), lambda: metrics.count_forward(name, rows))


class _Attempt:
    """What the lane did before it handed a request over: the body it read, the token it took."""
    __slots__ = ("raw", "token_taken")

    def __init__(self) -> None:
        self.raw: bytes | None = None  # None: the body is still unread in wsgi.input
        self.token_taken = False


class FastLane:
    def __init__(self, app: Flask, next_app: WSGIApp) -> None:
        services = app.extensions["neuronhub"]
        config = services.config
        self.next_app = next_app
        self._cache = services.cache
        self._max_body = config.max_body_bytes
        self._max_rows = config.max_batch_rows
        self._timeout = config.request_timeout
        self._ring = key_ring(app)
        self._require_read_key = config.require_read_key
        self._buckets = buckets_of(app)
        self._cors = bool(config.cors_origin_set)  # then every answer varies by Origin (service/api/cors.py)
        max_rows = self._max_rows
        forward = Lane(ROUTE, _PATH, True, lambda name, compiled, raw, environ: _forward(name, compiled, raw, environ, max_rows))
        self._lanes = (forward, *app.extensions.get(_LANES, ()))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        taken = self._takes(environ)
        if taken is None:
            return self.next_app(environ, start_response)
        lane, name = taken
        started = time.perf_counter()
        rid = request_id(environ.get("HTTP_X_REQUEST_ID"))
        attempt = _Attempt()
        until = time.monotonic() + self._timeout
        armed = bool(self._timeout) and deadline.arm_until(until)
        try:
            try:
                answer = self._answer(environ, lane, name, attempt)
            except deadline.DeadlineExceeded:
                raise
            except Exception as exc:  # answered by the Flask app's error handlers, after its hooks (raise_from_lane)
                answer = None
                environ[RAISED] = exc
            finally:
                if armed:
                    deadline.disarm()
        except deadline.DeadlineExceeded:  # from the work, or from the alarm landing in the finally above
            deadline.disarm()
            problem = problem_document(deadline.exceeded(self._timeout), rid)
            metrics.count_request("POST", lane.route, 503, time.perf_counter() - started)
            start_response("503 SERVICE UNAVAILABLE", self._headers(PROBLEM_JSON, problem, rid) + [("Retry-After", "1")])
            return [problem]
        if answer is None:
            if attempt.raw is not None:
                environ["wsgi.input"] = io.BytesIO(attempt.raw)
            if attempt.token_taken:
                environ[TOKEN_TAKEN] = True
            if armed:
                environ[deadline.ENVIRON_KEY] = until  # the time spent here counts
            return self.next_app(environ, start_response)
        answer.count()
        metrics.count_request("POST", lane.route, 200, time.perf_counter() - started)
        start_response("200 OK", self._headers(answer.content_type, answer.body, rid) + list(answer.headers))
        return [answer.body]

    def _takes(self, environ: dict[str, Any]) -> tuple[Lane, str] | None:
        """(lane, the network's name) when the lane may begin this request, else None."""
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        path = environ.get("PATH_INFO", "")
        for lane in self._lanes:
            match = lane.path(path)
            if match is not None:
                break
        else:
            return None
        content_type = environ.get("CONTENT_TYPE", "")
        # werkzeug's reading of the media type: whitespace is " " and "\t" only (not Unicode's)
        if lane.json_only and content_type != "application/json" and content_type.partition(";")[0].strip(" \t").lower() != "application/json":
            return None
        if not lane.json_only and "HTTP_CONTENT_ENCODING" in environ:
            return None  # compressed: Flask refuses it in words
        length = environ.get("CONTENT_LENGTH", "")
        if not (length.isascii() and length.isdigit()) or not 0 < int(length) <= self._max_body or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        if self._cors and "HTTP_ORIGIN" in environ:
            return None
        return lane, match.group(1)

    def _answer(self, environ: dict[str, Any], lane: Lane, name: str, attempt: _Attempt) -> Answer | None:
        """The 200 answer, or None when the Flask app is to answer.

        In Flask's order: the key (auth hook), the rate limit (its hook), the network (the view's
        first step), then the body; so a refused or missing request never waits for its body."""
        client = self._client(environ)
        if client is False:
            return None
        if self._buckets is not None:
            if self._buckets.take(client_of(client, environ.get("REMOTE_ADDR"))) > 0:
                return None  # the Flask app looks again and answers 429
            attempt.token_taken = True
        compiled = self._cache.get(catalog.NETWORK, name, catalog.compile_network)
        if compiled is None:
            return None
        length = int(environ["CONTENT_LENGTH"])
        try:
            raw = attempt.raw = environ["wsgi.input"].read(length)
        except Exception:
            return None  # a broken upload: Flask reads what is left and words it
        if len(raw) != length:
            return None  # the client went away early: Flask words it
        return lane.answer(name, compiled, raw, environ)

    def _client(self, environ: dict[str, Any]) -> str | None | Literal[False]:
        """The key holder asking (None: no key), or False for a request auth would refuse."""
        if self._ring is None:
            return None
        key = key_from_headers(environ.get("HTTP_AUTHORIZATION"), environ.get("HTTP_X_API_KEY"))
        if key is None:
            return False if self._require_read_key else None
        if not key or self._ring.current().role_of(key) is None:
            return False
        return principal(key)

    def _headers(self, content_type: str, body: bytes, rid: str) -> list[tuple[str, str]]:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), ("X-Request-ID", rid)]
        if self._cors:
            headers.append(("Vary", "Origin"))
        return headers
