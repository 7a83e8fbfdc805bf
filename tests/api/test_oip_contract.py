"""The /v2 routes through the contract-checking client: every answer, errors included, is one
openapi.yaml documents (the Open Inference Protocol's JSON and its {"error": ...} envelope)."""
import gzip
import json
import zlib

import numpy as np

XOR = {"layers": [{"weights": [[1.0, 1.0], [1.0, 1.0]], "biases": [0.0, -1.0], "activation": "relu"},
                  {"weights": [[1.0, -2.0]], "biases": [0.0], "activation": "identity"}]}


def _binary_header(values):
    return ('{"inputs":[{"name":"input","datatype":"FP64","shape":[1,%d],"parameters":{"binary_data_size":%d}}]}' % (values, 8 * values)).encode()


def _infer(client, body, **kwargs):
    return client.post("/v2/models/xor/infer", json=body, **kwargs)


def test_documented_answers(client):
    assert client.put("/v1/networks/xor", json=XOR).status_code == 201
    assert client.get("/v2").json["extensions"] == ["binary_tensor_data", "classification"]
    assert client.get("/v2/health/live").json == {"live": True}
    assert client.get("/v2/health/ready").json == {"ready": True}
    assert client.get("/v2/models/xor").json["versions"] == ["1"]
    assert client.get("/v2/models/xor/versions/1/ready").json == {"name": "xor", "ready": True}
    assert client.get("/v2/models/xor/config").json["neuronhub"]["parameter_count"] == 9
    assert client.post("/v2/repository/index").json == [{"name": "xor", "version": "1", "state": "READY", "reason": ""}]
    answer = _infer(client, {"id": "a", "inputs": [{"name": "input", "datatype": "FP64", "shape": [4, 2], "data": [[0, 0], [0, 1], [1, 0], [1, 1]]}]})
    assert answer.json == {"model_name": "xor", "model_version": "1", "id": "a",
                           "outputs": [{"name": "output", "datatype": "FP64", "shape": [4, 1], "data": [0.0, 1.0, 1.0, 0.0]}]}
    classified = client.post("/v2/models/xor/versions/1/infer", json={
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 2], "data": [1, 0]}],
        "outputs": [{"name": "trace_0", "parameters": {"classification": 2}}]})
    assert classified.json["outputs"] == [{"name": "trace_0", "datatype": "BYTES", "shape": [1, 2], "data": ["1.0:0", "0.0:1"]}]


def test_binary_answer_has_the_header_length(client):
    client.put("/v1/networks/xor", json=XOR)
    header = b'{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}],"parameters":{"binary_data_output":true}}'
    response = client.post("/v2/models/xor/infer", data=header + np.array([1, 1], "<f4").tobytes(),
                           headers={"Inference-Header-Content-Length": str(len(header))})
    length = int(response.headers["Inference-Header-Content-Length"])
    assert response.mimetype == "application/octet-stream"
    assert response.data[length:] == np.array([0.0], "<f8").tobytes()
    assert b'"binary_data_size":8' in response.data[:length]


def test_errors_keep_the_protocol_envelope(client):
    client.put("/v1/networks/xor", json=XOR)
    cases = [
        (client.get("/v2/models/nope"), 404, "unknown model 'nope': no network of that name is stored"),
        (client.get("/v2/models/xor/versions/7"), 404, "model 'xor' has no version '7'; its current version is 1 (its revision)"),
        (_infer(client, {"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}]}), 400,
         "input 'input': expected shape [batch, 2], got [1, 3]"),
        (_infer(client, {"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 2], "data": [1, "2"]}]}), 400,
         "input 'input': FP64 data: expected numbers, got '2'"),
        (_infer(client, {"inputs": [{"name": "input", "datatype": "FP16", "shape": [1, 2], "data": [1, 2]}]}), 400,
         "input 'input': datatype: expected one of FP32, FP64, INT64, BYTES, got 'FP16'"),
        (_infer(client, {"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 2], "data": [1]}]}), 400,
         "input 'input': shape holds 2 elements, data has 1"),
        (_infer(client, {"inputs": [], "parameters": {"sequence_id": 3}}), 400,
         "the inference request: parameter 'sequence_id' is not supported here; supported: binary_data_output"),
        (client.post("/v2/models/xor/infer", data=b"{}", headers={"Inference-Header-Content-Length": "9"}), 400,
         "Inference-Header-Content-Length: expected the byte length of the JSON header, 1..2, got '9'"),
        (client.post("/v2/models/xor/infer", data=b"", headers={"Content-Encoding": "br"}), 400,
         "Content-Encoding 'br' is not supported here; expected gzip, deflate or none"),
        (client.post("/v2/models/xor/infer", data=b"not gzip", headers={"Content-Encoding": "gzip"}), 400,
         "the body is not valid gzip data: Error -3 while decompressing data: incorrect header check"),
        (client.post("/v2/models/xor/infer", data=zlib.compress(b'{"inputs": []}')[:-6], headers={"Content-Encoding": "deflate"}), 400,
         "the body is not valid deflate data: it ends before the compressed stream does"),
        (client.post("/v2/models/xor/infer", data=_binary_header(2) + np.array([1.0, np.nan], "<f8").tobytes(),
                     headers={"Inference-Header-Content-Length": str(len(_binary_header(2)))}), 400,
         "input 'input': expected finite numbers, got NaN or infinity"),
        (client.put("/v2/models/xor/infer"), 405, "PUT is not allowed here; allowed: OPTIONS, POST"),
        (client.get("/v2/elsewhere"), 404, "no such path; see /openapi.yaml for the routes this service has"),
        (client.post("/v2/repository/index", json={"ready": "yes"}), 400, 'expected an empty body or {"ready": true|false}'),
    ]
    for response, status, error in cases:
        assert (response.status_code, response.json) == (status, {"error": error})
        assert response.mimetype == "application/json"


def test_compressed_requests_as_tritonclient_sends_them(client, config):
    client.put("/v1/networks/xor", json=XOR)
    body = b'{"inputs": [{"name": "input", "datatype": "FP64", "shape": [2, 2], "data": [0, 1, 1, 1]}]}'
    for encoding, data in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
        response = client.post("/v2/models/xor/infer", data=data, headers={"Content-Encoding": encoding})
        assert response.json["outputs"][0]["data"] == [1.0, 0.0], encoding
    bomb = gzip.compress(b" " * (config.max_body_bytes + 1))  # small compressed, over the limit decompressed
    assert len(bomb) < config.max_body_bytes
    response = client.post("/v2/models/xor/infer", data=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json == {"error": f"the decompressed body is larger than {config.max_body_bytes} bytes (NEURONHUB_MAX_BODY_BYTES)"}


def test_body_over_the_limit(client, config):
    client.put("/v1/networks/xor", json=XOR)
    response = client.post("/v2/models/xor/infer", data=b"x" * (config.max_body_bytes + 1))
    assert response.status_code == 413
    assert response.json == {"error": f"the body is larger than {config.max_body_bytes} bytes (NEURONHUB_MAX_BODY_BYTES)"}


def test_binary_inputs_that_are_not_finite_are_refused_by_name(client):
    """Binary floats are checked once, by the engine as it casts them; the answer names the input
    whichever outputs were asked for, and an FP32 tensor meets a float64 network the same way."""
    assert client.put("/v1/networks/xor", json=XOR).status_code == 201
    for datatype, dtype in (("FP64", "<f8"), ("FP32", "<f4")):
        for bad in (np.nan, np.inf, -np.inf):
            for outputs in (None, ["output"], ["trace_0", "output"]):
                values = np.array([0.5, bad], dtype)
                header = {"inputs": [{"name": "input", "datatype": datatype, "shape": [1, 2], "parameters": {"binary_data_size": values.nbytes}}]}
                if outputs is not None:
                    header["outputs"] = [{"name": name} for name in outputs]
                head = json.dumps(header).encode()
                response = client.post("/v2/models/xor/infer", data=head + values.tobytes(),
                                       headers={"Inference-Header-Content-Length": str(len(head))})
                assert (response.status_code, response.json) == (400, {"error": "input 'input': expected finite numbers, got NaN or infinity"})
