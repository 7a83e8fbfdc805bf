"""gunicorn settings for Neuronhub, from the NEURONHUB_* environment (service/config.py, docs/deploy.md).

The application is not preloaded: the master imports only service.config and service.accesslog,
never Flask, numpy or a database driver, and opens no database connection; every worker builds its
own app, store and connection pool after the fork. Keep it so (tests/deploy checks it).

Shutdown: SIGTERM (what `docker stop` sends) is gunicorn's graceful stop: the master stops
accepting, each worker finishes the request it is serving (up to NEURONHUB_GRACEFUL_TIMEOUT
seconds) and exits. SIGINT/SIGQUIT stop at once. A request that runs too long is answered by the
application's own deadline (NEURONHUB_REQUEST_TIMEOUT, service/api/deadline.py) before gunicorn's
worker timeout would kill the worker.
"""
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

from service.accesslog import JsonAccessLogger
from service.config import Config

_settings = Config.from_env()

# numpy's BLAS would start one thread per core in every worker; with one worker per core they only
# fight each other. Set before any worker imports numpy (workers load the app after the fork).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(_settings.blas_threads))

# Prometheus multiprocess mode (service/metrics.py): every worker writes its samples under this
# directory and /metrics adds them up. It must be set before any worker imports prometheus_client.
# A directory given in PROMETHEUS_MULTIPROC_DIR is emptied at start; otherwise a fresh one is made
# and removed at exit. A configuration reload (SIGHUP) runs this file again in the same master and
# keeps the directory and its counts.
_METRICS_OWNER = "PROMETHEUS_MULTIPROC_DIR_OWNER_PID"
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if os.environ.get(_METRICS_OWNER) != str(os.getpid()):
    if _metrics_dir:
        Path(_metrics_dir).mkdir(parents=True, exist_ok=True)
        for _stale in Path(_metrics_dir).glob("*.db"):
            _stale.unlink()
        os.environ[_METRICS_OWNER] = str(os.getpid())
    else:
        _metrics_dir = tempfile.mkdtemp(prefix="neuronhub-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
        os.environ[_METRICS_OWNER] = str(os.getpid())
        os.environ["PROMETHEUS_MULTIPROC_DIR_IS_TEMPORARY"] = _metrics_dir

bind = _settings.bind
workers = _settings.workers or multiprocessing.cpu_count()
threads = _settings.threads
timeout = _settings.worker_timeout
graceful_timeout = _settings.graceful_timeout
keepalive = 5
max_requests = _settings.max_requests
max_requests_jitter = _settings.max_requests_jitter
preload_app = False
# The workers' heartbeat files: in memory, not on a container's overlay filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
accesslog = "-"
errorlog = "-"
logger_class = JsonAccessLogger
# gunicorn >= 25.1 opens a management socket under $HOME by default; replicas and test servers would
# share its path, and nothing here uses it (older gunicorn ignores the name).
control_socket_disable = True


def post_worker_init(worker):
    """The app is built: move everything it allocated so far out of the garbage collector's sight.

    Start-up leaves some hundred thousand long-lived objects (modules, numpy, SQLAlchemy, schemas,
    compiled networks); without this every full collection walks them all, on some request's time.
    """
    import gc

    gc.collect()
    gc.freeze()


def child_exit(server, worker):
    """A worker ended (any cause, kill -9 included): drop its live gauges; its counters stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    made_here = os.environ.get("PROMETHEUS_MULTIPROC_DIR_IS_TEMPORARY")
    if made_here:
        shutil.rmtree(made_here, ignore_errors=True)
