"""The Open Inference Protocol v2 as tritonclient.http speaks it, against gunicorn on SQLite and
PostgreSQL: every number is compared with the native API's answer for the same network."""
from __future__ import annotations

import numpy as np
import pytest
import requests
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from tests.support.keyed_server import ADMIN_KEY, MAX_BODY, MAX_ROWS, READ_KEY, VOCABULARY, Running, language_network, plain_network, read_headers

PLAIN = plain_network(1, [3, 4, 2], ["relu", "softmax"])
WIDE = plain_network(2, [5, 7, 6, 3], ["tanh", "gelu", "sigmoid"], dtype="float32")


@pytest.fixture(scope="module")
def triton(server: Running) -> httpclient.InferenceServerClient:
    server.put("plain", PLAIN)
    server.put("wide32", WIDE)
    server.put("words", language_network(3))
    client = httpclient.InferenceServerClient(server.host)
    yield client
    client.close()


def keyed() -> dict[str, str]:
    return read_headers()


def native_forward(server: Running, name: str, x: np.ndarray, trace: bool = False) -> dict:
    return server.post(f"/v1/networks/{name}/forward", {"inputs": x.tolist(), "trace": trace})


def test_server_health_and_metadata(triton, server):
    assert triton.is_server_live() and triton.is_server_ready()  # probes need no key, as /healthz and /readyz
    metadata = triton.get_server_metadata(headers=keyed())
    assert metadata["name"] == "neuronhub" and set(metadata["extensions"]) == {"binary_tensor_data", "classification"}
    assert requests.get(server.url + "/v2/health/ready", timeout=10).json() == {"ready": True}


def test_model_metadata_config_and_index(triton, server):
    revision = server.put("plain", PLAIN)["revision"]  # a second PUT: revision 2 (or more)
    metadata = triton.get_model_metadata("plain", headers=keyed())
    assert metadata == {
        "name": "plain", "versions": [str(revision)], "platform": "neuronhub_numpy",
        "inputs": [{"name": "input", "datatype": "FP64", "shape": [-1, 3]}],
        "outputs": [{"name": "output", "datatype": "FP64", "shape": [-1, 2]},
                    {"name": "trace_0", "datatype": "FP64", "shape": [-1, 4]},
                    {"name": "trace_1", "datatype": "FP64", "shape": [-1, 2]}],
    }
    assert triton.get_model_metadata("plain", str(revision), headers=keyed()) == metadata
    with pytest.raises(InferenceServerException) as wrong:
        triton.get_model_metadata("plain", str(revision + 5), headers=keyed())
    assert wrong.value.status() == "404" and f"current version is {revision}" in wrong.value.message()
    assert triton.is_model_ready("plain", headers=keyed()) and not triton.is_model_ready("missing", headers=keyed())
    assert not triton.is_model_ready("plain", str(revision + 5), headers=keyed())

    config = triton.get_model_config("words", headers=keyed())
    assert config["platform"] == "neuronhub_numpy" and config["max_batch_size"] == MAX_ROWS
    assert config["input"] == [{"name": "text", "data_type": "TYPE_STRING", "dims": [1]},
                               {"name": "token_ids", "data_type": "TYPE_INT64", "dims": [2]}]
    assert config["output"][0] == {"name": "probabilities", "data_type": "TYPE_FP64", "dims": [len(VOCABULARY)]}
    stored = requests.get(server.url + "/v1/networks/words", headers=keyed(), timeout=10).json()
    assert config["neuronhub"]["layers"] == [{"activation": "tanh", "inputs": 6, "neurons": 6},
                                             {"activation": "identity", "inputs": 6, "neurons": len(VOCABULARY)}]
    assert config["neuronhub"]["revision"] == stored["revision"] and config["neuronhub"]["context_size"] == 2

    index = {entry["name"]: entry for entry in triton.get_model_repository_index(headers=keyed())}
    assert index["plain"] == {"name": "plain", "version": str(revision), "state": "READY", "reason": ""}
    assert {"plain", "wide32", "words"} <= set(index)


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("datatype", ["FP64", "FP32"])
def test_plain_infer_equals_native_forward(triton, server, binary, datatype):
    x = np.random.default_rng(7).normal(size=(5, 3)).astype(np.float64 if datatype == "FP64" else np.float32)
    tensor = httpclient.InferInput("input", list(x.shape), datatype)
    tensor.set_data_from_numpy(x, binary_data=binary)
    outputs = [httpclient.InferRequestedOutput("output", binary_data=binary)]
    result = triton.infer("plain", [tensor], outputs=outputs, request_id="req-42", headers=keyed())
    native = native_forward(server, "plain", x.astype(np.float64))
    got = result.as_numpy("output")
    assert got.dtype == np.float64 and got.shape == (5, 2)
    np.testing.assert_array_equal(got, np.array(native["outputs"]))
    response = result.get_response()
    assert response["id"] == "req-42" and response["model_name"] == "plain" and response["model_version"] == str(native["revision"])
    assert [o["name"] for o in response["outputs"]] == ["output"]


def test_traces_on_request_only(triton, server):
    x = np.random.default_rng(8).normal(size=(4, 5)).astype(np.float32)
    tensor = httpclient.InferInput("input", [4, 5], "FP32")
    tensor.set_data_from_numpy(x, binary_data=True)
    native = native_forward(server, "wide32", x, trace=True)
    plain = triton.infer("wide32", [tensor], headers=keyed())  # no outputs named: the default, `output` only, binary
    assert [o["name"] for o in plain.get_response()["outputs"]] == ["output"]
    assert plain.get_response()["outputs"][0]["parameters"] == {"binary_data_size": 4 * 3 * 4}
    np.testing.assert_array_equal(plain.as_numpy("output"), np.array(native["outputs"], dtype=np.float32))
    wanted = [httpclient.InferRequestedOutput("trace_1", binary_data=False), httpclient.InferRequestedOutput("trace_0", binary_data=True)]
    traced = triton.infer("wide32", [tensor], outputs=wanted, headers=keyed())
    assert [o["name"] for o in traced.get_response()["outputs"]] == ["trace_1", "trace_0"]
    for i in (0, 1):
        got = traced.as_numpy(f"trace_{i}")
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, np.array(native["trace"][i]["activations"], dtype=np.float32))
    assert traced.as_numpy("output") is None


def _predict(server: Running, context: str, top_k: int) -> dict:
    return server.post("/v1/networks/words/predict", {"context": context, "top_k": top_k})


@pytest.mark.parametrize("binary", [False, True])
def test_language_text_and_token_ids_equal_native_predict(triton, server, binary):
    contexts = ["the cat", "dog ran", "zebra"]  # "zebra" reads as <unk> after a <pad>
    text = httpclient.InferInput("text", [3], "BYTES")
    text.set_data_from_numpy(np.array([c.encode() for c in contexts], dtype=object), binary_data=binary)
    outputs = [httpclient.InferRequestedOutput("probabilities", binary_data=binary), httpclient.InferRequestedOutput("logits", binary_data=binary)]
    result = triton.infer("words", [text], outputs=outputs, headers=keyed())
    probabilities, logits = result.as_numpy("probabilities"), result.as_numpy("logits")
    assert probabilities.shape == logits.shape == (3, len(VOCABULARY))
    for row, context in enumerate(contexts):
        native = _predict(server, context, len(VOCABULARY))
        ids = np.array([native["context"]["ids"]], dtype=np.int64)
        by_ids = httpclient.InferInput("token_ids", [1, 2], "INT64")
        by_ids.set_data_from_numpy(ids, binary_data=not binary)
        one = triton.infer("words", [by_ids], outputs=[httpclient.InferRequestedOutput("probabilities")], headers=keyed())
        assert one.as_numpy("logits") is None
        single = one.as_numpy("probabilities")[0]
        for word in native["words"]:  # one context, as predict reads it: the very same numbers
            assert single[word["id"]] == word["probability"]
        # in a batch, one matrix product for all rows (as the native batch forward): equal up to rounding
        np.testing.assert_allclose(probabilities[row], single, rtol=1e-13, atol=0)
        shifted = logits[row] - logits[row].max()
        np.testing.assert_allclose(probabilities[row], np.exp(shifted) / np.exp(shifted).sum(), rtol=1e-12)


@pytest.mark.parametrize("binary", [False, True])
def test_classification_labels_are_vocabulary_words(triton, server, binary):
    for context in ["the cat", "on the"]:  # one context per request: the very numbers predict gives
        text = httpclient.InferInput("text", [1], "BYTES")
        text.set_data_from_numpy(np.array([context.encode()], dtype=object), binary_data=binary)
        result = triton.infer("words", [text], outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=binary, class_count=4)], headers=keyed())
        classes = result.as_numpy("probabilities")
        assert classes.shape == (1, 4) and result.get_response()["outputs"][0]["datatype"] == "BYTES"
        native = _predict(server, context, 4)["words"]
        entries = [c.decode() if isinstance(c, bytes) else c for c in classes[0]]
        assert [e.split(":") for e in entries] == [[repr(w["probability"]), str(w["id"]), w["word"]] for w in native]


def test_classification_of_plain_network_has_no_labels_and_is_cut_to_the_outputs(triton, server):
    x = np.array([[0.5, -1.0, 2.0]])
    tensor = httpclient.InferInput("input", [1, 3], "FP64")
    tensor.set_data_from_numpy(x)
    result = triton.infer("plain", [tensor], outputs=[httpclient.InferRequestedOutput("output", binary_data=False, class_count=5)], headers=keyed())
    (values,) = native_forward(server, "plain", x)["outputs"]
    order = np.argsort(-np.array(values), kind="stable")
    assert result.as_numpy("output").tolist() == [[f"{values[i]!r}:{i}" for i in order]]  # JSON BYTES read back as str


@pytest.mark.parametrize(("inputs", "status", "message"), [
    ([("inputs", [2, 3], "FP64")], "400", "unknown input 'inputs'; expected 'input'"),
    ([("input", [2, 3], "INT64")], "400", "expected datatype FP32 or FP64, got INT64"),
    ([("input", [2, 4], "FP64")], "400", "expected shape [batch, 3], got [2, 4]"),
])
def test_input_errors_say_what_was_expected(triton, inputs, status, message):
    tensors = []
    for name, shape, datatype in inputs:
        tensor = httpclient.InferInput(name, shape, datatype)
        tensor.set_data_from_numpy(np.ones(shape, dtype=np.int64 if datatype == "INT64" else np.float64))
        tensors.append(tensor)
    with pytest.raises(InferenceServerException) as error:
        triton.infer("plain", tensors, headers=keyed())
    assert error.value.status() == status and message in error.value.message()


def test_unknown_model_output_and_token_ids(triton):
    tensor = httpclient.InferInput("input", [1, 3], "FP64")
    tensor.set_data_from_numpy(np.ones((1, 3)))
    with pytest.raises(InferenceServerException) as missing:
        triton.infer("no-such-model", [tensor], headers=keyed())
    assert missing.value.status() == "404" and "unknown model 'no-such-model'" in missing.value.message()
    with pytest.raises(InferenceServerException) as output:
        triton.infer("plain", [tensor], outputs=[httpclient.InferRequestedOutput("trace_9")], headers=keyed())
    assert "unknown output 'trace_9'; this model has outputs output, trace_0, trace_1" in output.value.message()
    ids = httpclient.InferInput("token_ids", [1, 2], "INT64")
    ids.set_data_from_numpy(np.array([[3, 99]], dtype=np.int64))
    with pytest.raises(InferenceServerException) as vocabulary:
        triton.infer("words", [ids], headers=keyed())
    assert f"expected word ids in 0..{len(VOCABULARY) - 1}, got 99" in vocabulary.value.message()


def test_api_keys_as_headers(triton, server):
    tensor = httpclient.InferInput("input", [1, 3], "FP64")
    tensor.set_data_from_numpy(np.ones((1, 3)))
    with pytest.raises(InferenceServerException) as none:
        triton.infer("plain", [tensor])
    assert none.value.status() == "401" and "needs an API key" in none.value.message()
    with pytest.raises(InferenceServerException) as wrong:
        triton.get_model_metadata("plain", headers={"Authorization": "Bearer nope"})
    assert wrong.value.status() == "401" and "not valid" in wrong.value.message()
    assert triton.infer("plain", [tensor], headers={"Authorization": f"Bearer {READ_KEY}"}).as_numpy("output").shape == (1, 2)
    assert triton.infer("plain", [tensor], headers={"X-API-Key": ADMIN_KEY}).as_numpy("output").shape == (1, 2)
    refused = requests.post(server.url + "/v2/models/plain/infer", data=b"{}", timeout=10)
    assert refused.status_code == 401 and refused.headers["Content-Type"] == "application/json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer") and set(refused.json()) == {"error"}


def test_protocol_envelope_for_http_errors(server):
    too_big = requests.post(server.url + "/v2/models/plain/infer", data=b"x" * (MAX_BODY + 1), headers=keyed(), timeout=30)
    assert too_big.status_code == 413 and too_big.json() == {"error": f"the body is larger than {MAX_BODY} bytes (NEURONHUB_MAX_BODY_BYTES)"}
    nowhere = requests.get(server.url + "/v2/nowhere", headers=keyed(), timeout=10)
    assert nowhere.status_code == 404 and set(nowhere.json()) == {"error"}
    method = requests.delete(server.url + "/v2/models/plain", headers=keyed(), timeout=10)
    assert method.status_code == 405 and "DELETE is not allowed here" in method.json()["error"]
    malformed = requests.post(server.url + "/v2/models/plain/infer", data=b'{"inputs": [NaN]}', headers=keyed(), timeout=10)
    assert malformed.status_code == 400 and "not valid JSON" in malformed.json()["error"]
    rows = requests.post(server.url + "/v2/models/plain/infer", headers=keyed(), timeout=30,
                         json={"inputs": [{"name": "input", "datatype": "FP64", "shape": [MAX_ROWS + 1, 3], "data": [0.0] * 3 * (MAX_ROWS + 1)}]})
    assert rows.status_code == 400 and f"at most {MAX_ROWS} rows" in rows.json()["error"]
    native = requests.get(server.url + "/v1/networks/missing", headers=keyed(), timeout=10)
    assert native.status_code == 404 and native.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_compressed_requests(triton, server, algorithm):
    x = np.random.default_rng(10).normal(size=(3, 3))
    tensor = httpclient.InferInput("input", [3, 3], "FP64")
    tensor.set_data_from_numpy(x, binary_data=True)
    result = triton.infer("plain", [tensor], headers=keyed(), request_compression_algorithm=algorithm,
                          response_compression_algorithm=algorithm)  # the answer may come uncompressed: it does
    np.testing.assert_array_equal(result.as_numpy("output"), np.array(native_forward(server, "plain", x)["outputs"]))
