"""service/oip/tensors.py reads what tritonclient writes and writes what it reads: hypothesis
properties over datatypes, shapes, values and JSON/binary, using tritonclient's own serialization."""
from __future__ import annotations

import numpy as np
import pytest
import tritonclient.http as httpclient
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from tritonclient.http._infer_result import InferResult
from tritonclient.http._utils import _get_inference_request

from service.oip.tensors import OutputTensor, ProtocolError, encode_response, parse_request

NUMERIC = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64}


def client_body(inputs, outputs=None, request_id=""):
    body, json_size = _get_inference_request(inputs=inputs, request_id=request_id, outputs=outputs, sequence_id=0, sequence_start=False,
                                             sequence_end=False, priority=0, timeout=None, custom_parameters=None)
    return body, None if json_size is None else str(json_size)


shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)


@st.composite
def tensors(draw):
    datatype = draw(st.sampled_from([*NUMERIC, "BYTES"]))
    shape = draw(shapes)
    if datatype == "BYTES":
        values = draw(st.lists(st.text(max_size=8), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
        array = np.array([v.encode() for v in values] or [b""], dtype=object)[: len(values)].reshape(shape)
    else:
        elements = (st.floats(allow_nan=False, allow_infinity=False, width=32 if datatype == "FP32" else 64) if datatype != "INT64"
                    else st.integers(-(2**63), 2**63 - 1))
        array = draw(hnp.arrays(NUMERIC[datatype], shape, elements=elements))
    return datatype, array


@settings(max_examples=150, deadline=None)
@given(st.lists(tensors(), min_size=1, max_size=3), st.lists(st.booleans(), min_size=3, max_size=3), st.text(max_size=10))
def test_requests_as_tritonclient_writes_them_read_back_exactly(drawn, binary, request_id):
    inputs = []
    for i, (datatype, array) in enumerate(drawn):
        tensor = httpclient.InferInput(f"t{i}", list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=binary[i])
        inputs.append(tensor)
    parsed = parse_request(*client_body(inputs, request_id=request_id))
    assert parsed.id == (request_id or None) and parsed.outputs is None and parsed.binary_output
    for (datatype, array), got in zip(drawn, parsed.inputs):
        assert got.datatype == datatype and got.shape == array.shape
        if datatype == "BYTES":
            assert got.data.tolist() == array.tolist()
        else:
            assert got.data.dtype == array.dtype and np.array_equal(got.data, array)


@settings(max_examples=100, deadline=None)
@given(tensors(), st.booleans())
def test_responses_read_by_tritonclient_give_the_tensor_back(drawn, binary):
    datatype, array = drawn
    if datatype == "BYTES":
        array = np.vectorize(lambda b: b.decode(), otypes=[object])(array) if array.size else array.astype(object)
    body, header_length = encode_response("m", "3", "r", [(OutputTensor("out", datatype, array), binary)])
    result = InferResult.from_response_body(body, header_length=header_length)
    assert result.get_response()["model_version"] == "3" and result.get_response()["id"] == "r"
    got = result.as_numpy("out")
    assert got.shape == array.shape
    if datatype == "BYTES":
        assert [v.decode() if isinstance(v, bytes) else v for v in got.ravel()] == list(array.ravel())
    else:
        assert got.dtype == array.dtype and np.array_equal(got, array)


@pytest.mark.parametrize(("body", "header", "message"), [
    (b'{"inputs": [{"name": "a", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 8}}]}' + b"\0" * 4, "91",
     "binary_data_size is 8 bytes, but only 4 bytes of binary data are left"),
    (b'{"inputs": [{"name": "a", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 4}}]}' + b"\0" * 4, "91",
     "shape holds 2 FP32 elements (8 bytes), binary_data_size is 4"),
    (b'{"inputs": [{"name": "a", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 6}}]}' + b"\x05\0\0\0ab", "91",
     "BYTES element 0 says 5 bytes, 2 are left"),
    (b'{"inputs": [{"name": "a", "datatype": "INT64", "shape": [1], "data": [1.5]}]}', None, "INT64 data: expected whole numbers, got 1.5"),
    (b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [true]}]}', None, "FP64 data: expected numbers, got true"),
    (b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}, {"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}]}',
     None, "each input may be given once"),
    (b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}], "outputs": [{"name": "o", "parameters": {"classification": -1}}]}',
     None, "classification: expected a whole number of classes >= 0, got -1"),
    (b'[]', None, "expected an inference request (a JSON object), got a list of 0 values"),
    (b'{"inputs": []}', None, "inputs: expected a non-empty list of input tensors, got a list of 0 values"),
    (b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": [-1, 2], "data": [1, 2]}]}', None,
     "shape[0]: expected a non-negative whole number, got -1"),
    (b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": [1, "2"], "data": [1, 2]}]}', None,
     "shape[1]: expected a non-negative whole number, got '2'"),
    (b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": 2, "data": [1, 2]}]}', None,
     "shape: expected a list of non-negative whole numbers, got 2"),
    (b'{"inputs": [{"name": "a", "datatype": "FP32", "shape": [1], "data": [1e300]}]}', None, "FP32 data: a number does not fit in 32 bits"),
])
def test_malformed_requests_say_what_was_expected(body, header, message):
    if header is not None:
        header = str(body.index(b"}]}") + 3)
    with pytest.raises(ProtocolError) as error:
        parse_request(body, header)
    assert message in error.value.message


@pytest.mark.parametrize("body", [
    b'{"id": "a", "id": "b", "inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}]}',
    b'{"inputs": [{"name": "a", "datatype": "FP64", "datatype": "FP32", "shape": [1], "data": [1]}]}',
    b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}], "parameters": {"binary_data_output": true, "binary_data_output": false}}',
    b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}], "outputs": [{"name": "o", "name": "p"}]}',
    b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}], "outputs": [{"name": "o", "parameters": {"classification": 1, "classification": 2}}]}',
    # and before whatever else is wrong with the text
    b'{"id": "x", "id": 1, "inputs": [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1]}]}',
    b'{"a": 1, "a": 2}',
    b'{"inputs": [], "inputs": []}',
    b'[{"a": 1, "a": 2}]',
    b'{"inputs": [{"name": "a", "datatype": "FP64", "shape": [2], "data": [1, 2], "data": [1, 2, 3]}]}',
])
def test_a_key_given_twice_anywhere_in_the_request_is_refused(body):
    with pytest.raises(ProtocolError) as error:
        parse_request(body, None)
    assert error.value.message == "the inference request is not valid JSON: an object has the same key twice"
