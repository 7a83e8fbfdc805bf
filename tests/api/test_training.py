"""Training a language network through the API: a job, then a network that predicts."""
import socket
import time

import pytest

import service.jobs

from .helpers import assert_problem, post_json

TEXT = " ".join(
    ["the neuron adds the weighted inputs .", "the neuron applies the activation .", "a layer holds many neurons ."] * 40
)
SMALL = {"context_size": 2, "embedding_size": 8, "hidden_sizes": [16], "steps": 300, "batch_size": 32, "seed": 3, "min_count": 1}


def finished_job(client, location, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(location).get_json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job did not finish in {timeout} s: {job}")


def test_train_then_predict(client):
    response = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": SMALL, "description": "three sentences"})
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location == f"/v1/jobs/{response.get_json()['id']}"
    assert response.get_json()["state"] in ("queued", "running", "succeeded")
    job = finished_job(client, location)
    assert job["state"] == "succeeded", job
    result = job["result"]
    assert result["network"] == "lm" and result["revision"] == 1 and result["steps"] == 300
    assert job["progress"] == {"step": 300, "total_steps": 300}
    assert result["validation_perplexity"] < result["unigram_perplexity"]
    network = client.get("/v1/networks/lm").get_json()
    assert network["description"] == "three sentences" and network["context_size"] == 2
    top = post_json(client, "/v1/networks/lm/predict", {"context": "the neuron", "top_k": 2}).get_json()["words"]
    assert {w["word"] for w in top} == {"adds", "applies"}


def test_training_is_deterministic(client):
    for name in ("one", "two"):
        location = post_json(client, f"/v1/networks/{name}/train", {"text": TEXT, "settings": SMALL}).headers["Location"]
        assert finished_job(client, location)["state"] == "succeeded"
    one, two = client.get("/v1/networks/one").get_json(), client.get("/v1/networks/two").get_json()
    assert one["layers"] == two["layers"] and one["embeddings"] == two["embeddings"]


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"text": ""}, "texts", "training needs at least"),
        ({"text": "too short"}, "texts", "training needs at least"),
        ({"texts": []}, "texts", "expected a text or a non-empty list of texts"),
        ({"text": TEXT, "settings": {"colour": "red"}}, "settings.colour", "unknown setting"),
        ({"text": TEXT, "settings": {"context_size": 0}}, "settings.context_size", "expected a whole number in 1..16"),
        ({"text": TEXT, "settings": {"learning_rate": "0.1"}}, "settings.learning_rate", "0.1"),
        ({"text": TEXT, "settings": {"embedding_size": 500, "hidden_sizes": [4000], "context_size": 16, "min_count": 1}}, "settings", "at most 5000000"),
        ({"text": TEXT, "texts": [TEXT]}, "text", "exactly one of"),
        ({"settings": SMALL}, "text", "exactly one of"),
    ],
)
def test_bad_training_requests_are_422_and_store_nothing(client, body, field, message):
    assert_problem(post_json(client, "/v1/networks/lm/train", body), 422, field, message)
    assert_problem(client.get("/v1/networks/lm"), 404)


def test_unknown_job_is_404(client):
    assert_problem(client.get("/v1/jobs/0123456789abcdef0123456789abcdef"), 404, contains="no job")


def test_job_of_a_dead_process_is_reported_failed(app, client, monkeypatch):
    store = app.extensions["neuronhub"].store
    job = store.create_job("train", "lm", {}, owner=f"{socket.gethostname()}:999999999")
    store.update_job(job.id, state="running")
    monkeypatch.setattr(service.jobs, "SILENT_LOCAL_SECONDS", 0.0)
    body = client.get(f"/v1/jobs/{job.id}").get_json()
    assert body["state"] == "failed" and body["error"]["title"] == "interrupted"
    assert_problem(client.get("/v1/networks/lm"), 404)
