"""Training jobs: run in a background thread of the process that accepted them, recorded in the store.

The job row is the truth every worker and replica reads. While a job is queued or running here, a
heartbeat thread refreshes it every few seconds; a job whose heartbeat stops (its process was killed
or restarted) is reported failed by `fail_abandoned_jobs`, never left "running". The trained network
is written under its name only when training succeeds.
"""
from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Sequence

from . import catalog, metrics
from .engine.errors import EngineError
from .engine.training import Corpus, TrainingCancelled, TrainingSettings, check_trainable, train_corpus
from .store import ACTIVE_STATES, LOSS_HISTORY_LIMIT, Job, Store
from .store.db import utcnow

log = logging.getLogger("neuronhub.jobs")

HEARTBEAT_SECONDS = 5.0
SILENT_LOCAL_SECONDS = 3 * HEARTBEAT_SECONDS  # a job of a dead process on this host
SILENT_ANYWHERE_SECONDS = 60.0  # a job of any process, e.g. a replica that is gone


def current_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"  # read each time: gunicorn workers are forks


def owner_may_be_alive(owner: str | None) -> bool:
    """False only when the owner is a process on this host that no longer exists."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_abandoned_jobs(store: Store) -> list[str]:
    return store.fail_stale_jobs(SILENT_LOCAL_SECONDS, owner_may_be_alive) + store.fail_stale_jobs(SILENT_ANYWHERE_SECONDS)


def may_be_abandoned(job: Job) -> bool:
    """Whether fail_abandoned_jobs could fail this job: active, and silent for longer than the
    shorter of its two limits. A cheap look at a row already read, before two queries."""
    return job.state in ACTIVE_STATES and job.heartbeat_at < utcnow() - timedelta(seconds=SILENT_LOCAL_SECONDS)


class TrainingRunner:
    """One training at a time per process; further jobs wait in order (and keep their heartbeat)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._executor: ThreadPoolExecutor | None = None
        self._active: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def submit(self, name: str, texts: Sequence[str], settings: TrainingSettings, description: str,
               prepared: tuple[Corpus, int] | None = None) -> Job:
        """Queue a training; `prepared` is check_trainable(texts, settings) when the caller has it already."""
        params = {"settings": settings.as_dict(), "documents": len(texts), "characters": sum(map(len, texts)), "description": description}
        job = self._store.create_job("train", name, params, owner=current_owner())
        metrics.training_jobs.labels(state="queued").inc()
        with self._lock:
            if self._executor is None:  # started lazily: no thread may exist before gunicorn forks
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="training")
                threading.Thread(target=self._beat, name="training-heartbeat", daemon=True).start()
                atexit.register(self._stopping.set)
            self._active.add(job.id)
            work = prepared if prepared is not None else list(texts)
            self._executor.submit(self._run, job.id, name, work, settings, description)
        return job

    def _run(self, job_id: str, name: str, work: list[str] | tuple[Corpus, int], settings: TrainingSettings, description: str) -> None:
        store = self._store
        metrics.training_jobs.labels(state="running").inc()
        metrics.training_jobs_running.inc()
        try:
            store.update_job(job_id, state="running", owner=current_owner())
            history: list[list[float]] = []

            def on_progress(step: int, total: int, loss: float) -> None:
                history.append([step, loss])
                del history[:-LOSS_HISTORY_LIMIT]
                store.update_job(job_id, step=step, total_steps=total, loss_history=history)

            started = time.perf_counter()
            corpus, n_params = work if isinstance(work, tuple) else check_trainable(work, settings)
            model, report = train_corpus(corpus, n_params, settings, on_progress, self._stopping.is_set, started)
            spec, arrays = catalog.compiled_network_record(model.network, model, description)
            record, _ = store.put(catalog.NETWORK, name, spec, arrays)
            final = store.finish_job(job_id, "succeeded", result={**report.as_dict(), "network": name, "revision": record.revision})
        except TrainingCancelled as exc:
            final = store.finish_job(job_id, "failed", error=_error("interrupted", f"the service stopped after {exc.step} steps; start the job again"))
        except EngineError as exc:
            final = store.finish_job(job_id, "failed", error=_error("training failed", exc.message, field=exc.field))
        except Exception:  # the job must end, whatever happened; the details go to the log
            log.exception("training job %s failed", job_id)
            final = store.finish_job(job_id, "failed", error=_error("internal error", "training failed unexpectedly; the error is logged"))
        finally:
            metrics.training_jobs_running.dec()
            with self._lock:
                self._active.discard(job_id)
        metrics.training_jobs.labels(state=final.state).inc()

    def _beat(self) -> None:
        while not self._stopping.wait(HEARTBEAT_SECONDS):
            with self._lock:
                active = list(self._active)
            for job_id in active:
                try:
                    self._store.update_job(job_id)
                except Exception:  # a missed beat is not fatal; the next one may get through
                    log.warning("heartbeat of job %s failed", job_id, exc_info=True)


def _error(title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, **extra}
