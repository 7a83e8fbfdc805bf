"""A real server whose first start queued demo-english, and a real worker that trained it (about 2 minutes)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import requests

from .gunicorn import Server
from .worker import WorkerProcess

TRAINING_TIMEOUT = 900  # seconds; about 2 minutes on one free core


@contextmanager
def demo_english_server(directory: Path) -> Iterator[tuple[Server, dict[str, Any], dict[str, Any]]]:
    """Yield (server, the job as first seen, the job as it ended)."""
    database = f"sqlite:///{directory / 'demo.db'}"
    server = Server({"NEURONHUB_DATABASE_URL": database, "NEURONHUB_SEED_DEMO": "true", "NEURONHUB_SEED_DEMO_ENGLISH": "true",
                     "NEURONHUB_WORKERS": "1"})
    worker = None
    try:
        first = requests.get(f"{server.url}/v1/jobs", params={"network": "demo-english"}, timeout=10).json()["items"]
        assert len(first) == 1, first
        missing = requests.get(f"{server.url}/v1/networks/demo-english", timeout=10).status_code
        # what ./scripts/serve starts beside gunicorn; default checkpoint interval and lease, full priority for the tests
        worker = WorkerProcess(database, {"NEURONHUB_CHECKPOINT_SECONDS": "30", "NEURONHUB_JOB_LEASE_SECONDS": "30"})
        give_up = time.monotonic() + TRAINING_TIMEOUT
        while True:
            job = requests.get(f"{server.url}/v1/jobs/{first[0]['id']}", timeout=10).json()
            if job["state"] not in ("queued", "running") or time.monotonic() > give_up:
                break
            time.sleep(1)
        yield server, {**first[0], "network_status_before": missing}, job
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
