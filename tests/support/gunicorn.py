"""Real gunicorn processes for tests: start with the repository's gunicorn.conf.py, find workers,
read logs, stop. Output goes to a file: an unread pipe would fill up and stall the server."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import requests

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def clean_environment() -> dict[str, str]:
    """This process's environment without NEURONHUB_* and Prometheus settings that could leak in."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("NEURONHUB_", "PROMETHEUS_MULTIPROC_DIR"))}


class Server:
    """gunicorn serving the app, logging to a file; `command` defaults to what the image runs."""

    def __init__(self, env: dict[str, str], log_path: Path | None = None, *, config: str = "gunicorn.conf.py",
                 command: list[str] | None = None, wait: str | None = "/readyz", base_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
        full_env = {**(clean_environment() if base_env is None else base_env), "PYTHONUNBUFFERED": "1",
                    "NEURONHUB_SEED_DEMO": "false", "NEURONHUB_SEED_DEMO_ENGLISH": "false", "NEURONHUB_BIND": f"127.0.0.1:{self.port}", **env}
        self.command = command or [GUNICORN, "--config", config, "service:create_app()"]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)
        self.exit_code: int | None = None
        if wait:
            self.wait_until(wait, 200)

    def wait_until(self, path: str, status: int, timeout: float = 60) -> None:
        def answered() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log()}")
            try:
                return requests.get(self.url + path, timeout=5).status_code == status
            except requests.RequestException:
                return False

        try:
            wait_for(answered, timeout, f"{path} to answer {status}", interval=0.1)
        except AssertionError:
            self.stop()
            raise AssertionError(f"{path} never answered {status}:\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def access_records(self) -> list[dict]:
        """The JSON access-log lines so far."""
        records = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records

    def worker_pids(self) -> set[int]:
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            return {int(c) for c in children}
        except OSError:
            found = set()
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == pid:
                    found.add(int(stat.parent.name))
            return found

    def wait_for_workers(self, count: int, exclude: set[int] = frozenset(), timeout: float = 30) -> set[int]:
        def ready() -> set[int] | None:
            pids = self.worker_pids()
            return pids if len(pids) == count and not pids & exclude else None

        return wait_for(ready, timeout, f"{count} workers")  # type: ignore[return-value]

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        self.exit_code = stop_process(self.process, signum, timeout)
        self._log.close()
        return self.exit_code


def stop_process(process: subprocess.Popen, signum: int, timeout: float) -> int:
    """Send signum unless it has exited, wait (SIGKILL after timeout); its exit code."""
    if process.poll() is None:
        process.send_signal(signum)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


