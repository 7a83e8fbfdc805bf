"""GELU as exporters write it: opset 20's Gelu operator, or written out with Erf or Tanh in the node
orders torch's two exporters use (and others), read as the engine's gelu / gelu_tanh with the numbers
onnxruntime gives for the same graph; a near miss is refused naming its operator."""
from __future__ import annotations

import math

import numpy as np
import pytest
from onnx import helper, numpy_helper
from scipy.special import erf

from service.onnx.read import OnnxImportError, read_network

from .test_export import assert_close
from .test_read import imported_forward, model_bytes, onnxruntime_forward

SQRT2, BETA, KAPPA = math.sqrt(2), math.sqrt(2 / math.pi), 0.044715


def node(op, *inputs, out):
    return helper.make_node(op, list(inputs), [out])


def const(name, value, dtype):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.array(value, dtype=dtype)))


# Each writes activation(z) into "y", from the layer's weighted sums "z"; c(name, value) makes a constant.
def torchscript_exact(c):  # torch.onnx.export(dynamo=False), opset 17: symbolic_opset9.gelu
    return [c("s", SQRT2), node("Div", "z", "s", out="d"), node("Erf", "d", out="e"), c("one", 1.0), node("Add", "e", "one", out="a"),
            node("Mul", "z", "a", out="m"), c("half", 0.5), node("Mul", "m", "half", out="y")]


def torchlib_exact(c):  # torch.onnx.export(dynamo=True): onnxscript's aten_gelu, approximate="none"
    return [c("s", SQRT2), node("Div", "z", "s", out="d"), node("Erf", "d", out="e"), c("one", 1.0), node("Add", "e", "one", out="a"),
            node("Mul", "z", "a", out="m"), c("half", 0.5), node("Mul", "half", "m", out="y")]


def halved_first_exact(c):  # 0.5 * z first, 1/sqrt 2 as a Mul: (z * 0.5) * (1 + erf(z * 0.70710678))
    return [c("half", 0.5), node("Mul", "z", "half", out="h"), c("r", 1 / SQRT2), node("Mul", "r", "z", out="d"), node("Erf", "d", out="e"),
            c("one", 1.0), node("Add", "one", "e", out="a"), node("Mul", "h", "a", out="y")]


def torchscript_tanh(c):  # symbolic_opset9.gelu, approximate="tanh": x*x*x as products
    return [node("Mul", "z", "z", out="zz"), node("Mul", "z", "zz", out="z3"), c("k", KAPPA), node("Mul", "k", "z3", out="kz3"),
            node("Add", "z", "kz3", out="s"), c("b", BETA), node("Mul", "b", "s", out="inner"), node("Tanh", "inner", out="t"),
            c("one", 1.0), node("Add", "one", "t", out="a"), node("Mul", "z", "a", out="m"), c("half", 0.5), node("Mul", "half", "m", out="y")]


def torchlib_tanh(c):  # onnxscript's aten_gelu, approximate="tanh": Pow(x, 3), sqrt(2 / pi) computed in the graph
    return [c("three", 3.0), node("Pow", "z", "three", out="z3"), c("k", KAPPA), node("Mul", "k", "z3", out="kz3"),
            node("Add", "z", "kz3", out="s"), c("two", 2.0), c("pi", math.pi), node("Div", "two", "pi", out="q"), node("Sqrt", "q", out="b"),
            node("Mul", "b", "s", out="inner"), node("Tanh", "inner", out="t"), c("one", 1.0), node("Add", "t", "one", out="a"),
            node("Mul", "z", "a", out="m"), c("half", 0.5), node("Mul", "half", "m", out="y")]


EXACT = [torchscript_exact, torchlib_exact, halved_first_exact]
TANH = [torchscript_tanh, torchlib_tanh]


def network(activation_nodes, dtype, rng, follow_with_layer=True, opset=17):
    """Gemm(x) -> z -> activation -> y [-> Gemm(y)]: GELU inside the chain and at its end."""
    c = (lambda name, value: const(name, value, dtype))
    nodes = [node("Gemm", "x", "w0", "b0", out="z")] + activation_nodes(c)
    initializers = {"w0": rng.normal(size=(4, 6)).astype(dtype), "b0": rng.normal(size=6).astype(dtype)}
    if follow_with_layer:
        nodes.append(node("Gemm", "y", "w1", "b1", out="out"))
        initializers |= {"w1": rng.normal(size=(6, 3)).astype(dtype), "b1": rng.normal(size=3).astype(dtype)}
    return model_bytes(nodes, initializers, dtype, opset=opset)


def inputs(rng, dtype):
    return (3 * rng.normal(size=(200, 4))).astype(dtype)  # weighted sums well past +-3, where erf and tanh saturate


@pytest.mark.parametrize("follow_with_layer", [True, False])
@pytest.mark.parametrize("pattern", EXACT + TANH, ids=lambda p: p.__name__)
def test_written_out_gelu_in_float32_answers_as_onnxruntime(pattern, follow_with_layer):
    rng = np.random.default_rng(7)
    data = network(pattern, "float32", rng, follow_with_layer)
    imported = read_network(data)
    expected = "gelu" if pattern in EXACT else "gelu_tanh"
    assert [layer.activation for layer in imported.layers] == [expected, "identity"][: 1 + follow_with_layer]
    x = inputs(rng, "float32")
    assert_close(imported_forward(data, x), onnxruntime_forward(data, x), "float32")


@pytest.mark.parametrize("pattern", TANH, ids=lambda p: p.__name__)
def test_written_out_tanh_gelu_in_float64_answers_as_onnxruntime(pattern):
    rng = np.random.default_rng(8)
    data = network(pattern, "float64", rng)
    assert [layer.activation for layer in read_network(data).layers] == ["gelu_tanh", "identity"]
    x = inputs(rng, "float64")
    assert_close(imported_forward(data, x), onnxruntime_forward(data, x), "float64")


@pytest.mark.parametrize("pattern", EXACT, ids=lambda p: p.__name__)
def test_written_out_exact_gelu_in_float64_is_the_erf_formula(pattern):
    # onnxruntime has no float64 Erf kernel: compare with the formula the graph writes, through scipy's erf
    rng = np.random.default_rng(9)
    data = network(pattern, "float64", rng, follow_with_layer=False)
    imported = read_network(data)
    assert [layer.activation for layer in imported.layers] == ["gelu"]
    x = inputs(rng, "float64")
    z = x @ imported.layers[0].weights.T + imported.layers[0].biases
    np.testing.assert_allclose(imported_forward(data, x), z * 0.5 * (1 + erf(z / SQRT2)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("approximate, activation", [("none", "gelu"), ("tanh", "gelu_tanh")])
def test_opset_20_gelu_operator(approximate, activation):
    rng = np.random.default_rng(10)
    data = network(lambda c: [helper.make_node("Gelu", ["z"], ["y"], approximate=approximate)], "float32", rng, opset=20)
    assert [layer.activation for layer in read_network(data).layers] == [activation, "identity"]
    x = inputs(rng, "float32")
    assert_close(imported_forward(data, x), onnxruntime_forward(data, x), "float32")


def test_a_gelu_operator_with_an_unknown_approximation_is_refused():
    data = network(lambda c: [helper.make_node("Gelu", ["z"], ["y"], approximate="erf")], "float32", np.random.default_rng(11), opset=20)
    with pytest.raises(OnnxImportError) as error:
        read_network(data)
    assert error.value.field == "graph.node[1]" and "Gelu with approximate='erf' cannot be mapped" in error.value.message


def _swap_constant(pattern, name, value):
    def changed(c):
        return [c(name, value) if n.op_type == "Constant" and n.output[0] == name else n for n in pattern(c)]
    return changed


def _replace_op(pattern, output, op):
    def changed(c):
        return [helper.make_node(op, list(n.input), [output]) if n.output[0] == output else n for n in pattern(c)]
    return changed


@pytest.mark.parametrize(("pattern", "operator"), [
    (_swap_constant(torchscript_exact, "half", 0.25), "Div"),  # a quarter, not a half
    (_replace_op(torchscript_exact, "d", "Mul"), "Mul"),  # z * sqrt 2 instead of z / sqrt 2
    (_swap_constant(torchscript_tanh, "k", 0.04), "Mul"),  # 0.04, not 0.044715
    (_swap_constant(torchlib_tanh, "three", 2.0), "Pow"),  # x^2
    (_replace_op(torchlib_tanh, "t", "Sigmoid"), "Pow"),  # Sigmoid in place of Tanh
    (_replace_op(torchscript_exact, "e", "Tanh"), "Div"),  # Tanh in place of Erf
])
def test_near_misses_are_refused_naming_an_operator(pattern, operator):
    with pytest.raises(OnnxImportError) as error:
        read_network(network(pattern, "float32", np.random.default_rng(12)))
    assert error.value.field.startswith("graph.node[") and f"operator {operator}" in error.value.message
