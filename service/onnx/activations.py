"""Each engine activation (service/engine/activations.py) as ONNX, computing what the engine computes.

Activations the standard operators give with the engine's numbers are those operators (Relu,
Sigmoid, Tanh, Softmax, Identity). The others are model-local functions in the domain
"ai.neuronhub", so the graph shows one node per activation and read.py can tell them apart:

- LeakyRelu: Max(z, z * 0.01), the 0.01 in the tensor's own type (the standard LeakyRelu's alpha
  is a float32 attribute: 0.0099999998 for a float64 network);
- Softplus: Relu(z) + Log(1 + Exp(-|z|)) (onnxruntime has no float64 Softplus);
- Silu: z * Sigmoid(z);
- GeluTanh: the engine's formula, with its clip of z to [-10, 10] inside the tanh;
- Gelu (exact): z * erfc(-z / sqrt 2) / 2 in float64 whatever the network's type (onnxruntime has no
  float64 Erf): erf by its Taylor series below 2, erfc by its continued fraction from 2 on, both
  within 4e-15 of scipy's (tests/onnx/test_activations.py).
"""
from __future__ import annotations

import math

import numpy as np
from onnx import FunctionProto, NodeProto, TensorProto, helper, numpy_helper

DOMAIN = "ai.neuronhub"
STANDARD = {"identity": "Identity", "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax"}
FUNCTIONS = {"leaky_relu": "LeakyRelu", "softplus": "Softplus", "silu": "Silu", "gelu": "Gelu", "gelu_tanh": "GeluTanh"}
OPSET = 17

_TAYLOR_TERMS = 40  # erf(x), 0 <= x < 2: the series' error is below 4e-15 with 40 terms
_FRACTION_TERMS = 40  # erfc(x), x >= 2: the continued fraction's error is below 3e-16 with 40 terms
_SPLIT = 2.0


def activation_node(activation: str, z: str, out: str) -> NodeProto:
    if activation in STANDARD:
        attributes = {"axis": -1} if activation == "softmax" else {}
        return helper.make_node(STANDARD[activation], [z], [out], **attributes)
    return helper.make_node(FUNCTIONS[activation], [z], [out], domain=DOMAIN)


class _Body:
    """Nodes of one function body, with fresh names."""

    def __init__(self) -> None:
        self.nodes: list[NodeProto] = []
        self._count = 0

    def op(self, op_type: str, *inputs: str, **attributes: object) -> str:
        self._count += 1
        out = f"t{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attributes))
        return out

    def const(self, value: float, like: str) -> str:
        """A scalar in like's type: a float64 constant cast as the engine's Python floats are."""
        self._count += 1
        raw = f"c{self._count}"
        self.nodes.append(helper.make_node("Constant", [], [raw], value=numpy_helper.from_array(np.array(value, dtype=np.float64))))
        return self.op("CastLike", raw, like)

    def function(self, name: str, out: str) -> FunctionProto:
        self.nodes.append(helper.make_node("Identity", [out], ["y"]))
        return helper.make_function(DOMAIN, name, ["z"], ["y"], self.nodes, [helper.make_opsetid("", OPSET)])


def _leaky_relu() -> FunctionProto:
    b = _Body()
    return b.function("LeakyRelu", b.op("Max", "z", b.op("Mul", "z", b.const(0.01, "z"))))


def _softplus() -> FunctionProto:
    b = _Body()
    tail = b.op("Log", b.op("Add", b.const(1.0, "z"), b.op("Exp", b.op("Neg", b.op("Abs", "z")))))
    return b.function("Softplus", b.op("Add", b.op("Relu", "z"), tail))


def _silu() -> FunctionProto:
    b = _Body()
    return b.function("Silu", b.op("Mul", "z", b.op("Sigmoid", "z")))


def _gelu_tanh() -> FunctionProto:
    b = _Body()
    zc = b.op("Clip", "z", b.const(-10.0, "z"), b.const(10.0, "z"))
    cube = b.op("Mul", b.op("Mul", zc, zc), zc)
    inner = b.op("Mul", b.const(math.sqrt(2.0 / math.pi), "z"), b.op("Add", zc, b.op("Mul", b.const(0.044715, "z"), cube)))
    half_z = b.op("Mul", b.const(0.5, "z"), "z")
    return b.function("GeluTanh", b.op("Mul", half_z, b.op("Add", b.const(1.0, "z"), b.op("Tanh", inner))))


def _gelu() -> FunctionProto:
    b = _Body()
    z = b.op("Cast", "z", to=TensorProto.DOUBLE)
    u = b.op("Mul", z, b.const(-1.0 / math.sqrt(2.0), z))  # erfc(u) with u = -z / sqrt 2
    a = b.op("Abs", u)
    # erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)), Horner in x^2, for x = min(a, 2)
    x = b.op("Min", a, b.const(_SPLIT, z))
    x2 = b.op("Mul", x, x)
    acc = b.const((-1) ** _TAYLOR_TERMS / (math.factorial(_TAYLOR_TERMS) * (2 * _TAYLOR_TERMS + 1)), z)
    for n in range(_TAYLOR_TERMS - 1, -1, -1):
        acc = b.op("Add", b.op("Mul", acc, x2), b.const((-1) ** n / (math.factorial(n) * (2 * n + 1)), z))
    erf_small = b.op("Mul", b.op("Mul", x, acc), b.const(2.0 / math.sqrt(math.pi), z))
    erfc_small = b.op("Sub", b.const(1.0, z), erf_small)
    # erfc(y) = exp(-y^2) / (sqrt(pi) * (y + (1/2)/(y + 1/(y + (3/2)/(y + ...))))), for y = max(a, 2)
    y = b.op("Max", a, b.const(_SPLIT, z))
    t = y
    for k in range(_FRACTION_TERMS, 0, -1):
        t = b.op("Add", y, b.op("Div", b.const(k / 2, z), t))
    erfc_large = b.op("Div", b.op("Exp", b.op("Neg", b.op("Mul", y, y))), b.op("Mul", t, b.const(math.sqrt(math.pi), z)))
    erfc_a = b.op("Where", b.op("Less", a, b.const(_SPLIT, z)), erfc_small, erfc_large)
    erfc_u = b.op("Where", b.op("Less", u, b.const(0.0, z)), b.op("Sub", b.const(2.0, z), erfc_a), erfc_a)
    phi = b.op("CastLike", b.op("Mul", erfc_u, b.const(0.5, z)), "z")  # as the engine: Phi cast to the network's type
    return b.function("Gelu", b.op("Mul", "z", phi))


_BUILDERS = {"leaky_relu": _leaky_relu, "softplus": _softplus, "silu": _silu, "gelu": _gelu, "gelu_tanh": _gelu_tanh}


def functions_for(activations: set[str]) -> list[FunctionProto]:
    """The local functions a model using these activations needs."""
    return [_BUILDERS[a]() for a in sorted(activations) if a in _BUILDERS]
