"""Reading requests: JSON bodies, names, preconditions, limits."""
from __future__ import annotations

import re
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from .jsonio import InvalidJSON, parse_json
from .problems import Problem, validation_problem

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE = "1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit"


def json_body() -> Any:
    """The request body as strict JSON; 415 for another content type, 400 for malformed JSON."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        got = f"'{request.content_type}'" if request.content_type else "no Content-Type"
        raise Problem(415, "unsupported-media-type", "Unsupported Media Type", f"expected Content-Type application/json, got {got}")
    raw = request.get_data(cache=False)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A chunked body is cut at the limit without an error (Content-Length is checked up front).
        raise RequestEntityTooLarge(f"the body is larger than {limit} bytes (NEURONHUB_MAX_BODY_BYTES)")
    if not raw:
        raise Problem(400, "malformed-json", "Malformed JSON", "expected a JSON body, got an empty one")
    try:
        return parse_json(raw)
    except InvalidJSON as exc:
        raise Problem(400, "malformed-json", "Malformed JSON", str(exc)) from None


def checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        shown = name if len(name) <= 70 else name[:67] + "..."
        raise validation_problem({"name": [f"expected {NAME_RULE}, got {shown!r}"]})
    return name


def etag(revision: int) -> str:
    return f'"{revision}"'


def precondition_failed(detail: str, current_revision: int | None) -> Problem:
    headers = {"ETag": etag(current_revision)} if current_revision is not None else {}
    return Problem(412, "precondition-failed", "Precondition Failed", detail, headers=headers, current_revision=current_revision)


def expected_revision(current: int | None) -> tuple[int | None, bool]:
    """Reads If-Match / If-None-Match for a write. Returns (revision the write requires, create_only).

    The store re-checks the revision inside its transaction, so a write that races another still
    fails cleanly with 412 instead of overwriting it.
    """
    if_match, if_none_match = request.if_match, request.if_none_match
    required = None
    if if_match:
        if current is None or not if_match.contains(etag(current).strip('"')) and not if_match.star_tag:
            raise precondition_failed(
                "If-Match does not match: the definition " + ("does not exist" if current is None else f"is at revision {current}"),
                current,
            )
        required = current
    create_only = bool(if_none_match and if_none_match.star_tag)
    if create_only and current is not None:
        raise precondition_failed(f"If-None-Match: * but the definition exists (revision {current})", current)
    if if_none_match and not if_none_match.star_tag and current is not None and if_none_match.contains(str(current)):
        raise precondition_failed(f"If-None-Match matches the current revision {current}", current)
    return required, create_only


def limit_problem(field: str, limit_name: str, maximum: int, received: int, what: str) -> Problem:
    return Problem(
        422,
        "limit-exceeded",
        "Limit exceeded",
        f"{field}: at most {maximum} {what} allowed (limit {limit_name}), got {received}",
        errors={field: [f"expected at most {maximum} {what} (limit {limit_name}), got {received}"]},
        limit=limit_name,
        maximum=maximum,
        received=received,
    )
