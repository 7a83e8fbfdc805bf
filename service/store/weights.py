"""Compact binary encoding of a list of numpy arrays.

Layout (all integers little-endian; every section starts 8-byte aligned):

    b"NHW1"  count: u32
    per array:
        dtype code: u8  ndim: u8  6 zero bytes
        shape: ndim x u64
        data: raw little-endian C-order bytes, zero-padded to a multiple of 8

dtype codes: 1 float32, 2 float64, 3 int64.

decode_arrays returns read-only numpy views into the blob (zero-copy): they
keep the blob alive and cannot be written to; call .copy() for a writable array.
"""

from __future__ import annotations

import math
import struct
from typing import Sequence

import numpy as np

MAGIC = b"NHW1"
_DTYPES = {1: np.dtype("<f4"), 2: np.dtype("<f8"), 3: np.dtype("<i8")}
_CODES = {(dtype.kind, dtype.itemsize): code for code, dtype in _DTYPES.items()}
_HEADER = struct.Struct("<4sI")
_ARRAY_HEADER = struct.Struct("<BB6s")
_ALIGNMENT = 8
_MAX_NDIM = 64


def encode_arrays(arrays: Sequence[np.ndarray]) -> bytes:
    """Encode arrays of dtype float32, float64 or int64; raise ValueError for any other dtype."""
    parts = [_HEADER.pack(MAGIC, len(arrays))]
    for index, array in enumerate(arrays):
        array = np.asarray(array)
        code = _dtype_code(array.dtype, index)
        data = array.astype(_DTYPES[code], copy=False).tobytes(order="C")
        parts.append(_ARRAY_HEADER.pack(code, array.ndim, bytes(6)))
        parts.append(struct.pack(f"<{array.ndim}Q", *array.shape))
        parts.append(data)
        parts.append(bytes(_padding(len(data))))
    return b"".join(parts)


def decode_arrays(blob: bytes | bytearray | memoryview) -> list[np.ndarray]:
    """Decode a blob made by encode_arrays; raise ValueError if it is corrupt."""
    buffer = memoryview(blob).cast("B")
    magic, count = _unpack(_HEADER, buffer, 0, "header")
    if magic != MAGIC:
        raise _corrupt(f"bad magic {magic!r}, expected {MAGIC!r}")
    offset = _HEADER.size
    arrays = []
    for index in range(count):
        array, offset = _read_array(buffer, offset, index)
        arrays.append(array)
    if offset != len(buffer):
        raise _corrupt(f"{len(buffer) - offset} unexpected bytes after the last array")
    return arrays


def _dtype_code(dtype: np.dtype, index: int) -> int:
    code = _CODES.get((dtype.kind, dtype.itemsize))
    if code is None:
        raise ValueError(f"array {index} has unsupported dtype {dtype}; use float32, float64 or int64")
    return code


def _read_array(buffer: memoryview, offset: int, index: int) -> tuple[np.ndarray, int]:
    where = f"array {index}"
    code, ndim, reserved = _unpack(_ARRAY_HEADER, buffer, offset, where)
    if code not in _DTYPES:
        raise _corrupt(f"{where} has unknown dtype code {code}")
    if ndim > _MAX_NDIM or reserved != bytes(6):
        raise _corrupt(f"{where} has a malformed header")
    offset += _ARRAY_HEADER.size
    shape = _unpack(struct.Struct(f"<{ndim}Q"), buffer, offset, where)
    offset += 8 * ndim
    dtype = _DTYPES[code]
    size = math.prod(shape)
    nbytes = size * dtype.itemsize
    end = offset + nbytes + _padding(nbytes)
    if end > len(buffer):
        raise _corrupt(f"{where} is truncated: needs {nbytes} data bytes")
    try:
        if size == 0:
            array = np.empty(shape, dtype)
        else:
            array = np.frombuffer(buffer, dtype=dtype, count=size, offset=offset).reshape(shape)
    except ValueError as error:  # a shape no numpy array can have
        raise _corrupt(f"{where} has an impossible shape {shape}") from error
    array.flags.writeable = False
    return array, end


def _unpack(layout: struct.Struct, buffer: memoryview, offset: int, where: str) -> tuple:
    if offset + layout.size > len(buffer):
        raise _corrupt(f"{where} is truncated")
    return layout.unpack_from(buffer, offset)


def _padding(nbytes: int) -> int:
    return -nbytes % _ALIGNMENT


def _corrupt(reason: str) -> ValueError:
    return ValueError(f"corrupt weights blob: {reason}")
