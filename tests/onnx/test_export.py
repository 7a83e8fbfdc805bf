"""ONNX export: onnxruntime runs the exported model to the engine's numbers, for every activation."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import given, settings, strategies as st
from scipy.special import erfc

from service.catalog import CompiledNetwork
from service.engine.activations import ACTIVATIONS
from service.engine.language import LanguageModel, stable_softmax
from service.engine.network import Layer, Network
from service.onnx.export import export_bytes, export_model

TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def session(model: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def plain(activations: list[str], dtype: str, sizes: list[int], seed: int = 0, scale: float = 1.0) -> CompiledNetwork:
    rng = np.random.default_rng(seed)
    layers = [Layer(rng.normal(size=(n_out, n_in)) * scale, rng.normal(size=n_out), a) for n_in, n_out, a in zip(sizes, sizes[1:], activations)]
    return CompiledNetwork(Network(layers, dtype), None)


def assert_close(got: np.ndarray, expected: np.ndarray, dtype: str) -> None:
    assert got.dtype == expected.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_matches_the_engine(activation, dtype):
    z = np.concatenate([np.linspace(-40, 40, 4001), [-1e3, -12.5, -7.1, -2.0, -1e-9, 0.0, 1e-9, 2.0, 7.1, 12.5, 1e3]])
    network = Network([Layer(np.ones((1, 1)), np.zeros(1), activation)], dtype)  # z = x: each activation on its own
    if activation == "softmax":  # layer-wide: rows of several values
        network = Network([Layer(np.eye(5), np.zeros(5), activation)], dtype)
        x = z[: 4005].reshape(-1, 5) / 4
    else:
        x = z[:, None]
    x = x.astype(dtype)
    got = session(export_bytes("a", 1, CompiledNetwork(network, None))).run(None, {"input": x})[0]
    assert_close(got, network.forward(x), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_deep_network_matches_forward(dtype):
    activations = sorted(ACTIVATIONS)
    compiled = plain(activations, dtype, [7] * (len(activations) + 1), seed=3, scale=0.5)
    x = np.random.default_rng(4).normal(size=(64, 7)).astype(dtype)
    model = export_model("deep", 5, compiled)
    assert model.opset_import[0].version >= 17 and model.model_version == 5
    assert [i.name for i in model.graph.input] == ["input"] and [o.name for o in model.graph.output] == ["output"]
    got = session(model.SerializeToString()).run(["output"], {"input": x})[0]
    assert_close(got, compiled.network.forward(x), dtype)


def test_exact_gelu_in_float64_against_scipy():
    z = np.linspace(-60, 60, 120_001)
    network = Network([Layer(np.ones((1, 1)), np.zeros(1), "gelu")])
    got = session(export_bytes("g", 1, CompiledNetwork(network, None))).run(None, {"input": z[:, None]})[0][:, 0]
    np.testing.assert_allclose(got, z * erfc(-z / np.sqrt(2)) / 2, rtol=1e-12, atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=1, max_size=4), st.integers(0, 2**32 - 1), st.sampled_from(["float64", "float32"]))
def test_random_networks_match_forward(activations, seed, dtype):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 6, size=len(activations) + 1).tolist()
    compiled = plain(activations, dtype, sizes, seed=seed)
    x = rng.normal(size=(8, sizes[0])).astype(dtype)
    got = session(export_bytes("r", 1, compiled)).run(None, {"input": x})[0]
    assert_close(got, compiled.network.forward(x), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("last", ["identity", "softmax"])
def test_language_network_gives_predict_probabilities(dtype, last):
    rng = np.random.default_rng(9)
    words = ["<pad>", "<unk>", "</s>", "a", "b", "c", "d"]
    k, d, hidden = 3, 4, 5
    network = Network([Layer(rng.normal(size=(hidden, k * d)), rng.normal(size=hidden), "gelu"),
                       Layer(rng.normal(size=(len(words), hidden)), rng.normal(size=len(words)), last)], dtype)
    model = LanguageModel(words, rng.normal(size=(len(words), d)), k, network)
    exported = export_model("lm", 2, CompiledNetwork(network, model))
    assert [i.name for i in exported.graph.input] == ["token_ids"]
    assert exported.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert "Gather" in {n.op_type for n in exported.graph.node}
    ids = rng.integers(0, len(words), size=(20, k))
    probabilities, logits = session(exported.SerializeToString()).run(["probabilities", "logits"], {"token_ids": ids})
    assert_close(logits, model.logits(ids), dtype)
    assert_close(probabilities, stable_softmax(model.logits(ids))[0], dtype)
    for context in (["a", "b", "c"], ["d", "d", "a"]):  # a context as predict reads it from text
        ids = np.array([[words.index(w) for w in context]])
        got = session(exported.SerializeToString()).run(["probabilities"], {"token_ids": ids})[0][0]
        by_id = {w.id: w.probability for w in model.predict(" ".join(context), top_k=len(words)).words}
        np.testing.assert_allclose(got, [by_id[i] for i in range(len(words))], rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
