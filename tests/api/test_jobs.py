"""Job control and limits through the API: events, budgets, per-client limits, a result that could not be stored."""
import threading
from dataclasses import replace

import orjson
import pytest

from service import create_app
from service.worker.runner import Worker
from tests.contract.openapi_contract import checking_client

from .conftest import CONTRACT
from .helpers import assert_problem, post_json
from .test_training import SMALL, TEXT, finished_job


def events(response):
    """(event, data) pairs of a text/event-stream body."""
    found = []
    for block in response.get_data(as_text=True).split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            found.append((fields["event"], orjson.loads(fields["data"])))
    return found


def test_events_stream_updates_until_the_end(client, worker):
    location = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": {**SMALL, "steps": 3000}}).headers["Location"]
    streamed = []
    while not streamed or streamed[-1][0] != "end":  # a stream lasts at most 20 s; reconnect as a client would
        response = client.get(f"{location}/events")
        assert response.status_code == 200 and response.content_type == "text/event-stream; charset=utf-8"
        assert response.get_data(as_text=True).startswith("retry: 250\n\n")
        streamed += events(response)
    kinds = [kind for kind, _ in streamed]
    assert set(kinds[:-1]) <= {"update"} and kinds[-1] == "end"
    steps = [data["progress"]["step"] for _, data in streamed]
    assert steps == sorted(steps) and steps[-1] == 3000
    assert streamed[-1][1] == client.get(location).get_json()  # the end event is the job as it ended
    ended = client.get(f"{location}/events")  # a finished job: its end at once
    assert [kind for kind, _ in events(ended)] == ["end"]
    assert_problem(client.get("/v1/jobs/0123456789abcdef0123456789abcdef/events"), 404)


def test_a_job_beyond_the_compute_budget_is_refused_with_the_estimate(app, client):
    services = app.extensions["neuronhub"]
    app.extensions["neuronhub"] = replace(services, config=replace(services.config, training_compute_budget=1_000_000))
    problem = assert_problem(post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": SMALL}), 422, "settings",
                             "NEURONHUB_TRAINING_COMPUTE_BUDGET")
    # the estimate: 300 steps x parameters x 32 examples per batch
    from service.engine.training import TrainingSettings, check_trainable

    _, n_params = check_trainable(TEXT, TrainingSettings(**SMALL))
    assert (problem["received"], problem["maximum"]) == (300 * n_params * 32, 1_000_000)
    assert client.get("/v1/jobs").get_json()["items"] == []


def test_active_jobs_per_client_are_limited(client):
    ids = [post_json(client, f"/v1/networks/n{i}/train", {"text": TEXT, "settings": SMALL}).get_json()["id"] for i in range(4)]
    refused = post_json(client, "/v1/networks/n4/train", {"text": TEXT, "settings": SMALL})
    problem = assert_problem(refused, 429, contains="NEURONHUB_MAX_ACTIVE_JOBS_PER_KEY")
    assert (problem["maximum"], problem["received"]) == (4, 5) and refused.headers["Retry-After"] == "10"
    assert client.post(f"/v1/jobs/{ids[0]}/cancel").status_code == 200  # an ended job frees its place
    assert post_json(client, "/v1/networks/n4/train", {"text": TEXT, "settings": SMALL}).status_code == 202


def test_a_network_changed_while_training_is_not_overwritten_and_the_result_is_kept(app, client):
    job = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": SMALL}).get_json()
    mine = {"layers": [{"weights": [[2.0]], "activation": "identity"}], "description": "written meanwhile"}
    assert client.put("/v1/networks/lm", json=mine).status_code == 201  # before any worker ran the job
    services = app.extensions["neuronhub"]
    Worker(services.store, services.config).run(max_jobs=1)
    ended = client.get(f"/v1/jobs/{job['id']}").get_json()
    assert ended["state"] == "failed" and ended["error"]["status"] == 412 and ended["error"]["current_revision"] == 1
    assert f"/v1/jobs/{job['id']}/network" in ended["error"]["detail"]
    assert client.get("/v1/networks/lm").get_json()["description"] == "written meanwhile"
    kept = client.get(f"/v1/jobs/{job['id']}/network")
    assert kept.status_code == 200 and kept.get_json()["context_size"] == 2
    assert client.put("/v1/networks/lm-trained", json=kept.get_json()).status_code == 201
    top = post_json(client, "/v1/networks/lm-trained/predict", {"context": "the neuron", "top_k": 2}).get_json()["words"]
    assert {w["word"] for w in top} == {"adds", "applies"}
    assert_problem(client.get("/v1/jobs/0123456789abcdef0123456789abcdef/network"), 404)


def test_a_job_over_its_time_limit_fails(config):
    app = create_app(replace(config, job_time_limit=0.3))
    client = checking_client(app, CONTRACT)
    location = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": {**SMALL, "steps": 1_000_000}}).headers["Location"]
    services = app.extensions["neuronhub"]
    Worker(services.store, services.config).run(max_jobs=1)
    job = client.get(location).get_json()
    assert job["state"] == "failed" and job["error"]["title"] == "time limit" and "NEURONHUB_JOB_TIME_LIMIT" in job["error"]["detail"]
    assert_problem(client.get("/v1/networks/lm"), 404)
    services.store.dispose()
