"""The API's OpenAPI document, served as committed (GET /openapi.yaml) and as JSON (GET /openapi.json).

The one source of truth is openapi.yaml at the repository root. It is read relative to this package,
which finds it in a source checkout and in an editable install (`pip install -e .`, what
scripts/serve and scripts/test do). The file is read and converted once per process, when the first
app registers this blueprint, so a missing or broken file stops the service at start-up with a clear
error instead of failing requests later.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml
from flask import Blueprint, Response, current_app
from flask.blueprints import BlueprintSetupState

from .jsonio import dumps

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
EXTENSION = "neuronhub.openapi"


class OpenAPIDocumentMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class OpenAPIDocument:
    yaml: bytes  # the file exactly as committed
    json: bytes  # the same document as JSON


@functools.cache
def load_document(path: Path = DOCUMENT_PATH) -> OpenAPIDocument:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise OpenAPIDocumentMissing(
            f"the OpenAPI document is missing: expected it at {path}. Neuronhub serves the openapi.yaml "
            "at the root of its repository, so run it from a source checkout or an editable install "
            "(pip install -e .)"
        ) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return OpenAPIDocument(yaml=raw, json=dumps(yaml.load(raw, Loader=loader)))


bp = Blueprint("spec", __name__)


@bp.record_once
def _load_at_registration(state: BlueprintSetupState) -> None:
    state.app.extensions[EXTENSION] = load_document()


def _document() -> OpenAPIDocument:
    return current_app.extensions[EXTENSION]


@bp.get("/openapi.yaml")
def openapi_yaml() -> Response:
    return Response(_document().yaml, mimetype="application/yaml")


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return Response(_document().json, mimetype="application/json")
