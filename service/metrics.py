"""Prometheus metrics for the whole service, correct across gunicorn worker processes.

Code anywhere in the service counts with one line, for example::

    from service import metrics
    metrics.forward_passes.labels(network=name).inc()
    metrics.count_forward(name, rows)

Under gunicorn every worker is a separate process, so gunicorn.conf.py runs prometheus-client in
multiprocess mode: it points PROMETHEUS_MULTIPROC_DIR at a fresh directory before any worker
starts, each worker writes its samples to memory-mapped files there, `exposition()` adds up the
files of every worker (live or dead, so counts survive a worker restart), and the master's
`child_exit` hook calls `mark_process_dead` for gauges. Without that variable (the Flask test
client, a single process) the default in-process registry is used.

Label values are route templates and stored definition names, never raw paths, so the number of
series stays bounded by the routes and the definitions an admin created.
"""
from __future__ import annotations

import os
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

http_requests = Counter(
    "neuronhub_http_requests", "HTTP requests answered by the application, by method, route template and status",
    ["method", "route", "status"],
)
http_request_duration = Histogram(
    "neuronhub_http_request_duration_seconds", "Time the application took to answer, by method and route template",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
forward_passes = Counter("neuronhub_forward_passes", "Forward-pass requests answered, by network", ["network"])
predictions = Counter(
    "neuronhub_predictions", "Input vectors evaluated (one prediction each), by kind (neuron, network) and name", ["kind", "name"],
)
neuron_evaluations = Counter("neuronhub_neuron_evaluations", "Neuron evaluation requests answered, by neuron", ["neuron"])


_CHILDREN: dict[tuple, Any] = {}
_MAX_CHILDREN = 50_000  # a bound on the lookup table, far above the series a deployment has


def child(metric: Any, *label_values: str) -> Any:
    """metric.labels(*label_values), looked up once: labels() costs a few µs on every request."""
    key = (metric, label_values)
    found = _CHILDREN.get(key)
    if found is None:
        if len(_CHILDREN) >= _MAX_CHILDREN:
            _CHILDREN.clear()
        found = _CHILDREN[key] = metric.labels(*label_values)
    return found


def count_request(method: str, route: str, status: int, seconds: float | None) -> None:
    """One answered HTTP request, by method, route template and status, and its duration (if timed)."""
    child(http_requests, method, route, str(status)).inc()
    if seconds is not None:
        child(http_request_duration, method, route).observe(seconds)


def count_forward(network: str, rows: int) -> None:
    """One forward-pass request of `rows` input vectors through `network`."""
    child(forward_passes, network).inc()
    child(predictions, "network", network).inc(rows)


def count_language_request(operation: str, network: str) -> None:
    """One predict / generate / score / tokenize request on a language network."""
    child(predictions, operation, network).inc()


def count_neuron_evaluation(neuron: str, rows: int) -> None:
    """One evaluation request of `rows` input vectors through `neuron`."""
    child(neuron_evaluations, neuron).inc()
    child(predictions, "neuron", neuron).inc(rows)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_DIR_VARIABLE))


class JobsCollector:
    """Training-job figures read from the store at each scrape, so that they are true across replicas
    and worker machines: jobs by state (queued is the queue depth), live training workers, and the
    durations of finished jobs (from start to end, by final state)."""

    def __init__(self, store: Any, worker_liveness_seconds: float) -> None:
        self._store = store
        self._liveness = worker_liveness_seconds

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily

        by_state = GaugeMetricFamily("neuronhub_jobs", "Training jobs in the store by state (queued: the queue depth)", labels=["state"])
        for state, count in self._store.count_jobs().items():
            by_state.add_metric([state], count)
        yield by_state
        yield GaugeMetricFamily("neuronhub_training_workers", "Training workers with a recent heartbeat",
                                value=self._store.live_workers(self._liveness))
        durations = SummaryMetricFamily("neuronhub_job_duration_seconds", "Seconds from a job's start to its end, by final state",
                                        labels=["state"])
        for state, (count, total) in self._store.job_durations().items():
            durations.add_metric([state], count_value=count, sum_value=total)
        yield durations


def exposition(accept: str | None = None, collectors: tuple[Any, ...] = ()) -> tuple[bytes, str]:
    """(body, content type) for all worker processes, in the format the scraper's Accept header asks
    for: Prometheus text 0.0.4 by default, OpenMetrics or text 1.0.0 when asked. `collectors` add
    figures read at scrape time (JobsCollector)."""
    encode, content_type = choose_encoder(accept or "")
    registry = CollectorRegistry()
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Everything())
    for collector in collectors:
        registry.register(collector)
    return encode(registry), content_type


class _Everything:
    """The default registry's metrics, as one collector of another registry."""

    def collect(self) -> Any:
        return REGISTRY.collect()


def mark_process_dead(pid: int) -> None:
    """For gunicorn's child_exit hook: drop a dead worker's live gauges (its counters stay counted)."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(pid)
