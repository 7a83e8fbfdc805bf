"""The training worker: claims queued jobs from the store and runs them (runner.py).

    neuronhub-worker            # or: python -m service.worker

Web processes only enqueue and report; workers train. This module reads the configuration and sets
the BLAS thread count and the CPU priority before numpy is imported (runner.py imports the engine).
"""
from __future__ import annotations

import logging
import os
import signal

from ..config import Config
from .priority import lower_priority

log = logging.getLogger("neuronhub.worker")


def main() -> None:
    config = Config.from_env()
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(config.blas_threads))
    applied = lower_priority(config.training_priority)

    from ..store import Store
    from .runner import Worker

    store = Store(config.database_url, connect_retry_seconds=config.connect_retry_seconds)
    worker = Worker(store, config)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    log.info("worker %s started (pid %d, CPU priority: %s)", worker.id, os.getpid(), applied)
    worker.run()
    store.dispose()
    log.info("worker %s stopped", worker.id)
