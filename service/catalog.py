"""Definitions as the store keeps them, as the engine runs them, and as the API shows them.

A definition is stored as JSON metadata (`spec`) plus its numbers as binary arrays. Compiled engine
objects are cached per process, keyed by (kind, name, revision): every lookup first asks the store
for the current revision (one indexed read, no weights), so a write made by another worker or
replica is seen on the very next request, while an unchanged definition is never re-read or
re-parsed.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

import numpy as np

from .engine.network import Layer, Network
from .engine.neuron import Neuron
from .store import Record, RecordSummary, Store

NEURON = "neuron"
NETWORK = "network"

T = TypeVar("T")


# --- neurons ---------------------------------------------------------------------------------

def neuron_to_record(data: dict[str, Any]) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Validated request data -> (spec, arrays). Compiling first proves the definition is usable."""
    neuron = Neuron(data["weights"], data["bias"], data["activation"])
    spec = {"activation": neuron.activation, "description": data["description"], "input_size": neuron.input_size}
    return spec, [neuron.weights, np.array([neuron.bias])]


def compile_neuron(record: Record) -> Neuron:
    weights, bias = record.arrays
    return Neuron(weights, float(bias[0]), record.spec["activation"])


def neuron_resource(record: Record) -> dict[str, Any]:
    weights, bias = record.arrays
    return {
        "name": record.name,
        "weights": weights.tolist(),
        "bias": float(bias[0]),
        "activation": record.spec["activation"],
        "description": record.spec["description"],
        **_meta(record),
    }


def neuron_summary(summary: RecordSummary) -> dict[str, Any]:
    return {"name": summary.name, "activation": summary.spec["activation"], "input_size": summary.spec["input_size"],
            "description": summary.spec["description"], **_meta(summary)}


# --- networks --------------------------------------------------------------------------------

def network_to_record(data: dict[str, Any]) -> tuple[dict[str, Any], list[np.ndarray]]:
    network = Network([Layer(l["weights"], l["biases"], l["activation"]) for l in data["layers"]], data["dtype"])
    spec = {
        "dtype": network.dtype,
        "description": data["description"],
        "layers": [{"activation": l.activation, "inputs": l.input_size, "neurons": l.size} for l in network.layers],
        "parameter_count": network.parameter_count,
    }
    arrays = [a for layer in network.layers for a in (layer.weights, layer.biases)]
    return spec, arrays


def compile_network(record: Record) -> Network:
    arrays = record.arrays
    layers = [Layer(arrays[2 * i], arrays[2 * i + 1], l["activation"]) for i, l in enumerate(record.spec["layers"])]
    return Network(layers, record.spec["dtype"])


def network_resource(record: Record) -> dict[str, Any]:
    spec = record.spec
    layers = [
        {"weights": record.arrays[2 * i].tolist(), "biases": record.arrays[2 * i + 1].tolist(), "activation": l["activation"]}
        for i, l in enumerate(spec["layers"])
    ]
    return {"name": record.name, "layers": layers, "dtype": spec["dtype"], "description": spec["description"],
            **_network_sizes(spec), **_meta(record)}


def network_summary(summary: RecordSummary) -> dict[str, Any]:
    spec = summary.spec
    return {"name": summary.name, "dtype": spec["dtype"], "description": spec["description"], **_network_sizes(spec), **_meta(summary)}


def _network_sizes(spec: dict[str, Any]) -> dict[str, Any]:
    layers = spec["layers"]
    return {
        "input_size": layers[0]["inputs"],
        "output_size": layers[-1]["neurons"],
        "layer_sizes": [layers[0]["inputs"]] + [l["neurons"] for l in layers],
        "parameter_count": spec["parameter_count"],
    }


def _meta(record: Record | RecordSummary) -> dict[str, Any]:
    return {"revision": record.revision, "created_at": _timestamp(record.created_at), "updated_at": _timestamp(record.updated_at)}


def _timestamp(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- the per-process cache -------------------------------------------------------------------

@dataclass(frozen=True)
class Compiled(Generic[T]):
    revision: int
    model: T


class CompiledCache:
    """LRU of compiled definitions keyed by (kind, name, revision)."""

    def __init__(self, store: Store, capacity: int) -> None:
        self._store = store
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str, int], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, name: str, compile: Callable[[Record], T]) -> Compiled[T] | None:
        revision = self._store.current_revision(kind, name)
        if revision is None:
            return None
        key = (kind, name, revision)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return Compiled(revision, self._entries[key])
        record = self._store.get(kind, name)
        if record is None:
            return None
        model = compile(record)
        with self._lock:
            self._entries[(kind, name, record.revision)] = model
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return Compiled(record.revision, model)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
