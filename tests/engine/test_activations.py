"""Activations against hand-computed values and independent scalar formulas from `math`."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from service.engine.activations import ACTIVATIONS, log_softmax, softmax

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def scalar_reference(name: str, z: float) -> float:
    """Textbook formulas, evaluated one number at a time with `math` (guarded only where they overflow)."""
    if name == "identity":
        return z
    if name == "relu":
        return max(z, 0.0)
    if name == "leaky_relu":
        return z if z >= 0 else 0.01 * z
    if name == "sigmoid":
        return 1 / (1 + math.exp(-z)) if z > -700 else 0.0
    if name == "tanh":
        return math.tanh(z)
    if name == "softplus":
        return math.log1p(math.exp(z)) if z < 30 else z + math.exp(-z)
    if name == "silu":
        return z * scalar_reference("sigmoid", z)
    if name == "gelu":
        return z * 0.5 * math.erfc(-z / math.sqrt(2))
    if name == "gelu_tanh":
        return 0.5 * z * (1 + math.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3))) if abs(z) < 1e5 else max(z, 0.0)
    raise AssertionError(name)


ELEMENTWISE = sorted(set(ACTIVATIONS) - {"softmax"})


def test_explainer_examples():
    # ReLU outputs zero for negative inputs and the input for positive ones; sigmoid squashes into
    # (0, 1) with sigmoid(0) = 1/2; tanh squashes into (-1, 1) with tanh(0) = 0.
    z = np.array([[-2.0, 0.0, 3.0]])
    assert ACTIVATIONS["relu"](z).tolist() == [[0.0, 0.0, 3.0]]
    assert ACTIVATIONS["sigmoid"](z)[0, 1] == 0.5
    assert ACTIVATIONS["sigmoid"](np.array([[math.log(3)]]))[0, 0] == pytest.approx(0.75, abs=1e-15)
    assert ACTIVATIONS["tanh"](np.array([[math.log(2)]]))[0, 0] == pytest.approx(0.6, abs=1e-15)  # (4-1)/(4+1)
    assert ACTIVATIONS["leaky_relu"](z).tolist() == [[-0.02, 0.0, 3.0]]
    assert ACTIVATIONS["softplus"](np.array([[0.0]]))[0, 0] == pytest.approx(math.log(2), abs=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(values=st.lists(finite, min_size=1, max_size=20))
def test_matches_scalar_formula(name, values):
    z = np.array([values])
    got = ACTIVATIONS[name](z)[0]
    for zi, gi in zip(values, got):
        assert gi == pytest.approx(scalar_reference(name, zi), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extremes_are_finite_without_warnings(name, dtype):
    z = np.array([[-1000.0, -1e30, -1.0, 0.0, 1.0, 1e30, 1000.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = ACTIVATIONS[name](z)
    assert out.dtype == dtype and out.shape == z.shape
    assert np.isfinite(out).all()


def test_sigmoid_saturates_exactly_in_float64():
    out = ACTIVATIONS["sigmoid"](np.array([[-1000.0, 1000.0]]))
    assert out.tolist() == [[0.0, 1.0]]


def test_softmax_hand_computed():
    p = softmax(np.array([[0.0, math.log(2), math.log(5)]]))  # e^z = 1, 2, 5
    assert p[0].tolist() == pytest.approx([1 / 8, 2 / 8, 5 / 8], abs=1e-15)
    assert softmax(np.array([[1000.0, 1000.0]])).tolist() == [[0.5, 0.5]]


@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 30)), elements=finite))
def test_softmax_properties(z):
    p = softmax(z)
    assert np.isfinite(p).all() and (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(softmax(z + 123.0), p, atol=1e-12)  # shift invariant
    lp = log_softmax(z)
    assert (lp <= 0).all()
    np.testing.assert_allclose(np.exp(lp), p, atol=1e-12)
