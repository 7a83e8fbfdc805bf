"""Understanding one neuron: its card, the contexts of a text it responds to, and the explanation
of one prediction (the math is service/engine/insight.py). Interventions are an option of forward,
predict, generate and score (evaluation.py, language.py)."""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, request

from .. import catalog, metrics
from ..engine import insight
from ..engine.errors import EngineError
from .auth import evaluation
from .definitions import NETWORKS
from .evaluation import engine_problem, load_compiled
from .language import language_model
from .problems import Problem, validation_problem
from .requests import etag, json_body
from .responses import json_response
from .schemas import ExamplesSchema, ExplainSchema, NeuronQuerySchema

bp = Blueprint("insight", __name__, url_prefix="/v1")

_QUERY, _EXAMPLES, _EXPLAIN = NeuronQuerySchema(), ExamplesSchema(), ExplainSchema()
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


def _position(layer: str, index: str) -> tuple[int, int]:
    errors = {field: [f"expected a whole number, got {value!r}"]
              for field, value in (("layer", layer), ("index", index)) if not _WHOLE_NUMBER.fullmatch(value)}
    if errors:
        raise validation_problem(errors)
    return int(layer), int(index)


def _problem(exc: EngineError) -> Problem:
    if isinstance(exc, insight.NoSuchNeuron):
        return Problem(404, "not-found", "Not Found", str(exc))
    if isinstance(exc, insight.TextTooLong):
        return Problem(413, "payload-too-large", "Payload Too Large", str(exc), errors={exc.field: [exc.message]},
                       maximum=insight.MAX_EXAMPLE_WORDS, received=exc.words)
    return engine_problem(exc)


@bp.get("/networks/<name>/layers/<layer>/neurons/<index>")
def neuron_card(name: str, layer: str, index: str) -> Response:
    position = _position(layer, index)
    revision, compiled = load_compiled(NETWORKS, name, catalog.compile_network)
    k = _QUERY.load_or_problem(request.args.to_dict())["k"]
    tag = etag(revision)
    try:
        insight.check_neuron(compiled.network, *position)
        if request.if_none_match and request.if_none_match.contains(str(revision)):
            return Response(status=304, headers={"ETag": tag})
        card = insight.neuron_card(compiled.network, compiled.language, *position, k)
    except EngineError as exc:
        raise _problem(exc) from None
    return json_response({"name": name, "revision": revision, **card}, headers={"ETag": tag})


@bp.post("/networks/<name>/layers/<layer>/neurons/<index>/examples")
@evaluation
def neuron_examples(name: str, layer: str, index: str) -> Response:
    position = _position(layer, index)
    revision, model = language_model(name)
    data = _EXAMPLES.load_or_problem(json_body())
    try:
        body = insight.examples(model, *position, data["text"], data["k"])
    except EngineError as exc:
        raise _problem(exc) from None
    metrics.count_language_request("examples", name)
    return json_response({"name": name, "revision": revision, **body})


@bp.post("/networks/<name>/explain")
@evaluation
def explain(name: str) -> Response:
    revision, compiled = load_compiled(NETWORKS, name, catalog.compile_network)
    data = _EXPLAIN.load_or_problem(json_body())
    try:
        body = _explained(compiled, data)
    except EngineError as exc:
        raise _problem(exc) from None
    metrics.count_language_request("explain", name)
    return json_response({"name": name, "revision": revision, **body})


def _explained(compiled: catalog.CompiledNetwork, data: dict[str, Any]) -> dict[str, Any]:
    if compiled.language is not None:
        _refuse(data, ("inputs", "output"), "a language network explains a context (and a target word)")
        if data["context"] is None:
            raise validation_problem({"context": ["required: expected the text whose next word to explain"]})
        return insight.explain_prediction(compiled.language, data["context"], data["target"], data["k"])
    _refuse(data, ("context", "target"), "a plain network explains inputs and an output neuron")
    missing = {field: [f"required: expected {what}"] for field, what in
               (("inputs", "one input vector"), ("output", "the index of an output neuron")) if data[field] is None}
    if missing:
        raise validation_problem(missing)
    inputs, batched = data["inputs"]
    if batched:
        raise validation_problem({"inputs": [f"expected one input vector, got a batch of {inputs.shape[0]}"]})
    return insight.explain_output(compiled.network, inputs[0], data["output"], data["k"])


def _refuse(data: dict[str, Any], fields: tuple[str, ...], why: str) -> None:
    given = {field: [f"not used here: {why}"] for field in fields if data[field] is not None}
    if given:
        raise validation_problem(given)
