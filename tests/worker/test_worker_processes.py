"""Real worker processes on a real database: killed with SIGKILL they lose nothing, stopped with SIGTERM
they hand their job back, and a resumed job ends with the very bits of one never interrupted."""
import signal
import time

import numpy as np
import pytest

from service import catalog
from service.engine.training import TrainingSettings, train
from service.jobs import CHECKPOINT_BLOB, enqueue_training
from service.store import Store
from tests.support.gunicorn import wait_for
from tests.support.worker import WorkerProcess

TEXT = " ".join(["the neuron adds the weighted inputs .", "the neuron applies the activation .", "a layer holds many neurons ."] * 40)
# a few seconds of training; dropout makes the random generator's state part of what must survive
SETTINGS = TrainingSettings(context_size=3, embedding_size=16, hidden_sizes=(64,), batch_size=64, steps=10_000, min_count=1,
                            seed=5, dropout=0.1)


@pytest.fixture(scope="module")
def reference():
    """The weights of the same job run without interruption, in this process."""
    model, _ = train(TEXT, SETTINGS)
    return catalog.compiled_network_record(model.network, model, "")[1]


@pytest.fixture
def workers():
    started = []

    def start(url, **env):
        started.append(WorkerProcess(url, env))
        return started[-1]

    yield start
    for worker in started:
        worker.stop(signal.SIGKILL)


def job_state(store, job_id):
    return store.get_job(job_id)


def wait_for_checkpoint_past(store, job_id, step, worker, timeout=60):
    def there():
        job = store.get_job(job_id)
        assert job.state in ("queued", "running"), (job.state, job.error, worker.log())
        return job.step >= step and store.get_job_blob(job_id, CHECKPOINT_BLOB) is not None

    wait_for(there, timeout, f"a checkpoint past step {step}", interval=0.02)


def wait_until_finished(store, job_id, timeout=120):
    return wait_for(lambda: (job := store.get_job(job_id)).state in ("succeeded", "failed", "cancelled") and job, timeout, "the job to end")


def assert_same_bits(store, name, reference):
    stored = store.get(catalog.NETWORK, name).arrays
    assert len(stored) == len(reference)
    for got, expected in zip(stored, reference):
        assert got.dtype == expected.dtype and np.array_equal(got, expected) and got.tobytes() == expected.tobytes()


def test_sigkill_at_several_points_resumes_to_identical_weights(db_url, reference, workers):
    store = Store(db_url)
    store.ensure_schema()
    job = enqueue_training(store, "lm", [TEXT], SETTINGS, "resumed")
    for kill_after in (1_000, 4_000):  # two workers die, at two points; a third finishes
        worker = workers(db_url)
        wait_for_checkpoint_past(store, job.id, kill_after, worker)
        worker.stop(signal.SIGKILL)
    last = workers(db_url)
    done = wait_until_finished(store, job.id)
    assert done.state == "succeeded", (done.error, last.log())
    assert (done.attempts, done.lost) == (3, 2)
    assert done.result["steps"] == 10_000 and done.result["revision"] == 1
    assert_same_bits(store, "lm", reference)
    assert store.get_job_blob(job.id, CHECKPOINT_BLOB) is None  # deleted when the job ended
    assert [summary.name for summary in store.list(catalog.NETWORK, 10)] == ["lm"]  # a checkpoint is never a network
    store.dispose()


def test_sigterm_hands_the_job_back_and_exits_promptly(db_url, reference, workers):
    store = Store(db_url)
    store.ensure_schema()
    job = enqueue_training(store, "lm", [TEXT], SETTINGS)
    first = workers(db_url, NEURONHUB_CHECKPOINT_SECONDS="30")  # no periodic checkpoint: only the one at shutdown
    wait_for(lambda: store.get_job(job.id).step > 500, 60, "training to be under way", interval=0.02)
    assert store.get_job_blob(job.id, CHECKPOINT_BLOB) is None
    sent = time.monotonic()
    assert first.stop(signal.SIGTERM, timeout=10) == 0
    assert time.monotonic() - sent < 10  # not asserted as a speed: the bound on shutdown
    handed_back = store.get_job(job.id)
    assert (handed_back.state, handed_back.owner, handed_back.lost) == ("queued", None, 0)
    assert store.get_job_blob(job.id, CHECKPOINT_BLOB) is not None
    assert "handed back at step" in first.log()
    assert store.live_workers(60) == 0  # it said goodbye

    workers(db_url)
    done = wait_until_finished(store, job.id)
    assert done.state == "succeeded" and (done.attempts, done.lost) == (2, 0)
    assert_same_bits(store, "lm", reference)
    store.dispose()


def test_an_idle_worker_registers_and_stops_at_once(db_url, workers):
    store = Store(db_url)
    store.ensure_schema()
    worker = workers(db_url)
    wait_for(lambda: store.live_workers(60) == 1, 30, "the worker's heartbeat")
    assert worker.stop(signal.SIGTERM, timeout=10) == 0
    assert store.live_workers(60) == 0
    store.dispose()
