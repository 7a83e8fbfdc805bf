"""Request schemas: parse and validate bodies, with errors keyed by field path."""
from __future__ import annotations

import re
from dataclasses import fields as dataclass_fields
from typing import Any, Mapping, Sequence

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from ..engine.activations import ACTIVATIONS
from ..engine.network import DTYPES
from ..engine.tokenizer import PUNCTUATION_SETTINGS
from ..engine.training import (BETA_RANGE, HIDDEN_SIZE_RANGE, MAX_HIDDEN_LAYERS, NUMBER_SETTINGS, WHOLE_NUMBER_SETTINGS,
                               TrainingSettings)
from ..store.jobs import JOB_STATES
from .fields import Inputs, Integer, ListOf, Matrix, Number, NumberIn, StrictBoolean, Vector, WholeNumberIn, describe
from .problems import validation_problem
from .requests import NAME_REGEX

NAME_PATTERN = f"^{NAME_REGEX.pattern}$"
ACTIVATION_NAMES = sorted(ACTIVATIONS)
MAX_DESCRIPTION = 2000
TRAINING_SETTING_NAMES = frozenset(f.name for f in dataclass_fields(TrainingSettings))


class StrictString(fields.String):
    default_error_messages = {"invalid": "expected a string", "null": "expected a string, got null"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"expected a string, got {describe(value)}")
        return value


class Activation(StrictString):
    default_error_messages = {"required": f"required: expected one of {', '.join(ACTIVATION_NAMES)}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        if name not in ACTIVATIONS:
            raise ValidationError(f"expected one of {', '.join(ACTIVATION_NAMES)}, got {describe(name)}")
        return name


class Choice(fields.Field):
    """One of a few strings; anything else is refused naming them all."""

    def __init__(self, choices: Sequence[str], **kwargs: Any) -> None:
        self.choices = tuple(choices)
        self.expected = f"one of {', '.join(self.choices)}"
        super().__init__(error_messages={"null": f"expected {self.expected}, got null"}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise ValidationError(f"expected {self.expected}, got {describe(value)}")
        return value


class StrictSchema(Schema):
    """Unknown fields are refused (a typo must not be silently ignored); some read-only fields that
    GET returns may be sent back in a PUT and are then ignored, never stored."""

    read_only: frozenset[str] = frozenset()

    class Meta:
        unknown = RAISE

    def load_or_problem(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise validation_problem({"body": [f"expected a JSON object, got {describe(data)}"]})
        if self.read_only:
            data = {k: v for k, v in data.items() if k not in self.read_only}
        try:
            return self.load(data)
        except ValidationError as exc:
            raise validation_problem(flatten_errors(exc.messages)) from None


def description_field() -> fields.Field:
    return StrictString(load_default="", validate=validate.Length(max=MAX_DESCRIPTION, error=f"expected at most {MAX_DESCRIPTION} characters"))


DEFINITION_READ_ONLY = frozenset({"name", "revision", "created_at", "updated_at", "kind", "input_size", "output_size", "layer_sizes", "parameter_count", "vocabulary_size"})


class NeuronSchema(StrictSchema):
    read_only = DEFINITION_READ_ONLY
    weights = Vector(required=True)
    bias = Number(load_default=0.0)
    activation = Activation(required=True)
    description = description_field()


class LayerSchema(StrictSchema):
    weights = Matrix(required=True)
    biases = Vector(load_default=None)
    activation = Activation(required=True)


class NetworkSchema(StrictSchema):
    read_only = DEFINITION_READ_ONLY
    layers = fields.List(fields.Nested(LayerSchema), required=True, error_messages={"required": "required: expected a list of layers"})
    dtype = StrictString(load_default="float64", validate=validate.OneOf(["float64", "float32"], error="expected float64 or float32, got {input!r}"))
    description = description_field()
    # language networks (all three together)
    vocabulary = fields.List(StrictString(), load_default=None)
    embeddings = Matrix(load_default=None)
    context_size = Integer(load_default=None)
    punctuation = StrictString(load_default=None, validate=validate.OneOf(["keep", "drop"], error="expected keep or drop, got {input!r}"))

    @post_load
    def _default_biases(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        import numpy as np

        for layer in data["layers"]:
            if layer["biases"] is None:
                layer["biases"] = np.zeros(layer["weights"].shape[0])
        return data


class EvaluateSchema(StrictSchema):
    inputs = Inputs(required=True)


MAX_INTERVENTIONS = 1000


class InterventionSchema(StrictSchema):
    """One neuron's activation replaced (set) or multiplied (scale) before the next layer reads it."""

    layer = Integer(required=True)
    index = Integer(required=True)
    set = Number(load_default=None, allow_none=False)  # absent is None; null is refused, as the spec says
    scale = Number(load_default=None, allow_none=False)

    @validates_schema
    def _one_of(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data["set"] is None) == (data["scale"] is None):
            raise ValidationError("expected exactly one of set (a value; 0 ablates) or scale (a factor)", "set")


class InterventionItem(fields.Nested):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ValidationError(f"expected an object {{layer, index, set | scale}}, got {describe(value)}")
        return super()._deserialize(value, attr, data, **kwargs)


def interventions_field() -> fields.Field:
    return ListOf(InterventionItem(InterventionSchema), 0, MAX_INTERVENTIONS, load_default=None, allow_none=False)


class ForwardSchema(StrictSchema):
    inputs = Inputs(required=True)
    trace = StrictBoolean(load_default=False)
    interventions = interventions_field()


class QueryInteger(fields.Integer):
    """A whole number in ASCII digits: int() alone would also take "1_0", " 5", "+5" or "٥"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not (isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ListQuerySchema(StrictSchema):
    class Meta:
        unknown = EXCLUDE  # other query parameters are ignored, as HTTP caches and proxies may add some

    limit = QueryInteger(load_default=50, strict=False, validate=validate.Range(min=1), error_messages={"invalid": "expected a whole number"})
    cursor = fields.String(load_default=None)


class JobListQuerySchema(ListQuerySchema):
    state = fields.String(load_default=None, validate=validate.OneOf(JOB_STATES, error="expected one of {choices}"))
    network = fields.String(load_default=None)


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested {"layers": {1: {"weights": ["..."]}}} -> {"layers[1].weights": ["..."]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix or "body"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
    else:
        items = messages if isinstance(messages, list) else [messages]
        flat[prefix or "body"] = [_reword(str(m)) for m in items]
    return flat


def _reword(message: str) -> str:
    if message == "Unknown field.":
        return "unknown field"
    if message == "Invalid input type.":
        return "expected a JSON object"
    return message


class PredictSchema(StrictSchema):
    context = StrictString(required=True, validate=validate.Length(max=100_000, error="expected at most 100000 characters"))
    top_k = Integer(load_default=5)
    temperature = Number(load_default=1.0)
    interventions = interventions_field()


class GenerateSchema(StrictSchema):
    prompt = StrictString(load_default="", validate=validate.Length(max=100_000, error="expected at most 100000 characters"))
    max_words = Integer(load_default=20)
    temperature = Number(load_default=1.0)
    top_k = Integer(load_default=None, allow_none=True)
    top_p = Number(load_default=None, allow_none=True)
    seed = Integer(load_default=None, allow_none=True)
    interventions = interventions_field()


class ScoreSchema(StrictSchema):
    text = StrictString(required=True)
    interventions = interventions_field()


class NeuronQuerySchema(StrictSchema):
    class Meta:
        unknown = EXCLUDE  # as ListQuerySchema: caches and proxies may add query parameters

    k = QueryInteger(load_default=10, strict=False, error_messages={"invalid": "expected a whole number"})


class ExamplesSchema(StrictSchema):
    text = StrictString(required=True)
    k = Integer(load_default=10)


class ExplainSchema(StrictSchema):
    """A language network: context (and target); a plain network: inputs and output."""

    context = StrictString(load_default=None, allow_none=False, validate=validate.Length(max=100_000, error="expected at most 100000 characters"))
    target = StrictString(load_default=None, allow_none=True)
    inputs = Inputs(load_default=None, allow_none=False)
    output = Integer(load_default=None, allow_none=False)
    k = Integer(load_default=10)


class TokenizeSchema(StrictSchema):
    text = StrictString(load_default=None)
    ids = fields.List(Integer(), load_default=None)

    @validates_schema
    def _one_of(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data["text"] is None) == (data["ids"] is None):
            raise ValidationError("expected exactly one of text (to encode) or ids (to decode)", "text")


class _Settings(StrictSchema):
    error_messages = {"unknown": f"unknown setting; expected some of {', '.join(sorted(TRAINING_SETTING_NAMES))}"}


def _training_settings_fields() -> dict[str, fields.Field]:
    whole = {name: WholeNumberIn(low, high) for name, (low, high) in WHOLE_NUMBER_SETTINGS.items()}
    numbers = {name: NumberIn(interval) for name, interval in NUMBER_SETTINGS.items()}
    return whole | numbers | {
        "steps": WholeNumberIn(*WHOLE_NUMBER_SETTINGS["steps"], allow_none=True),
        "hidden_sizes": ListOf(WholeNumberIn(*HIDDEN_SIZE_RANGE), 0, MAX_HIDDEN_LAYERS),
        "betas": ListOf(NumberIn(BETA_RANGE), 2, 2),
        "activation": Choice(ACTIVATION_NAMES),
        "punctuation": Choice(PUNCTUATION_SETTINGS),
        "dtype": Choice(sorted(DTYPES)),
    }


# Every setting's type and range, so that every wrong one is reported in one answer. Only the settings
# sent come out: the engine fills in the defaults and checks the network as a whole.
TrainingSettingsSchema = _Settings.from_dict(_training_settings_fields(), name="TrainingSettingsSchema")


class TrainSchema(StrictSchema):
    text = StrictString(load_default=None)
    texts = fields.List(StrictString(), load_default=None)
    settings = fields.Nested(TrainingSettingsSchema, load_default=dict,
                             error_messages={"null": "expected a JSON object, got null"})
    description = description_field()

    @validates_schema(skip_on_field_errors=False)  # reported together with wrong settings, not after them
    def _one_of(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "text" not in data or "texts" not in data:
            return  # one of them is wrong, and its own error says how
        if (data["text"] is None) == (data["texts"] is None):
            raise ValidationError("expected exactly one of text (one document) or texts (a list of documents)", "text")
