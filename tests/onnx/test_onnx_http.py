"""ONNX over HTTP, against gunicorn on SQLite and PostgreSQL: the exported file gives the native
forward/predict numbers in onnxruntime; an uploaded file is stored and answers forward with the
numbers onnxruntime gives for it; revisions, preconditions and limits as for JSON PUTs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import requests

from tests.support.keyed_server import MAX_BODY, Running, admin_headers, language_network, plain_network, read_headers


ONNX = {"Content-Type": "application/onnx"}


def run(data: bytes, feeds: dict) -> list[np.ndarray]:
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, feeds)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_export_equals_native_forward(server: Running, dtype):
    stored = server.put(f"export-{dtype}", plain_network(5, [4, 6, 5, 3], ["gelu", "softplus", "softmax"], dtype))
    response = requests.get(f"{server.url}/v1/networks/export-{dtype}/model.onnx", headers=read_headers(), timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/onnx"
    assert response.headers["ETag"] == f'"{stored["revision"]}"'
    x = np.random.default_rng(6).normal(size=(9, 4))
    (got,) = run(response.content, {"input": x.astype(dtype)})
    native = np.array(server.post(f"/v1/networks/export-{dtype}/forward", {"inputs": x.astype(dtype).tolist()})["outputs"], dtype=dtype)
    tolerance = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(got, native, rtol=tolerance, atol=tolerance)
    cached = requests.get(f"{server.url}/v1/networks/export-{dtype}/model.onnx", timeout=30,
                          headers={**read_headers(), "If-None-Match": response.headers["ETag"]})
    assert cached.status_code == 304 and not cached.content


def test_language_export_equals_native_predict(server: Running):
    server.put("export-words", language_network(11))
    data = requests.get(f"{server.url}/v1/networks/export-words/model.onnx", headers=read_headers(), timeout=30).content
    native = server.post("/v1/networks/export-words/predict", {"context": "the dog", "top_k": 5})
    probabilities, _ = run(data, {"token_ids": np.array([native["context"]["ids"]], dtype=np.int64)})
    for word in native["words"]:
        assert abs(probabilities[0, word["id"]] - word["probability"]) <= 1e-12


def test_import_answers_forward_as_onnxruntime_and_keeps_revisions(server: Running):
    data = (Path(__file__).resolve().parent / "fixtures" / "torch_sequential.onnx").read_bytes()  # what torch.onnx.export wrote
    url = f"{server.url}/v1/networks/imported"
    created = requests.put(url, data=data, headers={**admin_headers(), **ONNX}, timeout=30)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["layer_sizes"] == [4, 8, 3] and body["dtype"] == "float32" and [l["activation"] for l in body["layers"]] == ["relu", "softmax"]
    x = np.random.default_rng(8).normal(size=(6, 4)).astype(np.float32)
    (expected,) = run(data, {"input": x})
    native = np.array(server.post("/v1/networks/imported/forward", {"inputs": x.tolist()})["outputs"], dtype=np.float32)
    np.testing.assert_allclose(native, expected, rtol=1e-5, atol=1e-6)
    stale = requests.put(url, data=data, headers={**admin_headers(), **ONNX, "If-Match": '"7"'}, timeout=30)
    assert stale.status_code == 412 and stale.json()["current_revision"] == body["revision"]
    replaced = requests.put(url, data=data, headers={**admin_headers(), **ONNX, "If-Match": created.headers["ETag"]}, timeout=30)
    assert replaced.status_code == 200 and replaced.json()["revision"] == body["revision"] + 1
    refused = requests.put(url, data=data, headers={**read_headers(), **ONNX}, timeout=30)
    assert refused.status_code == 403


def test_import_errors_are_problems(server: Running):
    url = f"{server.url}/v1/networks/broken"
    headers = {**admin_headers(), **ONNX}
    malformed = requests.put(url, data=b"not onnx", headers=headers, timeout=30)
    assert malformed.status_code == 400 and malformed.headers["Content-Type"] == "application/problem+json"
    assert malformed.json()["type"] == "urn:neuronhub:problem:malformed-onnx"
    from onnx import helper
    from .test_read import model_bytes
    conv = model_bytes([helper.make_node("Gemm", ["x", "w"], ["h"]), helper.make_node("Conv", ["h"], ["y"])], {"w": np.ones((4, 2), np.float32)})
    unmapped = requests.put(url, data=conv, headers=headers, timeout=30)
    assert unmapped.status_code == 422 and "operator Conv" in unmapped.json()["errors"]["graph.node[1]"][0]
    too_big = requests.put(url, data=b"\0" * (MAX_BODY + 1), headers=headers, timeout=30)
    assert too_big.status_code == 413 and f"larger than {MAX_BODY} bytes" in too_big.json()["detail"]
    other = requests.put(url, data=b"x", headers={**admin_headers(), "Content-Type": "text/plain"}, timeout=30)
    assert other.status_code == 415 and "application/json or application/onnx" in other.json()["detail"]
    assert requests.get(url, headers=read_headers(), timeout=30).status_code == 404  # nothing half-stored


def test_torchs_written_out_gelu_imports_and_a_near_miss_is_a_422(server: Running):
    data = (Path(__file__).resolve().parent / "fixtures" / "torch_gelu.onnx").read_bytes()  # opset 17: GELU as Erf and Tanh nodes
    created = requests.put(f"{server.url}/v1/networks/imported-gelu", data=data, headers={**admin_headers(), **ONNX}, timeout=30)
    assert created.status_code == 201, created.text
    assert [l["activation"] for l in created.json()["layers"]] == ["gelu", "gelu_tanh", "identity"]
    x = np.random.default_rng(9).normal(scale=2.0, size=(6, 5)).astype(np.float32)
    (expected,) = run(data, {"input": x})
    native = np.array(server.post("/v1/networks/imported-gelu/forward", {"inputs": x.tolist()})["outputs"], dtype=np.float32)
    np.testing.assert_allclose(native, expected, rtol=1e-5, atol=1e-5)
    import onnx
    from onnx import numpy_helper
    model = onnx.load_model_from_string(data)
    half = next(n for n in model.graph.node if n.output[0] == "/1/Constant_2_output_0")  # the exact GELU's 0.5
    half.attribute[0].t.CopyFrom(numpy_helper.from_array(np.array(0.25, np.float32)))
    near_miss = requests.put(f"{server.url}/v1/networks/near-gelu", data=model.SerializeToString(), headers={**admin_headers(), **ONNX},
                             timeout=30)
    assert near_miss.status_code == 422 and near_miss.headers["Content-Type"] == "application/problem+json"
    assert "operator Div cannot be mapped" in near_miss.json()["errors"]["graph.node[2] (/1/Div)"][0]
