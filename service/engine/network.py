"""Dense feed-forward networks.

Weight layout (as torch.nn.Linear): a layer's weights are one row per neuron, one column per input,
so a layer maps x of shape (batch, n_in) to z = x @ W.T + b of shape (batch, n_out).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .activations import ACTIVATIONS
from .errors import EngineError, NonFiniteResult

DTYPES = {"float64": np.float64, "float32": np.float32}


@dataclass(frozen=True)
class Layer:
    weights: np.ndarray  # (n_out, n_in)
    biases: np.ndarray  # (n_out,)
    activation: str

    @property
    def input_size(self) -> int:
        return int(self.weights.shape[1])

    @property
    def size(self) -> int:
        return int(self.weights.shape[0])


@dataclass(frozen=True)
class LayerTrace:
    weighted_sums: np.ndarray  # (batch, n_out): z = x @ W.T + b
    activations: np.ndarray  # (batch, n_out): f(z)


class Network:
    """A compiled network: arrays cast once to the network's dtype, shapes checked once."""

    def __init__(self, layers: Sequence[Layer], dtype: str = "float64") -> None:
        if dtype not in DTYPES:
            raise EngineError("dtype", f"expected one of {sorted(DTYPES)}, got {dtype!r}")
        if not layers:
            raise EngineError("layers", "expected at least one layer")
        self.dtype = dtype
        np_dtype = DTYPES[dtype]
        compiled = []
        for i, layer in enumerate(layers):
            if layer.activation not in ACTIVATIONS:
                raise EngineError(f"layers[{i}].activation", f"unknown activation {layer.activation!r}")
            weights = np.ascontiguousarray(layer.weights, dtype=np_dtype)
            biases = np.ascontiguousarray(layer.biases, dtype=np_dtype)
            check_layer_shape(i, weights, biases, compiled[-1].size if compiled else None)
            compiled.append(Layer(weights, biases, layer.activation))
        self.layers: tuple[Layer, ...] = tuple(compiled)

    @property
    def input_size(self) -> int:
        return self.layers[0].input_size

    @property
    def output_size(self) -> int:
        return self.layers[-1].size

    @property
    def parameter_count(self) -> int:
        return sum(layer.weights.size + layer.biases.size for layer in self.layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (batch, n_in) -> (batch, n_out of the last layer)."""
        for _, a in self._run(x):
            x = a
        return x

    def trace(self, x: np.ndarray) -> list[LayerTrace]:
        return [LayerTrace(z, a) for z, a in self._run(x)]

    def _run(self, x: np.ndarray):
        x = self._cast_input(x)
        for i, layer in enumerate(self.layers):
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked just below
                z = x @ layer.weights.T  # (batch, n_out)
                z += layer.biases
            if not np.isfinite(z).all():
                raise NonFiniteResult(f"layers[{i}]", f"weighted sums overflow {self.dtype} for these inputs")
            x = ACTIVATIONS[layer.activation](z)
            yield z, x

    def _cast_input(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise EngineError("inputs", f"expected {self.input_size} values per input vector, got {x.shape[-1]}")
        with np.errstate(over="ignore"):  # float64 -> float32 overflow is checked just below
            x = x.astype(DTYPES[self.dtype], copy=False)
        if not np.isfinite(x).all():
            raise NonFiniteResult("inputs", f"inputs overflow {self.dtype}")
        return x


def check_layer_shape(i: int, weights: np.ndarray, biases: np.ndarray, previous_size: int | None) -> None:
    if weights.ndim != 2 or weights.shape[0] == 0 or weights.shape[1] == 0:
        raise EngineError(f"layers[{i}].weights", "expected a non-empty matrix: one row per neuron, one column per input")
    n_out, n_in = weights.shape
    if biases.shape != (n_out,):
        raise EngineError(f"layers[{i}].biases", f"expected {n_out} values (one per neuron), got {biases.shape[0] if biases.ndim else 0}")
    if previous_size is not None and n_in != previous_size:
        raise EngineError(
            f"layers[{i}].weights[0]",
            f"expected {previous_size} values (layer {i - 1} has {previous_size} neurons), got {n_in}",
        )
