"""Activation functions, applied element-wise (softmax: across the last axis, i.e. one layer).

Every function takes a float array ``z`` of shape (batch, n) and returns a new array of the same
shape and dtype. All are numerically stable for any finite input: no overflow warnings, no NaN.

IN_PLACE holds the same functions for a caller that owns ``z`` and no longer needs it (a forward pass
without a trace): they may overwrite ``z`` and return it, and give bitwise the values of their
ACTIVATIONS counterparts, without the temporaries (tests/engine/test_activations.py checks both).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy.special import erfc

LEAKY_RELU_SLOPE = 0.01
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

Activation = Callable[[np.ndarray], np.ndarray]


def identity(z: np.ndarray) -> np.ndarray:
    return z.copy()


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)


def leaky_relu(z: np.ndarray) -> np.ndarray:
    return np.where(z >= 0, z, z * z.dtype.type(LEAKY_RELU_SLOPE))


def sigmoid(z: np.ndarray) -> np.ndarray:
    # 1/(1+e^-z) for z >= 0 and e^z/(1+e^z) for z < 0: the exponent is never positive.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z)


def softplus(z: np.ndarray) -> np.ndarray:
    # log(1 + e^z) = max(z, 0) + log1p(e^-|z|)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def silu(z: np.ndarray) -> np.ndarray:
    return z * sigmoid(z)


def gelu(z: np.ndarray) -> np.ndarray:
    """Exact GELU: z * Phi(z), with the normal CDF written through erfc for accuracy at z << 0."""
    return z * (erfc(-z / math.sqrt(2.0)) / 2).astype(z.dtype, copy=False)


def gelu_tanh(z: np.ndarray) -> np.ndarray:
    """The tanh approximation of GELU (as in GPT-2 and torch's approximate='tanh')."""
    # Past |z| = 10 tanh(inner) is exactly ±1 in float64; clipping keeps z**3 from overflowing.
    zc = np.clip(z, -10, 10)
    inner = _SQRT_2_OVER_PI * (zc + 0.044715 * zc**3)
    return 0.5 * z * (1 + np.tanh(inner))


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax over the last axis, shifted by the row maximum so exp never overflows."""
    return softmax_(z - z.max(axis=-1, keepdims=True), shifted=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# --- in place: z is overwritten (or used as scratch) and the result returned -------------------------

def identity_(z: np.ndarray) -> np.ndarray:
    return z


def relu_(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0, out=z)


def leaky_relu_(z: np.ndarray) -> np.ndarray:
    return np.multiply(z, z.dtype.type(LEAKY_RELU_SLOPE), out=z, where=z < 0)


def sigmoid_(z: np.ndarray) -> np.ndarray:
    negative = z < 0
    e = np.abs(z)
    np.negative(e, out=e)
    np.exp(e, out=e)  # e^-|z|
    np.add(e, 1, out=z)  # 1 + e; z itself is not needed any more
    np.divide(e, z, out=e)  # e/(1+e): the value for z < 0
    np.divide(1, z, out=z)  # 1/(1+e): the value for z >= 0
    np.copyto(z, e, where=negative)
    return z


def tanh_(z: np.ndarray) -> np.ndarray:
    return np.tanh(z, out=z)


def softplus_(z: np.ndarray) -> np.ndarray:
    t = np.abs(z)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    np.maximum(z, 0, out=z)
    z += t
    return z


def silu_(z: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    z *= s
    return z


def softmax_(z: np.ndarray, shifted: bool = False) -> np.ndarray:
    """softmax over the last axis in z's own memory (shifted: z already has its row maxima subtracted)."""
    if not shifted:
        z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


ACTIVATIONS: dict[str, Activation] = {
    "identity": identity,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softplus": softplus,
    "silu": silu,
    "gelu": gelu,
    "gelu_tanh": gelu_tanh,
    "softmax": softmax,
}

IN_PLACE: dict[str, Activation] = {
    "identity": identity_,
    "relu": relu_,
    "leaky_relu": leaky_relu_,
    "sigmoid": sigmoid_,
    "tanh": tanh_,
    "softplus": softplus_,
    "silu": silu_,
    "gelu": gelu,  # these two keep their temporaries: they return a new array and leave z alone
    "gelu_tanh": gelu_tanh,
    "softmax": softmax_,
}

# Activations that look at the whole layer rather than one neuron at a time.
LAYER_WIDE = frozenset({"softmax"})

