import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from service.store.weights import MAGIC, decode_arrays, encode_arrays

DTYPES = [np.dtype("float32"), np.dtype("float64"), np.dtype("int64")]
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


@st.composite
def any_bits_array(draw):
    """An array whose elements are arbitrary bit patterns (every NaN payload included)."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(SHAPES)
    raw = draw(st.binary(min_size=dtype.itemsize * int(np.prod(shape)), max_size=dtype.itemsize * int(np.prod(shape))))
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def value_array():
    return st.sampled_from(DTYPES).flatmap(lambda dtype: hnp.arrays(dtype, SHAPES))


def assert_bitwise_equal(decoded, original):
    assert len(decoded) == len(original)
    for got, want in zip(decoded, original):
        assert got.dtype == want.dtype.newbyteorder("<")
        assert got.shape == want.shape
        assert got.tobytes() == want.astype(want.dtype.newbyteorder("<")).tobytes()


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.lists(st.one_of(any_bits_array(), value_array()), max_size=5))
def test_round_trip_is_bitwise_exact(arrays):
    assert_bitwise_equal(decode_arrays(encode_arrays(arrays)), arrays)


@settings(deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_decode_or_raise_value_error(blob):
    try:
        arrays = decode_arrays(blob)
    except ValueError as error:
        assert "corrupt weights blob" in str(error)
    else:
        assert all(isinstance(array, np.ndarray) for array in arrays)


@settings(deadline=None)
@given(st.data())
def test_mutated_blob_decodes_or_raises_value_error(data):
    blob = bytearray(encode_arrays([np.arange(6, dtype=np.float32).reshape(2, 3), np.int64(7)]))
    position = data.draw(st.integers(0, len(blob) - 1))
    blob[position] = data.draw(st.integers(0, 255))
    try:
        decode_arrays(bytes(blob))
    except ValueError as error:
        assert "corrupt weights blob" in str(error)


def test_zero_one_and_two_dimensional_arrays():
    arrays = [np.float32(1.5), np.array([1.0, -2.5, np.inf]), np.array([[1, 2], [3, -(2**62)]], dtype=np.int64)]
    decoded = decode_arrays(encode_arrays(arrays))
    assert [a.shape for a in decoded] == [(), (3,), (2, 2)]
    assert [a.dtype for a in decoded] == [np.float32, np.float64, np.int64]
    assert decoded[0] == np.float32(1.5)
    assert decoded[1].tolist() == [1.0, -2.5, float("inf")]
    assert decoded[2].tolist() == [[1, 2], [3, -(2**62)]]


def test_empty_list_and_empty_arrays():
    assert decode_arrays(encode_arrays([])) == []
    decoded = decode_arrays(encode_arrays([np.zeros((0, 4), np.float32)]))
    assert decoded[0].shape == (0, 4) and decoded[0].dtype == np.float32


def test_non_contiguous_and_big_endian_inputs_keep_their_values():
    matrix = np.arange(12, dtype=np.float64).reshape(3, 4)
    big_endian = np.array([1.25, -3.0], dtype=">f4")
    decoded = decode_arrays(encode_arrays([matrix.T, matrix[:, ::2], big_endian]))
    assert np.array_equal(decoded[0], matrix.T)
    assert np.array_equal(decoded[1], matrix[:, ::2])
    assert decoded[2].dtype == np.dtype("<f4")
    assert decoded[2].tolist() == [1.25, -3.0]


def test_decoded_arrays_are_read_only_zero_copy_views():
    blob = encode_arrays([np.arange(4, dtype=np.float64)])
    (array,) = decode_arrays(blob)
    assert not array.flags.writeable
    assert not array.flags.owndata
    assert array.flags.aligned
    with pytest.raises(ValueError):
        array[0] = 5.0


def test_layout_is_documented_format():
    blob = encode_arrays([np.array([1.0], dtype=np.float32)])
    assert blob[:4] == MAGIC
    assert struct.unpack_from("<I", blob, 4) == (1,)
    assert blob[8:10] == bytes([1, 1])  # float32 code, ndim 1
    assert struct.unpack_from("<Q", blob, 16) == (1,)
    assert blob[24:28] == np.float32(1.0).tobytes()
    assert len(blob) == 32  # data padded to 8 bytes


@pytest.mark.parametrize("dtype", ["int32", "float16", "complex128", "bool", "object", "uint64"])
def test_unsupported_dtypes_are_rejected(dtype):
    with pytest.raises(ValueError, match="unsupported dtype"):
        encode_arrays([np.zeros(2, dtype=dtype)])


VALID = encode_arrays([np.arange(3, dtype=np.float64), np.ones((2, 2), np.int64)])


@pytest.mark.parametrize(
    "blob, reason",
    [
        (b"", "header is truncated"),
        (b"NHW2" + VALID[4:], "bad magic"),
        (VALID + b"\0" * 8, "unexpected bytes"),
        (VALID[:8] + bytes([9]) + VALID[9:], "unknown dtype code 9"),
        (VALID[:9] + bytes([200]) + VALID[10:], "malformed header"),
        (VALID[:4] + struct.pack("<I", 3) + VALID[8:], "array 2 is truncated"),
        (MAGIC + struct.pack("<IBB6sQQ", 1, 2, 2, bytes(6), 0, 2**63 - 1), "impossible shape"),
    ],
)
def test_corrupt_blobs_raise_value_error(blob, reason):
    with pytest.raises(ValueError, match=f"corrupt weights blob: .*{reason}"):
        decode_arrays(blob)


def test_every_truncation_is_rejected():
    for length in range(len(VALID)):
        with pytest.raises(ValueError, match="corrupt weights blob"):
            decode_arrays(VALID[:length])
