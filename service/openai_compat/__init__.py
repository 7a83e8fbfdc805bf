"""The OpenAI-compatible API over the same catalog and engine: language networks are the models.

Base URL http://host:port/v1, so `openai.OpenAI(base_url=".../v1", api_key=KEY)` works; the routes
sit beside the native /v1 ones, and their errors use OpenAI's envelope (errors.py). docs/interop.md
says what is supported and what is not.
"""
from __future__ import annotations

from flask import Flask

from ..api.problems import register_error_renderer
from . import errors, routes


def install(app: Flask) -> None:
    app.register_blueprint(routes.bp)
    register_error_renderer(app, errors.applies, errors.render)
