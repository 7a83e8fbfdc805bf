"""Dense feed-forward networks.

Weight layout (as torch.nn.Linear): a layer's weights are one row per neuron, one column per input,
so a layer maps x of shape (batch, n_in) to z = x @ W.T + b of shape (batch, n_out).

Speed (docs/benchmarks.md): each layer keeps W.T as one C-contiguous (n_in, n_out) array, so
z = x @ W.T is a plain row-major product (Layer.weights is a transposed view of it: the same values).
A forward pass without a trace adds the biases, checks finiteness and applies the activation in
place on the fresh z (activations.IN_PLACE), a block of rows at a time when z is large, so that each
pass over a block reads it from cache. A trace keeps every z and applies the same in-place
activations to copies, so its values are bitwise those of forward().
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from .activations import ACTIVATIONS, IN_PLACE, Activation
from .errors import EngineError, NonFiniteResult
from .interventions import Intervention, Interventions, checked

DTYPES = {"float64": np.float64, "float32": np.float32}

# Weighted sums larger than this get bias, check and activation one block of rows at a time, each
# block about _BLOCK_BYTES (well inside a core's L2 cache).
_BLOCKED_ABOVE_BYTES = 1 << 20
_BLOCK_BYTES = 1 << 18

_add_reduce = np.add.reduce
_isfinite = math.isfinite


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
        compiled: list[Layer] = []
        transposed: list[np.ndarray] = []
        for i, layer in enumerate(layers):
            if layer.activation not in ACTIVATIONS:
                raise EngineError(f"layers[{i}].activation", f"unknown activation {layer.activation!r}")
            weights = np.asarray(layer.weights, dtype=np_dtype)
            biases = np.array(layer.biases, dtype=np_dtype)  # copies, like W.T below: nothing shared with the caller
            check_layer_shape(i, weights, biases, compiled[-1].size if compiled else None)
            w_t = np.array(weights.T, order="C")  # (n_in, n_out), row-major, always a copy (a 1-row W.T is contiguous already)
            transposed.append(w_t)
            compiled.append(Layer(w_t.T, biases, layer.activation))
        self.layers: tuple[Layer, ...] = tuple(compiled)
        self._transposed: tuple[np.ndarray, ...] = tuple(transposed)
        # What a forward pass runs per layer: (index, W.T, biases, in-place activation); the second
        # plan ends with the last layer's weighted sums.
        steps = [(i, w_t, layer.biases, IN_PLACE[layer.activation]) for i, (layer, w_t) in enumerate(zip(compiled, transposed))]
        self._plan = tuple(steps)
        self._plan_to_sums = tuple(steps[:-1]) + ((*steps[-1][:3], IN_PLACE["identity"]),)
        self._np_dtype = np.dtype(np_dtype)
        self._input_size = compiled[0].input_size

    @property
    def input_size(self) -> int:
        return self._input_size

    @property
    def output_size(self) -> int:
        return self.layers[-1].size

    @property
    def parameter_count(self) -> int:
        return sum(layer.weights.size + layer.biases.size for layer in self.layers)

    def forward(self, x: np.ndarray, interventions: Interventions | Sequence[Intervention] | None = None) -> np.ndarray:
        """x: (batch, n_in) -> (batch, n_out of the last layer); interventions edit activations on the way."""
        if interventions:
            return self.trace(x, interventions)[-1].activations
        return self._forward(x, self._plan)

    def weighted_sums(self, x: np.ndarray, interventions: Interventions | Sequence[Intervention] | None = None) -> np.ndarray:
        """x: (batch, n_in) -> the last layer's weighted sums (batch, n_out), its activation not applied
        (the same values as trace(x)[-1].weighted_sums)."""
        if interventions:
            return self.trace(x, interventions)[-1].weighted_sums
        return self._forward(x, self._plan_to_sums)

    def trace(self, x: np.ndarray, interventions: Interventions | Sequence[Intervention] | None = None) -> list[LayerTrace]:
        """Every layer's z and activations; with interventions, each layer's activations as edited
        (what the next layer reads)."""
        return [LayerTrace(z, a) for z, a in self.layer_values(x, interventions)]

    def interventions(self, items: Interventions | Sequence[Intervention] | None, hidden_only: bool = False) -> Interventions | None:
        """items checked against this network's layers (EngineError naming the valid range)."""
        return checked(self.layers, self._np_dtype, items, hidden_only)

    def layer_values(self, x: np.ndarray, interventions: Interventions | Sequence[Intervention] | None = None
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(z, a) of each layer in turn, each (batch, n_out), a fresh pair per layer: a caller may stop
        after the layer it needs. Interventions are applied to a before the next layer reads it."""
        return self._run(x, self.interventions(interventions))

    def _forward(self, x: np.ndarray, plan: tuple) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked on the inputs and every z
            x = self._cast_input(x)
            for i, w_t, biases, activation in plan:
                z = x.dot(w_t)  # (batch, n_out), a fresh array this pass owns (dot: the cheapest call to BLAS)
                if z.nbytes > _BLOCKED_ABOVE_BYTES:
                    x = self._finish_blocked(i, z, biases, activation)
                    continue
                z += biases
                if not _isfinite(_add_reduce(z, None)) and not np.isfinite(z).all():  # all_finite, inlined
                    raise self._overflow(i)
                x = activation(z)
        return x

    def _finish_blocked(self, i: int, z: np.ndarray, biases: np.ndarray, activation: Activation) -> np.ndarray:
        """z += biases, check, z = f(z) in z's memory, a block of rows at a time."""
        rows = max(1, _BLOCK_BYTES // (z.shape[1] * z.itemsize))
        for start in range(0, z.shape[0], rows):
            block = z[start : start + rows]
            block += biases
            if not all_finite(block):
                raise self._overflow(i)
            result = activation(block)
            if result is not block:
                block[...] = result
        return z

    def _run(self, x: np.ndarray, interventions: Interventions | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        with np.errstate(over="ignore", invalid="ignore"):
            x = self._cast_input(x)
        for i, w_t, biases, activation in self._plan:
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked just below
                z = x.dot(w_t)  # (batch, n_out), as in _forward
                z += biases
                if not all_finite(z):
                    raise self._overflow(i)
                x = activation(z.copy())
            if interventions is not None:
                interventions.apply(i, x)
            yield z, x

    def _overflow(self, i: int) -> NonFiniteResult:
        return NonFiniteResult(f"layers[{i}]", f"weighted sums overflow {self.dtype} for these inputs")

    def _cast_input(self, x: np.ndarray) -> np.ndarray:
        """x in the network's dtype, checked finite; call with over/invalid floating-point errors ignored."""
        if x.ndim != 2 or x.shape[1] != self._input_size:
            raise EngineError("inputs", f"expected {self._input_size} values per input vector, got {x.shape[-1]}")
        if x.dtype != self._np_dtype:
            x = x.astype(self._np_dtype)  # float64 -> float32 overflow gives inf: checked here
        if not _isfinite(_add_reduce(x, None)) and not np.isfinite(x).all():  # all_finite, inlined
            raise NonFiniteResult("inputs", f"inputs overflow {self.dtype}")
        return x


def all_finite(a: np.ndarray) -> bool:
    """True when no value of a is inf or NaN: one pass (its sum is finite), a second only when the sum
    overflowed. Call with over/invalid floating-point errors ignored (the sum may overflow)."""
    return math.isfinite(_add_reduce(a, axis=None)) or bool(np.isfinite(a).all())


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
