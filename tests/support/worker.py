"""Real training worker processes for tests (`python -m service.worker`), logging to a file."""
from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .gunicorn import ROOT, clean_environment, stop_process

# Short intervals so that leases lapse and checkpoints happen within a test's time.
FAST = {"NEURONHUB_JOB_LEASE_SECONDS": "2", "NEURONHUB_CHECKPOINT_SECONDS": "0.3", "NEURONHUB_TRAINING_PRIORITY": "normal"}


class WorkerProcess:
    def __init__(self, database_url: str, env: dict[str, str] | None = None, log_path: Path | None = None) -> None:
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="worker-", suffix=".log")[1])
        full_env = {**clean_environment(), "PYTHONUNBUFFERED": "1", "OPENBLAS_NUM_THREADS": "1",
                    "NEURONHUB_DATABASE_URL": database_url, **FAST, **(env or {})}
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "service.worker"], cwd=ROOT, env=full_env,
                                        stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send signum and wait for the exit (SIGKILL after timeout); the exit code."""
        code = stop_process(self.process, signum, timeout)
        self._log.close()
        return code
