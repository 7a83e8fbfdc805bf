"""Evaluating stored definitions: a neuron on inputs, a network's forward pass (optionally traced).

Results mirror the inputs: one input vector gives scalars/vectors, a batch gives one more dimension.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

import numpy as np
from flask import Blueprint, Response

from .. import catalog
from ..engine.errors import EngineError, NonFiniteResult
from ..engine.network import Network
from ..engine.neuron import Neuron
from ..store import Record
from .context import services
from .definitions import NETWORKS, NEURONS, Kind, not_found
from .problems import Problem, validation_problem
from .requests import checked_name, json_body, limit_problem
from .responses import json_response
from .schemas import EvaluateSchema, ForwardSchema, StrictSchema

T = TypeVar("T")

bp = Blueprint("evaluation", __name__, url_prefix="/v1")

_EVALUATE = EvaluateSchema()
_FORWARD = ForwardSchema()


def _load(kind: Kind, name: str, compile: Callable[[Record], T]) -> tuple[int, T]:
    compiled = services().cache.get(kind.name, checked_name(name), compile)
    if compiled is None:
        raise not_found(kind, name)
    return compiled.revision, compiled.model


def _inputs(schema: StrictSchema) -> tuple[dict[str, Any], np.ndarray, bool]:
    data = schema.load_or_problem(json_body())
    inputs, batched = data["inputs"]
    limit = services().config.max_batch_rows
    if inputs.shape[0] > limit:
        raise limit_problem("inputs", "NEURONHUB_MAX_BATCH_ROWS", limit, inputs.shape[0], "input vectors")
    return data, inputs, batched


def _unbatch(values: np.ndarray, batched: bool) -> Any:
    return values.tolist() if batched else values[0].tolist()


def _engine_problem(exc: EngineError) -> Problem:
    if isinstance(exc, NonFiniteResult):
        return Problem(422, "non-finite-result", "Result out of range", str(exc), errors={exc.field: [exc.message]})
    return validation_problem({exc.field: [exc.message]})


@bp.post("/neurons/<name>/evaluate")
def evaluate_neuron(name: str) -> Response:
    revision, neuron = _load(NEURONS, name, catalog.compile_neuron)
    _, inputs, batched = _inputs(_EVALUATE)
    try:
        result = neuron.evaluate(inputs)
    except EngineError as exc:
        raise _engine_problem(exc) from None
    return json_response({
        "name": name,
        "revision": revision,
        "activation": neuron.activation,
        "bias": neuron.bias,
        "contributions": _unbatch(result.contributions, batched),
        "weighted_sum": _unbatch(result.weighted_sums, batched),
        "output": _unbatch(result.outputs, batched),
    })


@bp.post("/networks/<name>/forward")
def forward_network(name: str) -> Response:
    revision, network = _load(NETWORKS, name, catalog.compile_network)
    data, inputs, batched = _inputs(_FORWARD)
    try:
        if data["trace"]:
            trace = network.trace(inputs)
            outputs = trace[-1].activations
        else:
            outputs = network.forward(inputs)
    except EngineError as exc:
        raise _engine_problem(exc) from None
    body: dict[str, Any] = {"name": name, "revision": revision, "dtype": network.dtype, "outputs": _unbatch(outputs, batched)}
    if data["trace"]:
        body["trace"] = [
            {
                "layer": i,
                "activation": layer.activation,
                "weighted_sums": _unbatch(step.weighted_sums, batched),
                "activations": _unbatch(step.activations, batched),
            }
            for i, (layer, step) in enumerate(zip(network.layers, trace))
        ]
    return json_response(body)
