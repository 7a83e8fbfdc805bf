"""ONNX export and import through the contract-checking client: every answer is one openapi.yaml documents."""
import numpy as np
import onnxruntime as ort

from tests.onnx.test_read import torch_style

XOR = {"layers": [{"weights": [[1.0, 1.0], [1.0, 1.0]], "biases": [0.0, -1.0], "activation": "relu"},
                  {"weights": [[1.0, -2.0]], "biases": [0.0], "activation": "identity"}]}


def test_export_then_import(client):
    client.put("/v1/networks/xor", json=XOR)
    exported = client.get("/v1/networks/xor/model.onnx")
    assert exported.status_code == 200 and exported.mimetype == "application/onnx"
    assert exported.headers["Content-Disposition"] == 'attachment; filename="xor.onnx"'
    session = ort.InferenceSession(exported.data, providers=["CPUExecutionProvider"])
    assert session.run(None, {"input": np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)})[0].tolist() == [[0.0], [1.0], [1.0], [0.0]]
    assert client.get("/v1/networks/xor/model.onnx", headers={"If-None-Match": '"1"'}).status_code == 304
    assert client.get("/v1/networks/none/model.onnx").status_code == 404
    copy = client.put("/v1/networks/xor-copy", data=exported.data, content_type="application/onnx")
    assert copy.status_code == 201 and copy.json["layers"] == XOR["layers"]
    assert copy.json["description"] == "Neuronhub network 'xor', revision 1"


def test_import_errors(client):
    malformed = client.put("/v1/networks/n", data=b"nope", content_type="application/onnx")
    assert malformed.status_code == 400 and malformed.json["type"] == "urn:neuronhub:problem:malformed-onnx"
    data, _ = torch_style(np.random.default_rng(0))
    assert client.put("/v1/networks/n", data=data, content_type="application/onnx").status_code == 201
    unsupported = client.put("/v1/neurons/n", data=data, content_type="application/onnx")
    assert unsupported.status_code == 415 and unsupported.json["detail"] == "expected Content-Type application/json, got 'application/onnx'"
    from onnx import helper
    from tests.onnx.test_read import model_bytes
    conv = model_bytes([helper.make_node("Conv", ["x"], ["y"])], {})
    refused = client.put("/v1/networks/n", data=conv, content_type="application/onnx")
    assert refused.status_code == 422
    assert refused.json["errors"] == {"graph.node[0]": ["expected a dense layer (Gemm or MatMul) for layer 0, got operator Conv"]}
