"""Sending one operation: URL, headers, JSON body, timeout, retries, and errors as exceptions."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Mapping

import requests

from ._errors import APIConnectionError, APIStatusError, APITimeoutError, NeuronhubError, error_from_response
from ._operations import Operation
from ._retry import RetryPolicy
from ._version import __version__

USER_AGENT = f"neuronhub-python/{__version__}"
# requests.Timeout (ConnectTimeout included) is caught before these, as APITimeoutError
_RETRYABLE_TRANSPORT_ERRORS = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)

_sleep: Callable[[float], None] = time.sleep  # replaced in tests


class Transport:
    def __init__(self, base_url: str, *, api_key: str | None, timeout: float, retry: RetryPolicy,
                 session: requests.Session | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self._session = session or requests.Session()
        self._owns_session = session is None
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json, application/problem+json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def send(self, operation: Operation, *, path: Mapping[str, str] | None = None,
             query: Mapping[str, str | int | None] | None = None, body: Any = None,
             headers: Mapping[str, str] | None = None, content: tuple[bytes, str] | None = None,
             stream: bool = False) -> requests.Response:
        """Send `operation`, retrying as the policy allows; return a response with a status below 400
        (with stream=True its body is read as it arrives: close the response when done).

        body is sent as JSON; content, (bytes, media type), as it is (an ONNX model, say)."""
        url = self.base_url + operation.url_path(**(path or {}))
        all_headers = {**self._headers, "X-Request-ID": uuid.uuid4().hex, **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
            all_headers["Content-Type"] = "application/json"
        elif content is not None:
            data, all_headers["Content-Type"] = content
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        retries = 0
        while True:
            outcome = self._attempt(operation.method, url, params, data, all_headers, stream)
            if isinstance(outcome, requests.Response):
                return outcome
            if not self.retry.should_retry(operation, outcome, retries):
                raise outcome
            _sleep(self.retry.delay(retries, outcome.retry_after if isinstance(outcome, APIStatusError) else None))
            retries += 1

    def _attempt(self, method: str, url: str, params: Mapping[str, str], data: bytes | None,
                 headers: Mapping[str, str], stream: bool = False) -> requests.Response | NeuronhubError:
        try:
            response = self._session.request(method, url, params=params, data=data, headers=headers,
                                             timeout=self.timeout, allow_redirects=False, stream=stream)
        except requests.Timeout as exc:
            return APITimeoutError(f"{method} {url}: no answer within {self.timeout} s ({exc})")
        except _RETRYABLE_TRANSPORT_ERRORS as exc:
            return APIConnectionError(f"{method} {url}: {exc}")
        if response.status_code >= 400:
            return error_from_response(response)
        return response
