"""Training jobs as the web processes see them: enqueued into the store, run by worker processes.

enqueue_training() is all it takes to ask for a training: the text goes into the store with the job,
so any worker on any machine can run it (service/worker.py). Nothing here trains.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np

from .engine.training import TrainingSettings
from .store import Job, Store, decode_arrays, encode_arrays

INPUT_BLOB = "input"  # the job's texts, as a JSON list
CHECKPOINT_BLOB = "checkpoint"
WEIGHTS_BLOB = "weights"  # a trained network the job could not store under its name
WEIGHTS_KEPT_SECONDS = 24 * 3600
NO_WORKER = "no worker is running: start `neuronhub-worker` (./scripts/serve starts one)"


def enqueue_training(store: Store, name: str, texts: Sequence[str], settings: TrainingSettings, description: str = "", *,
                     expected_revision: int | None = None, requester: str | None = None, max_active: int | None = None) -> Job:
    """Queue the training of language network `name` on texts.

    expected_revision: the revision of `name` the result may replace (None: `name` must not exist
    when the result is stored); checked again when the job ends, so a network changed meanwhile is
    never overwritten.
    """
    params = {
        "settings": settings.as_dict(),
        "documents": len(texts),
        "characters": sum(map(len, texts)),
        "description": description,
        "expected_revision": expected_revision,
    }
    blob = json.dumps(list(texts), ensure_ascii=False).encode()
    return store.create_job("train", name, params, requester=requester, blobs={INPUT_BLOB: blob}, max_active=max_active)


def job_texts(store: Store, job: Job) -> list[str] | None:
    blob = store.get_job_blob(job.id, INPUT_BLOB)
    return None if blob is None else json.loads(blob)


def waiting_notice(job: Job, live_workers: int) -> str | None:
    """What a person should know about an active job nobody is working on, or None."""
    if job.state == "queued" and live_workers == 0:
        return NO_WORKER
    return None


def worker_liveness_seconds(lease_seconds: float) -> float:
    """A worker whose last heartbeat is older than this is taken for dead."""
    return max(2.0, float(lease_seconds))


def heartbeat_interval(lease_seconds: float) -> float:
    """How often a worker beats and renews its lease: a few times per lease, at most every 5 s."""
    return min(5.0, max(0.1, lease_seconds / 4))


def pack_network(spec: dict[str, Any], arrays: Sequence[np.ndarray]) -> bytes:
    """A trained network kept with its job (spec and arrays in one blob)."""
    head = json.dumps(spec).encode()
    return len(head).to_bytes(8, "big") + head + encode_arrays(arrays)


def unpack_network(blob: bytes) -> tuple[dict[str, Any], list[np.ndarray]]:
    size = int.from_bytes(blob[:8], "big")
    return json.loads(blob[8 : 8 + size]), decode_arrays(blob[8 + size :])


def error(title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, **extra}
