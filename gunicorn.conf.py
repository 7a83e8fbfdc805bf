"""gunicorn settings for Neuronhub, from the NEURONHUB_* environment (service/config.py, README)."""
import multiprocessing
import os

from service.config import Config

_settings = Config.from_env()

# numpy's BLAS would start one thread per core in every worker; with one worker per core they only
# fight each other. Set before any worker imports numpy (workers load the app after the fork).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(_settings.blas_threads))

bind = _settings.bind
workers = _settings.workers or multiprocessing.cpu_count()
threads = _settings.threads
timeout = _settings.worker_timeout
graceful_timeout = 30
keepalive = 5
max_requests = 10000
max_requests_jitter = 1000
accesslog = "-"
errorlog = "-"
