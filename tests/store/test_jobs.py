from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.store import INTERRUPTED, LOSS_HISTORY_LIMIT, NotFound
from service.store.db import jobs, utcnow


def age_heartbeat(store, job_id, seconds):
    with store.write() as conn:
        conn.execute(
            sa.update(jobs).where(jobs.c.id == job_id).values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


def test_job_lifecycle(store):
    job = store.create_job("train", "net-1", {"epochs": 3, "lr": 0.01}, total_steps=30, owner="host:1")
    assert len(job.id) == 32 and int(job.id, 16) >= 0
    assert (job.kind, job.target, job.state, job.step, job.total_steps) == ("train", "net-1", "queued", 0, 30)
    assert job.params == {"epochs": 3, "lr": 0.01}
    assert (job.result, job.error, job.loss_history, job.owner) == (None, None, [], "host:1")
    assert job.started_at is None and job.finished_at is None
    assert store.get_job(job.id) == job

    running = store.update_job(job.id, state="running", step=5, loss_history=[1.0, 0.5])
    assert (running.state, running.step, running.loss_history) == ("running", 5, [1.0, 0.5])
    assert running.started_at is not None and running.started_at >= job.created_at
    assert running.heartbeat_at > job.heartbeat_at

    later = store.update_job(job.id, state="running", step=10)
    assert later.started_at == running.started_at
    assert later.loss_history == [1.0, 0.5]

    done = store.finish_job(job.id, "succeeded", result={"final_loss": 0.25})
    assert (done.state, done.result, done.error) == ("succeeded", {"final_loss": 0.25}, None)
    assert done.finished_at >= later.updated_at
    assert store.get_job(job.id) == done


def test_finished_jobs_do_not_change(store):
    job = store.create_job("train", "n", {})
    failed = store.finish_job(job.id, "failed", error={"title": "diverged", "detail": "loss is NaN"})
    assert failed.error == {"title": "diverged", "detail": "loss is NaN"}
    assert store.update_job(job.id, state="running", step=3) == failed
    assert store.finish_job(job.id, "succeeded", result={}) == failed


def test_loss_history_keeps_the_last_points(store):
    job = store.create_job("train", "n", {})
    updated = store.update_job(job.id, loss_history=[float(i) for i in range(500)])
    assert len(updated.loss_history) == LOSS_HISTORY_LIMIT
    assert updated.loss_history[0] == 500.0 - LOSS_HISTORY_LIMIT and updated.loss_history[-1] == 499.0


def test_invalid_updates_are_rejected(store):
    job = store.create_job("train", "n", {})
    with pytest.raises(ValueError, match="cannot update job fields: id"):
        store.update_job(job.id, id="other")
    with pytest.raises(ValueError, match="unknown job state"):
        store.update_job(job.id, state="paused")
    with pytest.raises(ValueError, match="finishes as one of"):
        store.finish_job(job.id, "running")
    with pytest.raises(NotFound):
        store.update_job("0" * 32, step=1)
    with pytest.raises(NotFound):
        store.finish_job("0" * 32, "failed")
    assert store.get_job("0" * 32) is None
    assert store.get_job(job.id) == job


def test_stale_jobs_are_failed(store):
    stale_running = store.create_job("train", "a", {}, owner="gone:1")
    store.update_job(stale_running.id, state="running")
    stale_queued = store.create_job("train", "b", {}, owner="gone:1")
    fresh = store.create_job("train", "c", {}, owner="here:2")
    finished = store.create_job("train", "d", {}, owner="gone:1")
    store.finish_job(finished.id, "succeeded", result={"ok": True})
    for job in (stale_running, stale_queued, finished):
        age_heartbeat(store, job.id, 120)

    assert store.fail_stale_jobs(60) == sorted([stale_running.id, stale_queued.id])
    for job_id in (stale_running.id, stale_queued.id):
        failed = store.get_job(job_id)
        assert (failed.state, failed.error) == ("failed", INTERRUPTED)
        assert failed.finished_at is not None
    assert store.get_job(fresh.id).state == "queued"
    assert store.get_job(finished.id).state == "succeeded"
    assert store.fail_stale_jobs(60) == []


def test_stale_jobs_of_live_owners_are_spared(store):
    alive = store.create_job("train", "a", {}, owner="host:1")
    dead = store.create_job("train", "b", {}, owner="host:2")
    for job in (alive, dead):
        age_heartbeat(store, job.id, 120)
    asked = []

    def owner_alive(owner):
        asked.append(owner)
        return owner == "host:1"

    assert store.fail_stale_jobs(60, owner_alive=owner_alive) == [dead.id]
    assert sorted(asked) == ["host:1", "host:2"]
    assert store.get_job(alive.id).state == "queued"


def test_fail_jobs_of_owner(store):
    mine = store.create_job("train", "a", {}, owner="host:1")
    store.update_job(mine.id, state="running")
    other = store.create_job("train", "b", {}, owner="host:2")
    assert store.fail_jobs_of_owner("host:1") == [mine.id]
    assert store.get_job(mine.id).error == INTERRUPTED
    assert store.get_job(other.id).state == "queued"
    assert store.fail_jobs_of_owner("host:1") == []
