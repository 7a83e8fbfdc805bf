"""All configuration, read from NEURONHUB_* environment variables in this one place.

Every setting has a default; README.md has the table. `Config.from_env()` is what `create_app()`
uses when no config is passed; tests build `Config(...)` directly.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from typing import Mapping

PREFIX = "NEURONHUB_"


@dataclass(frozen=True)
class Config:
    database_url: str = field(default="sqlite:///data/neuronhub.db", metadata={"doc": "SQLAlchemy URL: sqlite:///path or postgresql://user:pass@host/db"})
    database_connect_retry: int = field(default=5, metadata={"doc": "seconds a refused PostgreSQL connection is retried (a restart, a failover) before requests get 503; at most half of NEURONHUB_REQUEST_TIMEOUT"})
    seed_demo: bool = field(default=True, metadata={"doc": "add the demo neurons and networks when the store is empty"})
    seed_demo_english: bool = field(default=True, metadata={"doc": "with NEURONHUB_SEED_DEMO, also queue the training of demo-english (Pride and Prejudice; about 2 minutes on one core in a training worker) when the store is empty"})
    max_body_bytes: int = field(default=32 * 1024 * 1024, metadata={"doc": "largest request body in bytes (413 above)"})
    max_batch_rows: int = field(default=4096, metadata={"doc": "most input vectors in one evaluate/forward request"})
    max_layers: int = field(default=64, metadata={"doc": "most layers in a network"})
    max_parameters: int = field(default=5_000_000, metadata={"doc": "most weights + biases (+ embeddings) in one definition"})
    max_page_size: int = field(default=500, metadata={"doc": "largest `limit` for list endpoints"})
    cache_size: int = field(default=128, metadata={"doc": "compiled definitions kept per worker process"})
    postgres_change_notify: bool = field(default=False, metadata={"doc": "PostgreSQL: trust LISTEN/NOTIFY to know a cached definition is current, saving a database read per request; a read on another replica within about a millisecond of a write may then still see the previous revision. Off: every lookup reads the revision (SQLite always uses PRAGMA data_version, which has no such window)"})
    log_level: str = field(default="INFO", metadata={"doc": "Python logging level"})
    # gunicorn (read by gunicorn.conf.py)
    bind: str = field(default="127.0.0.1:8000", metadata={"doc": "address gunicorn listens on (0.0.0.0:8000 in the container)"})
    workers: int = field(default=0, metadata={"doc": "gunicorn worker processes; 0 means one per CPU core"})
    threads: int = field(default=1, metadata={"doc": "threads per worker (numpy work is CPU-bound: keep 1)"})
    worker_timeout: int = field(default=60, metadata={"doc": "seconds before gunicorn restarts a silent worker"})
    blas_threads: int = field(default=1, metadata={"doc": "BLAS threads per worker (1 with one worker per core)"})
    graceful_timeout: int = field(default=30, metadata={"doc": "seconds workers get to finish their requests after SIGTERM before they are killed"})
    max_requests: int = field(default=10000, metadata={"doc": "requests after which a worker is replaced (0: never)"})
    max_requests_jitter: int = field(default=1000, metadata={"doc": "random extra requests per worker before replacement, so workers do not restart together"})
    request_timeout: int = field(default=30, metadata={"doc": "seconds a request may run before it is answered 503 deadline-exceeded (0: no deadline); must be below NEURONHUB_WORKER_TIMEOUT"})
    # training jobs (docs/jobs.md): web processes enqueue, `neuronhub-worker` processes train
    training_workers: int = field(default=1, metadata={"doc": "training worker processes ./scripts/serve starts beside gunicorn (0: none; run `neuronhub-worker` elsewhere). Distinct from NEURONHUB_WORKERS, the gunicorn worker count"})
    job_lease_seconds: float = field(default=30.0, metadata={"doc": "seconds a worker's hold on a job lasts without renewal; a job whose worker was lost for this long is taken up by another worker"})
    checkpoint_seconds: float = field(default=30.0, metadata={"doc": "seconds between checkpoints of a running job (it resumes from the last one)"})
    job_time_limit: float = field(default=3600.0, metadata={"doc": "seconds of training after which a job is stopped and fails"})
    max_active_jobs_per_key: int = field(default=4, metadata={"doc": "most queued or running training jobs per API key (per client address when keys are off); 429 above"})
    training_compute_budget: int = field(default=10_000_000_000_000, metadata={"doc": "largest estimated compute of one training job, steps x parameters x batch size (422 above; 1e13 is about an hour on one core)"})
    training_priority: str = field(default="batch", metadata={"doc": "CPU priority of training workers: batch (SCHED_BATCH, nice 19), idle (SCHED_IDLE), nice (nice 19) or normal"})
    # access control and limits (docs/deploy.md)
    admin_keys: str = field(default="", repr=False, metadata={"doc": "comma-separated API keys that may write (PUT, DELETE, state-changing POST) and read; setting any key turns authentication on"})
    read_keys: str = field(default="", repr=False, metadata={"doc": "comma-separated API keys that may only read and evaluate"})
    keys_file: str = field(default="", metadata={"doc": "file of API keys, one `admin KEY` or `read KEY` per line (KEY may be `sha256:HEX`); re-read when it changes, no restart needed"})
    require_read_key: bool = field(default=False, metadata={"doc": "reads and evaluations need a read or admin key too (otherwise only writes need a key)"})
    cors_origins: str = field(default="", metadata={"doc": "comma-separated browser origins (https://app.example.com) allowed by CORS; empty: CORS off"})
    cors_max_age: int = field(default=600, metadata={"doc": "seconds browsers may cache a CORS preflight answer"})
    rate_limit: str = field(default="", metadata={"doc": "requests per API key or client address per worker process, like 600/minute (second, minute, hour); empty: no limit"})
    trusted_proxies: int = field(default=0, metadata={"doc": "reverse proxies in front whose X-Forwarded-For/-Proto are trusted (1 behind the compose load balancer)"})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.name, raw, type(f.default))
        return cls(**values)

    def __post_init__(self) -> None:
        if self.request_timeout and self.worker_timeout and self.request_timeout >= self.worker_timeout:
            raise ValueError(
                f"{PREFIX}REQUEST_TIMEOUT ({self.request_timeout}) must be below {PREFIX}WORKER_TIMEOUT "
                f"({self.worker_timeout}), so a slow request gets an answer before gunicorn kills its worker"
            )
        if self.job_lease_seconds <= 0 or self.checkpoint_seconds <= 0 or self.job_time_limit <= 0:
            raise ValueError(f"{PREFIX}JOB_LEASE_SECONDS, {PREFIX}CHECKPOINT_SECONDS and {PREFIX}JOB_TIME_LIMIT must be above 0")
        if self.training_priority not in TRAINING_PRIORITIES:
            raise ValueError(f"{PREFIX}TRAINING_PRIORITY: expected one of {', '.join(TRAINING_PRIORITIES)}, got {self.training_priority!r}")
        self.rate  # validates the format
        self.cors_origin_set
        if self.require_read_key and not self.auth_enabled:
            raise ValueError(f"{PREFIX}REQUIRE_READ_KEY is on but no keys are configured ({PREFIX}ADMIN_KEYS, {PREFIX}READ_KEYS or {PREFIX}KEYS_FILE)")

    @property
    def connect_retry_seconds(self) -> float:
        """NEURONHUB_DATABASE_CONNECT_RETRY, capped at half the request deadline (retries are part of a request's time)."""
        if self.request_timeout:
            return min(float(self.database_connect_retry), self.request_timeout / 2)
        return float(self.database_connect_retry)

    @property
    def auth_enabled(self) -> bool:
        """True when any API key source is configured: then writes need an admin key."""
        return bool(split_list(self.admin_keys) or split_list(self.read_keys) or self.keys_file.strip())

    @property
    def rate(self) -> tuple[int, int] | None:
        """NEURONHUB_RATE_LIMIT as (requests, per seconds), or None when there is no limit."""
        text = self.rate_limit.strip().lower()
        if not text:
            return None
        match = _RATE.fullmatch(text)
        if not match or int(match["count"]) < 1:
            raise ValueError(f"{PREFIX}RATE_LIMIT: expected like 600/minute (per second, minute or hour), got {self.rate_limit!r}")
        return int(match["count"]), _PERIODS[match["unit"]]

    @property
    def cors_origin_set(self) -> frozenset[str]:
        origins = frozenset(split_list(self.cors_origins))
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{PREFIX}CORS_ORIGINS: expected exact origins like https://app.example.com "
                    f"(scheme, host, optional port; no path or trailing slash), got {origin!r}"
                )
        return origins


TRAINING_PRIORITIES = ("batch", "idle", "nice", "normal")
_RATE = re.compile(r"(?P<count>\d+)\s*/\s*(?P<unit>s|sec|second|m|min|minute|h|hour)")
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def split_list(value: str) -> list[str]:
    """A comma-separated setting as its non-empty, stripped parts."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _parse(name: str, raw: str, kind: type) -> object:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{PREFIX}{name.upper()}: expected true or false, got {raw!r}")
    if kind is int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{PREFIX}{name.upper()}: expected an integer, got {raw!r}") from None
        if value < 0:
            raise ValueError(f"{PREFIX}{name.upper()}: expected a whole number >= 0, got {value}")
        return value
    if kind is float:
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{PREFIX}{name.upper()}: expected a number, got {raw!r}") from None
        if not number >= 0 or number == float("inf"):
            raise ValueError(f"{PREFIX}{name.upper()}: expected a finite number >= 0, got {raw!r}")
        return number
    return raw


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) rows, for the README table and its test."""
    return [(PREFIX + f.name.upper(), str(f.default), f.metadata["doc"]) for f in fields(Config)]


def settings_markdown() -> str:
    """The settings as a Markdown table (`python -m service.config` prints it, for README/docs)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for variable, default, doc in settings_table():
        shown = f"`{default}`" if default else "(empty)"
        rows.append(f"| `{variable}` | {shown} | {doc.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(settings_markdown(), end="")
