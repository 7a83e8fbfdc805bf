"""JSON answers -> the dataclasses in _models. Anything unexpected becomes UnexpectedResponseError."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, TypeVar, cast

import requests

from ._errors import UnexpectedResponseError
from ._models import (Activation, ActivationExample, ContextReading, DType, Evaluation, ForwardResult, GeneratedWord, Generation,
                      HealthStatus, InterventionEffect, Job, JobError, JobProgress, JobState, Layer, LayerDefinition, LayerTrace, Matrix,
                      Network, NetworkDefinition, NetworkSummary, Neuron, NeuronActivation, NeuronAttribution, NeuronCard, NeuronExamples, NeuronSummary,
                      OutputExplanation, OutputWords, Page, Prediction, PredictionExplanation, Punctuation, Quantiles, Score,
                      ScoredWord, SlotDelta, SlotWords, StopReason, Tokenization, TrainingResult, TrainingSettings, Vector,
                      WeightedInput, WeightedWord, WordProbability)

T = TypeVar("T")


def json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise UnexpectedResponseError(f"{response.request.method} {response.url}: expected JSON, got {response.text[:200]!r}") from None


def decoded(response: requests.Response, decode: Callable[[Any], T]) -> T:
    body = json_body(response)
    try:
        return decode(body)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise UnexpectedResponseError(
            f"{response.request.method} {response.url}: the answer does not match the API ({type(exc).__name__}: {exc}): {response.text[:300]}"
        ) from exc


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _optional(value: Any, decode: Callable[[Any], T]) -> T | None:
    return None if value is None else decode(value)


def _list(value: Any, item: Callable[[Any], T]) -> tuple[T, ...]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {value!r}")
    return tuple(item(v) for v in value)


def _vector(value: Any) -> Vector:
    if not isinstance(value, list):
        raise TypeError(f"expected a list of numbers, got {value!r}")
    return tuple(_number(v) for v in value)


def _matrix(value: Any) -> Matrix:
    if not isinstance(value, list):
        raise TypeError(f"expected a list of lists of numbers, got {value!r}")
    return tuple(_vector(row) for row in value)


def _rows(value: Any) -> tuple[Matrix, bool]:
    """A vector (one input) or a matrix (a batch) -> (one row per input vector, batched)."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return _matrix(value), True
    return (_vector(value),), False


def _timestamp(value: Any) -> datetime:
    return datetime.fromisoformat(_str(value).replace("Z", "+00:00"))


def _meta(body: dict[str, Any]) -> dict[str, Any]:
    return {"revision": _int(body["revision"]), "created_at": _timestamp(body["created_at"]), "updated_at": _timestamp(body["updated_at"])}


def neuron(body: dict[str, Any]) -> Neuron:
    return Neuron(name=_str(body["name"]), weights=_vector(body["weights"]), bias=_number(body["bias"]),
                  activation=cast(NeuronActivation, _str(body["activation"])), description=_str(body["description"]), **_meta(body))


def neuron_summary(body: dict[str, Any]) -> NeuronSummary:
    return NeuronSummary(name=_str(body["name"]), activation=cast(NeuronActivation, _str(body["activation"])),
                         input_size=_int(body["input_size"]), description=_str(body["description"]), **_meta(body))


def _sizes(body: dict[str, Any]) -> dict[str, Any]:
    return {"input_size": _int(body["input_size"]), "output_size": _int(body["output_size"]),
            "layer_sizes": tuple(_int(n) for n in body["layer_sizes"]), "parameter_count": _int(body["parameter_count"])}


def _language_sizes(body: dict[str, Any]) -> dict[str, Any]:
    return {"vocabulary_size": _optional(body.get("vocabulary_size"), _int), "context_size": _optional(body.get("context_size"), _int)}


def network(body: dict[str, Any]) -> Network:
    layers = tuple(Layer(_matrix(layer["weights"]), _vector(layer["biases"]), cast(Activation, _str(layer["activation"])))
                   for layer in body["layers"])
    return Network(name=_str(body["name"]), layers=layers, dtype=cast(DType, _str(body["dtype"])),
                   description=_str(body["description"]), **_sizes(body), **_meta(body),
                   vocabulary=_optional(body.get("vocabulary"), lambda words: _list(words, _str)),
                   embeddings=_optional(body.get("embeddings"), _matrix),
                   punctuation=_optional(body.get("punctuation"), lambda p: cast(Punctuation, _str(p))), **_language_sizes(body))


def network_definition(body: dict[str, Any]) -> NetworkDefinition:
    layers = tuple(LayerDefinition(_matrix(layer["weights"]), cast(Activation, _str(layer["activation"])), _vector(layer["biases"]))
                   for layer in body["layers"])
    return NetworkDefinition(layers=layers, dtype=cast(DType, _str(body.get("dtype", "float64"))),
                             description=_str(body.get("description", "")),
                             vocabulary=_optional(body.get("vocabulary"), lambda words: _list(words, _str)),
                             embeddings=_optional(body.get("embeddings"), _matrix), context_size=_optional(body.get("context_size"), _int),
                             punctuation=_optional(body.get("punctuation"), lambda p: cast(Punctuation, _str(p))))


def network_summary(body: dict[str, Any]) -> NetworkSummary:
    return NetworkSummary(name=_str(body["name"]), dtype=cast(DType, _str(body["dtype"])), description=_str(body["description"]),
                          **_sizes(body), **_meta(body), **_language_sizes(body))


def page(item: Callable[[dict[str, Any]], T]) -> Callable[[dict[str, Any]], Page[T]]:
    def decode(body: dict[str, Any]) -> Page[T]:
        cursor = body["next_cursor"]
        return Page(tuple(item(i) for i in body["items"]), None if cursor is None else _str(cursor))
    return decode


def evaluation(body: dict[str, Any]) -> Evaluation:
    contributions, batched = _rows(body["contributions"])
    weighted_sums = _vector(body["weighted_sum"]) if batched else (_number(body["weighted_sum"]),)
    outputs = _vector(body["output"]) if batched else (_number(body["output"]),)
    return Evaluation(name=_str(body["name"]), revision=_int(body["revision"]), activation=cast(NeuronActivation, _str(body["activation"])),
                      bias=_number(body["bias"]), batched=batched, contributions=contributions, weighted_sums=weighted_sums, outputs=outputs)


def _layer_trace(body: dict[str, Any]) -> LayerTrace:
    return LayerTrace(layer=_int(body["layer"]), activation=cast(Activation, _str(body["activation"])),
                      weighted_sums=_rows(body["weighted_sums"])[0], activations=_rows(body["activations"])[0])


def forward_result(body: dict[str, Any]) -> ForwardResult:
    outputs, batched = _rows(body["outputs"])
    trace = tuple(_layer_trace(step) for step in body["trace"]) if "trace" in body else None
    return ForwardResult(name=_str(body["name"]), revision=_int(body["revision"]), dtype=cast(DType, _str(body["dtype"])),
                         batched=batched, outputs=outputs, trace=trace)


def _context_reading(body: dict[str, Any]) -> ContextReading:
    return ContextReading(tokens=_list(body["tokens"], _str), ids=_list(body["ids"], _int), unknown=_list(body["unknown"], _bool),
                          padding=_int(body["padding"]), text_tokens=_int(body["text_tokens"]))


def _word_probability(body: dict[str, Any]) -> WordProbability:
    return WordProbability(word=_str(body["word"]), id=_int(body["id"]), probability=_number(body["probability"]),
                           log_probability=_number(body["log_probability"]))


def prediction(body: dict[str, Any]) -> Prediction:
    return Prediction(name=_str(body["name"]), revision=_int(body["revision"]), context=_context_reading(body["context"]),
                      words=_list(body["words"], _word_probability), temperature=_number(body["temperature"]),
                      effect=_optional(body.get("effect"), _intervention_effect))


def _intervention_effect(body: dict[str, Any]) -> InterventionEffect:
    return InterventionEffect(kl_divergence=_number(body["kl_divergence"]), baseline=_list(body["baseline"], _word_probability))


def _scored_word(body: dict[str, Any]) -> ScoredWord:
    return ScoredWord(word=_str(body["word"]), score=_number(body["score"]))


def _weighted_word(body: dict[str, Any]) -> WeightedWord:
    return WeightedWord(word=_str(body["word"]), weight=_number(body["weight"]))


def _slot_words(body: dict[str, Any]) -> SlotWords:
    return SlotWords(slot=_int(body["slot"]), excites=_list(body["excites"], _scored_word), inhibits=_list(body["inhibits"], _scored_word))


def _output_words(body: dict[str, Any]) -> OutputWords:
    return OutputWords(promotes=_list(body["promotes"], _weighted_word), suppresses=_list(body["suppresses"], _weighted_word))


def _position(body: dict[str, Any]) -> dict[str, Any]:
    return {"name": _str(body["name"]), "revision": _int(body["revision"]), "layer": _int(body["layer"]), "index": _int(body["index"]),
            "activation": cast(Activation, _str(body["activation"]))}


def neuron_card(body: dict[str, Any]) -> NeuronCard:
    return NeuronCard(**_position(body), bias=_number(body["bias"]), weights=_vector(body["weights"]), fan_in=_int(body["fan_in"]),
                      fan_out=_int(body["fan_out"]),
                      strongest_inputs=_list(body["strongest_inputs"], lambda i: WeightedInput(_int(i["input"]), _number(i["weight"]))),
                      outgoing=_optional(body.get("outgoing"), _vector),
                      input_words=_optional(body.get("input_words"), lambda slots: _list(slots, _slot_words)),
                      output_words=_optional(body.get("output_words"), _output_words))


def _activation_example(body: dict[str, Any]) -> ActivationExample:
    return ActivationExample(position=_int(body["position"]), context=_list(body["context"], _str), next_word=_str(body["next_word"]),
                             weighted_sum=_number(body["weighted_sum"]), activation=_number(body["activation"]))


def neuron_examples(body: dict[str, Any]) -> NeuronExamples:
    q = body["quantiles"]
    return NeuronExamples(**_position(body), positions=_int(body["positions"]), mean=_number(body["mean"]),
                          quantiles=Quantiles(*(_number(q[key]) for key in ("min", "q25", "median", "q75", "max"))),
                          dead_fraction=_number(body["dead_fraction"]), top=_list(body["top"], _activation_example),
                          bottom=_list(body["bottom"], _activation_example))


def _neuron_attribution(body: dict[str, Any]) -> NeuronAttribution:
    return NeuronAttribution(layer=_int(body["layer"]), index=_int(body["index"]), activation=_number(body["activation"]),
                             weight=_number(body["weight"]), attribution=_number(body["attribution"]))


def _attribution(body: dict[str, Any]) -> dict[str, Any]:
    return {"name": _str(body["name"]), "revision": _int(body["revision"]), "bias": _number(body["bias"]),
            "attribution_total": _number(body["attribution_total"]), "neurons": _list(body["neurons"], _neuron_attribution)}


def prediction_explanation(body: dict[str, Any]) -> PredictionExplanation:
    return PredictionExplanation(**_attribution(body), context=_context_reading(body["context"]), target=_str(body["target"]),
                                 id=_int(body["id"]), logit=_number(body["logit"]), probability=_number(body["probability"]),
                                 logprob=_number(body["logprob"]),
                                 slots=_list(body["slots"], lambda s: SlotDelta(_int(s["slot"]), _str(s["word"]), _number(s["delta_logprob"]))))


def output_explanation(body: dict[str, Any]) -> OutputExplanation:
    return OutputExplanation(**_attribution(body), output=_int(body["output"]), weighted_sum=_number(body["weighted_sum"]),
                             activation=_number(body["activation"]))


def _generated_word(body: dict[str, Any]) -> GeneratedWord:
    return GeneratedWord(word=_str(body["word"]), id=_int(body["id"]), probability=_number(body["probability"]),
                         sampling_probability=_number(body["sampling_probability"]))


def generation(body: dict[str, Any]) -> Generation:
    return Generation(name=_str(body["name"]), revision=_int(body["revision"]), prompt=_context_reading(body["prompt"]),
                      text=_str(body["text"]), continuation=_str(body["continuation"]), words=_list(body["words"], _generated_word),
                      stop_reason=cast(StopReason, _str(body["stop_reason"])), seed=_int(body["seed"]))


def score(body: dict[str, Any]) -> Score:
    return Score(name=_str(body["name"]), revision=_int(body["revision"]), tokens=_list(body["tokens"], _str),
                 log_probabilities=_vector(body["log_probabilities"]), unknown=_list(body["unknown"], _bool),
                 mean_nll=_number(body["mean_nll"]), perplexity=_number(body["perplexity"]), unknown_rate=_number(body["unknown_rate"]))


def tokenization(body: dict[str, Any]) -> Tokenization:
    encoded = "tokens" in body
    return Tokenization(name=_str(body["name"]), revision=_int(body["revision"]), text=_str(body["text"]), ids=_list(body["ids"], _int),
                        tokens=_list(body["tokens"], _str) if encoded else None,
                        unknown=_list(body["unknown"], _bool) if encoded else None)


def _loss_history(value: Any) -> tuple[tuple[int, float], ...]:
    def point(pair: Any) -> tuple[int, float]:
        if not isinstance(pair, list) or len(pair) != 2:
            raise TypeError(f"expected [step, loss], got {pair!r}")
        return _int(pair[0]), _number(pair[1])
    return _list(value, point)


def training_settings(body: dict[str, Any]) -> TrainingSettings:
    if not isinstance(body, dict):
        raise TypeError(f"expected the training settings, got {body!r}")
    known = TrainingSettings.__dataclass_fields__
    settings = {name: value for name, value in body.items() if name in known}  # a newer service may add settings
    return TrainingSettings(**settings)  # it turns betas into a tuple


def _training_result(body: dict[str, Any]) -> TrainingResult:
    def maybe(name: str) -> float | None:
        return _optional(body[name], _number)

    return TrainingResult(
        network=_str(body["network"]), revision=_int(body["revision"]), train_loss=_number(body["train_loss"]),
        train_perplexity=_number(body["train_perplexity"]), validation_loss=maybe("validation_loss"),
        validation_perplexity=maybe("validation_perplexity"), unigram_perplexity=maybe("unigram_perplexity"),
        bigram_perplexity=maybe("bigram_perplexity"), validation_unknown_rate=maybe("validation_unknown_rate"),
        steps=_int(body["steps"]), epochs=_number(body["epochs"]), seconds=_number(body["seconds"]),
        vocabulary_size=_int(body["vocabulary_size"]), parameter_count=_int(body["parameter_count"]),
        training_tokens=_int(body["training_tokens"]), validation_tokens=_int(body["validation_tokens"]),
        loss_history=_loss_history(body["loss_history"]), settings=training_settings(body["settings"]),
    )


def _job_error(body: dict[str, Any]) -> JobError:
    return JobError(title=_str(body["title"]), detail=_str(body["detail"]), field=_optional(body.get("field"), _str),
                    step=_optional(body.get("step"), _int), status=_optional(body.get("status"), _int),
                    current_revision=_optional(body.get("current_revision"), _int))


def _job_progress(body: dict[str, Any]) -> JobProgress:
    return JobProgress(step=_int(body["step"]), total_steps=_int(body["total_steps"]), loss=_optional(body.get("loss"), _number),
                       tokens_per_second=_optional(body.get("tokens_per_second"), _number),
                       eta_seconds=_optional(body.get("eta_seconds"), _number),
                       validation_loss=_optional(body.get("validation_loss"), _number))


def job(body: dict[str, Any]) -> Job:
    return Job(id=_str(body["id"]), kind=_str(body["kind"]), network=_str(body["network"]), state=cast(JobState, _str(body["state"])),
               progress=_job_progress(body["progress"]),
               loss=_optional(body["loss"], _number), loss_history=_loss_history(body["loss_history"]),
               settings=_optional(body["settings"], training_settings), result=_optional(body["result"], _training_result),
               error=_optional(body["error"], _job_error), created_at=_timestamp(body["created_at"]),
               started_at=_optional(body["started_at"], _timestamp), finished_at=_optional(body["finished_at"], _timestamp),
               warnings=_list(body.get("warnings", []), _str), attempts=_int(body.get("attempts", 0)),
               cancel_requested=_bool(body.get("cancel_requested", False)), notice=_optional(body.get("notice"), _str))


def health_status(body: dict[str, Any]) -> HealthStatus:
    return HealthStatus(_str(body["status"]), _optional(body.get("workers"), _int))
