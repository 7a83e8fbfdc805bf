"""What the views share for the app they run in: the store, the compiled cache, the config."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..catalog import CompiledCache
from ..config import Config
from ..store import Store


@dataclass(frozen=True)
class Services:
    config: Config
    store: Store
    cache: CompiledCache


def services() -> Services:
    return current_app.extensions["neuronhub"]
