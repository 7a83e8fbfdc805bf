"""The tests' real gunicorn (tests/support/gunicorn.py) with its access and error logs apart.

GUNICORN_CMD_ARGS (which overrides gunicorn.conf.py) writes the two logs to separate files, so a
failing contract test can show gunicorn's errors without thousands of access-log lines.
"""
from __future__ import annotations

import shlex
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tests.support.gunicorn import Server
from tests.support.worker import WorkerProcess


@dataclass(frozen=True)
class LiveServer:
    url: str
    port: int
    error_log: Path
    database: Path  # the SQLite file

    def errors(self, last: int = 4000) -> str:
        return self.error_log.read_text(errors="replace")[-last:] if self.error_log.exists() else ""


@contextmanager
def live_server(directory: Path, **env: str) -> Iterator[LiveServer]:
    """gunicorn with the repository's gunicorn.conf.py and two workers on a fresh, empty SQLite file in
    `directory`, and a training worker beside it (as ./scripts/serve runs them)."""
    access_log, error_log, database = directory / "access.log", directory / "error.log", directory / "live.db"
    server = Server({
        "NEURONHUB_DATABASE_URL": f"sqlite:///{database}",
        "NEURONHUB_WORKERS": "2",
        "NEURONHUB_SEED_DEMO": "false",  # an empty store: quick to start, and every test sees only its own data
        "GUNICORN_CMD_ARGS": f"--access-logfile {shlex.quote(str(access_log))} --error-logfile {shlex.quote(str(error_log))}",
        **env,
    })
    worker = WorkerProcess(f"sqlite:///{database}", {"NEURONHUB_CHECKPOINT_SECONDS": "30"}, directory / "worker.log")
    try:
        yield LiveServer(server.url, server.port, error_log, database)
    finally:
        worker.stop()
        server.stop()
