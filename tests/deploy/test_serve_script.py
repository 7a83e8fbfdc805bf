"""./scripts/serve runs gunicorn and the training workers beside it, and SIGTERM stops them all."""
import os
import signal
import subprocess
from pathlib import Path

import requests

from tests.support.gunicorn import ROOT, clean_environment, free_port, wait_for


def processes_with(marker: bytes) -> list[int]:
    """Processes whose environment holds marker (here: this test's database path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_serve_starts_gunicorn_and_training_workers_and_stops_them(tmp_path):
    port, database = free_port(), f"sqlite:///{tmp_path / 'serve.db'}"
    env = {**clean_environment(), "NEURONHUB_BIND": f"127.0.0.1:{port}", "NEURONHUB_DATABASE_URL": database,
           "NEURONHUB_WORKERS": "1", "NEURONHUB_TRAINING_WORKERS": "2", "NEURONHUB_SEED_DEMO": "false"}
    with open(tmp_path / "serve.log", "ab") as log:
        serve = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    try:
        def ready() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json().get("workers") == 2
            except requests.RequestException:
                return False

        wait_for(ready, 90, "gunicorn and 2 training workers", interval=0.2)
        workers = [pid for pid in processes_with(database.encode()) if b"service.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
                   or b"neuronhub-worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(workers) == 2 and all(os.getsid(pid) == pid for pid in workers)  # each in a session of its own
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(60) == 0
        wait_for(lambda: not processes_with(database.encode()), 30, "gunicorn and the workers to exit", interval=0.2)
    finally:
        for pid in processes_with(database.encode()):  # only what this test started
            os.kill(pid, signal.SIGKILL)
    assert "started" in (tmp_path / "serve.log").read_text()
