"""Every error the SDK raises, and the one table that maps an HTTP status to its class.

    NeuronhubError
    ├── APIStatusError                the service answered with an error status
    │   ├── BadRequestError           400
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   ├── ConflictError             409
    │   ├── PreconditionFailedError   412  (.current_revision)
    │   ├── PayloadTooLargeError      413
    │   ├── UnsupportedMediaTypeError 415
    │   ├── ValidationError           422  (.errors, and .limit/.maximum/.received over a limit)
    │   ├── RateLimitError            429  (.retry_after)
    │   └── ServerError               5xx
    │       └── ServiceUnavailableError 503 (.retry_after)
    ├── APIConnectionError            no answer: refused, reset, DNS, TLS, ...
    │   └── APITimeoutError           no answer in time
    ├── JobTimeoutError               jobs.wait() gave up before the job finished  (.job)
    └── UnexpectedResponseError       a success answer the SDK cannot read
"""
from __future__ import annotations

import email.utils
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping

import requests

if TYPE_CHECKING:
    from ._models import Job


class NeuronhubError(Exception):
    """Base of every error this SDK raises."""


class APIStatusError(NeuronhubError):
    """The service answered with a 4xx or 5xx status.

    Built from the application/problem+json body (RFC 9457) when there is one; answers from the
    HTTP server in front of the service (e.g. 414 as text/html) carry their text in `detail`.
    """

    def __init__(self, status: int, *, title: str, detail: str, type: str | None = None,
                 errors: Mapping[str, list[str]] | None = None, request_id: str | None = None,
                 retry_after: float | None = None, headers: Mapping[str, str] | None = None,
                 body: Mapping[str, Any] | None = None) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.errors: dict[str, list[str]] = dict(errors or {})
        self.request_id = request_id
        self.retry_after = retry_after
        self.headers: dict[str, str] = dict(headers or {})
        self.body: dict[str, Any] = dict(body or {})
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{status} {title}: {detail}{suffix}")


class BadRequestError(APIStatusError):
    """400: the body is not strict JSON, or the request is not valid HTTP."""


class AuthenticationError(APIStatusError):
    """401: no API key, or one the service does not know."""


class PermissionDeniedError(APIStatusError):
    """403: the API key may not do this."""


class NotFoundError(APIStatusError):
    """404: no definition of this kind has this name (or no such path)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the state of the resource."""


class PreconditionFailedError(APIStatusError):
    """412: If-Match / If-None-Match did not hold. `current_revision` is None when the definition does not exist."""

    @property
    def current_revision(self) -> int | None:
        value = self.body.get("current_revision")
        return value if isinstance(value, int) else None


class PayloadTooLargeError(APIStatusError):
    """413: the body is larger than the service accepts (NEURONHUB_MAX_BODY_BYTES)."""


class UnsupportedMediaTypeError(APIStatusError):
    """415: the body was not sent as JSON."""


class ValidationError(APIStatusError):
    """422: the request breaks a rule; `errors` maps field paths (e.g. "layers[1].weights[0]") to messages."""

    @property
    def limit(self) -> str | None:
        """The NEURONHUB_* setting that was exceeded, for a limit-exceeded problem."""
        value = self.body.get("limit")
        return value if isinstance(value, str) else None

    @property
    def maximum(self) -> int | None:
        value = self.body.get("maximum")
        return value if isinstance(value, int) else None

    @property
    def received(self) -> int | None:
        value = self.body.get("received")
        return value if isinstance(value, int) else None


class RateLimitError(APIStatusError):
    """429: too many requests; `retry_after` says how many seconds to wait."""


class ServerError(APIStatusError):
    """5xx: the service failed."""


class ServiceUnavailableError(ServerError):
    """503: the service cannot answer now (e.g. its database is down); `retry_after` says when to try again."""


class APIConnectionError(NeuronhubError):
    """No answer from the service: connection refused or reset, DNS or TLS failure, ..."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


class JobTimeoutError(NeuronhubError):
    """jobs.wait() timed out; `job` is the job as last seen (still queued or running, and still going)."""

    def __init__(self, job: Job, timeout: float) -> None:
        self.job = job
        self.timeout = timeout
        super().__init__(f"job {job.id} ({job.network!r}) is still {job.state} after {timeout:g} s, at step "
                         f"{job.progress.step} of {job.progress.total_steps}; wait for it again, or poll jobs.get()")


class UnexpectedResponseError(NeuronhubError):
    """A success answer whose body is not what the API documents."""


# The one place that says which class an error status becomes.
_ERROR_FOR_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: ValidationError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_class_for(status: int) -> type[APIStatusError]:
    if status in _ERROR_FOR_STATUS:
        return _ERROR_FOR_STATUS[status]
    return ServerError if status >= 500 else APIStatusError


def error_from_response(response: requests.Response) -> APIStatusError:
    problem = _problem_body(response) or {}
    errors = problem.get("errors")
    return error_class_for(response.status_code)(
        response.status_code,
        title=str(problem.get("title") or response.reason or "Error"),
        detail=str(problem.get("detail") or response.text.strip()[:500] or "no details"),
        type=str(problem["type"]) if "type" in problem else None,
        errors={str(k): [str(m) for m in v] for k, v in errors.items()} if isinstance(errors, dict) else None,
        request_id=str(problem.get("request_id") or response.headers.get("X-Request-ID") or "") or None,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
        headers=dict(response.headers),
        body=problem,
    )


def _problem_body(response: requests.Response) -> dict[str, Any] | None:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type not in ("application/problem+json", "application/json"):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds to wait: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (moment - now).total_seconds())
