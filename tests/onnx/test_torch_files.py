"""ONNX files torch.onnx.export wrote (tests/onnx/fixtures/make_torch_models.py made them, torch 2.13):
imported, the network answers forward with the numbers onnxruntime gives for the same file."""
from pathlib import Path

import numpy as np
import pytest

from service.engine.network import Network
from service.onnx.read import read_network

from .test_export import assert_close
from .test_read import onnxruntime_forward

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize(("file", "activations", "inputs", "dtype"), [
    ("torch_sequential.onnx", ["relu", "softmax"], 4, "float32"),  # TorchScript exporter, opset 17
    ("torch_sequential_dynamo.onnx", ["relu", "softmax"], 4, "float32"),  # dynamo exporter, opset 18
    ("torch_activations.onnx", ["silu", "tanh", "leaky_relu", "sigmoid", "gelu_tanh"], 5, "float32"),  # opset 20
    ("torch_gelu.onnx", ["gelu", "gelu_tanh", "identity"], 5, "float32"),  # opset 17: GELU written out with Erf and with Tanh
    ("torch_gelu_tanh_float64.onnx", ["gelu_tanh", "identity"], 5, "float64"),
])
def test_torch_exports_import_with_onnxruntime_numbers(file, activations, inputs, dtype):
    data = (FIXTURES / file).read_bytes()
    imported = read_network(data)
    assert [layer.activation for layer in imported.layers] == activations and imported.dtype == dtype
    x = np.random.default_rng(12).normal(scale=2.0, size=(64, inputs)).astype(dtype)
    assert_close(Network(imported.layers, imported.dtype).forward(x), onnxruntime_forward(data, x), dtype)
