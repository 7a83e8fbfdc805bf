"""ONNX import: chains of dense layers and activations read into the engine's layers, with the
numbers onnxruntime gives for the same file; anything else refused naming the operator or shape."""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from service.catalog import CompiledNetwork
from service.engine.activations import ACTIVATIONS
from service.engine.language import LanguageModel
from service.engine.network import Layer, Network
from service.onnx.export import export_bytes
from service.onnx.read import MalformedOnnx, OnnxImportError, read_network

from .test_export import assert_close, plain

FLOAT = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}


def model_bytes(nodes, initializers, dtype="float32", n_in=4, opset=17, inputs=None) -> bytes:
    graph = helper.make_graph(
        nodes, "g", inputs or [helper.make_tensor_value_info("x", FLOAT[dtype], ["batch", n_in])],
        [helper.make_tensor_value_info(nodes[-1].output[0], FLOAT[dtype], None)],
        [numpy_helper.from_array(v, k) for k, v in initializers.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8).SerializeToString()


def onnxruntime_forward(data: bytes, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def imported_forward(data: bytes, x: np.ndarray) -> np.ndarray:
    imported = read_network(data)
    return Network(imported.layers, imported.dtype).forward(x)


def torch_style(rng: np.random.Generator, dtype: str = "float32") -> tuple[bytes, dict]:
    """What torch.onnx.export writes for nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 3), Softmax(dim=1))."""
    weights = {"0.weight": rng.normal(size=(8, 4)), "0.bias": rng.normal(size=8), "2.weight": rng.normal(size=(3, 8)), "2.bias": rng.normal(size=3)}
    weights = {k: v.astype(dtype) for k, v in weights.items()}
    nodes = [helper.make_node("Gemm", ["x", "0.weight", "0.bias"], ["/0/Gemm_output_0"], name="/0/Gemm", alpha=1.0, beta=1.0, transB=1),
             helper.make_node("Relu", ["/0/Gemm_output_0"], ["/1/Relu_output_0"], name="/1/Relu"),
             helper.make_node("Gemm", ["/1/Relu_output_0", "2.weight", "2.bias"], ["/2/Gemm_output_0"], name="/2/Gemm", alpha=1.0, beta=1.0, transB=1),
             helper.make_node("Softmax", ["/2/Gemm_output_0"], ["output"], name="/3/Softmax", axis=1)]
    return model_bytes(nodes, weights, dtype), weights


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_style_sequential_answers_as_onnxruntime(dtype):
    rng = np.random.default_rng(1)
    data, weights = torch_style(rng, dtype)
    imported = read_network(data)
    assert [l.activation for l in imported.layers] == ["relu", "softmax"] and imported.dtype == dtype
    np.testing.assert_array_equal(imported.layers[0].weights, weights["0.weight"])
    x = rng.normal(size=(16, 4)).astype(dtype)
    assert_close(imported_forward(data, x), onnxruntime_forward(data, x), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_exported_networks_read_back_to_the_same_layers(activation, dtype):
    compiled = plain([activation, "identity", activation], dtype, [3, 5, 4, 2], seed=2)
    imported = read_network(export_bytes("n", 1, compiled))
    assert [l.activation for l in imported.layers] == [activation, "identity", activation] and imported.dtype == dtype
    for mine, theirs in zip(compiled.network.layers, imported.layers):
        np.testing.assert_array_equal(mine.weights, theirs.weights)
        np.testing.assert_array_equal(mine.biases, theirs.biases)


def test_matmul_add_constants_transpose_silu_leaky_relu_and_gelu():
    rng = np.random.default_rng(3)
    w0, b0, w1, w2 = (rng.normal(size=shape).astype(np.float32) for shape in ((4, 6), (1, 6), (5, 6), (5, 2)))
    nodes = [helper.make_node("Constant", [], ["w0"], value=numpy_helper.from_array(w0)),
             helper.make_node("MatMul", ["x", "w0"], ["m0"]), helper.make_node("Add", ["b0", "m0"], ["z0"]),
             helper.make_node("Sigmoid", ["z0"], ["s0"]), helper.make_node("Mul", ["z0", "s0"], ["a0"]),
             helper.make_node("Transpose", ["w1"], ["w1t"]),  # (6, 5) once folded
             helper.make_node("MatMul", ["a0", "w1t"], ["z1"]), helper.make_node("LeakyRelu", ["z1"], ["a1"], alpha=0.01),
             helper.make_node("MatMul", ["a1", "w2"], ["z2"]), helper.make_node("Gelu", ["z2"], ["y"], approximate="tanh")]
    data = model_bytes(nodes, {"b0": b0, "w1": w1, "w2": w2}, "float32", opset=20)
    imported = read_network(data)
    assert [l.activation for l in imported.layers] == ["silu", "leaky_relu", "gelu_tanh"]
    np.testing.assert_array_equal(imported.layers[1].biases, np.zeros(5))
    x = rng.normal(size=(10, 4)).astype(np.float32)
    assert_close(imported_forward(data, x), onnxruntime_forward(data, x), "float32")


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda n, i: n.insert(1, helper.make_node("Conv", ["h"], ["c"])), "graph.node[1]", "operator Conv"),
    (lambda n, i: n.__setitem__(0, helper.make_node("Gemm", ["x", "w0", "b0"], ["h"], alpha=2.0)), "graph.node[0]", "Gemm with alpha=2.0 cannot be mapped"),
    (lambda n, i: i.__setitem__("b0", np.zeros(3, np.float32)), "graph.node[0]", "expected a bias vector of 8 values (one per neuron), got shape [3]"),
    (lambda n, i: n.__setitem__(1, helper.make_node("LeakyRelu", ["h"], ["r"], alpha=0.2)), "graph.node[1]", "LeakyRelu with alpha 0.20000000298023224 cannot be mapped"),
    (lambda n, i: n.__setitem__(1, helper.make_node("Softmax", ["h"], ["r"], axis=0)), "graph.node[1]", "Softmax over axis 0 cannot be mapped"),
    (lambda n, i: n.insert(2, helper.make_node("Relu", ["r"], ["r2"])), "graph.node[2]", "expected a dense layer (Gemm or MatMul) for layer 1, got operator Relu"),
])
def test_what_cannot_be_mapped_is_named(change, field, message):
    rng = np.random.default_rng(4)
    nodes = [helper.make_node("Gemm", ["x", "w0", "b0"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w1", "b1"], ["y"], transB=1)]
    initializers = {"w0": rng.normal(size=(8, 4)).astype(np.float32), "b0": np.zeros(8, np.float32),
                    "w1": rng.normal(size=(2, 8)).astype(np.float32), "b1": np.zeros(2, np.float32)}
    change(nodes, initializers)
    if nodes[-1].output[0] != "y":
        nodes[-1].output[0] = "y"
    with pytest.raises(OnnxImportError) as error:
        read_network(model_bytes(nodes, initializers))
    assert error.value.field == field and message in error.value.message


def test_inputs_that_are_not_a_batch_of_float_vectors():
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    images = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 4])
    with pytest.raises(OnnxImportError, match="expected shape \\[batch, features\\], got 3 dimensions"):
        read_network(model_bytes([node], {"w": np.ones((4, 2), np.float32)}, inputs=[images]))
    ints = helper.make_tensor_value_info("x", TensorProto.INT64, ["batch", 4])
    with pytest.raises(OnnxImportError, match="expected float or double elements, got INT64"):
        read_network(model_bytes([node], {"w": np.ones((4, 2), np.float32)}, inputs=[ints]))
    computed = [helper.make_node("Relu", ["x"], ["w"]), helper.make_node("MatMul", ["x", "w"], ["y"])]
    with pytest.raises(OnnxImportError, match="operator Relu"):
        read_network(model_bytes(computed, {}))


@pytest.mark.parametrize("data", [b"", b"not a model", b"\x08\x07"])
def test_bytes_that_are_no_model(data):
    with pytest.raises(MalformedOnnx):
        read_network(data)


def test_language_export_is_refused_on_import():
    """Import reads plain networks only: a language network's token_ids input is named as the reason."""
    rng = np.random.default_rng(5)
    words = ["<pad>", "<unk>", "</s>", "a"]
    network = Network([Layer(rng.normal(size=(4, 2)), np.zeros(4), "identity")])
    model = LanguageModel(words, rng.normal(size=(4, 1)), 2, network)
    with pytest.raises(OnnxImportError, match="expected float or double elements, got INT64"):
        read_network(export_bytes("lm", 1, CompiledNetwork(network, model)))


def test_weights_that_are_not_finite_or_not_numbers_are_refused():
    rng = np.random.default_rng(6)
    weights = rng.normal(size=(2, 4)).astype(np.float32)
    weights[1, 2] = np.nan
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
    with pytest.raises(OnnxImportError) as error:
        read_network(model_bytes([node], {"w": weights, "b": np.zeros(2, np.float32)}))
    assert error.value.field == "layers[0].weights" and "NaN or infinity" in error.value.message
    with pytest.raises(OnnxImportError, match="needs an input and a weight matrix"):
        read_network(model_bytes([helper.make_node("MatMul", ["x"], ["y"])], {}))
    with pytest.raises(OnnxImportError, match="to act on"):
        read_network(model_bytes([helper.make_node("Gemm", ["x", "w"], ["h"], transB=1), helper.make_node("Relu", ["w"], ["y"])],
                                 {"w": np.ones((2, 4), np.float32)}))
