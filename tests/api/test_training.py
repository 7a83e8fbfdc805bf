"""Training a language network through the API: a job, then a network that predicts."""
import time

import pytest

from service.jobs import NO_WORKER

from .helpers import assert_problem, post_json

TEXT = " ".join(
    ["the neuron adds the weighted inputs .", "the neuron applies the activation .", "a layer holds many neurons ."] * 40
)
SMALL = {"context_size": 2, "embedding_size": 8, "hidden_sizes": [16], "steps": 300, "batch_size": 32, "seed": 3, "min_count": 1}


def finished_job(client, location, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(location).get_json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job did not finish in {timeout} s: {job}")


def test_train_then_predict(client, worker):
    response = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": SMALL, "description": "three sentences"})
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location == f"/v1/jobs/{response.get_json()['id']}"
    assert response.get_json()["state"] in ("queued", "running", "succeeded")
    job = finished_job(client, location)
    assert job["state"] == "succeeded", job
    result = job["result"]
    assert result["network"] == "lm" and result["revision"] == 1 and result["steps"] == 300
    progress = job["progress"]
    assert (progress["step"], progress["total_steps"], progress["eta_seconds"]) == (300, 300, 0.0)
    assert progress["loss"] > 0 and progress["tokens_per_second"] > 0
    assert job["warnings"] == [] and job["attempts"] == 1 and job["notice"] is None
    assert result["validation_perplexity"] < result["unigram_perplexity"]
    network = client.get("/v1/networks/lm").get_json()
    assert network["description"] == "three sentences" and network["context_size"] == 2
    top = post_json(client, "/v1/networks/lm/predict", {"context": "the neuron", "top_k": 2}).get_json()["words"]
    assert {w["word"] for w in top} == {"adds", "applies"}


def test_training_is_deterministic(client, worker):
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


def test_a_job_queued_without_a_worker_says_so_and_can_be_cancelled(client):
    job = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": SMALL}).get_json()
    assert job["state"] == "queued" and job["notice"] == NO_WORKER
    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.get_json()["state"] == "cancelled" and cancelled.get_json()["notice"] is None
    assert_problem(client.post(f"/v1/jobs/{job['id']}/cancel"), 409, contains="already ended (cancelled)")
    assert_problem(client.post("/v1/jobs/0123456789abcdef0123456789abcdef/cancel"), 404)
    assert_problem(client.get("/v1/networks/lm"), 404)


def test_a_running_job_is_cancelled_and_stores_nothing(client, worker):
    long = {**SMALL, "steps": 1_000_000}
    location = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": long}).headers["Location"]
    deadline = time.monotonic() + 30
    while client.get(location).get_json()["progress"]["step"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    asked = client.post(f"{location}/cancel")
    assert asked.status_code == 202 and asked.get_json()["cancel_requested"] is True
    job = finished_job(client, location)
    assert job["state"] == "cancelled" and 0 < job["progress"]["step"] < 1_000_000
    assert_problem(client.get("/v1/networks/lm"), 404)


def test_a_diverging_job_fails_and_stores_nothing(client, worker):
    location = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": {**SMALL, "learning_rate": 10.0}}).headers["Location"]
    job = finished_job(client, location)
    assert job["state"] == "failed" and job["error"]["title"] == "diverged"
    step = job["error"]["step"]
    assert job["error"]["detail"].startswith(f"diverged at step {step} (loss ") and job["error"]["detail"].endswith("; lower the learning rate")
    assert_problem(client.get("/v1/networks/lm"), 404)


def test_too_little_text_succeeds_with_warnings(client, worker):
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
    location = post_json(client, "/v1/networks/lm/train", {"text": text, "settings": {**SMALL, "min_count": 2, "steps": 20}}).headers["Location"]
    job = finished_job(client, location)
    assert job["state"] == "succeeded"
    unknown = job["result"]["validation_unknown_rate"]
    assert unknown > 0.2
    assert job["warnings"][0] == (f"too little text for min_count 2: {unknown:.0%} of validation words are unknown; "
                                  "give more text or set min_count 1")


def test_training_honours_preconditions_and_never_replaces_a_plain_network(client, worker):
    plain = {"layers": [{"weights": [[1.0]], "activation": "identity"}]}
    assert client.put("/v1/networks/plain", json=plain).status_code == 201
    assert_problem(post_json(client, "/v1/networks/plain/train", {"text": TEXT, "settings": SMALL}), 409, contains="not a language network")
    assert client.get("/v1/networks/plain").get_json()["layers"][0]["weights"] == [[1.0]]

    first = finished_job(client, post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": SMALL}).headers["Location"])
    assert first["result"]["revision"] == 1
    create_only = client.post("/v1/networks/lm/train", json={"text": TEXT, "settings": SMALL}, headers={"If-None-Match": "*"})
    assert_problem(create_only, 412, contains="exists (revision 1)")
    assert_problem(client.post("/v1/networks/lm/train", json={"text": TEXT, "settings": SMALL}, headers={"If-Match": '"7"'}), 412)
    again = client.post("/v1/networks/lm/train", json={"text": TEXT, "settings": SMALL}, headers={"If-Match": '"1"'})
    assert again.status_code == 202
    assert finished_job(client, again.headers["Location"])["result"]["revision"] == 2


def test_jobs_are_listed_newest_first_with_filters_and_pages(client):
    made = [post_json(client, f"/v1/networks/{name}/train", {"text": TEXT, "settings": SMALL}).get_json()["id"] for name in ("a", "b", "a")]
    client.post(f"/v1/jobs/{made[1]}/cancel")
    listed = client.get("/v1/jobs").get_json()
    assert [job["id"] for job in listed["items"]] == made[::-1] and listed["next_cursor"] is None
    assert [job["id"] for job in client.get("/v1/jobs?network=a").get_json()["items"]] == [made[2], made[0]]
    assert [job["id"] for job in client.get("/v1/jobs?state=cancelled").get_json()["items"]] == [made[1]]
    first = client.get("/v1/jobs?limit=2")
    assert [job["id"] for job in first.get_json()["items"]] == [made[2], made[1]]
    cursor = first.get_json()["next_cursor"]
    assert first.headers["Link"] == f'</v1/jobs?limit=2&cursor={cursor}>; rel="next"'
    second = client.get(f"/v1/jobs?limit=2&cursor={cursor}").get_json()
    assert [job["id"] for job in second["items"]] == [made[0]] and second["next_cursor"] is None
    assert_problem(client.get("/v1/jobs?state=paused"), 422, "state")
    assert_problem(client.get("/v1/jobs?cursor=nonsense"), 422, "cursor")
