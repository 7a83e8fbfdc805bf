"""A compiled network as an ONNX model (opset 17), built with the onnx package's helpers.

Plain networks: input `input` [batch, input_size] -> output `output` [batch, output_size], each
layer a Gemm (weights as stored, one row per neuron: transB=1) and its activation.
Language networks: input `token_ids` (int64, [batch, context_size]) -> Gather of the embeddings,
Reshape to [batch, context_size * embedding_size], the layers, and the last layer's weighted sums
as `logits` and their Softmax as `probabilities` (what predict reads at temperature 1).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..catalog import CompiledNetwork
from .activations import DOMAIN, OPSET, activation_node, functions_for

IR_VERSION = 8  # local functions need 8; onnxruntime 1.10 and later read it
ELEMENT_TYPE = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}
PRODUCER = "neuronhub"


def export_model(name: str, revision: int, compiled: CompiledNetwork) -> onnx.ModelProto:
    network, language = compiled.network, compiled.language
    element = ELEMENT_TYPE[network.dtype]
    nodes, initializers = [], []
    if language is None:
        inputs = [helper.make_tensor_value_info("input", element, ["batch", network.input_size])]
        x = "input"
    else:
        k, d = language.context_size, language.embedding_size
        inputs = [helper.make_tensor_value_info("token_ids", TensorProto.INT64, ["batch", k])]
        initializers += [numpy_helper.from_array(language.embeddings, "embeddings"),
                         numpy_helper.from_array(np.array([0, k * d], dtype=np.int64), "context_shape")]
        nodes += [helper.make_node("Gather", ["embeddings", "token_ids"], ["context_vectors"], axis=0),
                  helper.make_node("Reshape", ["context_vectors", "context_shape"], ["context"])]
        x = "context"
    last = len(network.layers) - 1
    used = set()
    for i, layer in enumerate(network.layers):
        initializers += [numpy_helper.from_array(np.ascontiguousarray(layer.weights), f"layers.{i}.weights"),
                         numpy_helper.from_array(layer.biases, f"layers.{i}.biases")]
        z = f"layers.{i}.weighted_sums"
        nodes.append(helper.make_node("Gemm", [x, f"layers.{i}.weights", f"layers.{i}.biases"], [z], transB=1))
        if language is not None and i == last:
            nodes += [helper.make_node("Identity", [z], ["logits"]), helper.make_node("Softmax", [z], ["probabilities"], axis=-1)]
            break
        x = "output" if i == last else f"layers.{i}.activations"
        nodes.append(activation_node(layer.activation, z, x))
        used.add(layer.activation)
    if language is None:
        outputs = [helper.make_tensor_value_info("output", element, ["batch", network.output_size])]
    else:
        size = language.vocabulary_size
        outputs = [helper.make_tensor_value_info("probabilities", element, ["batch", size]),
                   helper.make_tensor_value_info("logits", element, ["batch", size])]
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(DOMAIN, 1)],
        functions=functions_for(used),
        producer_name=PRODUCER,
        model_version=revision,
        doc_string=f"Neuronhub network {name!r}, revision {revision}",
        ir_version=IR_VERSION,
    )
    if language is not None:
        helper.set_model_props(model, {"neuronhub.vocabulary": "\n".join(language.vocabulary.words),
                                       "neuronhub.punctuation": language.punctuation})
    onnx.checker.check_model(model, full_check=True)
    return model


def export_bytes(name: str, revision: int, compiled: CompiledNetwork) -> bytes:
    return export_model(name, revision, compiled).SerializeToString()
