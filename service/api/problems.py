"""Every error leaves as application/problem+json (RFC 9457). This is the one place that says how."""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from .jsonio import dumps

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:neuronhub:problem:"

log = logging.getLogger("neuronhub")


class Problem(Exception):
    """Raise from a view to answer with problem+json. `errors` maps field paths to messages."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})
        self.extra = extra


def validation_problem(errors: Mapping[str, list[str]], detail: str | None = None) -> Problem:
    first = next(iter(errors.items()))
    return Problem(
        422,
        "validation-error",
        "Validation failed",
        detail or f"{first[0]}: {first[1][0]}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
        errors=errors,
    )


def problem_document(problem: Problem, request_id: str | None) -> bytes:
    """The problem+json body of `problem` for the request with this id."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors:
        body["errors"] = problem.errors
    body.update(problem.extra)
    if request_id:
        body["request_id"] = request_id
    return dumps(body)


# Other protocols (OpenAI-compatible, ...) word errors in their own envelope on their own paths.
_RENDERERS = "neuronhub.error_renderers"


def register_error_renderer(app: Flask, applies: Callable[[str], bool], render: Callable[[Problem], Response]) -> None:
    """Answer every error on the paths `applies` accepts with `render(problem)` instead of problem+json:
    the errors of views, key checks, rate limits, body limits, deadlines and unknown paths alike."""
    app.extensions.setdefault(_RENDERERS, []).append((applies, render))


def problem_response(problem: Problem) -> Response:
    for applies, render in current_app.extensions.get(_RENDERERS, ()):
        if applies(request.path):
            return render(problem)
    response = Response(problem_document(problem, g.get("request_id")), status=problem.status, mimetype=PROBLEM_JSON)
    response.headers.update(problem.headers)
    return response


# Werkzeug's own exceptions, reworded for a JSON API.
_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    408: "request-timeout",
    411: "length-required",
    413: "payload-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    429: "too-many-requests",
    431: "request-header-fields-too-large",
}


def from_http_exception(exc: HTTPException) -> Problem:
    status = exc.code or 500
    headers = {}
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    detail = exc.description or exc.name
    if status == 404 and detail.startswith("The requested URL was not found"):
        detail = "no such path; see /openapi.yaml for the routes this service has"
    elif status == 413 and detail.startswith("The data value transmitted exceeds"):
        detail = f"the body is larger than {request.max_content_length} bytes (NEURONHUB_MAX_BODY_BYTES)"
    elif status == 405:
        detail = f"{request.method} is not allowed here; allowed: {headers.get('Allow', 'none')}"
    return Problem(status, _HTTP_SLUGS.get(status, "http-error"), exc.name, detail, headers=headers)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(problem: Problem) -> Response:
        return problem_response(problem)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return problem_response(from_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(
            Problem(500, "internal-error", "Internal Server Error", "the server failed to answer; the error is logged with this request id")
        )
