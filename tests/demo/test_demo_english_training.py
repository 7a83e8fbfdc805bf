"""The first start of a real server and a real training worker: demo-english trains as a job and is worth it.

This is the real thing, once: the whole novel, the shipped settings, about two minutes of training.
"""
import time

import pytest
import requests

from tests.support.gunicorn import Server
from tests.support.worker import WorkerProcess

TRAINING_TIMEOUT = 900  # seconds; it takes about 2 minutes on one free core


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    database = f"sqlite:///{tmp_path_factory.mktemp('demo-english') / 'demo.db'}"
    server = Server({"NEURONHUB_DATABASE_URL": database, "NEURONHUB_SEED_DEMO": "true", "NEURONHUB_SEED_DEMO_ENGLISH": "true",
                     "NEURONHUB_WORKERS": "1"})
    worker = None
    try:
        jobs = requests.get(f"{server.url}/v1/jobs", params={"network": "demo-english"}, timeout=10).json()["items"]
        assert [j["state"] for j in jobs] == ["queued"], jobs  # queued at first start, before any worker runs
        assert requests.get(f"{server.url}/v1/networks/demo-english", timeout=10).status_code == 404  # appears when done
        worker = WorkerProcess(database, {"NEURONHUB_CHECKPOINT_SECONDS": "30", "NEURONHUB_JOB_LEASE_SECONDS": "30"})
        give_up = time.monotonic() + TRAINING_TIMEOUT
        while True:
            job = requests.get(f"{server.url}/v1/jobs/{jobs[0]['id']}", timeout=10).json()
            if job["state"] not in ("queued", "running") or time.monotonic() > give_up:
                break
            time.sleep(1)
        yield server, job
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


def test_demo_english_trains_as_an_ordinary_job_and_beats_its_bigram_baseline(trained):
    _, job = trained
    assert job["state"] == "succeeded", job
    result = job["result"]
    assert result["validation_perplexity"] < 0.8 * result["bigram_perplexity"], result  # measured: 73.3 vs 104.1
    assert result["validation_perplexity"] < result["unigram_perplexity"] / 3
    assert result["validation_unknown_rate"] < 0.05 and result["vocabulary_size"] > 3_000
    assert not job.get("warnings")


def test_demo_english_predicts_everyday_english(trained):
    server, _ = trained
    network = requests.get(f"{server.url}/v1/networks/demo-english", timeout=10).json()
    assert network["context_size"] == 4 and "Pride and Prejudice" in network["description"]
    answer = requests.post(f"{server.url}/v1/networks/demo-english/predict", json={"context": "thank you very", "top_k": 3}, timeout=10)
    assert answer.status_code == 200
    assert "much" in [w["word"] for w in answer.json()["words"]]
