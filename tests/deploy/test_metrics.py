"""GET /metrics through gunicorn: every worker's requests are counted, and survive a worker's death."""
from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import requests
from prometheus_client.parser import text_string_to_metric_families

from .support import neuron


def samples(server) -> dict[tuple[str, tuple], float]:
    response = requests.get(server.url + "/metrics")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def healthz_count(server) -> float:
    return samples(server).get(("neuronhub_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200"))), 0.0)


def test_requests_spread_over_two_workers_are_all_counted(sqlite_url, serve, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale from an earlier run")  # cleaned at start
    server = serve({"NEURONHUB_DATABASE_URL": sqlite_url, "NEURONHUB_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    assert not (metrics_dir / "counter_1.db").exists()

    def hit(_):
        with requests.Session() as session:
            return [session.get(server.url + "/healthz").status_code for _ in range(10)]

    sent = 0
    with ThreadPoolExecutor(4) as pool:
        while sent < 400:  # until both workers answered some (which one accepts is up to the kernel)
            statuses = [status for batch in pool.map(hit, range(4)) for status in batch]
            assert statuses == [200] * 40
            sent += 40
            if len({r["pid"] for r in server.access_records() if r["path"] == "/healthz"}) == 2:
                break
    pids = {r["pid"] for r in server.access_records() if r["path"] == "/healthz"}
    assert len(pids) == 2, pids
    assert healthz_count(server) == sent

    assert requests.put(server.url + "/v1/networks/xor", json={"layers": [{"weights": [[1.0, 1.0]], "activation": "relu"}]}).status_code == 201
    for _ in range(3):
        assert requests.post(server.url + "/v1/networks/xor/forward", json={"inputs": [[0, 1], [1, 1]]}).status_code == 200
    assert requests.put(server.url + "/v1/neurons/n", json=neuron([1.0])).status_code == 201
    assert requests.post(server.url + "/v1/neurons/n/evaluate", json={"inputs": [2]}).status_code == 200
    assert requests.get(server.url + "/v1/neurons/no-such-neuron").status_code == 404
    assert requests.get(server.url + "/no/such/path/42").status_code == 404
    found = samples(server)
    assert found[("neuronhub_forward_passes_total", (("network", "xor"),))] == 3
    assert found[("neuronhub_predictions_total", (("kind", "network"), ("name", "xor")))] == 6
    assert found[("neuronhub_neuron_evaluations_total", (("neuron", "n"),))] == 1
    assert found[("neuronhub_http_requests_total", (("method", "GET"), ("route", "/v1/neurons/<name>"), ("status", "404")))] == 1
    assert found[("neuronhub_http_requests_total", (("method", "GET"), ("route", "<unmatched>"), ("status", "404")))] == 1
    assert found[("neuronhub_http_request_duration_seconds_count", (("method", "POST"), ("route", "/v1/networks/<name>/forward")))] == 3
    # training jobs are counted from the store, whichever replica or worker touched them
    train = {"text": "the neuron adds the weighted inputs . " * 4, "settings": {"steps": 5, "embedding_size": 4, "hidden_sizes": [4], "min_count": 1}}
    job = requests.post(server.url + "/v1/networks/lm/train", json=train).json()
    assert requests.post(server.url + f"/v1/jobs/{job['id']}/cancel").json()["state"] == "cancelled"
    requests.post(server.url + "/v1/networks/lm2/train", json=train)
    found = samples(server)
    assert found[("neuronhub_jobs", (("state", "queued"),))] == 1 and found[("neuronhub_jobs", (("state", "cancelled"),))] == 1
    assert found[("neuronhub_jobs", (("state", "running"),))] == 0 and found[("neuronhub_training_workers", ())] == 0
    assert found[("neuronhub_job_duration_seconds_count", (("state", "succeeded"),))] == 0  # never started: no duration

    # A worker killed outright: the master replaces it and its requests stay counted.
    victim = min(server.worker_pids())
    os.kill(victim, signal.SIGKILL)
    server.wait_for_workers(2, exclude={victim})
    assert healthz_count(server) == sent
    for _ in range(5):
        requests.get(server.url + "/healthz")
    assert healthz_count(server) == sent + 5


def test_the_metrics_directory_gunicorn_makes_is_removed_at_exit(sqlite_url, serve):
    server = serve({"NEURONHUB_DATABASE_URL": sqlite_url, "NEURONHUB_WORKERS": "1"})
    requests.get(server.url + "/healthz")
    worker = next(iter(server.worker_pids()))
    # The worker's sample files are memory-mapped: their directory is the one gunicorn.conf.py made.
    mapped = {line.split()[-1] for line in open(f"/proc/{worker}/maps") if line.rstrip().endswith(".db")}
    directories = {os.path.dirname(path) for path in mapped if os.path.basename(os.path.dirname(path)).startswith("neuronhub-metrics-")}
    assert len(directories) == 1, mapped
    directory = directories.pop()
    assert os.listdir(directory)
    assert server.stop() == 0
    assert not os.path.exists(directory)
