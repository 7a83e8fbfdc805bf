"""One neuron: z = w·x + b, output f(z)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS, LAYER_WIDE
from .errors import EngineError, NonFiniteResult


@dataclass(frozen=True)
class NeuronEvaluation:
    contributions: np.ndarray  # (batch, n_inputs): w_i * x_i
    weighted_sums: np.ndarray  # (batch,): z = sum_i w_i * x_i + b
    outputs: np.ndarray  # (batch,): f(z)


@dataclass(frozen=True)
class Neuron:
    weights: np.ndarray  # (n_inputs,) float64
    bias: float
    activation: str

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise EngineError("activation", f"unknown activation {self.activation!r}")
        if self.activation in LAYER_WIDE:
            raise EngineError("activation", f"{self.activation} works across a layer; a single neuron cannot use it")
        if self.weights.ndim != 1 or self.weights.size == 0:
            raise EngineError("weights", "expected a non-empty list of numbers")

    @property
    def input_size(self) -> int:
        return int(self.weights.shape[0])

    def evaluate(self, inputs: np.ndarray) -> NeuronEvaluation:
        """inputs: (batch, n_inputs)."""
        if inputs.ndim != 2 or inputs.shape[1] != self.input_size:
            raise EngineError("inputs", f"expected {self.input_size} values per input vector, got {inputs.shape[-1]}")
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked just below
            contributions = inputs * self.weights  # (batch, n)
            z = inputs @ self.weights + self.bias  # (batch,)
        if not (np.isfinite(z).all() and np.isfinite(contributions).all()):
            raise NonFiniteResult("inputs", "the weighted sum overflows float64 for these inputs")
        return NeuronEvaluation(contributions, z, ACTIVATIONS[self.activation](z[:, None])[:, 0])
