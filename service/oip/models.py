"""What a stored network is to the Open Inference Protocol: its inputs and outputs, its metadata and
config, and an inference through the engine (the same calls, so the same numbers, as the native API).

Plain networks: input `input` (FP32 or FP64, [batch, input_size]) -> `output` ([batch, output_size]),
and on request `trace_{i}`: layer i's activations ([batch, size of layer i]).
Language networks: input `text` (BYTES, [batch], one context per element) or `token_ids` (INT64,
[batch, context_size]) -> `probabilities` and `logits` ([batch, vocabulary_size]); the probabilities
are those of the native predict at temperature 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..catalog import CompiledNetwork
from ..engine.errors import EngineError, NonFiniteResult
from ..engine.language import stable_softmax, top_ids
from .tensors import BYTES, DATATYPE_OF, InferRequest, InputTensor, OutputTensor, ProtocolError, RequestedOutput

PLATFORM = "neuronhub_numpy"
BACKEND = "neuronhub"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str
    shape: tuple[int, ...]  # -1: the batch dimension

    def metadata(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}

    def config(self) -> dict[str, Any]:
        """As Triton's model config writes a tensor: TYPE_ datatype, dims without the batch dimension."""
        datatype = "TYPE_STRING" if self.datatype == BYTES else f"TYPE_{self.datatype}"
        return {"name": self.name, "data_type": datatype, "dims": list(self.shape[1:]) or [1]}


def inputs_of(compiled: CompiledNetwork) -> list[TensorSpec]:
    network, language = compiled.network, compiled.language
    if language is None:
        return [TensorSpec("input", DATATYPE_OF[network.dtype], (-1, network.input_size))]
    return [TensorSpec("text", BYTES, (-1,)), TensorSpec("token_ids", "INT64", (-1, language.context_size))]


def outputs_of(compiled: CompiledNetwork) -> list[TensorSpec]:
    network, language = compiled.network, compiled.language
    datatype = DATATYPE_OF[network.dtype]
    if language is None:
        return [TensorSpec("output", datatype, (-1, network.output_size))] + [
            TensorSpec(f"trace_{i}", datatype, (-1, layer.size)) for i, layer in enumerate(network.layers)
        ]
    size = language.vocabulary_size
    return [TensorSpec("probabilities", datatype, (-1, size)), TensorSpec("logits", datatype, (-1, size))]


# What an infer request that names no outputs gets (not the traces), by "is it a plain network?"
_DEFAULT_REQUESTED = {plain: tuple(RequestedOutput(n, None, 0) for n in names)
                      for plain, names in ((True, ("output",)), (False, ("probabilities", "logits")))}


_OUTPUT_ONLY = frozenset({"output"})  # what a plain network is asked for without traces


def metadata(name: str, revision: int, compiled: CompiledNetwork) -> dict[str, Any]:
    return {
        "name": name,
        "versions": [str(revision)],
        "platform": PLATFORM,
        "inputs": [t.metadata() for t in inputs_of(compiled)],
        "outputs": [t.metadata() for t in outputs_of(compiled)],
    }


def config(name: str, revision: int, spec: dict[str, Any], compiled: CompiledNetwork, max_batch_size: int) -> dict[str, Any]:
    """Triton's model config for this network, and the stored definition (without its numbers, which
    GET /v1/networks/{name} and /v1/networks/{name}/model.onnx give) under `neuronhub`."""
    definition: dict[str, Any] = {
        "revision": revision,
        "dtype": spec["dtype"],
        "description": spec["description"],
        "layers": spec["layers"],
        "parameter_count": spec["parameter_count"],
    }
    if compiled.language is not None:
        language = compiled.language
        definition.update(context_size=language.context_size, embedding_size=language.embedding_size,
                          vocabulary_size=language.vocabulary_size, punctuation=language.punctuation)
    return {
        "name": name,
        "platform": PLATFORM,
        "backend": BACKEND,
        "version_policy": {"latest": {"num_versions": 1}},
        "max_batch_size": max_batch_size,
        "input": [t.config() for t in inputs_of(compiled)],
        "output": [t.config() for t in outputs_of(compiled)],
        "neuronhub": definition,
    }


def infer(compiled: CompiledNetwork, request: InferRequest, max_rows: int) -> list[tuple[OutputTensor, bool]]:
    """The requested outputs as (tensor, send as binary); only those are computed."""
    if request.outputs:
        requested = request.outputs
        for output in requested:
            if not _has_output(compiled, output.name):
                known = sorted(t.name for t in outputs_of(compiled))
                raise ProtocolError(f"unknown output {output.name!r}; this model has outputs {', '.join(known)}")
    else:  # the model's own default outputs: there is nothing to check
        requested = _DEFAULT_REQUESTED[compiled.language is None]
    wanted = {o.name for o in requested}
    try:
        if compiled.language is None:
            values = _plain(compiled, request.inputs, wanted, max_rows)
        else:
            values = _language(compiled, request.inputs, wanted, max_rows)
    except EngineError as exc:
        raise ProtocolError(f"{exc.field}: {exc.message}") from None
    labels = compiled.language.vocabulary.words if compiled.language is not None else None
    answers = []
    for output in requested:
        array = values[output.name]
        if output.classification:
            tensor = OutputTensor(output.name, BYTES, classify(array, output.classification, labels))
        else:
            tensor = OutputTensor(output.name, DATATYPE_OF[compiled.network.dtype], array)
        answers.append((tensor, request.binary_output if output.binary is None else output.binary))
    return answers


def _has_output(compiled: CompiledNetwork, name: str) -> bool:
    """name in outputs_of(compiled), without building the list (this is on every request's path)."""
    if compiled.language is not None:
        return name in ("probabilities", "logits")
    if name == "output":
        return True
    index = name[6:] if name.startswith("trace_") else ""
    return index.isdigit() and index == str(int(index)) and int(index) < len(compiled.network.layers)


def classify(values: np.ndarray, k: int, labels: Any = None) -> np.ndarray:
    """The classification extension: each row's k largest values (at most all of them), largest first,
    ties in index order, as "value:index" or "value:index:label" strings; shape [batch, k]."""
    k = min(k, values.shape[1])
    rows = []
    for row in values:
        ids = top_ids(row, k)
        if labels is None:
            rows.append([f"{row[i]}:{i}" for i in ids])
        else:
            rows.append([f"{row[i]}:{i}:{labels[i]}" for i in ids])
    result = np.empty((values.shape[0], k), dtype=object)
    result[...] = rows if rows else np.empty((0, k), dtype=object)
    return result


def _one_input(inputs: tuple[InputTensor, ...], compiled: CompiledNetwork) -> InputTensor:
    if len(inputs) == 1 and inputs[0].name in (("input",) if compiled.language is None else ("text", "token_ids")):
        return inputs[0]
    expected = inputs_of(compiled)
    names = ", ".join(f"{t.name!r}" for t in expected)
    if len(inputs) != 1:
        raise ProtocolError(f"expected exactly one input ({'one of ' if len(expected) > 1 else ''}{names}), got {len(inputs)}: {', '.join(repr(t.name) for t in inputs)}")
    tensor = inputs[0]
    if tensor.name not in {t.name for t in expected}:
        raise ProtocolError(f"unknown input {tensor.name!r}; expected {'one of ' if len(expected) > 1 else ''}{names}")
    return tensor


def _check_rows(tensor: InputTensor, max_rows: int) -> None:
    if tensor.shape[0] > max_rows:
        raise ProtocolError(f"input {tensor.name!r}: at most {max_rows} rows per request (NEURONHUB_MAX_BATCH_ROWS), got {tensor.shape[0]}")
    if tensor.shape[0] == 0:
        raise ProtocolError(f"input {tensor.name!r}: expected at least one row, got shape {list(tensor.shape)}")


def _plain(compiled: CompiledNetwork, inputs: tuple[InputTensor, ...], wanted: set[str], max_rows: int) -> dict[str, np.ndarray]:
    network = compiled.network
    tensor = inputs[0] if len(inputs) == 1 and inputs[0].name == "input" else _one_input(inputs, compiled)
    if tensor.datatype != "FP64" and tensor.datatype != "FP32":
        raise ProtocolError(f"input 'input': expected datatype FP32 or FP64, got {tensor.datatype}")
    shape = tensor.shape
    if len(shape) != 2 or shape[1] != network.input_size:
        raise ProtocolError(f"input 'input': expected shape [batch, {network.input_size}], got {list(shape)}")
    if not 0 < shape[0] <= max_rows:
        _check_rows(tensor, max_rows)
    x = tensor.data
    try:
        if wanted == _OUTPUT_ONLY:
            return {"output": network.forward(x)}
        trace = network.trace(x)  # some trace_{i} is wanted
    except NonFiniteResult as exc:
        if exc.field == "inputs" and not np.isfinite(x).all():  # binary data (JSON has no NaN or infinity)
            raise ProtocolError("input 'input': expected finite numbers, got NaN or infinity") from None
        raise
    values = {f"trace_{i}": step.activations for i, step in enumerate(trace)}
    values["output"] = trace[-1].activations  # bitwise forward()'s values
    return values


def _language(compiled: CompiledNetwork, inputs: tuple[InputTensor, ...], wanted: set[str], max_rows: int) -> dict[str, np.ndarray]:
    model = compiled.language
    assert model is not None
    tensor = _one_input(inputs, compiled)
    if tensor.name == "text":
        if tensor.datatype != BYTES or len(tensor.shape) != 1:
            raise ProtocolError(f"input 'text': expected datatype BYTES and shape [batch] (one context per element), got {tensor.datatype} {list(tensor.shape)}")
        _check_rows(tensor, max_rows)
        try:
            texts = [value.decode("utf-8") for value in tensor.data]
        except UnicodeDecodeError:
            raise ProtocolError("input 'text': expected UTF-8 text") from None
        ids = np.stack([model.context_ids(text).ids for text in texts])
    else:
        k, size = model.context_size, model.vocabulary_size
        if tensor.datatype != "INT64" or len(tensor.shape) != 2 or tensor.shape[1] != k:
            raise ProtocolError(f"input 'token_ids': expected datatype INT64 and shape [batch, {k}], got {tensor.datatype} {list(tensor.shape)}")
        _check_rows(tensor, max_rows)
        ids = tensor.data
        if ids.min() < 0 or ids.max() >= size:
            bad = int(ids[(ids < 0) | (ids >= size)][0])
            raise ProtocolError(f"input 'token_ids': expected word ids in 0..{size - 1}, got {bad}")
    logits = model.logits(ids)
    values = {"logits": logits}
    if "probabilities" in wanted:
        values["probabilities"] = stable_softmax(logits)[0]  # as predict computes it at temperature 1
    return values
