"""All configuration, read from NEURONHUB_* environment variables in this one place.

Every setting has a default; README.md has the table. `Config.from_env()` is what `create_app()`
uses when no config is passed; tests build `Config(...)` directly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Mapping

PREFIX = "NEURONHUB_"


@dataclass(frozen=True)
class Config:
    database_url: str = field(default="sqlite:///data/neuronhub.db", metadata={"doc": "SQLAlchemy URL: sqlite:///path or postgresql://user:pass@host/db"})
    seed_demo: bool = field(default=True, metadata={"doc": "add the demo neurons and networks when the store is empty"})
    max_body_bytes: int = field(default=32 * 1024 * 1024, metadata={"doc": "largest request body in bytes (413 above)"})
    max_batch_rows: int = field(default=4096, metadata={"doc": "most input vectors in one evaluate/forward request"})
    max_layers: int = field(default=64, metadata={"doc": "most layers in a network"})
    max_parameters: int = field(default=5_000_000, metadata={"doc": "most weights + biases (+ embeddings) in one definition"})
    max_page_size: int = field(default=500, metadata={"doc": "largest `limit` for list endpoints"})
    cache_size: int = field(default=128, metadata={"doc": "compiled definitions kept per worker process"})
    log_level: str = field(default="INFO", metadata={"doc": "Python logging level"})
    # gunicorn (read by gunicorn.conf.py)
    bind: str = field(default="127.0.0.1:8000", metadata={"doc": "address gunicorn listens on (0.0.0.0:8000 in the container)"})
    workers: int = field(default=0, metadata={"doc": "gunicorn worker processes; 0 means one per CPU core"})
    threads: int = field(default=1, metadata={"doc": "threads per worker (numpy work is CPU-bound: keep 1)"})
    worker_timeout: int = field(default=60, metadata={"doc": "seconds before gunicorn restarts a silent worker"})
    blas_threads: int = field(default=1, metadata={"doc": "BLAS threads per worker (1 with one worker per core)"})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.name, raw, type(f.default))
        return cls(**values)


def _parse(name: str, raw: str, kind: type) -> object:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{PREFIX}{name.upper()}: expected true or false, got {raw!r}")
    if kind is int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{PREFIX}{name.upper()}: expected an integer, got {raw!r}") from None
        if value < 0:
            raise ValueError(f"{PREFIX}{name.upper()}: expected a whole number >= 0, got {value}")
        return value
    return raw


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) rows, for the README table and its test."""
    return [(PREFIX + f.name.upper(), str(f.default), f.metadata["doc"]) for f in fields(Config)]
