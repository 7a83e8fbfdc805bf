"""OpenAI's error envelope: {"error": {"message", "type", "param", "code"}}.

Every error on the OpenAI-compatible paths leaves in it, whoever raised it (a view here, the key
check, the rate limiter, the body limit, the deadline, the router). The statuses are the ones the
`openai` client turns into its exceptions: 400 BadRequestError (OpenAI answers a wrong parameter
with 400, so a native 422 becomes 400 here), 401 AuthenticationError, 403 PermissionDeniedError,
404 NotFoundError, 413, 415, 429 RateLimitError, 5xx InternalServerError.
"""
from __future__ import annotations

from typing import Any

from flask import Response

from ..api.jsonio import dumps
from ..api.problems import Problem

PATHS = frozenset({"/v1/models", "/v1/completions", "/v1/chat/completions"})

_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}
_CODES = {"unauthorized": "invalid_api_key", "too-many-requests": "rate_limit_exceeded", "validation-error": "invalid_value"}


def applies(path: str) -> bool:
    return path in PATHS or path.startswith("/v1/models/")


class OpenAIError(Problem):
    """An error worded for an OpenAI client: `param` names the request field, `code` says what."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(status, (code or "invalid_request").replace("_", "-"), "", message)
        self.param = param
        self.code = code


def bad_request(param: str | None, message: str, code: str = "invalid_value") -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


def model_not_found(model: str, why: str = "does not exist") -> OpenAIError:
    return OpenAIError(404, f"The model {model!r} {why}; GET /v1/models lists the language networks this server has",
                       param="model", code="model_not_found")


def envelope(problem: Problem) -> dict[str, Any]:
    status = 400 if problem.status == 422 else problem.status
    if isinstance(problem, OpenAIError):
        param, code = problem.param, problem.code
    else:
        param = next(iter(problem.errors)) if problem.errors else None
        code = _CODES.get(problem.slug, problem.slug.replace("-", "_"))
        if problem.status == 401 and "invalid_token" not in problem.headers.get("WWW-Authenticate", ""):
            code = "missing_api_key"  # no key sent at all
    kind = "server_error" if status >= 500 else _TYPES.get(status, "invalid_request_error")
    return {"error": {"message": problem.detail, "type": kind, "param": param, "code": code}}


def render(problem: Problem) -> Response:
    status = 400 if problem.status == 422 else problem.status
    response = Response(dumps(envelope(problem)), status=status, mimetype="application/json")
    response.headers.update(problem.headers)
    return response
