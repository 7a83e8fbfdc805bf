"""A real server whose first start queued demo-english, and a real worker that trained it (about 2 minutes)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

from .gunicorn import Server
from .worker import WorkerProcess

TRAINING_TIMEOUT = 900  # seconds from the worker's start; about 2 minutes on one free core


class DemoEnglishRun:
    """A server whose first start queued demo-english and a worker training it, started at once;
    wait() gives (server, the job as first seen, the job as it ended). Starting it before the tests
    that need it lets the training use the second core while the rest of the suite runs."""

    def __init__(self, directory: Path) -> None:
        self._ended: tuple[Server, dict[str, Any], dict[str, Any]] | None = None
        self.server: Server | None = None
        self.worker: WorkerProcess | None = None
        self.failure: BaseException | None = None
        try:
            self._start(directory)
        except Exception as exc:  # said by wait(), to the tests that need the model, not to every test
            self.failure = exc

    def _start(self, directory: Path) -> None:
        database = f"sqlite:///{directory / 'demo.db'}"
        self.server = Server({"NEURONHUB_DATABASE_URL": database, "NEURONHUB_SEED_DEMO": "true", "NEURONHUB_SEED_DEMO_ENGLISH": "true",
                              "NEURONHUB_WORKERS": "1"})
        first = requests.get(f"{self.server.url}/v1/jobs", params={"network": "demo-english"}, timeout=10).json()["items"]
        assert len(first) == 1, first
        missing = requests.get(f"{self.server.url}/v1/networks/demo-english", timeout=10).status_code
        self.first = {**first[0], "network_status_before": missing}
        # what ./scripts/serve starts beside gunicorn, with its defaults: checkpoints every 30 s, a 30 s
        # lease and the batch CPU priority, which also leaves the tests running beside it their share
        self.worker = WorkerProcess(database, {"NEURONHUB_CHECKPOINT_SECONDS": "30", "NEURONHUB_JOB_LEASE_SECONDS": "30",
                                               "NEURONHUB_TRAINING_PRIORITY": "batch"})
        self.give_up = time.monotonic() + TRAINING_TIMEOUT

    def wait(self) -> tuple[Server, dict[str, Any], dict[str, Any]]:
        if self.failure is not None:
            raise self.failure
        assert self.server is not None
        while self._ended is None:
            job = requests.get(f"{self.server.url}/v1/jobs/{self.first['id']}", timeout=10).json()
            if job["state"] not in ("queued", "running") or time.monotonic() > self.give_up:
                self._ended = (self.server, self.first, job)
            else:
                time.sleep(1)
        return self._ended

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.server is not None:
            self.server.stop()

