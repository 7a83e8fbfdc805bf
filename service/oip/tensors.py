"""Inference requests and responses of the Open Inference Protocol v2, JSON and binary.

A request is a JSON object, optionally followed by binary tensor data (the binary tensor data
extension): the header `Inference-Header-Content-Length` says how many bytes the JSON takes, and each
input with the parameter `binary_data_size` takes that many bytes of what follows, in input order.
Binary tensors are little-endian and row-major; a BYTES element is a 4-byte little-endian length and
then its bytes. Nothing here knows HTTP: a request that cannot be read raises ProtocolError.
"""
from __future__ import annotations

import math
import struct
import sys
from typing import Any, NamedTuple

import numpy as np

from ..api.jsonio import InvalidJSON, Parsed, check_keys, dumps, parse_json_keys_unchecked

# The datatypes this service reads and writes, and their little-endian numpy types.
NUMERIC = {"FP32": np.dtype("<f4"), "FP64": np.dtype("<f8"), "INT64": np.dtype("<i8")}
BYTES = "BYTES"
_LITTLE_ENDIAN = sys.byteorder == "little"  # then the tensors' bytes are read in place
DATATYPE_OF = {"float32": "FP32", "float64": "FP64"}  # a network's dtype -> its tensors' datatype

_REQUEST_KEYS = frozenset({"id", "inputs", "outputs", "parameters"})
_REQUEST_PARAMETERS = frozenset({"binary_data_output"})
_INPUT_KEYS = frozenset({"name", "shape", "datatype", "parameters", "data"})
_OUTPUT_KEYS = frozenset({"name", "parameters"})
_OUTPUT_PARAMETERS = frozenset({"binary_data", "classification"})
_INPUT_PARAMETERS = frozenset({"binary_data_size"})
_NUMBERS, _INTEGERS, _STRINGS = frozenset({int, float}), frozenset({int}), frozenset({str})


class ProtocolError(Exception):
    """A request the protocol answers with {"error": message} and this status (400 or 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class InputTensor(NamedTuple):
    name: str
    datatype: str
    shape: tuple[int, ...]
    data: np.ndarray  # numeric: in the datatype's dtype, shaped; BYTES: an object array of bytes, shaped.
    # Binary floating-point data may hold NaN or infinity: the engine refuses them as it casts its
    # inputs (models.py words that), so they are not looked for twice.


class RequestedOutput(NamedTuple):
    name: str
    binary: bool | None  # None: as the request's binary_data_output says
    classification: int  # 0: the tensor itself; k > 0: its top k as "value:index[:label]" strings


class InferRequest(NamedTuple):
    id: str | None
    inputs: tuple[InputTensor, ...]
    outputs: tuple[RequestedOutput, ...] | None  # None: the model's default outputs
    binary_output: bool


class OutputTensor(NamedTuple):
    name: str
    datatype: str
    data: np.ndarray  # numeric, or an object array of str (BYTES)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, list):
        return f"a list of {len(value)} values"
    if isinstance(value, dict):
        return "an object"
    return repr(value)


def parse_request(body: bytes, header_length: str | None) -> InferRequest:
    """An infer request from its body and its Inference-Header-Content-Length header (None: all JSON)."""
    if header_length is None:
        json_part, binary = body, memoryview(b"")
    else:
        if not (header_length.isascii() and header_length.isdigit()) or not 0 < (json_length := int(header_length)) <= len(body):
            raise ProtocolError(
                f"Inference-Header-Content-Length: expected the byte length of the JSON header, 1..{len(body)}, got {header_length!r}")
        json_part, binary = body[:json_length], memoryview(body)[json_length:]
    if not json_part:
        raise ProtocolError("expected an inference request (a JSON object), got an empty body")
    try:
        parsed = parse_json_keys_unchecked(bytes(json_part))
    except InvalidJSON as exc:
        raise ProtocolError(f"the inference request is not valid JSON: {exc}") from None
    try:
        request, keys_seen = _read(parsed, binary)
    except ProtocolError:
        _check_keys(parsed, None)  # a repeated key is the first thing wrong with such a text, as parse_json says
        raise
    _check_keys(parsed, keys_seen)
    return request


def _read(parsed: Parsed, binary: memoryview) -> tuple[InferRequest, int]:
    """(the request, the keys of the objects read, for check_keys)."""
    document = parsed.document
    if type(document) is not dict:
        raise ProtocolError(f"expected an inference request (a JSON object), got {_describe(document)}")
    if not _REQUEST_KEYS.issuperset(document):
        raise _unknown_field(document, _REQUEST_KEYS, "the inference request")
    request_id = document.get("id")
    if request_id is not None and type(request_id) is not str:
        raise ProtocolError(f"id: expected a string, got {_describe(request_id)}")
    parameters = document.get("parameters")
    parameters = _NO_PARAMETERS if parameters is None else _checked_parameters(parameters, "the inference request", _REQUEST_PARAMETERS)
    binary_output = parameters.get("binary_data_output", False)
    if type(binary_output) is not bool:
        raise ProtocolError(f"parameters.binary_data_output: expected true or false, got {_describe(binary_output)}")
    keys_seen = len(document) + len(parameters)  # summed over every object read here, for the duplicate-key check
    raw_inputs = document.get("inputs")
    if type(raw_inputs) is not list or not raw_inputs:
        raise ProtocolError(f"inputs: expected a non-empty list of input tensors, got {_describe(raw_inputs)}")
    inputs = []
    offset = 0  # into binary: where the next binary input's bytes begin
    for i, raw in enumerate(raw_inputs):
        tensor, keys, offset = _input(i, raw, binary, offset)
        inputs.append(tensor)
        keys_seen += keys
    if offset != len(binary):
        raise ProtocolError(f"the body has {len(binary) - offset} bytes of binary data after the JSON header that no input's binary_data_size accounts for")
    if len(inputs) > 1 and len({t.name for t in inputs}) != len(inputs):
        raise ProtocolError(f"inputs: each input may be given once, got {[t.name for t in inputs]}")
    outputs = None
    if "outputs" in document:
        outputs, keys = _outputs(document["outputs"])
        keys_seen += keys
    return InferRequest(request_id, tuple(inputs), outputs, binary_output), keys_seen


def _check_keys(parsed: Parsed, keys_seen: int | None) -> None:
    try:
        check_keys(parsed, keys_seen)
    except InvalidJSON as exc:
        raise ProtocolError(f"the inference request is not valid JSON: {exc}") from None


_NO_PARAMETERS: dict[str, Any] = {}  # read only


def _unknown_field(document: dict[str, Any], known: frozenset[str], what: str) -> ProtocolError:
    extra = sorted(document.keys() - known)
    return ProtocolError(f"{what}: unknown field {extra[0]!r}; expected only {', '.join(sorted(known))}")


def _checked_parameters(parameters: Any, what: str, known: frozenset[str]) -> dict[str, Any]:
    """A parameters object given (not null), when it is an object of known parameters."""
    if type(parameters) is not dict:
        raise ProtocolError(f"{what}: parameters: expected an object, got {_describe(parameters)}")
    if not known.issuperset(parameters):
        extra = sorted(parameters.keys() - known)
        raise ProtocolError(f"{what}: parameter {extra[0]!r} is not supported here; supported: {', '.join(sorted(known))}")
    return parameters


def _input(index: int, raw: Any, binary: memoryview, offset: int) -> tuple[InputTensor, int, int]:
    """(the tensor, the keys of its objects, the offset into binary after its bytes)."""
    if type(raw) is not dict:
        raise ProtocolError(f"inputs[{index}]: expected an input tensor object, got {_describe(raw)}")
    name = raw.get("name")
    if type(name) is not str:
        raise ProtocolError(f"inputs[{index}].name: expected a string, got {_describe(name)}")
    what = f"input {name!r}"
    if not _INPUT_KEYS.issuperset(raw):
        raise _unknown_field(raw, _INPUT_KEYS, what)
    shape = raw.get("shape")
    if type(shape) is not list or not _INTEGERS.issuperset(map(type, shape)) or (shape and min(shape) < 0):
        raise _shape_error(what, shape)
    datatype = raw.get("datatype")
    if datatype not in NUMERIC and datatype != BYTES:
        raise ProtocolError(f"{what}: datatype: expected one of {', '.join([*NUMERIC, BYTES])}, got {_describe(datatype)}")
    count = math.prod(shape)
    parameters = raw.get("parameters")
    parameters = _NO_PARAMETERS if parameters is None else _checked_parameters(parameters, what, _INPUT_PARAMETERS)
    if "binary_data_size" in parameters:
        size = parameters["binary_data_size"]
        if type(size) is not int or size < 0:
            raise ProtocolError(f"{what}: binary_data_size: expected a byte count, got {_describe(size)}")
        if "data" in raw:
            raise ProtocolError(f"{what}: has both data and binary_data_size; send one of them")
        if size > len(binary) - offset:
            raise ProtocolError(f"{what}: binary_data_size is {size} bytes, but only {len(binary) - offset} bytes of binary data are left in the body")
        data = _binary_tensor(what, datatype, count, binary[offset : offset + size])
        offset += size
    elif "data" in raw:
        data = _json_tensor(what, datatype, count, raw["data"])
    else:
        raise ProtocolError(f"{what}: expected data (JSON) or parameters.binary_data_size (binary), got neither")
    shape = tuple(shape)
    if data.shape != shape:
        data = data.reshape(shape)
    return InputTensor(name, datatype, shape, data), len(raw) + len(parameters), offset


def _shape_error(what: str, shape: Any) -> ProtocolError:
    if type(shape) is list:
        for position, size in enumerate(shape):
            if type(size) is not int or size < 0:
                return ProtocolError(f"{what}: shape[{position}]: expected a non-negative whole number, got {_describe(size)}")
    return ProtocolError(f"{what}: shape: expected a list of non-negative whole numbers, got {_describe(shape)}")


def _binary_tensor(what: str, datatype: str, count: int, raw: memoryview | bytes) -> np.ndarray:
    if datatype == BYTES:
        elements = []
        offset = 0
        while offset < len(raw):
            if offset + 4 > len(raw):
                raise ProtocolError(f"{what}: BYTES element {len(elements)} has a cut length prefix (4 bytes expected)")
            (length,) = struct.unpack_from("<I", raw, offset)
            offset += 4
            if offset + length > len(raw):
                raise ProtocolError(f"{what}: BYTES element {len(elements)} says {length} bytes, {len(raw) - offset} are left")
            elements.append(bytes(raw[offset : offset + length]))
            offset += length
        if len(elements) != count:
            raise ProtocolError(f"{what}: shape holds {count} elements, the binary data has {len(elements)}")
        array = np.empty(count, dtype=object)
        array[:] = elements
        return array
    dtype = NUMERIC[datatype]
    if len(raw) != count * dtype.itemsize:
        raise ProtocolError(f"{what}: shape holds {count} {datatype} elements ({count * dtype.itemsize} bytes), binary_data_size is {len(raw)}")
    array = np.frombuffer(raw, dtype=dtype)
    if not _LITTLE_ENDIAN:
        return array.astype(dtype.newbyteorder("="))
    # The bytes start wherever the JSON header ends: an unaligned array makes every numpy pass over
    # it slower (a one-vector forward measured 6% slower), and a copy costs less than that.
    return array if array.flags.aligned else array.copy()


def _flat(data: Any) -> tuple[list[Any], set[type]]:
    """(the elements of a JSON tensor, row-major; their types): Triton takes nested lists as well as
    a flat one."""
    if type(data) is not list:
        return [data], {type(data)}
    kinds = set(map(type, data))
    if list not in kinds:
        return data, kinds
    flat: list[Any] = []
    for v in data:
        flat.extend(_flat(v)[0])
    return flat, set(map(type, flat))


def _json_tensor(what: str, datatype: str, count: int, data: Any) -> np.ndarray:
    values, kinds = _flat(data)
    if len(values) != count:
        raise ProtocolError(f"{what}: shape holds {count} elements, data has {len(values)}")
    if datatype == BYTES:
        if not kinds <= _STRINGS:
            bad = next(v for v in values if type(v) is not str)
            raise ProtocolError(f"{what}: BYTES data: expected strings, got {_describe(bad)}")
        array = np.empty(count, dtype=object)
        array[:] = [v.encode("utf-8") for v in values]
        return array
    if datatype == "INT64":
        if not kinds <= _INTEGERS:
            bad = next(v for v in values if type(v) is not int)
            raise ProtocolError(f"{what}: INT64 data: expected whole numbers, got {_describe(bad)}")
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError:
            raise ProtocolError(f"{what}: INT64 data: a number does not fit in 64 bits") from None
    if not kinds <= _NUMBERS:
        bad = next(v for v in values if type(v) is not float and type(v) is not int)
        raise ProtocolError(f"{what}: {datatype} data: expected numbers, got {_describe(bad)}")
    if datatype == "FP64":
        return np.array(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        array = np.array(values, dtype=np.float32)
    if not np.isfinite(array).all():
        raise ProtocolError(f"{what}: FP32 data: a number does not fit in 32 bits (largest {float(np.finfo(np.float32).max):.6g})")
    return array


def _outputs(raw: Any) -> tuple[tuple[RequestedOutput, ...], int]:
    """(the requested outputs, the keys of their objects)."""
    if type(raw) is not list:
        raise ProtocolError(f"outputs: expected a list of requested outputs, got {_describe(raw)}")
    found = []
    keys = 0
    for i, item in enumerate(raw):
        if type(item) is not dict or type(item.get("name")) is not str:
            raise ProtocolError(f"outputs[{i}]: expected an object with a name, got {_describe(item)}")
        what = f"output {item['name']!r}"
        if not _OUTPUT_KEYS.issuperset(item):
            raise _unknown_field(item, _OUTPUT_KEYS, what)
        parameters = item.get("parameters")
        parameters = _NO_PARAMETERS if parameters is None else _checked_parameters(parameters, what, _OUTPUT_PARAMETERS)
        keys += len(item) + len(parameters)
        binary = parameters.get("binary_data")
        if binary is not None and type(binary) is not bool:
            raise ProtocolError(f"{what}: binary_data: expected true or false, got {_describe(binary)}")
        k = parameters.get("classification", 0)
        if type(k) is not int or k < 0:
            raise ProtocolError(f"{what}: classification: expected a whole number of classes >= 0, got {_describe(k)}")
        found.append(RequestedOutput(item["name"], binary, k))
    if len(found) > 1 and len({o.name for o in found}) != len(found):
        raise ProtocolError(f"outputs: each output may be requested once, got {[o.name for o in found]}")
    return tuple(found), keys


def encode_response(model_name: str, version: str, request_id: str | None, outputs: list[tuple[OutputTensor, bool]]) -> tuple[bytes, int | None]:
    """(body, JSON header length or None when the body is all JSON) for outputs given as (tensor, binary)."""
    described: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for tensor, binary in outputs:
        entry: dict[str, Any] = {"name": tensor.name, "datatype": tensor.datatype, "shape": list(tensor.data.shape)}
        if binary:
            raw = _binary_bytes(tensor)
            entry["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        elif tensor.datatype == BYTES:
            entry["data"] = tensor.data.ravel().tolist()
        else:
            entry["data"] = np.ascontiguousarray(tensor.data).ravel()  # orjson writes numpy arrays itself
        described.append(entry)
    document: dict[str, Any] = {"model_name": model_name, "model_version": version}
    if request_id is not None:
        document["id"] = request_id
    document["outputs"] = described
    header = dumps(document)
    if not chunks:
        return header, None
    return b"".join([header, *chunks]), len(header)


def _binary_bytes(tensor: OutputTensor) -> bytes:
    if tensor.datatype == BYTES:
        parts = []
        for value in tensor.data.ravel():
            encoded = value.encode("utf-8")
            parts.append(struct.pack("<I", len(encoded)))
            parts.append(encoded)
        return b"".join(parts)
    return np.ascontiguousarray(tensor.data, dtype=NUMERIC[tensor.datatype]).tobytes()
