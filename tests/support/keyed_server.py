"""A real gunicorn (two workers) on SQLite and on PostgreSQL, with API keys: the server the protocol
and ONNX tests use (their conftest.py files import `server`), plus small definitions for them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import pytest
import requests

from tests.support.gunicorn import Server
from tests.support.postgres import fresh_database

ADMIN_KEY, READ_KEY = "oip-admin-key", "oip-read-key"
MAX_BODY = 8 * 1024 * 1024
MAX_ROWS = 2048


@dataclass
class Running:
    url: str
    port: int

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def put(self, name: str, definition: dict[str, Any]) -> dict[str, Any]:
        response = requests.put(f"{self.url}/v1/networks/{name}", json=definition, headers=admin_headers(), timeout=30)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(self.url + path, json=body, headers=read_headers(), timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


def read_headers() -> dict[str, str]:
    return {"X-API-Key": READ_KEY}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    directory = tmp_path_factory.mktemp("protocols")
    env = {"NEURONHUB_WORKERS": "2", "NEURONHUB_ADMIN_KEYS": ADMIN_KEY, "NEURONHUB_READ_KEYS": READ_KEY,
           "NEURONHUB_REQUIRE_READ_KEY": "true", "NEURONHUB_MAX_BODY_BYTES": str(MAX_BODY),
           "NEURONHUB_MAX_BATCH_ROWS": str(MAX_ROWS)}
    if request.param == "sqlite":
        served = Server({**env, "NEURONHUB_DATABASE_URL": f"sqlite:///{directory / 'oip.db'}"}, directory / "gunicorn.log")
        try:
            yield Running(served.url, served.port)
        finally:
            served.stop()
    else:
        with fresh_database(request.getfixturevalue("postgres_url")) as url:
            served = Server({**env, "NEURONHUB_DATABASE_URL": url}, directory / "gunicorn.log")
            try:
                yield Running(served.url, served.port)
            finally:
                served.stop()


def plain_network(seed: int, sizes: list[int], activations: list[str], dtype: str = "float64") -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    layers = [
        {"weights": rng.normal(size=(n_out, n_in)).tolist(), "biases": rng.normal(size=n_out).tolist(), "activation": a}
        for n_in, n_out, a in zip(sizes, sizes[1:], activations)
    ]
    return {"layers": layers, "dtype": dtype, "description": "a test network"}


VOCABULARY = ["<pad>", "<unk>", "</s>", "the", "cat", "sat", "on", "mat", "dog", "ran", "."]


def language_network(seed: int, dtype: str = "float64", context_size: int = 2, embedding_size: int = 3) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    size = len(VOCABULARY)
    hidden = 6
    return {
        "vocabulary": VOCABULARY,
        "context_size": context_size,
        "embeddings": rng.normal(size=(size, embedding_size)).tolist(),
        "layers": [
            {"weights": rng.normal(size=(hidden, context_size * embedding_size)).tolist(), "biases": rng.normal(size=hidden).tolist(), "activation": "tanh"},
            {"weights": rng.normal(size=(size, hidden)).tolist(), "biases": rng.normal(size=size).tolist(), "activation": "identity"},
        ],
        "dtype": dtype,
        "description": "a test language network",
    }
