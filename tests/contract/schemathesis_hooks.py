"""Loaded by the schemathesis run (SCHEMATHESIS_HOOKS): how to send an application/x-npy or application/onnx body.

The spec says such a body is binary; schemathesis has no serializer for the media type, so the
generated value is sent as raw bytes. Random bytes are not a .npy file nor an ONNX model: the service must answer 400
malformed-npy / malformed-onnx (documented), never 5xx.
"""
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-npy", "application/onnx")
def raw_bytes(ctx: Any, value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
    else:
        data = repr(value).encode()
    return {"data": data}
