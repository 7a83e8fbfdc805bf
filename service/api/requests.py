"""Reading requests: JSON and .npy bodies, names, preconditions, limits."""
from __future__ import annotations

import io
import math
import re
from typing import Any, Callable

import numpy as np
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from .jsonio import InvalidJSON, parse_json
from .problems import Problem, validation_problem

NAME_REGEX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # a definition's name, everywhere
NAME_RULE = "1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit"


NPY = "application/x-npy"
ONNX = "application/onnx"
NPY_MAX_HEADER_BYTES = 10_000


def json_body(*also_accepted: str) -> Any:
    """The request body as strict JSON; 415 for another content type, 400 for malformed JSON.

    also_accepted: other media types the endpoint takes (the caller handles them before), named in
    the 415 answer.
    """
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        got = f"'{request.content_type}'" if request.content_type else "no Content-Type"
        expected = " or ".join(("application/json", *also_accepted))
        raise Problem(415, "unsupported-media-type", "Unsupported Media Type", f"expected Content-Type {expected}, got {got}")
    raw = raw_body()
    if not raw:
        raise Problem(400, "malformed-json", "Malformed JSON", "expected a JSON body, got an empty one")
    try:
        return parse_json(raw)
    except InvalidJSON as exc:
        raise Problem(400, "malformed-json", "Malformed JSON", str(exc)) from None


def raw_body() -> bytes:
    """The request body, within NEURONHUB_MAX_BODY_BYTES (413 above)."""
    raw = request.get_data(cache=False)
    if request.content_length is None:
        # A chunked body is cut at the limit without an error (Content-Length is checked up front).
        limit = request.max_content_length
        if limit is not None and len(raw) >= limit:
            raise RequestEntityTooLarge(f"the body is larger than {limit} bytes (NEURONHUB_MAX_BODY_BYTES)")
    return raw


def npy_inputs() -> tuple[np.ndarray, bool]:
    """An application/x-npy body (numpy's .npy format, read without pickle) as input vectors.

    Returns ((batch, n) array, batched): a 1-D array is one input vector, a 2-D array a batch, like
    the JSON `inputs`. 400 malformed-npy for a body that is not a complete .npy file; 422 for a
    dtype other than float32/float64, another number of dimensions, an empty array, or values that
    are NaN or infinite.
    """
    array = parse_npy(raw_body())
    if array.ndim not in (1, 2):
        raise validation_problem({"inputs": [f"expected one input vector (1-D) or a batch of them (2-D), got {array.ndim} dimensions"]})
    if array.size == 0:
        raise validation_problem({"inputs": [f"expected at least one number in every input vector and one vector, got shape {array.shape}"]})
    batched = array.ndim == 2
    inputs = array if batched else array[None, :]
    with np.errstate(over="ignore", invalid="ignore"):
        finite = math.isfinite(np.add.reduce(inputs, axis=None)) or bool(np.isfinite(inputs).all())
    if not finite:
        row = int(np.flatnonzero(~np.isfinite(inputs).all(axis=1))[0])
        where = f" (input vector {row})" if batched else ""
        raise validation_problem({"inputs": [f"expected finite numbers, got NaN or infinity{where}"]})
    return inputs, batched


def parse_npy(raw: bytes) -> np.ndarray:
    """A float32 or float64 array from .npy bytes (format versions 1.0 and 2.0, any byte order, C or
    Fortran order); never unpickles. The array is read-only and in native byte order."""
    def malformed(detail: str) -> Problem:
        return Problem(400, "malformed-npy", "Malformed NPY", f"expected a .npy file (numpy's format): {detail}")

    if not raw:
        raise malformed("the body is empty")
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=NPY_MAX_HEADER_BYTES)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=NPY_MAX_HEADER_BYTES)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]} is not supported (1.0 and 2.0 are)")
    except (ValueError, SyntaxError, TypeError, EOFError) as exc:
        raise malformed(str(exc) or type(exc).__name__) from None
    if dtype.kind != "f" or dtype.itemsize not in (4, 8) or dtype.fields is not None or dtype.subdtype is not None:
        raise validation_problem({"inputs": [f"expected float32 or float64 values, got {dtype}"]})
    count = math.prod(shape)
    offset = stream.tell()
    expected = count * dtype.itemsize
    if len(raw) - offset != expected:
        got = len(raw) - offset
        raise malformed(f"shape {shape} of {dtype} needs {expected} data bytes, the body has {got}")
    array = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
    array = array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array


def checked_name(name: str) -> str:
    if not NAME_REGEX.fullmatch(name):
        shown = name if len(name) <= 70 else name[:67] + "..."
        raise validation_problem({"name": [f"expected {NAME_RULE}, got {shown!r}"]})
    return name


def etag(revision: int) -> str:
    return f'"{revision}"'


def precondition_failed(detail: str, current_revision: int | None) -> Problem:
    headers = {"ETag": etag(current_revision)} if current_revision is not None else {}
    return Problem(412, "precondition-failed", "Precondition Failed", detail, headers=headers, current_revision=current_revision)


def expected_revision(read_current: Callable[[], int | None]) -> tuple[int | None, bool]:
    """Reads If-Match / If-None-Match for a write. Returns (revision the write requires, create_only).

    read_current reads the live revision; it is called only when the request has a precondition.
    The store re-checks the revision inside its transaction, so a write that races another still
    fails cleanly with 412 instead of overwriting it.
    """
    if_match, if_none_match = request.if_match, request.if_none_match
    if not if_match and not if_none_match:
        return None, False
    current = read_current()
    required = None
    if if_match:
        if current is None or not if_match.contains(str(current)) and not if_match.star_tag:
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
