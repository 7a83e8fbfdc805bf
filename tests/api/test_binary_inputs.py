"""POST /v1/networks/{name}/forward with an application/x-npy body (numpy's .npy format).

The same validation and limits as JSON inputs: batch rows, vector length, finite values; a body that
is not a complete .npy file is 400 malformed-npy, a wrong dtype or shape 422. Never unpickles.
"""
import io
import struct

import numpy as np
import orjson
import pytest

from .helpers import XOR, assert_problem, post_json, put_json

NPY = "application/x-npy"


def npy(array, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


def post_npy(client, path, body: bytes, content_type: str = NPY):
    return client.post(path, data=body, content_type=content_type)


@pytest.fixture
def xor(client):
    assert put_json(client, "/v1/networks/xor", XOR).status_code == 201
    return "/v1/networks/xor/forward"


@pytest.mark.parametrize("dtype", ["<f8", "<f4", ">f8", ">f4"])
def test_a_batch_gives_what_the_same_json_batch_gives(client, xor, dtype):
    batch = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    got = post_npy(client, xor, npy(batch))
    assert got.status_code == 200, got.get_data(as_text=True)
    expected = post_json(client, xor, {"inputs": batch.astype(float).tolist()})
    assert got.get_json() == expected.get_json()
    assert got.get_json()["outputs"] == [[0.0], [1.0], [1.0], [0.0]]


def test_a_vector_is_one_input_and_answers_unbatched(client, xor):
    got = post_npy(client, xor, npy(np.array([1.0, 0.0])))
    assert got.status_code == 200
    assert got.get_json()["outputs"] == [1.0]


def test_fortran_order_and_format_version_2_are_read(client, xor):
    batch = np.asfortranarray(np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]))
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, batch, version=(2, 0))
    got = post_npy(client, xor, buffer.getvalue())
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.get_json()["outputs"] == [[1.0], [0.0], [1.0]]


def test_large_batches_of_float32_reach_a_float32_network(client):
    rng = np.random.default_rng(0)
    layers = [{"weights": rng.standard_normal((4, 8)).tolist(), "activation": "tanh"}]
    assert put_json(client, "/v1/networks/f32", {"layers": layers, "dtype": "float32"}).status_code == 201
    batch = rng.standard_normal((100, 8)).astype(np.float32)
    got = post_npy(client, "/v1/networks/f32/forward", npy(batch))
    assert got.status_code == 200
    body = got.get_json()
    assert body["dtype"] == "float32"
    expected = np.tanh(batch @ np.array(layers[0]["weights"], dtype=np.float32).T)
    np.testing.assert_allclose(np.array(body["outputs"]), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("body, detail", [
    (b"", "empty"),
    (b"not a numpy file at all", "magic"),
    (npy(np.zeros((2, 2)))[:-3], "needs 32 data bytes, the body has 29"),
    (npy(np.zeros((2, 2))) + b"\0", "needs 32 data bytes, the body has 33"),
    (npy(np.zeros((2, 2))).replace(b"'shape': (2, 2)", b"'shape': [2, 2]"), ""),
    (b"\x93NUMPY\x09\x00" + npy(np.zeros(2))[8:], "version"),
])
def test_a_malformed_npy_is_400(client, xor, body, detail):
    answer = post_npy(client, xor, body)
    problem = assert_problem(answer, 400)
    assert problem["type"] == "urn:neuronhub:problem:malformed-npy"
    assert detail in problem["detail"]


def test_a_huge_declared_shape_is_refused_without_allocating(client, xor):
    header = npy(np.zeros((2, 2))).replace(b"(2, 2)", b"(9999999999, 9999999999)".ljust(6))
    problem = assert_problem(post_npy(client, xor, header), 400)
    assert "data bytes" in problem["detail"]


def test_object_arrays_are_refused_and_never_unpickled(client, xor):
    import pickle

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    body = npy(np.array([Boom(), 1.0], dtype=object), allow_pickle=True)
    assert pickle.PROTO in body or b"exec" in body  # the file really carries a pickle
    assert_problem(post_npy(client, xor, body), 422, field="inputs", contains="expected float32 or float64 values, got object")


@pytest.mark.parametrize("array, contains", [
    (np.zeros((2, 2), dtype=np.int64), "expected float32 or float64 values, got int64"),
    (np.zeros((2, 2), dtype=np.float16), "got float16"),
    (np.zeros((2, 2), dtype=np.complex128), "got complex128"),
    (np.zeros((2, 2), dtype=bool), "got bool"),
    (np.zeros((2, 2, 2)), "got 3 dimensions"),
    (np.float64(1.0), "got 0 dimensions"),
    (np.zeros((0, 2)), "got shape (0, 2)"),
    (np.zeros((2, 0)), "got shape (2, 0)"),
    (np.zeros(0), "got shape (0,)"),
])
def test_a_wrong_dtype_or_shape_is_422(client, xor, array, contains):
    assert_problem(post_npy(client, xor, npy(array)), 422, field="inputs", contains=contains)


def test_a_vector_of_the_wrong_length_is_422_as_with_json(client, xor):
    body = assert_problem(post_npy(client, xor, npy(np.zeros((3, 5)))), 422, field="inputs")
    as_json = post_json(client, xor, {"inputs": np.zeros((3, 5)).tolist()}).get_json()
    assert body["errors"] == as_json["errors"]


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_422(client, xor, value):
    batch = np.zeros((3, 2))
    batch[2, 1] = value
    assert_problem(post_npy(client, xor, npy(batch)), 422, field="inputs", contains="input vector 2")
    assert_problem(post_npy(client, xor, npy(batch[2])), 422, field="inputs", contains="expected finite numbers")


def test_float64_beyond_float32_range_is_a_non_finite_result_for_a_float32_network(client):
    assert put_json(client, "/v1/networks/f32", {"layers": [{"weights": [[1.0]], "activation": "identity"}], "dtype": "float32"}).status_code == 201
    answer = post_npy(client, "/v1/networks/f32/forward", npy(np.array([[1e300]])))
    assert assert_problem(answer, 422, field="inputs")["type"] == "urn:neuronhub:problem:non-finite-result"


def test_the_batch_row_limit_applies(client, xor, config):
    rows = config.max_batch_rows + 1
    body = assert_problem(post_npy(client, xor, npy(np.zeros((rows, 2)))), 422, field="inputs")
    assert body["type"] == "urn:neuronhub:problem:limit-exceeded"
    assert (body["limit"], body["maximum"], body["received"]) == ("NEURONHUB_MAX_BATCH_ROWS", config.max_batch_rows, rows)


def test_the_body_size_limit_applies(client, xor, config):
    rows = config.max_body_bytes // 16 + 1
    assert_problem(post_npy(client, xor, npy(np.zeros((rows, 2)))), 413)


def test_an_unknown_network_is_404_before_the_body_is_read(client):
    assert_problem(post_npy(client, "/v1/networks/nothing/forward", b"junk"), 404)


def test_other_media_types_are_415_naming_both(client, xor):
    answer = post_npy(client, xor, npy(np.zeros((1, 2))), content_type="application/octet-stream")
    assert_problem(answer, 415, contains="application/json or application/x-npy")


def test_json_fast_path_and_schema_agree(client, xor):
    """Well-formed bodies skip marshmallow; anything else is worded by the schema as before."""
    ok = post_json(client, xor, {"inputs": [[1, 0], [1.5, 0]], "trace": False}).get_json()
    assert ok["outputs"] == [[1.0], [0.5]]  # 1.5 - 2 * 0.5
    traced = post_json(client, xor, {"inputs": [1, 1], "trace": True}).get_json()
    assert traced["trace"][0]["weighted_sums"] == [2.0, 1.0]
    assert_problem(post_json(client, xor, {"inputs": [1, True]}), 422, field="inputs[1]", contains="boolean true")
    assert_problem(post_json(client, xor, {"inputs": [[1, 0], [1]]}), 422, field="inputs[1]", contains="expected 2 values")
    assert_problem(post_json(client, xor, {"inputs": [1, 0], "trace": None}), 422, field="trace")
    assert_problem(post_json(client, xor, {"inputs": [1, 0], "extra": 1}), 422, field="extra")
    assert_problem(post_json(client, xor, {"inputs": []}), 422, field="inputs")
    assert_problem(post_json(client, xor, {"trace": True}), 422, field="inputs")
    assert_problem(client.post(xor, data=orjson.dumps([1, 0]), content_type="application/json"), 422, field="body")
