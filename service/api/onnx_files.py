"""ONNX files of stored networks: GET /v1/networks/{name}/model.onnx (the graph is built by
service/onnx; PUT with Content-Type application/onnx is in definitions.py)."""
from __future__ import annotations

from flask import Blueprint, Response, request

from .. import catalog
from ..onnx.export import export_bytes
from .definitions import NETWORKS
from .evaluation import load_compiled
from .requests import ONNX, etag

bp = Blueprint("onnx_files", __name__, url_prefix="/v1")


@bp.get("/networks/<name>/model.onnx")
def export_onnx(name: str) -> Response:
    revision, compiled = load_compiled(NETWORKS, name, catalog.compile_network)
    tag = etag(revision)
    if request.if_none_match and request.if_none_match.contains(str(revision)):
        return Response(status=304, headers={"ETag": tag})
    return Response(export_bytes(name, revision, compiled), mimetype=ONNX, headers={
        "ETag": tag, "Content-Disposition": f'attachment; filename="{name}.onnx"'})
