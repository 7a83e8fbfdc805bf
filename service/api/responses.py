"""Building JSON responses."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Response

from .jsonio import dumps


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(dumps(body), status=status, mimetype="application/json")
    if headers:
        response.headers.update(headers)
    return response
