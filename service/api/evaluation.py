"""Evaluating stored definitions: a neuron on inputs, a network's forward pass (optionally traced).

Results mirror the inputs: one input vector gives scalars/vectors, a batch gives one more dimension.
A forward pass also takes its inputs as an application/x-npy body (numpy's .npy format: a float32 or
float64 vector or batch), which large batches parse far faster than JSON; the answer is JSON.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

import numpy as np
from flask import Blueprint, Response, request

from .. import catalog, metrics
from ..engine.errors import EngineError, NonFiniteResult
from ..engine.interventions import Intervention
from ..engine.network import Network
from ..store import Record
from .auth import evaluation
from .context import services
from .definitions import NETWORKS, NEURONS, Kind, not_found
from .problems import Problem, validation_problem
from .fields import quick_inputs
from .requests import NPY, checked_name, json_body, limit_problem, npy_inputs
from .responses import json_response
from .schemas import EvaluateSchema, ForwardSchema, StrictSchema

T = TypeVar("T")

bp = Blueprint("evaluation", __name__, url_prefix="/v1")

_EVALUATE = EvaluateSchema()
_FORWARD = ForwardSchema()


def load_compiled(kind: Kind, name: str, compile: Callable[[Record], T]) -> tuple[int, T]:
    """(revision, compiled definition) from the per-process cache; 404 when there is none."""
    compiled = services().cache.get(kind.name, checked_name(name), compile)
    if compiled is None:
        raise not_found(kind, name)
    return compiled.revision, compiled.model


def _inputs(schema: StrictSchema) -> tuple[np.ndarray, bool]:
    inputs, batched = schema.load_or_problem(json_body())["inputs"]
    _check_rows(inputs)
    return inputs, batched


def _check_rows(inputs: np.ndarray) -> None:
    limit = services().config.max_batch_rows
    if inputs.shape[0] > limit:
        raise limit_problem("inputs", "NEURONHUB_MAX_BATCH_ROWS", limit, inputs.shape[0], "input vectors")


def _forward_inputs() -> tuple[np.ndarray, bool, bool, list[Intervention] | None]:
    """(inputs (batch, n), batched, trace, interventions) from a JSON body or an application/x-npy one
    (no trace, no interventions)."""
    interventions = None
    if request.mimetype == NPY:
        inputs, batched = npy_inputs()
        trace = False
    else:
        body = json_body(NPY)
        quick = quick_forward_body(body)
        if quick is not None:
            inputs, batched, trace = quick
        else:  # anything else (interventions too): the schema reads it and says what is wrong
            data = _FORWARD.load_or_problem(body)
            (inputs, batched), trace = data["inputs"], data["trace"]
            interventions = interventions_of(data)
    _check_rows(inputs)
    return inputs, batched, trace, interventions


def interventions_of(data: dict[str, Any]) -> list[Intervention] | None:
    """The request's interventions (as the schema read them) for the engine; None when there are none."""
    items = data.get("interventions")
    return [Intervention.from_dict(item) for item in items] if items else None


def quick_forward_body(body: Any) -> tuple[np.ndarray, bool, bool] | None:
    """The common forward body without marshmallow: {"inputs": [...]} or {"inputs": [...], "trace": bool}
    -> (inputs (batch, n), batched, trace); None for anything else (the schema then words the errors)."""
    if type(body) is dict and "inputs" in body and type(body.get("trace", False)) is bool and len(body) == 1 + ("trace" in body):
        quick = quick_inputs(body["inputs"])
        if quick is not None:
            return quick[0], quick[1], body.get("trace", False)
    return None


def _unbatch(values: np.ndarray, batched: bool) -> Any:
    return values.tolist() if batched else values[0].tolist()


def engine_problem(exc: EngineError) -> Problem:
    if isinstance(exc, NonFiniteResult):
        return Problem(422, "non-finite-result", "Result out of range", str(exc), errors={exc.field: [exc.message]})
    return validation_problem({exc.field: [exc.message]})


@bp.post("/neurons/<name>/evaluate")
@evaluation
def evaluate_neuron(name: str) -> Response:
    revision, neuron = load_compiled(NEURONS, name, catalog.compile_neuron)
    inputs, batched = _inputs(_EVALUATE)
    try:
        result = neuron.evaluate(inputs)
    except EngineError as exc:
        raise engine_problem(exc) from None
    metrics.count_neuron_evaluation(name, inputs.shape[0])
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
@evaluation
def forward_network(name: str) -> Response:
    revision, compiled = load_compiled(NETWORKS, name, catalog.compile_network)
    inputs, batched, traced, interventions = _forward_inputs()
    try:
        body = forward_answer(name, revision, compiled.network, inputs, batched, traced, interventions)
    except EngineError as exc:
        raise engine_problem(exc) from None
    metrics.count_forward(name, inputs.shape[0])
    return json_response(body)


def forward_answer(name: str, revision: int, network: Network, inputs: np.ndarray, batched: bool, traced: bool,
                   interventions: list[Intervention] | None = None) -> dict[str, Any]:
    """The answer to a forward pass (raises EngineError for inputs the network cannot take, or
    interventions it does not have)."""
    if traced:
        trace = network.trace(inputs, interventions)
        outputs = trace[-1].activations
    else:
        outputs = network.forward(inputs, interventions)
    body: dict[str, Any] = {"name": name, "revision": revision, "dtype": network.dtype, "outputs": _unbatch(outputs, batched)}
    if traced:
        body["trace"] = [
            {
                "layer": i,
                "activation": layer.activation,
                "weighted_sums": _unbatch(step.weighted_sums, batched),
                "activations": _unbatch(step.activations, batched),
            }
            for i, (layer, step) in enumerate(zip(network.layers, trace))
        ]
    return body
