"""Neuronhub: store named neurons and networks, evaluate them over HTTP.

`create_app` is imported lazily so that `service.config` can be read (by gunicorn.conf.py, in the
master process) without loading Flask, numpy or the database driver before workers fork.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from .config import Config


def create_app(config: "Config | None" = None) -> "Flask":
    from .app import create_app as build

    return build(config)
