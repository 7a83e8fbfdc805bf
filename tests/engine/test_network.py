"""Neurons and dense networks: hand-computed cases, an independent pure-Python forward pass, shapes."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from service.engine.errors import EngineError, NonFiniteResult
from service.engine.network import Layer, Network
from service.engine.neuron import Neuron

from .test_activations import scalar_reference


def test_neuron_hand_computed():
    # z = 0.5*2 + (-1)*3 + 0.25*4 + 0.5 = 1 - 3 + 1 + 0.5 = -0.5
    neuron = Neuron(np.array([0.5, -1.0, 0.25]), 0.5, "relu")
    result = neuron.evaluate(np.array([[2.0, 3.0, 4.0]]))
    assert result.contributions.tolist() == [[1.0, -3.0, 1.0]]
    assert result.weighted_sums.tolist() == [-0.5]
    assert result.outputs.tolist() == [0.0]
    sig = Neuron(np.array([1.0, 1.0]), 0.0, "sigmoid").evaluate(np.array([[0.0, 0.0], [math.log(3), 0.0]]))
    assert sig.outputs.tolist() == pytest.approx([0.5, 0.75], abs=1e-15)


def test_neuron_rejects_layer_wide_and_unknown_activations():
    with pytest.raises(EngineError, match="layer"):
        Neuron(np.array([1.0]), 0.0, "softmax")
    with pytest.raises(EngineError, match="unknown activation 'swish'"):
        Neuron(np.array([1.0]), 0.0, "swish")
    with pytest.raises(EngineError, match="expected 2 values per input vector, got 3"):
        Neuron(np.array([1.0, 2.0]), 0.0, "relu").evaluate(np.ones((1, 3)))


def xor_network(dtype="float64") -> Network:
    return Network(
        [
            Layer(np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([0.0, -1.0]), "relu"),
            Layer(np.array([[1.0, -2.0]]), np.array([0.0]), "identity"),
        ],
        dtype,
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_xor_by_hand(dtype):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    out = xor_network(dtype).forward(x)
    assert out.dtype == np.dtype(dtype)
    assert out[:, 0].tolist() == [0.0, 1.0, 1.0, 0.0]


def test_trace_shows_every_weighted_sum():
    trace = xor_network().trace(np.array([[1.0, 1.0]]))
    assert [t.weighted_sums.tolist() for t in trace] == [[[2.0, 1.0]], [[0.0]]]
    assert [t.activations.tolist() for t in trace] == [[[2.0, 1.0]], [[0.0]]]


def test_shape_mismatch_names_the_layer():
    with pytest.raises(EngineError) as info:
        Network([Layer(np.ones((4, 2)), np.zeros(4), "relu"), Layer(np.ones((1, 3)), np.zeros(1), "identity")])
    assert info.value.field == "layers[1].weights[0]"
    assert info.value.message == "expected 4 values (layer 0 has 4 neurons), got 3"
    with pytest.raises(EngineError, match="expected 4 values \\(one per neuron\\), got 3"):
        Network([Layer(np.ones((4, 2)), np.zeros(3), "relu")])


def test_overflow_is_reported_not_returned():
    net = Network([Layer(np.array([[1e200]]), np.array([0.0]), "identity")])
    with pytest.raises(NonFiniteResult):
        net.forward(np.array([[1e200]]))
    with pytest.raises(NonFiniteResult):  # finite in float64, not in float32
        Network([Layer(np.array([[1.0]]), np.array([0.0]), "identity")], "float32").forward(np.array([[1e300]]))


def pure_python_forward(layers, x):
    for weights, biases, activation in layers:
        z = [sum(w * xi for w, xi in zip(row, x)) + b for row, b in zip(weights, biases)]
        if activation == "softmax":
            m = max(z)
            e = [math.exp(v - m) for v in z]
            x = [v / sum(e) for v in e]
        else:
            x = [scalar_reference(activation, v) for v in z]
    return x


@st.composite
def networks(draw):
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    weight = st.floats(-3, 3, allow_nan=False)
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        w = draw(st.lists(st.lists(weight, min_size=n_in, max_size=n_in), min_size=n_out, max_size=n_out))
        b = draw(st.lists(weight, min_size=n_out, max_size=n_out))
        layers.append((w, b, draw(st.sampled_from(sorted(["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "silu", "gelu", "gelu_tanh", "softmax"])))))
    x = draw(st.lists(st.lists(weight, min_size=sizes[0], max_size=sizes[0]), min_size=1, max_size=3))
    return layers, x


@settings(max_examples=150)
@given(networks())
def test_forward_matches_pure_python(case):
    layers, batch = case
    net = Network([Layer(np.array(w), np.array(b), a) for w, b, a in layers])
    out = net.forward(np.array(batch))
    assert out.shape == (len(batch), len(layers[-1][1]))
    for row, got in zip(batch, out):
        np.testing.assert_allclose(got, pure_python_forward(layers, row), rtol=1e-9, atol=1e-12)
    trace = net.trace(np.array(batch))
    np.testing.assert_array_equal(trace[-1].activations, out)
