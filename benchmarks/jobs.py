"""Training jobs: what checkpoints cost, and what a training worker costs the web server's latency.

checkpoints  The real worker loop (service/worker) on the demo corpus with the default settings, on a
             SQLite file: steps per second with a checkpoint every 1 s against none, in alternating
             rounds; and the cost of one checkpoint (the validation loss the worker reports with it,
             serialise, store), from which the share of
             training time at the default interval (NEURONHUB_CHECKPOINT_SECONDS=30) follows.
latency      gunicorn (2 workers, as on 2 cores) answers small forward passes from 2 clients, each
             sending its next request when the last was answered: the median latency idle, while a worker trains at the default priority (batch,
             in a session of its own as ./scripts/serve starts it), and while one trains at normal
             priority. Ratios against idle, measured in the same run. 127.0.0.1 only; bounded in time.
"""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from .http_load import ROOT, Gunicorn, request, seed_database

CLIENTS = 2  # one per gunicorn worker


def _training_settings(steps: int):
    from service.engine.training import TrainingSettings

    return TrainingSettings(steps=steps)


# --- checkpoints -------------------------------------------------------------------------------------

def checkpoints(rounds: int, seconds: float, log: Callable[[str], None]) -> dict:
    from service.config import Config
    from service.demo.train_demo import demo_texts
    from service.jobs import enqueue_training
    from service.store import Store
    from service.worker.runner import Worker

    texts = demo_texts()
    directory = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    store = Store(f"sqlite:///{directory / 'jobs.db'}")
    store.ensure_schema()

    def steps_per_second(interval: float) -> float:
        config = Config(database_url=store.url.render_as_string(), checkpoint_seconds=interval, job_time_limit=seconds)
        job = enqueue_training(store, f"bench-{time.monotonic_ns()}", texts, _training_settings(1_000_000))
        Worker(store, config).run(max_jobs=1)  # the job ends "failed" at its time limit: `seconds` of training
        ended = store.get_job(job.id)
        assert ended.error and ended.error["title"] == "time limit", ended.error
        return ended.step / seconds

    with_, without = [], []
    for _ in range(rounds):
        with_.append(steps_per_second(1.0))
        without.append(steps_per_second(1e9))
    cost = _checkpoint_cost(store, texts)
    step_seconds = 1 / statistics.median(without)
    result = {
        "steps_per_second_no_checkpoints": statistics.median(without),
        "steps_per_second_checkpoint_every_1s": statistics.median(with_),
        "ratio_every_1s": statistics.median(with_) / statistics.median(without),
        "checkpoint_seconds": cost["seconds"],
        "checkpoint_bytes": cost["bytes"],
        "share_at_default_interval": cost["seconds"] / (30.0 + cost["seconds"]),
        "predicted_ratio_every_1s": 1 / (1 + cost["seconds"]),  # the cost model, checked against the measured ratio
        "step_seconds": step_seconds,
    }
    log(f"  steps/s without checkpoints {result['steps_per_second_no_checkpoints']:.1f}, with one every 1 s "
        f"{result['steps_per_second_checkpoint_every_1s']:.1f} (ratio {result['ratio_every_1s']:.3f}; "
        f"{result['predicted_ratio_every_1s']:.3f} predicted from one checkpoint's cost)")
    log(f"  one checkpoint (validation loss + serialise + store): {cost['seconds'] * 1000:.1f} ms, {cost['bytes'] / 1e6:.2f} MB; at the default 30 s interval "
        f"{result['share_at_default_interval']:.2%} of training time")
    store.dispose()
    return result


def _checkpoint_cost(store, texts) -> dict:
    from service.engine.training import TrainingRun, check_trainable
    from service.jobs import enqueue_training

    settings = _training_settings(1_000)
    corpus, n_params = check_trainable(texts, settings)
    run = TrainingRun(corpus, n_params, settings)
    for _ in range(20):
        run.advance()
    job = enqueue_training(store, "bench-cost", texts, settings)
    claim, _ = store.claim_job("bench", 60)
    timings, size = [], 0
    for _ in range(7):  # what the worker does at each checkpoint: a validation loss, then serialise and store
        started = time.perf_counter()
        run.validation_loss(sample=True)
        data = run.checkpoint()
        store.save_checkpoint(claim, data, 60)
        timings.append(time.perf_counter() - started)
        size = len(data)
    store.finish_claimed_job(claim, "cancelled")
    assert job.id == claim.job_id
    return {"seconds": statistics.median(timings), "bytes": size}


# --- latency -----------------------------------------------------------------------------------------

def latency(seconds: float, log: Callable[[str], None]) -> dict:
    directory = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    url = f"sqlite:///{directory / 'latency.db'}"
    seed_database(url)
    server = Gunicorn("service:create_app()", {"NEURONHUB_DATABASE_URL": url, "NEURONHUB_SEED_DEMO": "false"},
                      directory / "gunicorn.log", workers=2)
    body = json.dumps({"inputs": [0.1] * 16}).encode()
    try:
        def client(latencies: list[float], until: float) -> None:
            while time.monotonic() < until:
                started = time.perf_counter()
                status, _ = request(server.host, server.port, "POST", "/v1/networks/small/forward", body)
                latencies.append(time.perf_counter() - started)
                assert status == 200, status

        def measure() -> float:
            """Median latency with CLIENTS clients, each sending the next request when the last was answered:
            both web workers busy, so a training worker competes with them for the 2 cores."""
            latencies: list[float] = []
            until = time.monotonic() + seconds
            threads = [threading.Thread(target=client, args=(latencies, until)) for _ in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return statistics.median(latencies)

        result = {"idle_ms": measure() * 1000}
        for priority in ("batch", "normal"):
            worker = _TrainingWorker(url, priority, directory / f"worker-{priority}.log", server)
            try:
                result[f"training_{priority}_ms"] = measure() * 1000
            finally:
                worker.stop()
            result[f"ratio_{priority}"] = result[f"training_{priority}_ms"] / result["idle_ms"]
        result["idle_again_ms"] = measure() * 1000
    finally:
        server.stop()
    log(f"  median forward latency: idle {result['idle_ms']:.2f} ms; while training at batch priority "
        f"{result['training_batch_ms']:.2f} ms (x{result['ratio_batch']:.2f}); at normal priority "
        f"{result['training_normal_ms']:.2f} ms (x{result['ratio_normal']:.2f}); idle again {result['idle_again_ms']:.2f} ms")
    return result


class _TrainingWorker:
    """`python -m service.worker` in a session of its own (as ./scripts/serve starts it), training a long job."""

    def __init__(self, url: str, priority: str, log_path: Path, server: Gunicorn) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEURONHUB_")}
        env.update(NEURONHUB_DATABASE_URL=url, NEURONHUB_TRAINING_PRIORITY=priority, OPENBLAS_NUM_THREADS="1")
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "service.worker"], cwd=ROOT, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        train = {"texts": _demo_texts(), "settings": {"steps": 200_000}}  # cancelled long before; within the compute budget
        status, answer = request(server.host, server.port, "POST", f"/v1/networks/bench-{priority}/train", json.dumps(train).encode())
        assert status == 202, answer
        self.job = json.loads(answer)["id"]
        self.server = server
        deadline = time.monotonic() + 60
        while self._step() < 10:  # training is under way
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start training:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.1)

    def _step(self) -> int:
        _, answer = request(self.server.host, self.server.port, "GET", f"/v1/jobs/{self.job}")
        return json.loads(answer)["progress"]["step"]

    def stop(self) -> None:
        request(self.server.host, self.server.port, "POST", f"/v1/jobs/{self.job}/cancel")
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        self._log.close()


def _demo_texts() -> list[str]:
    from service.demo.train_demo import demo_texts

    return demo_texts()


def run(quick: bool, log: Callable[[str], None]) -> dict:
    log("jobs: checkpoint cost in the real worker loop (demo corpus, default settings, SQLite)")
    result = {"checkpoints": checkpoints(rounds=1 if quick else 3, seconds=3.0 if quick else 10.0, log=log)}
    log(f"jobs: forward-pass latency while a worker trains, 2 gunicorn workers, {CLIENTS} clients, 127.0.0.1")
    result["latency"] = latency(seconds=2.0 if quick else 8.0, log=log)
    return result


if __name__ == "__main__":  # python -m benchmarks.jobs [--quick]: this part alone, without the bench extra
    print(json.dumps(run("--quick" in sys.argv, lambda line: print(line, flush=True)), indent=1))
