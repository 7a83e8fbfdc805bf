from datetime import timedelta

import pytest
import sqlalchemy as sa

from service.store import LOSS_HISTORY_LIMIT, MAX_LOST, JobFinished, NotFound, TooManyActiveJobs
from service.store.db import job_blobs, jobs, utcnow, workers


def lapse_lease(store, job_id):
    with store.write() as conn:
        conn.execute(sa.update(jobs).where(jobs.c.id == job_id).values(lease_expires_at=utcnow() - timedelta(seconds=1)))


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


def test_claims_take_the_oldest_queued_job_once(store):
    first = store.create_job("train", "a", {}, blobs={"input": b"text a"})
    second = store.create_job("train", "b", {})
    claim, job = store.claim_job("w1", 30)
    assert job.id == first.id and job.state == "running" and job.owner == "w1" and job.attempts == 1 and job.lost == 0
    assert claim.job_id == first.id and claim.attempt == 1
    assert job.lease_expires_at > utcnow() + timedelta(seconds=25) and job.started_at is not None
    assert store.claim_job("w2", 30)[1].id == second.id
    assert store.claim_job("w3", 30) is None  # both are running under a live lease
    assert store.get_job_blob(first.id, "input") == b"text a"


def test_a_lapsed_lease_is_claimed_again_and_fences_the_first_worker(store):
    job = store.create_job("train", "a", {})
    old_claim, _ = store.claim_job("w1", 30)
    assert store.renew_job(old_claim, 30, step=3, progress={"loss": 2.5}).step == 3
    lapse_lease(store, job.id)
    new_claim, again = store.claim_job("w2", 30)
    assert (again.id, again.owner, again.attempts, again.lost, again.step) == (job.id, "w2", 2, 1, 3)
    # the presumed-dead worker can no longer write anything
    assert store.renew_job(old_claim, 30, step=99) is None
    assert store.save_checkpoint(old_claim, b"old", 30) is False
    assert store.finish_claimed_job(old_claim, "succeeded", result={}) is None
    assert store.release_job(old_claim) is None
    assert store.get_job_blob(job.id, "checkpoint") is None
    assert store.save_checkpoint(new_claim, b"new", 30) is True
    assert store.get_job_blob(job.id, "checkpoint") == b"new"
    assert store.save_checkpoint(new_claim, b"newer", 30) is True  # replaced, not added
    assert store.get_job_blob(job.id, "checkpoint") == b"newer"
    assert store.get_job(job.id).step == 3


def test_a_job_that_lost_its_worker_three_times_fails(store):
    job = store.create_job("train", "a", {})
    for attempt in range(1, MAX_LOST + 1):
        claim, claimed = store.claim_job(f"w{attempt}", 30)
        assert (claimed.attempts, claimed.lost) == (attempt, attempt - 1)
        lapse_lease(store, job.id)
    assert store.claim_job("w9", 30) is None
    failed = store.get_job(job.id)
    assert failed.state == "failed" and failed.lost == MAX_LOST and failed.error["title"] == "worker lost"
    assert f"lost its worker {MAX_LOST} times" in failed.error["detail"]


def test_a_released_job_is_queued_again_without_counting_a_loss(store):
    job = store.create_job("train", "a", {})
    claim, _ = store.claim_job("w1", 30)
    released = store.release_job(claim)
    assert (released.state, released.owner, released.lease_expires_at, released.lost) == ("queued", None, None, 0)
    claim, again = store.claim_job("w2", 30)
    assert (again.attempts, again.lost) == (2, 0)


def test_finishing_keeps_only_the_blobs_asked_for(store):
    job = store.create_job("train", "a", {}, blobs={"input": b"text"})
    claim, _ = store.claim_job("w1", 30)
    store.save_checkpoint(claim, b"ckpt", 30)
    done = store.finish_claimed_job(claim, "failed", error={"title": "t", "detail": "d"}, warnings=["w"], blobs={"weights": b"trained"})
    assert (done.state, done.error, done.warnings, done.lease_expires_at) == ("failed", {"title": "t", "detail": "d"}, ["w"], None)
    with store.read() as conn:
        left = conn.execute(sa.select(job_blobs.c.name).where(job_blobs.c.job_id == job.id)).scalars().all()
    assert left == ["weights"]
    assert store.delete_expired_blobs("weights", 3600) == 0
    assert store.delete_expired_blobs("weights", -1) == 1
    assert store.get_job_blob(job.id, "weights") is None
    with pytest.raises(ValueError):
        store.finish_claimed_job(claim, "running")


def test_cancel(store):
    queued = store.create_job("train", "a", {}, blobs={"input": b"text"})
    running = store.create_job("train", "b", {})
    store.claim_job("w1", 30)  # takes the older, a
    cancelled = store.cancel_job(queued.id)
    assert cancelled.state == "running" and cancelled.cancel_requested  # it was claimed first: the worker stops it
    still_queued = store.cancel_job(running.id)
    assert (still_queued.state, still_queued.finished_at is not None) == ("cancelled", True)
    assert store.claim_job("w2", 30) is None
    with pytest.raises(JobFinished) as info:
        store.cancel_job(running.id)
    assert info.value.state == "cancelled"
    with pytest.raises(NotFound):
        store.cancel_job("0" * 32)


def test_list_jobs_newest_first_with_filters_and_pages(store):
    made = [store.create_job("train", name, {}) for name in ("a", "b", "a", "c", "a")]
    store.cancel_job(made[2].id)
    newest_first = [job.id for job in reversed(made)]
    assert [job.id for job in store.list_jobs(10)] == newest_first
    assert [job.id for job in store.list_jobs(10, target="a")] == [made[4].id, made[2].id, made[0].id]
    assert [job.id for job in store.list_jobs(10, state="cancelled")] == [made[2].id]
    pages, before = [], None
    while page := store.list_jobs(2, before=before):
        pages.append([job.id for job in page])
        before = (page[-1].created_at, page[-1].id)
    assert sum(pages, []) == newest_first and [len(p) for p in pages] == [2, 2, 1]
    assert store.count_jobs() == {"queued": 4, "running": 0, "succeeded": 0, "failed": 0, "cancelled": 1}


def test_active_jobs_per_requester_are_limited(store):
    for name in ("a", "b"):
        store.create_job("train", name, {}, requester="key-1", max_active=2)
    store.create_job("train", "d", {}, requester="key-2", max_active=2)
    with pytest.raises(TooManyActiveJobs) as info:
        store.create_job("train", "c", {}, requester="key-1", max_active=2)
    assert info.value.active == 2
    store.cancel_job(store.list_jobs(1, target="b")[0].id)  # an ended job frees its place
    assert store.create_job("train", "c", {}, requester="key-1", max_active=2).state == "queued"
    assert store.create_job("train", "e", {}, requester="key-1").state == "queued"  # no limit asked: none applied


def test_worker_heartbeats(store):
    store.worker_heartbeat("w1", "host", 10, None)
    store.worker_heartbeat("w2", "host", 11, "job")
    store.worker_heartbeat("w1", "host", 10, "other")
    assert store.live_workers(30) == 2
    with store.write() as conn:
        conn.execute(sa.update(workers).where(workers.c.id == "w1").values(heartbeat_at=utcnow() - timedelta(seconds=60)))
    assert store.live_workers(30) == 1
    assert store.forget_dead_workers(30) == 1
    store.remove_worker("w2")
    assert store.live_workers(30) == 0
