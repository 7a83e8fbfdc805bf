"""openapi.yaml as a checker of HTTP responses: is this status documented, this body, these headers?

Used by the API tests (every response their `client` gets is checked) and by the contract tests.
A response to a request that matches no operation must be the documented answer for that case:
404 `NoSuchPath` for an unknown path, 405 `MethodNotAllowed` for a known path and another method.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_DOCUMENT_URI = "urn:neuronhub:openapi"


class ContractViolation(AssertionError):
    """A response that openapi.yaml does not describe."""


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # the template, e.g. /v1/neurons/{name}
    pointer: str  # JSON pointer of the operation object in the document
    spec: Mapping[str, Any]

    @property
    def operation_id(self) -> str:
        return self.spec["operationId"]

    @property
    def idempotent(self) -> bool:
        return self.method in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"} or self.spec.get("x-idempotent") is True


@dataclass(frozen=True)
class Response:
    """What a client received; `path` is the request path without the query, percent-decoded."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]  # keys in any case
    body: bytes


def load_document(path: Path = SPEC_PATH) -> dict[str, Any]:
    return yaml.load(path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + r"\Z")


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(_DOCUMENT_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}

    @classmethod
    def from_file(cls, path: Path = SPEC_PATH) -> "Contract":
        return cls(load_document(path))

    # --- what the document declares ----------------------------------------------------------

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        found = []
        for template, item in self.document["paths"].items():
            for method in HTTP_METHODS:
                if method in item:
                    pointer = f"/paths/{_escape(template)}/{method}"
                    found.append(Operation(method.upper(), template, pointer, item[method]))
        return tuple(found)

    def operation(self, operation_id: str) -> Operation:
        return next(op for op in self.operations if op.operation_id == operation_id)

    def resolve(self, pointer: str) -> tuple[str, Any]:
        """Follow `$ref`s from the node at `pointer`; return the final node and its pointer."""
        node = self._at(pointer)
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self._at(pointer)
        return pointer, node

    def _at(self, pointer: str) -> Any:
        node: Any = self.document
        for token in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def validation_errors(self, schema_pointer: str, instance: Any) -> list[str]:
        """Messages for each way `instance` breaks the schema at `schema_pointer` (empty when valid)."""
        validator = self._validators.get(schema_pointer)
        if validator is None:
            validator = Draft202012Validator(
                {"$ref": f"{_DOCUMENT_URI}#{schema_pointer}"},
                registry=self._registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
            self._validators[schema_pointer] = validator
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(instance)]

    # --- checking responses ------------------------------------------------------------------

    def check(self, response: Response) -> None:
        """Raise ContractViolation unless openapi.yaml documents this response to this request."""
        problems = list(self._problems(response))
        if problems:
            shown = response.body[:500].decode("utf-8", "replace")
            raise ContractViolation(
                f"{response.method} {response.path} -> {response.status} breaks openapi.yaml:\n  "
                + "\n  ".join(problems)
                + f"\n  body: {shown}"
            )

    def _problems(self, response: Response) -> Iterator[str]:
        method = response.method.upper()
        if method in {"HEAD", "OPTIONS"}:
            return  # answered by the framework for every path; not operations of this API
        candidates = [op for op in self.operations if _template_regex(op.path).match(response.path)]
        exact = [op for op in candidates if op.method == method]
        if exact:
            responses_pointer = f"{exact[0].pointer}/responses"
        elif candidates:
            responses_pointer = "/components/responses/MethodNotAllowed"
        else:
            responses_pointer = "/components/responses/NoSuchPath"
        yield from self._response_problems(responses_pointer, response, operation_matched=bool(exact))

    def _response_problems(self, pointer: str, response: Response, operation_matched: bool) -> Iterator[str]:
        if operation_matched:
            documented = self._at(pointer)
            key = next((k for k in (str(response.status), f"{response.status // 100}XX", "default") if k in documented), None)
            if key is None:
                yield f"status {response.status} is not documented (documented: {', '.join(documented)})"
                return
            pointer = f"{pointer}/{key}"
        else:
            expected = 405 if pointer.endswith("MethodNotAllowed") else 404
            if response.status != expected:
                yield (f"openapi.yaml has no operation {response.method.upper()} for this path, so the only documented "
                       f"answer is {expected} ({pointer}); got {response.status}. A new route needs its operation in "
                       "openapi.yaml (and a method in the SDK, sdk/src/neuronhub/_operations.py)")
                return
        pointer, spec = self.resolve(pointer)
        yield from self._header_problems(pointer, spec, response.headers)
        yield from self._body_problems(pointer, spec, response)

    def _header_problems(self, pointer: str, spec: Mapping[str, Any], headers: Mapping[str, str]) -> Iterator[str]:
        received = {k.lower(): v for k, v in headers.items()}
        for name in spec.get("headers", {}):
            header_pointer, header = self.resolve(f"{pointer}/headers/{_escape(name)}")
            value = received.get(name.lower())
            if value is None:
                if header.get("required"):
                    yield f"required header {name} is missing"
                continue
            schema_pointer, schema = self.resolve(f"{header_pointer}/schema")
            if schema.get("type") == "integer":
                if not re.fullmatch(r"[0-9]+", value):
                    yield f"header {name}: expected an integer, got {value!r}"
                    continue
                instance: Any = int(value)
            else:
                instance = value
            for message in self.validation_errors(schema_pointer, instance):
                yield f"header {name}: {message}"

    def _body_problems(self, pointer: str, spec: Mapping[str, Any], response: Response) -> Iterator[str]:
        content = spec.get("content")
        received_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
        media_type = received_type.split(";")[0].strip().lower()
        if not content:
            if response.body:
                yield f"expected no body, got {len(response.body)} bytes of {received_type or 'unknown type'}"
            return
        if media_type not in content:
            yield f"Content-Type {received_type!r} is not documented (documented: {', '.join(content)})"
            return
        schema_pointer = f"{pointer}/content/{_escape(media_type)}/schema"
        if media_type == "application/json" or media_type.endswith("+json"):
            try:
                instance = json.loads(response.body)
            except ValueError as exc:
                yield f"body is not JSON: {exc}"
                return
        elif media_type == "text/event-stream":  # the schema describes one event, as an event parser reads it
            try:
                events = server_sent_events(response.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                yield f"body is not a stream of server-sent events: {exc}"
                return
            for number, event in enumerate(events):
                for message in self.validation_errors(self.resolve(schema_pointer)[0], event):
                    yield f"event {number}: {message}"
            return
        elif media_type == "application/yaml":
            try:
                instance = yaml.safe_load(response.body)
            except yaml.YAMLError as exc:
                yield f"body is not YAML: {exc}"
                return
        elif self.resolve(schema_pointer)[1].get("format") == "binary":
            return  # bytes (an ONNX model, binary tensors): the media type is all the schema says
        else:
            try:
                instance = response.body.decode("utf-8")
            except UnicodeDecodeError:
                yield "body is not UTF-8 text"
                return
        for message in self.validation_errors(self.resolve(schema_pointer)[0], instance):
            yield f"body {message}"


def server_sent_events(text: str) -> list[dict[str, str]]:
    """The events of a text/event-stream body: {"data": ..., and "event"/"id" when sent}, one per blank-line-ended block."""
    if text and not text.endswith("\n\n"):
        raise ValueError("the stream does not end with a blank line")
    events = []
    for block in filter(None, text.split("\n\n")):
        event: dict[str, str] = {}
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            if field not in ("data", "event", "id", "retry"):
                raise ValueError(f"unknown field in line {line[:80]!r}")
            value = value.removeprefix(" ")
            event[field] = event[field] + "\n" + value if field == "data" and "data" in event else value
        events.append(event)
    return events


class ContractCheckingClient(FlaskClient):
    """A Flask test client that fails the test on any response openapi.yaml does not document."""

    contract: Contract

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        self.contract.check(Response(response.request.method, response.request.path, response.status_code,
                                     dict(response.headers), response.get_data()))
        return response


def checking_client(app: Any, contract: Contract) -> ContractCheckingClient:
    app.test_client_class = type("Checking", (ContractCheckingClient,), {"contract": contract})
    return app.test_client()
