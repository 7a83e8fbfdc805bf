"""CRUD for named definitions, the same for neurons and networks."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlencode

import numpy as np
from flask import Blueprint, Response, request, url_for

from .. import catalog
from ..engine.errors import EngineError
from ..engine.network import Network
from ..onnx.read import MalformedOnnx, OnnxImportError, read_network
from ..store import NotFound, PreconditionFailed, Record, RecordSummary, StoreUnavailable
from .context import services
from .problems import Problem, validation_problem
from .requests import ONNX, checked_name, etag, expected_revision, json_body, limit_problem, precondition_failed, raw_body
from .responses import json_response
from .schemas import ListQuerySchema, NetworkSchema, NeuronSchema, StrictSchema


@dataclass(frozen=True)
class Kind:
    name: str
    plural: str
    schema: StrictSchema
    to_record: Callable[[dict[str, Any]], tuple[dict[str, Any], list[np.ndarray]]]
    resource: Callable[[Record], dict[str, Any]]
    summary: Callable[[RecordSummary], dict[str, Any]]
    parameters_field: str  # the field a 422 for too many parameters names


NEURONS = Kind(catalog.NEURON, "neurons", NeuronSchema(), catalog.neuron_to_record, catalog.neuron_resource, catalog.neuron_summary, "weights")
NETWORKS = Kind(catalog.NETWORK, "networks", NetworkSchema(), catalog.network_to_record, catalog.network_resource, catalog.network_summary, "layers")

_LIST_QUERY = ListQuerySchema()

bp = Blueprint("definitions", __name__, url_prefix="/v1")


NAMES_IN_NOT_FOUND = 5


def not_found(kind: Kind, name: str) -> Problem:
    """404 for a missing definition, naming what exists (the first few by name) so a typo shows."""
    detail = f"no {kind.name} named {name!r}"
    try:
        names = [summary.name for summary in services().store.list(kind.name, NAMES_IN_NOT_FOUND + 1)]
    except StoreUnavailable:  # the 404 stands; the list is a courtesy
        names = None
    if names == []:
        detail += f" (no {kind.name} is stored yet)"
    elif names and len(names) <= NAMES_IN_NOT_FOUND:
        detail += f"; stored {kind.plural}: {', '.join(names)}"
    elif names:
        detail += f"; stored {kind.plural} include {', '.join(names[:NAMES_IN_NOT_FOUND])} (GET /v1/{kind.plural} lists them all)"
    return Problem(404, "not-found", "Not Found", detail)


def _list(kind: Kind) -> Response:
    config = services().config
    query = _LIST_QUERY.load_or_problem(request.args.to_dict())
    if query["limit"] > config.max_page_size:
        raise limit_problem("limit", "NEURONHUB_MAX_PAGE_SIZE", config.max_page_size, query["limit"], "items per page")
    after = _decode_cursor(query["cursor"]) if query["cursor"] else None
    rows = services().store.list(kind.name, limit=query["limit"] + 1, after=after)
    page, more = rows[: query["limit"]], len(rows) > query["limit"]
    body: dict[str, Any] = {"items": [kind.summary(r) for r in page], "next_cursor": None}
    headers = {}
    if more:
        body["next_cursor"] = _encode_cursor(page[-1].name)
        link = url_for(f"definitions.list_{kind.plural}") + "?" + urlencode({"limit": query["limit"], "cursor": body["next_cursor"]})
        headers["Link"] = f'<{link}>; rel="next"'
    return json_response(body, headers=headers)


def _get(kind: Kind, name: str) -> Response:
    record = services().store.get(kind.name, checked_name(name))
    if record is None:
        raise not_found(kind, name)
    tag = etag(record.revision)
    if request.if_none_match and request.if_none_match.contains(str(record.revision)):
        return Response(status=304, headers={"ETag": tag})
    return json_response(kind.resource(record), headers={"ETag": tag})


def _put(kind: Kind, name: str) -> Response:
    checked_name(name)
    config = services().config
    if kind is NETWORKS and request.mimetype == ONNX:
        layers, record = _onnx_record()
    else:
        data = kind.schema.load_or_problem(json_body(ONNX) if kind is NETWORKS else json_body())
        layers = len(data["layers"]) if kind is NETWORKS else 0
        record = lambda: kind.to_record(data)  # noqa: E731
    if layers > config.max_layers:
        raise limit_problem("layers", "NEURONHUB_MAX_LAYERS", config.max_layers, layers, "layers")
    try:
        spec, arrays = record()
    except EngineError as exc:
        raise validation_problem({exc.field: [exc.message]}) from None
    parameters = sum(a.size for a in arrays)
    if parameters > config.max_parameters:
        raise limit_problem(kind.parameters_field, "NEURONHUB_MAX_PARAMETERS", config.max_parameters, parameters, "parameters")
    store = services().store
    required, create_only = expected_revision(lambda: store.current_revision(kind.name, name))
    try:
        record, created = store.put(kind.name, name, spec, arrays, if_match=required, create_only=create_only)
    except PreconditionFailed as exc:
        raise precondition_failed("the definition changed while this write was made; read it again", exc.current_revision) from None
    headers = {"ETag": etag(record.revision)}
    if created:
        headers["Location"] = url_for(f"definitions.get_{kind.name}", name=name)
    return json_response(kind.resource(record), status=201 if created else 200, headers=headers)


def _onnx_record() -> tuple[int, Callable[[], tuple[dict[str, Any], list[np.ndarray]]]]:
    """(layer count, a call that compiles and returns (spec, arrays)) from an application/onnx body."""
    try:
        imported = read_network(raw_body())
    except MalformedOnnx as exc:
        raise Problem(400, "malformed-onnx", "Malformed ONNX", str(exc)) from None
    except OnnxImportError as exc:
        raise validation_problem({exc.field: [exc.message]}) from None
    return len(imported.layers), lambda: catalog.compiled_network_record(Network(imported.layers, imported.dtype), None, imported.description)


def _delete(kind: Kind, name: str) -> Response:
    store = services().store
    checked_name(name)
    required, _ = expected_revision(lambda: store.current_revision(kind.name, name))
    try:
        store.delete(kind.name, name, if_match=required)
    except NotFound:
        raise not_found(kind, name) from None
    except PreconditionFailed as exc:
        raise precondition_failed("the definition changed while this delete was made; read it again", exc.current_revision) from None
    return Response(status=204)


def _encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        name = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode("ascii")
        return checked_name(name)
    except (binascii.Error, UnicodeDecodeError, ValueError, Problem):
        raise validation_problem({"cursor": [f"expected a cursor from a previous page's next_cursor, got {cursor!r}"]}) from None


def _register(kind: Kind) -> None:
    base, item = f"/{kind.plural}", f"/{kind.plural}/<name>"
    bp.add_url_rule(base, f"list_{kind.plural}", lambda: _list(kind), methods=["GET"])
    bp.add_url_rule(item, f"get_{kind.name}", lambda name: _get(kind, name), methods=["GET"])
    bp.add_url_rule(item, f"put_{kind.name}", lambda name: _put(kind, name), methods=["PUT"])
    bp.add_url_rule(item, f"delete_{kind.name}", lambda name: _delete(kind, name), methods=["DELETE"])


_register(NEURONS)
_register(NETWORKS)
