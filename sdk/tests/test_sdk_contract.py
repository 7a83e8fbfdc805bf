"""The SDK and openapi.yaml agree: one SDK method for every operationId, and no request to anything else.

Adding an operation: its entry in openapi.yaml (with examples), one line in neuronhub/_operations.py
and the method. These tests then check the new method by themselves: it must send the documented
method to the documented path with a body the request schema accepts, and read the documented
example answer.
"""
from __future__ import annotations

import inspect
import json
import re
import typing
from typing import Any, Callable

import pytest
import responses
from sdk_samples import BASE

from neuronhub import OPERATIONS, Client, LayerDefinition, NetworkDefinition, NeuronDefinition, Operation
from tests.contract.openapi_contract import Contract

CONTRACT = Contract.from_file()
# Operations of other protocols have those protocols' own clients, which are their SDKs: the OpenAI-compatible
# ones are for the `openai` package (tests/openai/ drives every one of them with it), the Open Inference Protocol's
# for `tritonclient` (tests/oip/). The typed client wraps
# the native API only.
OTHER_PROTOCOL_TAGS = {"OpenAI-compatible", "open-inference-protocol"}
# The explorer page and its files are for browsers, not for programs: no SDK method either.
FOR_BROWSERS = {"getExplorer", "getExplorerFile"}
SPEC = {op.operation_id: op for op in CONTRACT.operations
        if not OTHER_PROTOCOL_TAGS & set(op.spec.get("tags", ())) and op.operation_id not in FOR_BROWSERS}
SDK = {op.operation_id: op for op in OPERATIONS}
NOT_OPERATIONS = {"close"}  # public methods of Client that send nothing

# Arguments for calling any SDK method: by parameter name, or by the parameter's type.
SAMPLE_BY_NAME: dict[str, object] = {"name": "xor", "inputs": [[0, 1], [1, 1]], "job_id": "add91033ce104011b24bfc9f853bc6e2"}
# Optional arguments some methods need one of (e.g. text or ids).
SAMPLE_OPTIONS: dict[str, dict[str, object]] = {
    "networks.tokenize": {"text": "A b, zebra"},
    "networks.train": {"texts": ["The neuron adds the weighted inputs."] * 4, "settings": {"steps": 10}},
    "explain": {"context": "b a", "target": "b"},
}
SAMPLE_BY_TYPE: dict[object, object] = {
    str: "xor", int: 1, float: 0.5, bytes: b"\x08\x08 an ONNX model",
    NeuronDefinition: NeuronDefinition([0.5, -1.0, 0.25], "relu", bias=0.5),
    NetworkDefinition: NetworkDefinition([LayerDefinition([[1, 1], [1, 1]], "relu", biases=[0, -1]), LayerDefinition([[1, -2]], "identity")]),
}


def sdk_method(client: Client, dotted: str) -> Callable[..., Any]:
    target: Any = client
    for part in dotted.split("."):
        target = getattr(target, part)
    assert callable(target), dotted
    return typing.cast(Callable[..., Any], target)


def public_methods(client: Client) -> set[str]:
    found = {n for n, v in inspect.getmembers(client, inspect.ismethod) if not n.startswith("_")}
    for group in ("neurons", "networks", "jobs"):
        found |= {f"{group}.{n}" for n, v in inspect.getmembers(getattr(client, group), inspect.ismethod) if not n.startswith("_")}
    return found


def test_only_protocol_operations_and_the_explorer_page_are_left_out() -> None:
    left_out = {op.operation_id for op in CONTRACT.operations} - set(SPEC)
    assert left_out == {"listModels", "retrieveModel", "createCompletion", "createChatCompletion",
                        "oipServerMetadata", "oipServerLive", "oipServerReady", "oipModelMetadata", "oipModelVersionMetadata",
                        "oipModelReady", "oipModelVersionReady", "oipModelConfig", "oipModelVersionConfig", "oipInfer",
                        "oipInferVersion", "oipRepositoryIndex"} | FOR_BROWSERS


def test_every_operation_in_the_spec_has_an_sdk_operation_and_back() -> None:
    assert set(SPEC) - set(SDK) == set(), "operations without an SDK method: add them to neuronhub/_operations.py"
    assert set(SDK) - set(SPEC) == set(), "SDK operations openapi.yaml does not have"


@pytest.mark.parametrize("operation_id", sorted(SDK))
def test_method_path_and_retry_safety_match_the_spec(operation_id: str) -> None:
    sdk, spec = SDK[operation_id], SPEC[operation_id]
    assert (sdk.method, sdk.path) == (spec.method, spec.path)
    assert sdk.idempotent == spec.idempotent, "x-idempotent in openapi.yaml and in _operations.py disagree"


def test_every_public_method_is_an_operation() -> None:
    with Client(BASE) as client:
        mapped = {method for op in OPERATIONS for method in op.sdk_methods}
        assert public_methods(client) - NOT_OPERATIONS == mapped


def concrete(hint: object, owner: object) -> object:
    """A type variable of a generic base class (e.g. Definitions' `Definition`) -> the subclass's argument."""
    if isinstance(hint, typing.TypeVar):
        for base in getattr(type(owner), "__orig_bases__", ()):
            parameters = getattr(typing.get_origin(base), "__parameters__", ())
            if hint in parameters:
                return typing.get_args(base)[parameters.index(hint)]
    return hint


def arguments(method: Callable[..., Any]) -> list[object]:
    hints = {name: concrete(hint, getattr(method, "__self__", None)) for name, hint in typing.get_type_hints(method).items()}
    values = []
    for parameter in inspect.signature(method).parameters.values():
        if parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.name in SAMPLE_BY_NAME:
            values.append(SAMPLE_BY_NAME[parameter.name])
        elif hints.get(parameter.name) in SAMPLE_BY_TYPE:
            values.append(SAMPLE_BY_TYPE[hints[parameter.name]])
        else:
            pytest.fail(f"no sample argument for {parameter.name}: {hints.get(parameter.name)}; add one to SAMPLE_BY_NAME or SAMPLE_BY_TYPE")
    return values


def documented_success(operation_id: str) -> tuple[int, str | None, bytes]:
    """The first 2xx answer openapi.yaml documents, with its example."""
    op = SPEC[operation_id]
    status = min(s for s in op.spec["responses"] if s.startswith("2"))
    _, response = CONTRACT.resolve(f"{op.pointer}/responses/{status}")
    if not response.get("content"):
        return int(status), None, b""
    media_type, content = next(iter(response["content"].items()))
    if "example" in content:
        example = content["example"]
    else:
        first = next(iter(content["examples"].values()))
        example = (CONTRACT.resolve(first["$ref"].removeprefix("#"))[1] if "$ref" in first else first)["value"]
    if media_type == "text/event-stream":  # the example is one event, as an event parser reads it: sent as that event
        return int(status), media_type, "".join(f"{field}: {value}\n" for field, value in example.items()).encode() + b"\n"
    return int(status), media_type, json.dumps(example).encode()


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.operation_id)
def test_each_sdk_method_sends_the_documented_request_and_reads_the_documented_answer(operation: Operation) -> None:
    spec = SPEC[operation.operation_id]
    status, media_type, body = documented_success(operation.operation_id)
    for dotted in operation.sdk_methods:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked, Client(BASE) as client:
            for method in ("GET", "PUT", "POST", "DELETE", "PATCH"):
                mocked.add(method, re.compile(re.escape(BASE) + "/.*"), status=status, body=body,
                           content_type=media_type or "text/plain")
            result = sdk_method(client, dotted)(*arguments(sdk_method(client, dotted)), **SAMPLE_OPTIONS.get(dotted, {}))
            if inspect.isgenerator(result):
                next(result)  # iterators fetch lazily: the first item needs the first page
            assert len(mocked.calls) == 1, f"{dotted} should send one request"
            request = mocked.calls[0].request
            assert request.method == spec.method
            path = (request.path_url or "").split("?")[0]
            template = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(spec.path))
            assert re.fullmatch(template, path), f"{dotted} sent {request.method} {path}, the spec has {spec.method} {spec.path}"
            if "requestBody" in spec.spec:
                body_pointer = CONTRACT.resolve(f"{spec.pointer}/requestBody")[0]
                media_type = request.headers["Content-Type"]
                assert isinstance(request.body, bytes)
                assert media_type in CONTRACT.resolve(body_pointer)[1]["content"], f"{dotted} sent {media_type}, not documented"
                if media_type == "application/json":
                    assert CONTRACT.validation_errors(body_pointer + "/content/application~1json/schema", json.loads(request.body)) == []
