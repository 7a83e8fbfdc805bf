"""2 web replicas and 3 workers on one PostgreSQL: 12 jobs submitted at once each run exactly once."""
import re
import signal
from concurrent.futures import ThreadPoolExecutor

import requests

from service import catalog
from service.store import Store
from tests.support.gunicorn import Server, wait_for
from tests.support.postgres import fresh_database
from tests.support.worker import WorkerProcess

TEXT = " ".join(["the neuron adds the weighted inputs .", "the neuron applies the activation .", "a layer holds many neurons ."] * 20)
SETTINGS = {"context_size": 2, "embedding_size": 8, "hidden_sizes": [16], "steps": 400, "batch_size": 32, "min_count": 1, "seed": 3}


def test_twelve_jobs_on_two_replicas_and_three_workers_run_exactly_once(postgres_url, tmp_path):
    with fresh_database(postgres_url) as url:
        # one client submits all 12: its limit of active jobs is raised to allow that
        replicas = [Server({"NEURONHUB_DATABASE_URL": url, "NEURONHUB_WORKERS": "1", "NEURONHUB_MAX_ACTIVE_JOBS_PER_KEY": "12"},
                           tmp_path / f"web-{i}.log") for i in range(2)]
        workers = [WorkerProcess(url, log_path=tmp_path / f"worker-{i}.log") for i in range(3)]
        try:
            wait_for(lambda: requests.get(replicas[0].url + "/readyz", timeout=5).json()["workers"] == 3, 60, "3 live workers")

            def submit(i):
                replica = replicas[i % 2]
                answer = requests.post(f"{replica.url}/v1/networks/lm-{i}/train", json={"text": TEXT, "settings": SETTINGS}, timeout=30)
                assert answer.status_code == 202, answer.text
                return answer.json()["id"]

            with ThreadPoolExecutor(12) as pool:
                ids = list(pool.map(submit, range(12)))
            assert len(set(ids)) == 12

            store = Store(url)

            def all_done():
                jobs = [store.get_job(job_id) for job_id in ids]
                return all(job.state in ("succeeded", "failed", "cancelled") for job in jobs) and jobs

            jobs = wait_for(all_done, 180, "12 jobs to end", interval=0.2)
            assert [job.state for job in jobs] == ["succeeded"] * 12, [job.error for job in jobs]
            assert [job.attempts for job in jobs] == [1] * 12  # each claimed once
            assert [job.result["revision"] for job in jobs] == [1] * 12  # each network stored once
            assert sorted(s.name for s in store.list(catalog.NETWORK, 100)) == sorted(f"lm-{i}" for i in range(12))
            ran = [re.findall(r"job ([0-9a-f]{32}) succeeded", worker.log()) for worker in workers]
            assert sorted(sum(ran, [])) == sorted(ids)  # every job finished by exactly one worker, once
            assert len({job.owner for job in jobs}) > 1  # the work was shared
            store.dispose()
        finally:
            for worker in workers:
                worker.stop(signal.SIGTERM)
            for replica in replicas:
                replica.stop()


def test_sigterm_to_the_web_server_touches_no_job(tmp_path):
    url = f"sqlite:///{tmp_path / 'web.db'}"
    server = Server({"NEURONHUB_DATABASE_URL": url, "NEURONHUB_WORKERS": "1"})
    answer = requests.post(f"{server.url}/v1/networks/lm/train", json={"text": TEXT, "settings": SETTINGS}, timeout=30)
    body = answer.json()
    assert body["state"] == "queued" and body["notice"].startswith("no worker is running")
    assert server.stop(signal.SIGTERM) == 0
    store = Store(url)
    job = store.get_job(body["id"])
    assert (job.state, job.attempts, job.error) == ("queued", 0, None)  # waits for a worker, whole
    worker = WorkerProcess(url)
    done = wait_for(lambda: (j := store.get_job(job.id)).state == "succeeded" and j, 60, "the job to run")
    assert done.result["network"] == "lm"
    worker.stop()
    store.dispose()
