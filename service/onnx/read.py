"""A network from an ONNX model: a chain of dense layers (Gemm, or MatMul then Add) and activations.

What torch.onnx.export writes for nn.Sequential(Linear, ReLU, Linear, Softmax) reads, as does what
export.py writes for a plain network. A layer is Gemm(x, W, b) (alpha = beta = 1, transA = 0, W
transposed or not) or MatMul(x, W) optionally followed by Add(., b), with W and b constants
(initializers or Constant nodes; a Transpose, Identity or Cast of a constant is folded). After a
layer comes at most one activation: Relu, Sigmoid, Tanh, Softmax over the last axis, Identity,
LeakyRelu (alpha 0.01), Softplus, Gelu (opset 20, exact or tanh), GELU written out with Erf or Tanh
(as torch writes it before opset 20; gelu.py), Mul(z, Sigmoid(z)) (SiLU, as torch writes it), or one
of export.py's ai.neuronhub functions. Anything else raises OnnxImportError
naming the node, its operator and what could not be mapped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, numpy_helper

from ..engine.network import Layer
from . import gelu
from .activations import DOMAIN, FUNCTIONS, STANDARD

DTYPES = {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float64"}
_BY_FUNCTION = {op: activation for activation, op in FUNCTIONS.items()}
_BY_OPERATOR = {op: activation for activation, op in STANDARD.items()} | {"Softplus": "softplus"}
_FOLDABLE = {"Transpose", "Identity", "Cast"}


class MalformedOnnx(ValueError):
    """The bytes are not an ONNX model."""


class OnnxImportError(ValueError):
    """A model that is not a chain of dense layers and supported activations; field says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ImportedNetwork:
    layers: list[Layer]
    dtype: str
    description: str


def parse(data: bytes) -> onnx.ModelProto:
    if not data:
        raise MalformedOnnx("the body is empty")
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise MalformedOnnx(f"not an ONNX model (protobuf ModelProto): {exc}") from None
    if not model.HasField("graph") or not model.graph.node:
        raise MalformedOnnx("not an ONNX model: it has no graph nodes")
    return model


def read_network(data: bytes) -> ImportedNetwork:
    model = parse(data)
    try:
        return _read(model)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        if isinstance(exc, OnnxImportError):
            raise
        raise OnnxImportError("graph", f"cannot be read as a chain of dense layers: {type(exc).__name__}: {exc}") from None


def _read(model: onnx.ModelProto) -> ImportedNetwork:
    graph = model.graph
    constants: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1:
        raise OnnxImportError("graph.input", f"expected one input (a batch of vectors), got {len(inputs)}: {', '.join(i.name for i in inputs)}")
    source = inputs[0]
    element = source.type.tensor_type.elem_type
    if element not in DTYPES:
        raise OnnxImportError(f"input {source.name!r}", f"expected float or double elements, got {TensorProto.DataType.Name(element)}")
    shape = source.type.tensor_type.shape.dim
    if len(shape) != 2:
        raise OnnxImportError(f"input {source.name!r}", f"expected shape [batch, features], got {len(shape)} dimensions")
    if len(graph.output) != 1:
        raise OnnxImportError("graph.output", f"expected one output, got {len(graph.output)}: {', '.join(o.name for o in graph.output)}")
    local_functions = {(f.domain, f.name) for f in model.functions}
    chain = _Chain(graph.node, constants, source.name, local_functions)
    layers = chain.read()
    for i, layer in enumerate(layers):
        for part, values in (("weights", layer.weights), ("biases", layer.biases)):
            if values.dtype.kind not in "fiu" or not np.isfinite(values.astype(np.float64)).all():
                raise OnnxImportError(f"layers[{i}].{part}", f"expected finite numbers, got {values.dtype} values with NaN or infinity"
                                      if values.dtype.kind in "fiu" else f"expected numbers, got {values.dtype}")
    if chain.current != graph.output[0].name:
        raise OnnxImportError("graph.output", f"the output {graph.output[0].name!r} is not the end of the chain ({chain.current!r})")
    description = model.doc_string or graph.doc_string or f"imported from ONNX ({model.producer_name or 'unknown producer'})"
    return ImportedNetwork(layers, DTYPES[element], description[:500])


class _Chain:
    def __init__(self, nodes: Any, constants: dict[str, np.ndarray], source: str, local_functions: set[tuple[str, str]]) -> None:
        self.constants = constants
        self.current = source
        self.local_functions = local_functions
        self.nodes = []
        for i, node in enumerate(nodes):
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                self.constants[node.output[0]] = _constant_value(i, node)
            elif node.op_type in _FOLDABLE and node.domain in ("", "ai.onnx") and all(x in self.constants for x in node.input):
                self.constants[node.output[0]] = _fold(i, node, self.constants[node.input[0]])
            else:
                self.nodes.append((i, node))
        self.position = 0

    def _peek(self) -> tuple[int, Any] | None:
        return self.nodes[self.position] if self.position < len(self.nodes) else None

    def read(self) -> list[Layer]:
        layers: list[Layer] = []
        while self._peek() is not None:
            weights, biases = self._dense(len(layers))
            layers.append(Layer(weights, biases, self._activation()))
        if not layers:
            raise OnnxImportError("graph", "expected at least one dense layer (Gemm or MatMul)")
        return layers

    def _const(self, where: str, name: str) -> np.ndarray:
        if name not in self.constants:
            raise OnnxImportError(where, f"expected {name!r} to be a constant (an initializer), but it is computed in the graph")
        return self.constants[name]

    def _dense(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        i, node = self.nodes[self.position]
        where = _where(i, node)
        if node.domain not in ("", "ai.onnx") or node.op_type not in ("Gemm", "MatMul"):
            raise OnnxImportError(where, f"expected a dense layer (Gemm or MatMul) for layer {layer}, got operator {_operator(node)}")
        if len(node.input) < 2:
            raise OnnxImportError(where, f"{node.op_type} needs an input and a weight matrix, got {len(node.input)} input(s)")
        if node.input[0] != self.current:
            raise OnnxImportError(where, f"expected the layer's input to be {self.current!r}, got {node.input[0]!r}")
        self.position += 1
        if node.op_type == "Gemm":
            attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            for name, wanted in (("alpha", 1.0), ("beta", 1.0), ("transA", 0)):
                if attributes.get(name, wanted) != wanted:
                    raise OnnxImportError(where, f"Gemm with {name}={attributes[name]} cannot be mapped (expected {wanted})")
            matrix = self._const(where, node.input[1])
            if matrix.ndim != 2:
                raise OnnxImportError(where, f"expected a 2-D weight matrix, got shape {list(matrix.shape)}")
            weights = matrix if attributes.get("transB", 0) else matrix.T  # one row per neuron
            biases = self._bias(where, self._const(where, node.input[2]), weights.shape[0]) if len(node.input) > 2 and node.input[2] else np.zeros(weights.shape[0])
            self.current = node.output[0]
            return weights, biases
        matrix = self._const(where, node.input[1])
        if matrix.ndim != 2:
            raise OnnxImportError(where, f"expected a 2-D weight matrix (inputs x neurons), got shape {list(matrix.shape)}")
        weights = matrix.T
        self.current = node.output[0]
        following = self._peek()
        if following is not None and following[1].op_type == "Add" and self.current in following[1].input:
            j, add = following
            other = [x for x in add.input if x != self.current]
            if len(other) != 1:
                raise OnnxImportError(_where(j, add), "expected Add of the weighted sums and a bias vector")
            self.position += 1
            self.current = add.output[0]
            return weights, self._bias(_where(j, add), self._const(_where(j, add), other[0]), weights.shape[0])
        return weights, np.zeros(weights.shape[0])

    @staticmethod
    def _bias(where: str, value: np.ndarray, size: int) -> np.ndarray:
        flat = value.reshape(-1) if value.ndim == 2 and value.shape[0] == 1 else value
        if flat.shape != (size,):
            raise OnnxImportError(where, f"expected a bias vector of {size} values (one per neuron), got shape {list(value.shape)}")
        return flat

    def _activation(self) -> str:
        found = self._peek()
        if found is None:
            return "identity"
        i, node = found
        where = _where(i, node)
        if node.domain in ("", "ai.onnx") and node.op_type in ("Gemm", "MatMul"):
            return "identity"
        written_out = gelu.match(self.nodes[self.position:], self.current, self.constants)
        if written_out is not None:
            activation, count = written_out
            self.position += count
            self.current = self.nodes[self.position - 1][1].output[0]
            return activation
        if not node.input or node.input[0] != self.current:
            got = repr(node.input[0]) if node.input else "no input"
            raise OnnxImportError(where, f"expected operator {_operator(node)} to act on {self.current!r}, got {got}")
        activation = self._name_activation(i, node)
        self.current = self.nodes[self.position - 1][1].output[0]
        return activation

    def _name_activation(self, i: int, node: Any) -> str:
        where = _where(i, node)
        self.position += 1
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.domain == DOMAIN and node.op_type in _BY_FUNCTION and (DOMAIN, node.op_type) in self.local_functions:
            return _BY_FUNCTION[node.op_type]
        if node.domain not in ("", "ai.onnx"):
            raise OnnxImportError(where, f"operator {_operator(node)} is not one this service can map to an activation")
        op = node.op_type
        if op == "Softmax":
            if attributes.get("axis", -1) not in (-1, 1):
                raise OnnxImportError(where, f"Softmax over axis {attributes['axis']} cannot be mapped (a layer's softmax is over its neurons: axis -1 or 1)")
            return "softmax"
        if op == "LeakyRelu":
            alpha = attributes.get("alpha", 0.01)
            if np.float32(alpha) != np.float32(0.01):
                raise OnnxImportError(where, f"LeakyRelu with alpha {alpha} cannot be mapped (leaky_relu has slope 0.01)")
            return "leaky_relu"
        if op == "Gelu":
            approximate = attributes.get("approximate", b"none")
            approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
            if approximate not in ("none", "tanh"):
                raise OnnxImportError(where, f"Gelu with approximate={approximate!r} cannot be mapped (expected 'none' or 'tanh')")
            return "gelu_tanh" if approximate == "tanh" else "gelu"
        if op == "Sigmoid":
            following = self._peek()
            if following is not None and following[1].op_type == "Mul" and sorted(following[1].input) == sorted([self.current, node.output[0]]):
                self.position += 1
                return "silu"  # z * Sigmoid(z)
            return "sigmoid"
        if op in _BY_OPERATOR:
            return _BY_OPERATOR[op]
        raise OnnxImportError(where, f"operator {_operator(node)} cannot be mapped to a layer or an activation; supported: "
                                     "Gemm, MatMul (+ Add), Relu, LeakyRelu (alpha 0.01), Sigmoid, Tanh, Softplus, "
                                     "Mul(z, Sigmoid(z)), Gelu (or written out with Erf or Tanh), Softmax, Identity")


def _operator(node: Any) -> str:
    return f"{node.domain}.{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type


def _where(i: int, node: Any) -> str:
    return f"graph.node[{i}]" + (f" ({node.name})" if node.name else "")


def _constant_value(i: int, node: Any) -> np.ndarray:
    for attribute in node.attribute:
        if attribute.name == "value":
            return numpy_helper.to_array(attribute.t)
    raise OnnxImportError(_where(i, node), "expected a Constant with a tensor value")


def _fold(i: int, node: Any, value: np.ndarray) -> np.ndarray:
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "Transpose":
        return np.transpose(value, attributes.get("perm"))
    if node.op_type == "Cast":
        to = attributes.get("to")
        if to not in DTYPES:
            raise OnnxImportError(_where(i, node), f"Cast of a constant to {TensorProto.DataType.Name(to)} cannot be mapped")
        return value.astype(DTYPES[to])
    return value
