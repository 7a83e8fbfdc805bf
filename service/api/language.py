"""Language networks: next-word prediction, generation, scoring and tokenization."""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response

from .. import catalog, metrics
from ..engine import insight
from ..engine.errors import EngineError
from ..engine.language import LanguageModel
from .definitions import NETWORKS
from .auth import evaluation
from .evaluation import engine_problem, interventions_of, load_compiled
from .problems import Problem
from .requests import json_body
from .responses import json_response
from .schemas import GenerateSchema, PredictSchema, ScoreSchema, StrictSchema, TokenizeSchema

bp = Blueprint("language", __name__, url_prefix="/v1")

_PREDICT, _GENERATE, _SCORE, _TOKENIZE = PredictSchema(), GenerateSchema(), ScoreSchema(), TokenizeSchema()


def language_model(name: str) -> tuple[int, LanguageModel]:
    revision, compiled = load_compiled(NETWORKS, name, catalog.compile_network)
    if compiled.language is None:
        raise Problem(
            409, "not-a-language-network", "Not a language network",
            f"network {name!r} has no vocabulary, embeddings and context_size, so it cannot read words",
        )
    return revision, compiled.language


def _answer(name: str, operation: str, schema: StrictSchema, run: Callable[[LanguageModel, dict[str, Any]], dict[str, Any]]) -> Response:
    revision, model = language_model(name)
    data = schema.load_or_problem(json_body())
    try:
        body = run(model, data)
    except EngineError as exc:
        raise engine_problem(exc) from None
    metrics.count_language_request(operation, name)
    return json_response({"name": name, "revision": revision, **body})


@bp.post("/networks/<name>/predict")
@evaluation
def predict(name: str) -> Response:
    def run(model: LanguageModel, data: dict[str, Any]) -> dict[str, Any]:
        interventions = interventions_of(data)
        if not interventions:
            return model.predict(data["context"], data["top_k"], data["temperature"]).as_dict()
        prediction, effect = insight.predict_with_effect(model, data["context"], data["top_k"], data["temperature"], interventions)
        return {**prediction.as_dict(), "effect": effect}

    return _answer(name, "predict", _PREDICT, run)


@bp.post("/networks/<name>/generate")
@evaluation
def generate(name: str) -> Response:
    return _answer(name, "generate", _GENERATE, lambda model, d: model.generate(
        d["prompt"], d["max_words"], d["temperature"], d["top_k"], d["top_p"], d["seed"], interventions_of(d)).as_dict())


@bp.post("/networks/<name>/score")
@evaluation
def score(name: str) -> Response:
    return _answer(name, "score", _SCORE, lambda model, d: model.score(d["text"], interventions=interventions_of(d)).as_dict())


@bp.post("/networks/<name>/tokenize")
@evaluation
def tokenize(name: str) -> Response:
    def run(model: LanguageModel, data: dict[str, Any]) -> dict[str, Any]:
        if data["ids"] is not None:
            return {"ids": data["ids"], "text": model.tokenizer.decode(data["ids"])}
        encoding = model.tokenizer.encode(data["text"])
        return {"text": data["text"], "tokens": encoding.tokens, "ids": encoding.ids.tolist(), "unknown": encoding.unknown.tolist()}

    return _answer(name, "tokenize", _TOKENIZE, run)
