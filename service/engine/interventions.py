"""Interventions on a forward pass: a neuron's activation set to a value or scaled by a factor after
its layer computed it and before the next layer reads it (activation patching, as in
TransformerLens' hooks). `set` 0 is ablation; `scale` 1 changes nothing.

A request's interventions are checked once against the network (layer and index in range, exactly
one of set/scale, a finite value in the network's dtype) and grouped by layer; Network.layer_values
then calls apply(i, a) on every layer's fresh activations. Nothing is stored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .errors import EngineError, NonFiniteResult


@dataclass(frozen=True)
class Intervention:
    layer: int
    index: int
    set: float | None = None  # replace the activation by this value
    scale: float | None = None  # or multiply it by this factor

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> "Intervention":
        return cls(item["layer"], item["index"], item.get("set"), item.get("scale"))


class Interventions:
    """Checked interventions, grouped by layer, applied in the order they were given."""

    def __init__(self, items: Sequence[Intervention], layer_sizes: Sequence[int], dtype: np.dtype, what: str) -> None:
        """layer_sizes: the neurons of each layer that may be intervened on (layers 0..len-1);
        what: how those layers are named in an error ("layers", "hidden layers")."""
        self.items = tuple(items)
        self._by_layer: dict[int, list[tuple[int, str, Any]]] = {}
        last = len(layer_sizes) - 1
        for j, item in enumerate(self.items):
            field = f"interventions[{j}]"
            if last < 0:
                raise EngineError(f"{field}.layer", f"this network has no {what} to intervene on")
            if not 0 <= item.layer <= last:
                raise EngineError(f"{field}.layer", f"expected a layer in 0..{last} (the network's {what}), got {item.layer}")
            size = layer_sizes[item.layer]
            if not 0 <= item.index < size:
                raise EngineError(f"{field}.index", f"expected a neuron in 0..{size - 1} (layer {item.layer} has {size} neurons), got {item.index}")
            if (item.set is None) == (item.scale is None):
                raise EngineError(field, "expected exactly one of set (a value) or scale (a factor)")
            kind, value = ("set", item.set) if item.set is not None else ("scale", item.scale)
            with np.errstate(over="ignore"):  # a float64 beyond float32 casts to inf: refused just below
                cast = dtype.type(value)
            if not (math.isfinite(value) and np.isfinite(cast)):
                raise NonFiniteResult(f"{field}.{kind}", f"expected a number within {dtype.name} range, got {value!r}")
            self._by_layer.setdefault(item.layer, []).append((item.index, kind, cast))

    def __bool__(self) -> bool:
        return bool(self.items)

    def apply(self, layer: int, a: np.ndarray) -> None:
        """Edit the activations a (batch, n) of `layer` in place."""
        for index, kind, value in self._by_layer.get(layer, ()):
            if kind == "set":
                a[:, index] = value
            else:
                with np.errstate(over="ignore", invalid="ignore"):
                    a[:, index] *= value
                if not np.isfinite(a[:, index]).all():
                    raise NonFiniteResult("interventions", f"scaling neuron {index} of layer {layer} overflows {a.dtype.name}")


def checked(network_layers: Sequence[Any], dtype: np.dtype, items: Sequence[Intervention] | Interventions | None,
            hidden_only: bool) -> Interventions | None:
    """Interventions checked against a network's layers (hidden_only: the output layer excluded, as
    for a language network, whose predictions read the output layer's weighted sums); None for none."""
    if items is None or isinstance(items, Interventions):
        return items or None
    if not items:
        return None
    layers = network_layers[:-1] if hidden_only else network_layers
    return Interventions(items, [layer.size for layer in layers], dtype, "hidden layers" if hidden_only else "layers")
