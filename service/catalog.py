"""Definitions as the store keeps them, as the engine runs them, and as the API shows them.

A definition is stored as JSON metadata (`spec`) plus its numbers as binary arrays. Compiled engine
objects are cached per process (CompiledCache): a lookup asks the store for the current revision
(one indexed read, no weights) only when the store's change token says something was committed
since the entry was last checked, so a write made by another worker or replica is seen on the very
next request, an unchanged definition is never re-read or re-parsed, and a steady state costs no
database round trip.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Generic, TypeVar

import numpy as np

from .engine.errors import EngineError
from .engine.language import LanguageModel
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
# A network's arrays are [W0, b0, W1, b1, ...] in its dtype; a language network adds its embedding
# table last, and its spec carries "language": {vocabulary, context_size, punctuation}.

LANGUAGE_FIELDS = ("vocabulary", "embeddings", "context_size")


@dataclass(frozen=True)
class CompiledNetwork:
    network: Network
    language: LanguageModel | None  # set for language networks


def network_to_record(data: dict[str, Any]) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Validated request data -> (spec, arrays). Compiling first proves the definition is usable."""
    network = Network([Layer(l["weights"], l["biases"], l["activation"]) for l in data["layers"]], data["dtype"])
    return compiled_network_record(network, _language_model(network, data), data["description"])


def compiled_network_record(network: Network, language: LanguageModel | None, description: str) -> tuple[dict[str, Any], list[np.ndarray]]:
    spec: dict[str, Any] = {
        "dtype": network.dtype,
        "description": description,
        "layers": [{"activation": l.activation, "inputs": l.input_size, "neurons": l.size} for l in network.layers],
        "parameter_count": network.parameter_count,
    }
    arrays = [a for layer in network.layers for a in (layer.weights, layer.biases)]
    if language is not None:
        spec["language"] = {
            "vocabulary": list(language.vocabulary.words),
            "context_size": language.context_size,
            "punctuation": language.punctuation,
        }
        spec["parameter_count"] = language.parameter_count
        arrays.append(language.embeddings)
    return spec, arrays


def _language_model(network: Network, data: dict[str, Any]) -> LanguageModel | None:
    given = [f for f in LANGUAGE_FIELDS if data.get(f) is not None]
    if not given:
        if data.get("punctuation") is not None:
            raise EngineError("punctuation", "only a language network (with vocabulary, embeddings, context_size) has a tokenizer")
        return None
    missing = [f for f in LANGUAGE_FIELDS if f not in given]
    if missing:
        raise EngineError(missing[0], f"required for a language network (it has {', '.join(given)})")
    return LanguageModel(data["vocabulary"], data["embeddings"], data["context_size"], network, data.get("punctuation") or "keep")


def compile_network(record: Record) -> CompiledNetwork:
    arrays, spec = record.arrays, record.spec
    layers = [Layer(arrays[2 * i], arrays[2 * i + 1], l["activation"]) for i, l in enumerate(spec["layers"])]
    network = Network(layers, spec["dtype"])
    language = spec.get("language")
    if language is None:
        return CompiledNetwork(network, None)
    model = LanguageModel(language["vocabulary"], arrays[-1], language["context_size"], network, language["punctuation"])
    return CompiledNetwork(network, model)


def network_resource(record: Record) -> dict[str, Any]:
    spec = record.spec
    layers = [
        {"weights": record.arrays[2 * i].tolist(), "biases": record.arrays[2 * i + 1].tolist(), "activation": l["activation"]}
        for i, l in enumerate(spec["layers"])
    ]
    body = {"name": record.name, "layers": layers, "dtype": spec["dtype"], "description": spec["description"]}
    if "language" in spec:
        language = spec["language"]
        body.update(vocabulary=language["vocabulary"], embeddings=record.arrays[-1].tolist(), punctuation=language["punctuation"])
    return {**body, **_network_sizes(spec), **_meta(record)}


def network_summary(summary: RecordSummary) -> dict[str, Any]:
    spec = summary.spec
    return {"name": summary.name, "dtype": spec["dtype"], "description": spec["description"], **_network_sizes(spec), **_meta(summary)}


def _network_sizes(spec: dict[str, Any]) -> dict[str, Any]:
    layers = spec["layers"]
    sizes = {
        "input_size": layers[0]["inputs"],
        "output_size": layers[-1]["neurons"],
        "layer_sizes": [layers[0]["inputs"]] + [l["neurons"] for l in layers],
        "parameter_count": spec["parameter_count"],
    }
    if "language" in spec:
        sizes["vocabulary_size"] = len(spec["language"]["vocabulary"])
        sizes["context_size"] = spec["language"]["context_size"]
    return sizes


def _meta(record: Record | RecordSummary) -> dict[str, Any]:
    return {"revision": record.revision, "created_at": timestamp(record.created_at), "updated_at": timestamp(record.updated_at)}


def timestamp(moment: datetime | None) -> str | None:
    """A stored time as JSON shows it: ISO 8601 in UTC with a Z; None stays None."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


# --- the per-process cache -------------------------------------------------------------------

@dataclass(frozen=True)
class Compiled(Generic[T]):
    revision: int
    model: T


@dataclass
class _Entry:
    revision: int
    model: Any
    token: object | None  # the store's change token when the revision was last read; None: unknown


class CompiledCache:
    """LRU of compiled definitions: one entry per (kind, name), at the revision last read.

    A lookup is answered from memory when the store's change token (Store.change_token) is still the
    one taken when the entry's revision was last read: nothing was committed since, by any worker or
    replica, so the revision is current. Otherwise the current revision is read again (one indexed
    read, no weights), and the definition re-read and recompiled only when the revision changed. A
    store that cannot tell (token None) is asked for the revision on every lookup.
    """

    def __init__(self, store: Store, capacity: int) -> None:
        self._store = store
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, name: str, compile: Callable[[Record], T]) -> Compiled[T] | None:
        key = (kind, name)
        token = self._store.change_token()  # before reading what it vouches for
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and token is not None and entry.token == token:
                self._entries.move_to_end(key)
                return Compiled(entry.revision, entry.model)
        if entry is not None:  # is what we hold still current? one indexed read, no weights
            revision = self._store.current_revision(kind, name)
            with self._lock:
                entry = self._entries.get(key)  # again: another thread may have replaced it meanwhile
                if revision is None:
                    self._entries.pop(key, None)
                    return None
                if entry is not None and entry.revision == revision:
                    entry.token = token
                    self._entries.move_to_end(key)
                    return Compiled(revision, entry.model)
        record = self._store.get(kind, name)  # nothing held (or an old revision): read and compile
        if record is None:
            return None
        model = compile(record)
        with self._lock:
            self._entries[key] = _Entry(record.revision, model, token)
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return Compiled(record.revision, model)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
