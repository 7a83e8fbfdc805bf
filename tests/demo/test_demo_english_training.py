"""The first start of a real server and a real training worker: demo-english trains as a job and is worth it.

This is the real thing, once per test session (the `demo_english` fixture): the whole novel, the
shipped settings, about two minutes of training.
"""
import pytest
import requests

pytestmark = pytest.mark.timeout(900)  # the first test that uses the session fixture waits for the training


def test_demo_english_is_queued_at_first_start_and_appears_when_done(demo_english):
    _, first, job = demo_english
    assert first["state"] in ("queued", "running") and first["network_status_before"] == 404
    assert job["state"] == "succeeded", job
    assert job["result"]["network"] == "demo-english"


def test_demo_english_beats_its_bigram_baseline(demo_english):
    _, _, job = demo_english
    result = job["result"]
    assert result["validation_perplexity"] < 0.8 * result["bigram_perplexity"], result  # measured: 73.3 vs 104.1
    assert result["validation_perplexity"] < result["unigram_perplexity"] / 3
    assert result["validation_unknown_rate"] < 0.05 and result["vocabulary_size"] > 3_000
    assert not job.get("warnings")


def test_demo_english_predicts_everyday_english(demo_english):
    server, _, _ = demo_english
    network = requests.get(f"{server.url}/v1/networks/demo-english", timeout=10).json()
    assert network["context_size"] == 4 and "Pride and Prejudice" in network["description"]
    answer = requests.post(f"{server.url}/v1/networks/demo-english/predict", json={"context": "thank you very", "top_k": 3}, timeout=10)
    assert answer.status_code == 200
    assert "much" in [w["word"] for w in answer.json()["words"]]
