"""The explorer: one HTML page with its own CSS and JavaScript (static/), served from the package.

GET / answers the page; GET /explorer/<file> its files. The page talks to the public API only. The
page carries a small JSON document the script reads at start (never executed): whether reads need
an API key, and the training jobs still running, so that a network that is still being trained (the
demo model on a first start) is shown with its job's progress and appears when the job is done,
instead of the page polling a network that does not exist yet.
"""
from __future__ import annotations

import functools
from pathlib import Path

import orjson
from flask import Blueprint, Response, send_from_directory

from ..api.context import services
from ..api.problems import Problem

STATIC = Path(__file__).resolve().parent / "static"
FILES = ("explorer.css", "explorer.js", "favicon.svg")
BOOTSTRAP_MARK = "{{bootstrap}}"
TRAINING_SHOWN = 20
# Everything from this origin, nothing inline but the (inert) JSON block, no frames, no plugins.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

bp = Blueprint("explorer", __name__)


@functools.cache
def _page_template() -> str:
    return (STATIC / "index.html").read_text(encoding="utf-8")


def bootstrap() -> dict:
    """What the page needs to know before its first request."""
    config = services().config
    keys = "required" if config.require_read_key else ("writes" if config.auth_enabled else "off")
    jobs = services().store.active_jobs("train", TRAINING_SHOWN)
    return {"keys": keys, "training": [{"network": job.target, "job": job.id} for job in jobs]}


@bp.get("/")
def explorer_page() -> Response:
    # "<" escaped: the JSON can never close its <script> element, whatever a network is called
    data = orjson.dumps(bootstrap()).decode().replace("<", "\\u003c")
    page = _page_template().replace(BOOTSTRAP_MARK, data)
    response = Response(page, mimetype="text/html")
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.get("/explorer/<file>")
def explorer_file(file: str) -> Response:
    if file not in FILES:
        raise Problem(404, "not-found", "Not Found", f"the explorer has no file {file!r}; it has {', '.join(FILES)}")
    response = send_from_directory(STATIC, file, max_age=0)
    response.headers.update({k: v for k, v in SECURITY_HEADERS.items() if k != "Cache-Control"})
    return response
