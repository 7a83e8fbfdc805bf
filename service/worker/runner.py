"""The training worker's loop: claims queued jobs from the store and runs them, one at a time.

Any number of workers, on any machines, may share one database. A worker registers a heartbeat,
claims the oldest job (store.claim_job), trains at a lower CPU priority, writes progress at least
once a second (which renews its lease), checkpoints every NEURONHUB_CHECKPOINT_SECONDS, and resumes
a job from its checkpoint when the worker before it was lost. SIGTERM (or SIGINT): checkpoint, hand
the job back to the queue, exit.
"""
from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import uuid
from typing import Any

from .. import catalog
from ..config import Config
from ..engine.errors import EngineError
from ..engine.training import CheckpointMismatch, Diverged, TrainingRun, TrainingSettings, check_trainable, training_warnings
from ..jobs import (CHECKPOINT_BLOB, WEIGHTS_BLOB, WEIGHTS_KEPT_SECONDS, error, heartbeat_interval, job_texts, pack_network,
                    worker_liveness_seconds)
from ..store import Claim, Job, PreconditionFailed, Store, StoreError

log = logging.getLogger("neuronhub.worker")

PROGRESS_SECONDS = 0.5  # progress is written this often (and so at least once a second)
POLL_SECONDS = 0.5  # an idle worker looks for work this often


class Worker:
    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.id = uuid.uuid4().hex
        self.stopping = threading.Event()
        self._claim: Claim | None = None
        self._claim_lock = threading.Lock()

    # --- the loop ------------------------------------------------------------------------------------

    def run(self, max_jobs: int | None = None) -> None:
        """Claim and run jobs until stop() (or max_jobs jobs were run)."""
        self.store.ensure_schema()
        self._beat()
        beating = threading.Thread(target=self._heartbeats, name="worker-heartbeat", daemon=True)
        beating.start()
        done = 0
        try:
            while not self.stopping.is_set() and (max_jobs is None or done < max_jobs):
                try:
                    taken = self.store.claim_job(self.id, self.config.job_lease_seconds)
                except StoreError as exc:
                    log.warning("cannot claim a job: %s", exc)
                    taken = None
                if taken is None:
                    self.stopping.wait(POLL_SECONDS)
                    continue
                claim, job = taken
                with self._claim_lock:
                    self._claim = claim
                try:
                    self.run_job(claim, job)
                finally:
                    with self._claim_lock:
                        self._claim = None
                done += 1
        finally:
            self.stopping.set()
            beating.join()
            try:
                self.store.remove_worker(self.id)
            except StoreError:
                pass

    def stop(self) -> None:
        self.stopping.set()

    def _heartbeats(self) -> None:
        interval = heartbeat_interval(self.config.job_lease_seconds)
        while not self.stopping.wait(interval):
            self._beat()

    def _beat(self) -> None:
        """Say this worker is alive; renew the lease of its job, also while a long step or the final
        evaluation keeps the training loop from writing progress."""
        try:
            with self._claim_lock:
                claim = self._claim
            if claim is not None:
                self.store.renew_job(claim, self.config.job_lease_seconds)
            self.store.worker_heartbeat(self.id, socket.gethostname(), os.getpid(), claim.job_id if claim else None)
            self.store.forget_dead_workers(10 * worker_liveness_seconds(self.config.job_lease_seconds))
            self.store.delete_expired_blobs(WEIGHTS_BLOB, WEIGHTS_KEPT_SECONDS)
        except StoreError as exc:  # a missed beat is not fatal; the next one may get through
            log.warning("worker heartbeat failed: %s", exc)

    # --- one job -------------------------------------------------------------------------------------

    def run_job(self, claim: Claim, job: Job) -> None:
        try:
            self._train(claim, job)
        except Diverged as exc:
            self._finish(claim, "failed", error=error("diverged", exc.message, field=exc.field, step=exc.step))
        except EngineError as exc:
            self._finish(claim, "failed", error=error("training failed", exc.message, field=exc.field))
        except Exception:  # the job must end, whatever happened; the details go to the log
            log.exception("training job %s failed", job.id)
            self._finish(claim, "failed", error=error("internal error", "training failed unexpectedly; the error is logged"))

    def _train(self, claim: Claim, job: Job) -> None:
        store, lease = self.store, self.config.job_lease_seconds
        texts = job_texts(store, job)
        if texts is None:
            self._finish(claim, "failed", error=error("no input", "the job's text was not kept (it was queued by an older version); start it again"))
            return
        settings = TrainingSettings.from_dict(job.params["settings"])
        corpus, n_params = check_trainable(texts, settings)
        run = self._resumed(job, corpus, n_params, settings)
        started = last_checkpoint = time.monotonic()
        last_progress, steps_at_progress, window_loss, validation = 0.0, run.step, 0.0, None
        while not run.done:
            if self.stopping.is_set():
                store.save_checkpoint(claim, run.checkpoint(time.monotonic() - started), lease)
                store.release_job(claim)
                log.info("job %s handed back at step %d", job.id, run.step)
                return
            if run.seconds + time.monotonic() - started > self.config.job_time_limit:
                self._finish(claim, "failed", error=error("time limit", f"the job trained for more than {self.config.job_time_limit} s "
                                                                      f"(NEURONHUB_JOB_TIME_LIMIT) and was stopped at step {run.step}"))
                return
            window_loss += run.advance()
            now = time.monotonic()
            if now - last_checkpoint >= self.config.checkpoint_seconds:
                validation = run.validation_loss(sample=True)
                if not store.save_checkpoint(claim, run.checkpoint(now - started), lease):
                    return self._lost(job)
                last_checkpoint = now
            if now - last_progress >= PROGRESS_SECONDS or run.done:
                steps = run.step - steps_at_progress
                current = store.renew_job(claim, lease, step=run.step, total_steps=run.total, loss_history=run.history,
                                          progress=progress(run, steps, window_loss, now - (last_progress or started), validation))
                if current is None:
                    return self._lost(job)
                if current.cancel_requested:
                    self._finish(claim, "cancelled")
                    return
                last_progress, steps_at_progress, window_loss = now, run.step, 0.0
        model, report = run.finish(time.monotonic() - started)
        self._store_result(claim, job, model, report)

    def _resumed(self, job: Job, corpus: Any, n_params: int, settings: TrainingSettings) -> TrainingRun:
        saved = self.store.get_job_blob(job.id, CHECKPOINT_BLOB)
        if saved is not None:
            try:
                run = TrainingRun.resume(corpus, n_params, settings, saved)
                log.info("job %s resumes at step %d (attempt %d)", job.id, run.step, job.attempts)
                return run
            except CheckpointMismatch:
                log.warning("job %s: its checkpoint does not match its corpus and settings; starting over", job.id)
        return TrainingRun(corpus, n_params, settings)

    def _store_result(self, claim: Claim, job: Job, model: Any, report: Any) -> None:
        description = job.params.get("description", "")
        spec, arrays = catalog.compiled_network_record(model.network, model, description)
        warnings = training_warnings(report)
        expected = job.params.get("expected_revision")
        current = self.store.get_job(job.id)
        if current is not None and current.cancel_requested:
            self._finish(claim, "cancelled")
            return
        try:
            record, _ = self.store.put(catalog.NETWORK, job.target, spec, arrays, if_match=expected, create_only=expected is None)
        except PreconditionFailed as exc:
            now = "does not exist" if exc.current_revision is None else f"is at revision {exc.current_revision}"
            was = "did not exist" if expected is None else f"was at revision {expected}"
            detail = (f"network {job.target!r} changed while the job trained (it {was}, it now {now}), so the result was not stored; "
                      f"the trained network is kept for a day at /v1/jobs/{job.id}/network")
            self._finish(claim, "failed", warnings=warnings,
                         error=error("precondition failed", detail, status=412, current_revision=exc.current_revision),
                         blobs={WEIGHTS_BLOB: pack_network(spec, arrays)})
            return
        self._finish(claim, "succeeded", result={**report.as_dict(), "network": job.target, "revision": record.revision}, warnings=warnings)

    def _finish(self, claim: Claim, state: str, **outcome: Any) -> None:
        if self.store.finish_claimed_job(claim, state, **outcome) is None:
            log.warning("job %s: another worker has taken it over; this attempt's %s outcome is dropped", claim.job_id, state)
        else:
            log.info("job %s %s", claim.job_id, state)

    def _lost(self, job: Job) -> None:
        log.warning("job %s: lease lost (taken over or ended elsewhere); stopping this attempt", job.id)


def progress(run: TrainingRun, steps: int, window_loss: float, seconds: float, validation_loss: float | None) -> dict[str, Any]:
    """The job's progress fields: the mean loss since the last report, speed, time left."""
    steps_per_second = steps / seconds if seconds > 0 else 0.0
    return {
        "loss": window_loss / steps if steps else None,
        "tokens_per_second": steps_per_second * run.tokens_per_step,
        "eta_seconds": (run.total - run.step) / steps_per_second if steps_per_second > 0 else None,
        "validation_loss": validation_loss if validation_loss is None or math.isfinite(validation_loss) else None,
    }
