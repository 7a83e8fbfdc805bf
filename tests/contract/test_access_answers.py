"""Answers of the access controls (API keys, rate limit), which are off by default, are documented too."""

import orjson
import pytest

from service import create_app
from service.config import Config

from .openapi_contract import Contract, checking_client

CONTRACT = Contract.from_file()
NEURON = orjson.dumps({"weights": [1.0], "activation": "relu"})
TINY = orjson.dumps({"vocabulary": ["<pad>", "<unk>", "</s>", "a", "b"], "embeddings": [[0], [0], [0], [1], [2]], "context_size": 1,
                     "layers": [{"weights": [[0], [0], [1], [2], [-1]], "activation": "identity"}]})
TEXT = "the neuron adds the weighted inputs . " * 4


@pytest.fixture
def app(tmp_path):
    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'access.db'}", seed_demo=False, admin_keys="admin-key",
                            read_keys="read-key", require_read_key=True, rate_limit="6/minute"))
    yield app
    app.extensions["neuronhub"].store.dispose()


def test_keys_and_rate_limit_answers_follow_the_document(app):
    client = checking_client(app, CONTRACT)  # fails on any undocumented answer
    admin, read = {"Authorization": "Bearer admin-key"}, {"X-API-Key": "read-key"}
    put = {"data": NEURON, "content_type": "application/json"}
    assert client.get("/v1/neurons").status_code == 401  # reads need a key here
    assert client.get("/v1/neurons", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.put("/v1/neurons/n", headers=read, **put).status_code == 403
    assert client.put("/v1/neurons/n", headers=admin, **put).status_code == 201
    assert client.post("/v1/neurons/n/evaluate", headers=read, json={"inputs": [2.0]}).status_code == 200
    assert client.get("/healthz").status_code == 200 and client.get("/openapi.json").status_code == 200  # never need a key
    statuses = [client.get("/v1/neurons/n", headers=admin).status_code for _ in range(6)]  # the admin key's 2nd to 7th
    assert statuses == [200] * 5 + [429]
    assert int(client.get("/v1/neurons/n", headers=admin).headers["Retry-After"]) >= 1


def test_language_reads_need_a_read_key_and_training_an_admin_key(app):
    client = checking_client(app, CONTRACT)
    admin, read = {"Authorization": "Bearer admin-key"}, {"X-API-Key": "read-key"}
    assert client.put("/v1/networks/tiny", headers=admin, data=TINY, content_type="application/json").status_code == 201
    for route, body in [("predict", {"context": "a"}), ("generate", {"max_words": 2, "seed": 1}), ("score", {"text": "a b"}),
                        ("tokenize", {"ids": [3, 4]})]:
        assert client.post(f"/v1/networks/tiny/{route}", json=body).status_code == 401, route  # reads need a key here
        assert client.post(f"/v1/networks/tiny/{route}", headers=read, json=body).status_code == 200, route  # read-only: a read key will do
    train = {"text": TEXT, "settings": {"steps": 5, "embedding_size": 4, "hidden_sizes": [4], "min_count": 1}}
    assert client.post("/v1/networks/lm/train", headers=read, json=train).status_code == 403  # starts a job: a write
    started = client.post("/v1/networks/lm/train", headers=admin, json=train)
    assert started.status_code == 202
    assert client.get(started.headers["Location"], headers=read).status_code == 200  # the read key's 6th request: its last this minute
    assert app.extensions["neuronhub"].store.get_job(started.get_json()["id"]).state == "queued"  # web processes never train


def test_understanding_a_neuron_is_a_read(app):
    client = checking_client(app, CONTRACT)
    admin, read = {"Authorization": "Bearer admin-key"}, {"X-API-Key": "read-key"}
    tiny_lm = orjson.dumps({"vocabulary": ["<pad>", "<unk>", "</s>", "a", "b"], "embeddings": [[0], [0], [0], [1], [2]], "context_size": 2,
                            "layers": [{"weights": [[1, -1], [0.5, 1]], "biases": [0, -1], "activation": "relu"},
                                       {"weights": [[0, 0], [0, 0], [1, -1], [2, 0.5], [-1, 1]], "activation": "identity"}]})
    assert client.put("/v1/networks/tiny-lm", headers=admin, data=tiny_lm, content_type="application/json").status_code == 201
    assert client.get("/v1/networks/tiny-lm/layers/0/neurons/1").status_code == 401  # reads need a key here
    assert client.get("/v1/networks/tiny-lm/layers/0/neurons/1", headers=read).status_code == 200
    for route, body in [("layers/0/neurons/1/examples", {"text": "a b b a"}), ("explain", {"context": "b a"}),
                        ("predict", {"context": "b a", "interventions": [{"layer": 0, "index": 1, "set": 0}]})]:
        assert client.post(f"/v1/networks/tiny-lm/{route}", json=body).status_code == 401, route
        assert client.post(f"/v1/networks/tiny-lm/{route}", headers=read, json=body).status_code == 200, route  # a read key will do
