"""The OpenAI-compatible routes as a user meets them: the real `openai` client against a real gunicorn
serving the demo store (its language model included), on SQLite and on PostgreSQL, with API keys on."""
from __future__ import annotations

from typing import Iterator

import openai
import pytest
import requests

from tests.support.gunicorn import Server
from tests.support.postgres import fresh_database

ADMIN, READ = "admin-key", "read-key"
MODEL = "neuron-language-model"  # the demo's language network


class Live:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.url = server.url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {READ}"

    def client(self, key: str = READ) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0, timeout=60)

    def native(self, route: str, body: dict) -> dict:
        """A native language route of MODEL: POST /v1/networks/MODEL/<route>."""
        response = self.http.post(f"{self.url}/v1/networks/{MODEL}/{route}", json=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def store(self, name: str, definition: dict) -> None:
        response = requests.put(f"{self.url}/v1/networks/{name}", json=definition, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60)
        assert response.status_code in (200, 201), response.text


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    env = {"NEURONHUB_SEED_DEMO": "true", "NEURONHUB_WORKERS": "2", "NEURONHUB_ADMIN_KEYS": ADMIN, "NEURONHUB_READ_KEYS": READ,
           "NEURONHUB_REQUIRE_READ_KEY": "true", "NEURONHUB_MAX_BODY_BYTES": "200000"}
    directory = tmp_path_factory.mktemp("openai")
    if request.param == "sqlite":
        server = Server({**env, "NEURONHUB_DATABASE_URL": f"sqlite:///{directory / 'openai.db'}"}, directory / "gunicorn.log")
        try:
            yield Live(server)
        finally:
            server.stop()
    else:
        with fresh_database(request.getfixturevalue("postgres_url")) as url:
            server = Server({**env, "NEURONHUB_DATABASE_URL": url}, directory / "gunicorn.log")
            try:
                yield Live(server)
            finally:
                server.stop()
